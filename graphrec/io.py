"""Atomic file output: everything graphrec writes goes to a temporary name first."""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
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

    path = Path(path)
    _refuse_file(path)
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


def _refuse_file(path: Path) -> None:
    """A folder to be written must not be an existing file (checked before any work is done)."""
    if path.exists() and not path.is_dir():
        import errno

        raise NotADirectoryError(errno.ENOTDIR, "exists and is a file, not a folder", str(path))


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
