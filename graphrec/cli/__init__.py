"""The ``graphrec`` command line. Each sub-command lives in its own module.

Parsers are light: a sub-command module imports torch, pandas and the rest only
inside the function that runs it, so ``graphrec --help``, ``graphrec CMD --help``
and argument errors answer at once (``tests/cli/test_lazy_imports.py`` guards this).

Every failure ends in one line on stderr and a non-zero exit: a user mistake
(:class:`~graphrec.errors.GraphrecError`) with its message, anything else with
its type, message and a hint; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import warnings
from importlib import import_module

from ..errors import GraphrecError

#: Sub-command modules; each has ``add_parser(subparsers)`` setting ``func``.
COMMANDS = ["data", "train", "tune", "evaluate", "recommend", "similar", "explain", "embed", "benchmark", "cache", "serve"]

#: Failures of paths the user named: exit status 2 like other user errors.
_USER_OS_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError)

#: Exit status of failures that are not the user's input (a bug, or the environment: disk full, ...).
INTERNAL_ERROR = 1

#: Exit status when the reader of stdout went away (``graphrec ... | head``): the shell's 128 + SIGPIPE.
BROKEN_PIPE = 128 + getattr(signal, "SIGPIPE", 13)


class _Parser(argparse.ArgumentParser):
    """Bad flags are user errors too: one line ``graphrec: error: ...``, exit 2 (``-h`` shows usage)."""

    def error(self, message: str):
        where = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(_fail(f"{where}{message}", 2, "usage"))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="graphrec", description="Graph-ML movie recommendation on MovieLens.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also accepted after the sub-command)")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in COMMANDS:
        import_module(f"{__name__}.{name.replace('-', '_')}").add_parser(sub)
    return parser


def one_line(text: str) -> str:
    """A message on one line: whitespace runs (newlines included) become single spaces."""
    return " ".join(str(text).split())


class _NoteHandler(logging.Handler):
    """graphrec's log warnings (skipped rows, dropped duplicates) as ``graphrec: note: ...`` on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"graphrec: note: {one_line(record.getMessage())}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run one command; a closed stdout (``| head``) ends it quietly with :data:`BROKEN_PIPE`."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # fail here, not in the interpreter's exit flush, if the reader has gone
        return code
    except BrokenPipeError:
        # Python's recipe: later writes (the exit flush included) go to devnull, so nothing is printed
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a file (replaced in-process): nothing to flush later
            pass
        return BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    global _json_errors
    _json_errors = "--json" in argv  # until the flags are parsed (a usage error), then args.json
    with warnings.catch_warnings():
        if not debug:  # library warnings are not for the user of a command; failures are reported below
            warnings.simplefilter("ignore")
        args = build_parser().parse_args(argv)
        log = logging.getLogger("graphrec")
        handler = _NoteHandler()
        log.addHandler(handler)
        propagate, log.propagate = log.propagate, False
        try:
            return _run(args, debug)
        finally:
            log.removeHandler(handler)
            log.propagate = propagate


def _run(args, debug: bool) -> int:
    global _json_errors
    _json_errors = bool(getattr(args, "json", False))
    try:
        if getattr(args, "device", None) is not None:  # refuse a device this machine lacks before loading data
            from ..device import resolve_device

            resolve_device(args.device)
        return int(args.func(args) or 0)
    except GraphrecError as e:
        if debug:
            raise
        return _fail(one_line(e), e.exit_code, "user")
    except KeyboardInterrupt:
        return _fail("interrupted", 130, "interrupted", prefix="graphrec: ")
    except BrokenPipeError:  # the reader of stdout went away: not an error to report (see main)
        raise
    except OSError as e:
        if debug:
            raise
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        user = isinstance(e, _USER_OS_ERRORS)
        return _fail(f"{where}{one_line(e.strerror or e)} (rerun with --debug for details)",
                     GraphrecError.exit_code if user else INTERNAL_ERROR, "user" if user else "environment")
    except (MemoryError, RuntimeError) as e:
        if debug:
            raise
        if not isinstance(e, MemoryError) and not _OUT_OF_MEMORY.search(str(e)):
            return _internal(e)
        return _fail(f"out of memory ({one_line(e)[:200]}): a size is too large for this machine; "
                     "lower --factors, --layers, --neg, --batch-size, --dim or -k", GraphrecError.exit_code, "user")
    except Exception as e:  # noqa: BLE001 - the boundary: no traceback unless asked for
        if debug:
            raise
        return _internal(e)


#: How torch words a failed allocation (CPU and CUDA).
_OUT_OF_MEMORY = re.compile(r"can't allocate memory|out of memory|not enough memory|Tried to allocate", re.I)


def _internal(e: Exception) -> int:
    return _fail(f"{type(e).__name__}: {one_line(e)[:300]} (this looks like a bug in graphrec; "
                 "rerun with --debug for the traceback and report it)", INTERNAL_ERROR, "internal")


#: Whether errors are also reported as JSON on stdout (the command's ``--json``).
_json_errors = False


def _fail(message: str, code: int, kind: str, prefix: str = "graphrec: error: ") -> int:
    """The one way a command fails: one line on stderr; under ``--json`` also, on stdout, the object
    ``{"error": {"message", "kind", "exit_code"}}`` (``kind``: usage, user, environment, internal,
    interrupted). Returns ``code``, the exit status."""
    print(f"{prefix}{message}", file=sys.stderr)
    if _json_errors:
        import json

        try:
            print(json.dumps({"error": {"message": message, "kind": kind, "exit_code": code}}, indent=2))
            sys.stdout.flush()
        except (BrokenPipeError, ValueError, OSError):  # no reader, or stdout closed: the line on stderr stands
            pass
    return code
