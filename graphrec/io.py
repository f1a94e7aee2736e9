"""Atomic file output: everything graphrec writes goes to a temporary name first.

The one place for what graphrec writes (docs/reliability.md): :func:`atomic_path` and
:func:`atomic_dir` refuse to replace anything but a regular file, folder or missing path
(:func:`check_output`); :func:`write_csv` is the one CSV writer (spreadsheet formulas escaped);
:func:`claim_dir` claims a run folder for one process; :func:`file_lock` serialises processes.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import socket
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from .paths import graphrec_home
from .errors import GraphrecError


class OutputError(GraphrecError):
    """An output path graphrec will not write: a device, a fifo, a socket, a folder where a file goes, ..."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a fifo (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a file")):
        if test(mode):
            return name
    return "not a regular file"


def check_output(path: str | os.PathLike, folder: bool = False) -> Path:
    """The path to write for ``path``: refuse (:class:`OutputError`, naming ``path``) anything that is not a
    regular file (``folder``: a folder) or missing. A symbolic link to such a file is followed (the file it
    names is replaced, the link kept); a link to anything else, or to nothing, is refused."""
    path = Path(path)
    want = "a folder" if folder else "a file"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise OutputError(f"{path}: is a symbolic link to a missing path ({os.readlink(path)}); "
                              "remove the link or write to another path") from None
        return path
    except OSError as e:  # a symlink loop, a path through a file, no permission
        raise OutputError(f"{path}: cannot be written ({e.strerror or e})") from None
    kind = _kind(st.st_mode)
    if kind != want:
        link = f" (a symbolic link to {os.path.realpath(path)})" if os.path.islink(path) else ""
        raise OutputError(f"{path}: is {kind}{link}, not {want}; graphrec only replaces regular files and "
                          "folders (or writes a new path): choose another output path")
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success.

    On an exception the temporary file is removed and ``path`` is untouched. Anything but a regular file
    or a missing path is refused before any work (:func:`check_output`).
    """
    path = check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_owner()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            normal_mode(tmp_path)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_tensors(obj, path: str | os.PathLike) -> None:
    """``torch.save`` through :func:`atomic_path`."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_tensors(path: str | os.PathLike):
    """``torch.load(weights_only=True)`` with a clear error for anything else."""
    import pickle
    import warnings

    import torch

    from .errors import CheckpointError

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():  # a legacy pickle makes torch warn before it refuses
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, OSError, KeyError,
            TypeError, IndexError, UnicodeDecodeError) as e:
        # torch's own text may advise weights_only=False, which would run the file's code: never pass it on
        kind = "holds objects other than tensors" if isinstance(e, pickle.UnpicklingError) else "is truncated or corrupt"
        raise CheckpointError(f"{path}: cannot be loaded: the file {kind} ({type(e).__name__}); "
                              "train or export it again") from None


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write strict JSON: a NaN or infinite float is written as ``null``, never as ``NaN``/``Infinity``."""
    write_text(path, dumps(obj, indent=2, sort_keys=True) + "\n")


def dumps(obj: Any, **kwargs) -> str:
    """``json.dumps`` that always yields valid JSON (non-finite floats become ``null``)."""
    return json.dumps(finite_json(obj), allow_nan=False, default=_json_default, **kwargs)


def finite_json(obj: Any) -> Any:
    """``obj`` with every non-finite float (also in numpy scalars and arrays) replaced by ``None``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    if type(obj).__module__ == "numpy":
        return finite_json(_json_default(obj))
    return obj


# --------------------------------------------------------------------------- CSV

#: A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _formula(text: str) -> bool:
    bare = text.lstrip("'")
    return bare.startswith(FORMULA_START) and not _NUMBER.match(bare)


def csv_cell(value: Any) -> Any:
    """A cell as graphrec writes it: a text starting with ``= + - @``, tab or CR (after any ``'``) gets a
    leading ``'`` (OWASP's rule) so a spreadsheet shows it as text; numbers, and texts that are plain
    numbers such as ``-0.5``, are unchanged. :func:`csv_value` undoes it exactly."""
    return "'" + value if isinstance(value, str) and _formula(value) else value


def csv_value(cell: str) -> str:
    """The text :func:`csv_cell` was given, from the cell it wrote."""
    return cell[1:] if cell.startswith("'") and _formula(cell) else cell


def csv_text(rows: Iterable, header: list[str] | None = None, delimiter: str = ",") -> str:
    """CSV of ``rows`` (dicts, keyed by ``header`` or by every key in order of appearance; or sequences
    under ``header``), every text cell passed through :func:`csv_cell`."""
    import csv
    import io

    rows = list(rows)
    dicts = bool(rows) and isinstance(rows[0], dict)
    if header is None:
        header = list(dict.fromkeys(k for r in rows for k in r)) if dicts else []
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    quoted = csv.writer(buf, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def row(cells) -> None:  # a lone CR is not quoted by the minimal dialect: quote such a row whole
        cells = [csv_cell("" if v is None else v) for v in cells]
        (quoted if any(isinstance(v, str) and "\r" in v for v in cells) else w).writerow(cells)

    if header:
        row(header)
    for r in rows:
        row([r.get(k, "") for k in header] if dicts else r)
    return buf.getvalue()


def write_csv(path: str | os.PathLike, rows: Iterable, header: list[str] | None = None,
              delimiter: str = ",") -> None:
    """The one CSV writer: :func:`csv_text` written atomically (:func:`atomic_path`)."""
    write_text(path, csv_text(rows, header, delimiter))


def read_csv(path: str | os.PathLike, delimiter: str = ",") -> list[dict[str, str]]:
    """The rows of a CSV :func:`write_csv` wrote, as dicts of texts, escapes undone (:func:`csv_value`)."""
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return [{csv_value(k): csv_value(v) for k, v in r.items()} for r in csv.DictReader(f, delimiter=delimiter)]


def figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None, **kwargs):
    """``(figure, axes)`` made without pyplot, so no backend is chosen or switched (a notebook keeps its
    own); graphrec's figures are only written to files (:func:`save_figure`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig, path: str | os.PathLike, **kwargs) -> None:
    """Save a matplotlib figure atomically (and close it if pyplot manages it: SHAP's plots)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", bbox_inches="tight", **kwargs)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success move its entries into ``path``.

    Entries of ``path`` with the same names are replaced, others kept. With ``replace`` the
    folder is exactly what was written: an existing ``path`` is swapped out whole, so a
    reader sees the old folder or the complete new one. On an exception the temporary
    folder is removed and ``path`` is untouched; a killed process leaves at most a hidden
    temporary folder, removed by the next use (:func:`clean_stale_temps`).
    """
    import shutil

    path = check_output(path, folder=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir(path.parent, path.name)
    try:
        yield tmp
        if replace and path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.{_owner()}.", suffix=".old.tmp", dir=path.parent))
            os.replace(path, old / "old")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
            return
        if not path.exists():
            os.replace(tmp, path)
            return
        for entry in tmp.iterdir():
            target = path / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- claims and locks

class NameTaken(GraphrecError):
    """Another process holds the claim on an output (:func:`claim_dir`)."""


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of ``path``: ``$GRAPHREC_HOME/locks/<name>-<digest of the absolute path>.lock`` (kept; it holds
    the last owner's ``host-pid``), so output folders hold nothing but their outputs."""
    import hashlib

    path = Path(os.path.abspath(path))
    digest = hashlib.blake2b(str(path).encode(), digest_size=8).hexdigest()
    return graphrec_home() / "locks" / f"{path.name}-{digest}.lock"


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, wait: bool = True, waiting: str | None = None) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``lock_path(path)`` (``flock``: released by the kernel when
    the process ends, however it ends). A held lock makes ``wait=False`` raise :class:`BlockingIOError`;
    with ``wait`` it blocks, first printing ``waiting`` (if given) on stderr. A no-op where ``fcntl`` is
    missing (Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise
            if waiting:
                import sys

                print(f"graphrec: {waiting}", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, f"{_owner()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def claim_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Claim the output folder ``path`` for this process while the block runs: a second process (or a
    second claim) gets :class:`NameTaken`, one line naming the folder and the holder. Nothing is created
    but the lock file (:func:`lock_path`)."""
    path = Path(path)
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(file_lock(path, wait=False))
        except BlockingIOError:
            try:
                holder = lock_path(path).read_text().strip() or "unknown"
            except OSError:
                holder = "unknown"
            raise NameTaken(f"{path}: name taken: another graphrec process ({holder}) is writing it now; "
                            "choose another --name, or wait for it to finish") from None
        yield path


# --------------------------------------------------------------------------- temporary folders

#: Temporary entries of a process that died long ago (or of an unknown one) are removed after this many seconds.
STALE_AFTER_S = 24 * 3600


def _owner() -> str:
    """``host-pid`` of this process, embedded in temporary names so stale ones can be told apart."""
    host = re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname().split(".")[0]) or "host"
    return f"{host}-{os.getpid()}"


def normal_mode(path: Path) -> None:
    """Give a file made by ``mkstemp``/``mkdtemp`` (mode 0600/0700) the umask's usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def temp_dir(parent: str | os.PathLike, name: str) -> Path:
    """A new hidden folder ``.<name>.<host>-<pid>.XXXX.tmp`` in ``parent``, after removing stale ones
    (see :func:`clean_stale_temps`)."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(parent, name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.{_owner()}.", suffix=".tmp", dir=parent))
    normal_mode(tmp)
    return tmp


def clean_stale_temps(parent: str | os.PathLike, name: str) -> list[Path]:
    """Remove the temporary entries ``.<name>.*`` in ``parent`` that a killed process left behind.

    An entry is stale when the process named in it (same host) no longer runs, or,
    without a live owner on this host, when it is older than :data:`STALE_AFTER_S`.
    Concurrent users of the same folder are never disturbed. Returns what was removed.
    """
    import shutil
    import time

    parent = Path(parent)
    if not parent.is_dir():
        return []
    host = _owner().rsplit("-", 1)[0]
    owned = re.compile(rf"^\.{re.escape(name)}\.{re.escape(host)}-(\d+)\.")
    removed = []
    for e in parent.iterdir():
        if not e.name.startswith(f".{name}."):
            continue
        m = owned.match(e.name)
        try:
            stale = (not _alive(int(m[1]))) if m else time.time() - e.lstat().st_mtime > STALE_AFTER_S
            if stale:
                shutil.rmtree(e) if e.is_dir() and not e.is_symlink() else e.unlink()
                removed.append(e)
        except OSError:  # removed concurrently, or not ours to remove
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
