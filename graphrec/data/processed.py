"""Processed-data cache: parsed datasets and their splits as ``.npz`` files under ``GRAPHREC_HOME``.

Parsing MovieLens and building the leave-one-out split take longer than any
warm command should; both are kept under ``GRAPHREC_HOME/processed``. This module is the storage:
entries, source stamps and arrays. What is stored is each type's own business: a dataset
(:mod:`graphrec.data.movielens`), its feature codes (:mod:`graphrec.data.features`) and its splits
(:mod:`graphrec.data.split`) turn themselves into arrays and back::

    processed/<dataset>-<folder digest>/manifest.json   the source files' size, mtime and checksum
    processed/<dataset>-<folder digest>/dataset.npz     ratings, users and movies as arrays
    processed/<dataset>-<folder digest>/split-<seed>.npz
    processed/splits-<folder digest>/...                 NCF split files read by :func:`load_ncf`

An entry is valid while every source file has the size, mtime and ctime recorded
in its manifest. When one differs, the file's checksum (BLAKE2b) decides: the same
bytes (a copied or touched folder) keep the entry, other bytes discard it. Size and
mtime alone cannot be trusted (``touch -r``, ``cp -p`` or an editor can restore them
after changing the bytes); the ctime is set by the kernel on every change and cannot
be set back, so the warm path still costs one ``stat`` per file and no hashing.

The cache's own arrays are held to the same standard: each ``.npz`` has its stamp and
checksum in the manifest (an altered file is refused and rebuilt, :func:`load_entry_arrays`),
and what is read is checked like a parse (lengths agree, ids in range, strings well
formed) before anything is sized from it. Arrays are read with
``np.load(allow_pickle=False)``: a file that would unpickle objects is refused (and
rebuilt), never executed. Everything is written atomically, so an interrupted write
leaves the previous state. :func:`data_fingerprint` names the data an entry was parsed
from (runs record it: :func:`graphrec.data.movielens.data_provenance`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import DataError
from ..io import atomic_path, write_json
from ..paths import cache_dir

#: Bump when the stored layout changes: older entries are then rebuilt.
FORMAT = 3
MANIFEST, DATASET = "manifest.json", "dataset.npz"

class CacheError(DataError):
    """A cache file that cannot be used (corrupt, or holding pickled objects)."""


def cache_root() -> Path:
    return cache_dir("processed")


# --------------------------------------------------------------------------- source stamps

def _checksum(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stamp(path: Path) -> dict | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def _same_stamp(was: dict, now: dict) -> bool:
    """Size, mtime and ctime as recorded (an entry written before ctimes were recorded: not the same)."""
    return all(was.get(k) == now[k] for k in ("size", "mtime_ns", "ctime_ns"))


def stamp_sources(files: list[Path]) -> dict[str, dict | None]:
    """Size, mtime and checksum of each file (``None`` for an absent one)."""
    out = {}
    for f in files:
        s = _stamp(f)
        out[f.name] = None if s is None else {**s, "checksum": _checksum(f)}
    return out


def _still_valid(entry: Path, files: list[Path]) -> bool:
    """True if the manifest in ``entry`` describes ``files`` as they are now (see the module docstring)."""
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    recorded = manifest.get("sources", {})
    if manifest.get("format") != FORMAT or set(recorded) != {f.name for f in files}:
        return False
    refreshed = False
    for f in files:
        was, now = recorded[f.name], _stamp(f)
        if was is None or now is None:
            if was is not now:
                return False
            continue
        if _same_stamp(was, now):
            continue
        if was["size"] != now["size"] or _checksum(f) != was["checksum"]:
            return False
        recorded[f.name] = {**now, "checksum": was["checksum"]}  # same bytes, new mtime
        refreshed = True
    if refreshed:
        write_json(entry / MANIFEST, manifest)
    return True


def find_entry(kind: str, folder: Path, files: list[Path]) -> tuple[Path, bool]:
    """(entry folder, valid). An invalid entry is removed so that it is rebuilt."""
    digest = hashlib.blake2b(str(folder.resolve()).encode(), digest_size=8).hexdigest()
    entry = cache_root() / f"{kind}-{digest}"
    if entry.is_dir() and _still_valid(entry, files):
        return entry, True
    remove_entry(entry)
    return entry, False


def remove_entry(path: Path) -> None:
    """Delete a folder atomically (renamed away first), tolerating another process doing the same."""
    trash = path.with_name(f".{path.name}.old-{os.getpid()}")
    try:
        os.replace(path, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def create_entry(entry: Path, files: list[Path], arrays: dict[str, dict[str, np.ndarray]], **meta) -> None:
    """Write a new entry (manifest plus ``arrays``: file name -> arrays) in a temporary folder and rename it
    into place; if another process got there first, its (equivalent) entry stays."""
    import tempfile

    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    try:
        for name, a in arrays.items():
            save_arrays(tmp / name, a)
        stamps = stamp_sources([tmp / name for name in arrays])
        write_json(tmp / MANIFEST, {"format": FORMAT, "sources": stamp_sources(files), "arrays": stamps, **meta})
        try:
            os.rename(tmp, entry)
        except OSError:  # the entry exists: created concurrently
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- arrays on disk

def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def load_arrays(path: Path, keys=None) -> dict[str, np.ndarray]:
    """The arrays in an ``.npz`` (all, or ``keys``); :class:`CacheError` for anything that needs
    unpickling, is missing or is corrupt."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in (z.files if keys is None else keys)}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise CacheError(f"{path}: refused (not a plain array file: {str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None


def _pack(strings) -> dict[str, np.ndarray]:
    """Strings as UTF-8 bytes plus offsets: compact, and no object arrays (no pickle)."""
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return {"bytes": np.frombuffer(b"".join(encoded), np.uint8), "offsets": offsets}


def unpack_strings(arrays: dict[str, np.ndarray], key: str) -> list[str]:
    data, off = arrays[f"{key}.bytes"].tobytes(), arrays[f"{key}.offsets"]
    return [data[a:b].decode("utf-8") for a, b in zip(off[:-1].tolist(), off[1:].tolist())]


def put_strings(arrays: dict, key: str, strings) -> None:
    for part, value in _pack(strings).items():
        arrays[f"{key}.{part}"] = value


def cached_arrays(path: Path, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays in ``path``, built and stored there first if absent or refused."""
    if path.is_file():
        try:
            return load_entry_arrays(path)
        except CacheError as e:
            print(f"graphrec: warning: {e}; rebuilding it", file=sys.stderr)
    arrays = build()
    save_arrays(path, arrays)
    _record_array(path)
    return arrays


def _record_array(path: Path) -> None:
    """Add ``path``'s stamp and checksum to its entry's manifest (a lost race only costs a rebuild later)."""
    try:
        manifest = json.loads((path.parent / MANIFEST).read_text())
        manifest.setdefault("arrays", {}).update(stamp_sources([path]))
        write_json(path.parent / MANIFEST, manifest)
    except (OSError, ValueError):
        pass


def load_entry_arrays(path: Path, keys=None) -> dict[str, np.ndarray]:
    """The arrays of a cache entry's ``.npz``, refused (:class:`CacheError`) unless the file is the one the
    entry wrote (stamp, else checksum, in the manifest) and its arrays are consistent (:func:`check_arrays`)."""
    try:
        recorded = json.loads((path.parent / MANIFEST).read_text()).get("arrays", {}).get(path.name)
    except (OSError, ValueError):
        recorded = None
    now = _stamp(path)
    if not isinstance(recorded, dict) or now is None:
        raise CacheError(f"{path}: refused (not recorded in its entry's {MANIFEST})")
    if not _same_stamp(recorded, now):
        if recorded.get("size") != now["size"] or _checksum(path) != recorded.get("checksum"):
            raise CacheError(f"{path}: refused (changed since graphrec wrote it)")
        _record_array(path)  # the same bytes (a copied cache): remember the new stamp
    arrays = load_arrays(path, keys)
    check_arrays(path, arrays)
    return arrays


def check_arrays(path: Path, a: dict[str, np.ndarray]) -> None:
    """:class:`CacheError` unless the dataset or split arrays in ``a`` (any subset) agree with each other:
    lengths, ids in range, sorted raw ids, string offsets; checked before anything is sized from them."""
    def bad(what: str):
        raise CacheError(f"{path}: refused (inconsistent arrays: {what})")

    def ids(key: str, n: int) -> None:
        v = a.get(key)
        if v is not None and v.size and (v.dtype.kind not in "iu" or int(v.min()) < 0 or int(v.max()) >= n):
            bad(f"{key} outside 0..{n - 1}")

    for key in [k[: -len(".offsets")] for k in a if k.endswith(".offsets")]:
        off, data = a[f"{key}.offsets"], a.get(f"{key}.bytes")
        if data is None or off.ndim != 1 or not len(off) or off[0] != 0 or off[-1] != len(data) or                 (np.diff(off) < 0).any():
            bad(f"{key} offsets")
    if "users.raw_id" in a or "movies.raw_id" in a:  # a dataset
        users, movies = a.get("users.raw_id"), a.get("movies.raw_id")
        for name, raw in (("users.raw_id", users), ("movies.raw_id", movies)):
            if raw is not None and (raw.ndim != 1 or (raw.size > 1 and (np.diff(raw) <= 0).any())):
                bad(f"{name} not ascending")
        rows = {len(a[k]) for k in ("ratings.user", "ratings.item", "ratings.rating", "ratings.timestamp") if k in a}
        if len(rows) > 1:
            bad("ratings columns of different lengths")
        if users is not None:
            ids("ratings.user", len(users))
        if movies is not None:
            ids("ratings.item", len(movies))
            for k in ("movies.year", "movies.title.offsets", "movies.genres.offsets"):
                if k in a and len(a[k]) != len(movies) + k.endswith(".offsets"):
                    bad(f"{k} does not match {len(movies)} movies")
        if "ratings.rating" in a and not np.isfinite(a["ratings.rating"]).all():
            bad("a rating that is not finite")
    if "sizes" in a:  # a split
        num_users, num_items = int(a["sizes"][0]), int(a["sizes"][1])
        if num_users < 0 or num_items < 0:
            bad("negative sizes")
        for part in ("train", "test", "valid"):
            ids(f"{part}_user", num_users)
            ids(f"{part}_item", num_items)
            ids(f"{part}_negatives", num_items)
            if f"{part}_user" in a and len(a[f"{part}_user"]) != len(a.get(f"{part}_item", a[f"{part}_user"])):
                bad(f"{part} users and items of different lengths")


def data_fingerprint(entry: Path | None) -> str | None:
    """Sixteen hex digits naming the data a cache entry was parsed from (the checksums of its source files),
    ``None`` without an entry or manifest."""
    if entry is None:
        return None
    try:
        return fingerprint_sources(json.loads((Path(entry) / MANIFEST).read_text())["sources"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def fingerprint_sources(sources: dict) -> str:
    """Sixteen hex digits naming the source files' contents (their checksums)."""
    text = json.dumps({k: v and v["checksum"] for k, v in sorted(sources.items())}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def split_key(seed: int, validation: bool = True) -> str:
    """File stem of a dataset's leave-one-out split in its cache entry."""
    return f"split-{seed}" + ("" if validation else "-novalid")


def split_files(split_dir: Path) -> list[Path]:
    """The files of an NCF split folder that make its split: ``*.rating``, ``*.negative`` and ``split.json``."""
    return sorted(p for p in split_dir.iterdir() if p.is_file() and
                  (p.suffix in (".rating", ".negative") or p.name == "split.json"))


def split_dir_entry(split_dir: Path) -> Path:
    """The cache folder of the NCF split files in ``split_dir`` (emptied when they changed)."""
    files = split_files(split_dir)
    entry, valid = find_entry("splits", split_dir, files)
    if not valid:
        create_entry(entry, files, {}, split_dir=str(split_dir))
    return entry


def split_provenance(split_dir: str | os.PathLike, cache: bool = True, entry: Path | None = None) -> dict:
    """``{"split_dir", "fingerprint"}`` of the NCF split files in ``split_dir``: the folder resolved and
    :func:`fingerprint_sources` of its :func:`split_files` (the same files elsewhere: the same fingerprint).
    Taken from the split's cache ``entry`` (one ``stat`` a file while they are unchanged, no hashing),
    hashed when ``cache`` is off."""
    d = Path(split_dir)
    fp = data_fingerprint(entry if entry is not None else split_dir_entry(d)) if cache else None
    if fp is None:
        fp = fingerprint_sources(stamp_sources(split_files(d)))
    return {"split_dir": str(d.resolve()), "fingerprint": fp}


# --------------------------------------------------------------------------- graphrec cache info|clear

def cache_info() -> dict:
    """What the cache holds: one row per entry with its size."""
    root = cache_root()
    rows = []
    if root.is_dir():
        for entry in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            try:
                manifest = json.loads((entry / MANIFEST).read_text())
            except (OSError, ValueError):
                manifest = {}
            files = sorted(p.name for p in entry.iterdir() if p.suffix == ".npz")
            size = sum(p.stat().st_size for p in entry.iterdir() if p.is_file())
            rows.append({"entry": entry.name, "source": manifest.get("root") or manifest.get("split_dir"),
                         "files": files, "bytes": size})
    return {"path": str(root), "entries": rows, "bytes": sum(r["bytes"] for r in rows)}


def clear_cache() -> int:
    """Remove every processed-data entry; returns the number of bytes freed."""
    freed = cache_info()["bytes"]
    root = cache_root()
    if root.is_dir():
        tmp = root.with_name(f".{root.name}.deleting-{os.getpid()}")
        os.replace(root, tmp)  # atomic: readers see either the whole cache or none
        shutil.rmtree(tmp, ignore_errors=True)
    return freed
