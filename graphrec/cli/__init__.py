"""The ``graphrec`` command line. Each sub-command lives in its own module."""
from __future__ import annotations

import argparse
import sys
from importlib import import_module

from ..errors import GraphrecError

#: Sub-command modules; each has ``add_parser(subparsers)`` setting ``func``.
COMMANDS = ["data", "train", "tune", "evaluate", "recommend", "similar", "explain", "embed", "benchmark"]


class _Parser(argparse.ArgumentParser):
    """Bad flags are user errors too: one line ``graphrec: error: ...``, exit 2 (``-h`` shows usage)."""

    def error(self, message: str):
        where = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(2, f"graphrec: error: {where}{message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="graphrec", description="Graph-ML movie recommendation on MovieLens.")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in COMMANDS:
        import_module(f"{__name__}.{name.replace('-', '_')}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "device", None) is not None:  # refuse a device this machine lacks before loading data
            from ..device import resolve_device

            resolve_device(args.device)
        return int(args.func(args) or 0)
    except GraphrecError as e:
        print(f"graphrec: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("graphrec: interrupted", file=sys.stderr)
        return 130
