"""Fetching MovieLens from GroupLens: checksum-verified download and safe extraction."""
from __future__ import annotations

import hashlib
import os
import urllib.request
import zipfile
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import DataError
from ..io import atomic_dir, atomic_path

BASE_URL = "https://files.grouplens.org/datasets/movielens"

#: MD5s of the fixed GroupLens releases. Others (ml-latest-small, ml-32m) are checked
#: against the ``.md5`` file GroupLens publishes beside each archive.
KNOWN_MD5 = {
    "ml-100k.zip": "0e33842e24a9c977be4e0107933c0723",
    "ml-1m.zip": "c4d9eecfca2ab87c1945afe126590906",
    "ml-20m.zip": "cd245b17a1ae2cc31bb14903e1204af3",
    "ml-25m.zip": "6b51fb2759a8657d3bfcbfc42b592ada",
}


def md5sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def fetch_md5(url: str, timeout: float = 30.0) -> str:
    """GroupLens publishes ``<archive>.md5`` beside every archive."""
    with urllib.request.urlopen(url + ".md5", timeout=timeout) as r:
        text = r.read().decode("ascii", "replace")
    token = text.split()[0] if text.split() else ""
    if "=" in text:  # "MD5 (ml-100k.zip) = <hex>"
        token = text.rsplit("=", 1)[1].strip()
    if len(token) != 32:
        raise DataError(f"could not read a checksum from {url}.md5")
    return token.lower()


def download(url: str, dest: str | os.PathLike, md5: str | None = None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` with a progress bar; verify its MD5; rename into place."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    expected = md5 or KNOWN_MD5.get(url.rsplit("/", 1)[-1]) or fetch_md5(url, timeout=timeout)
    with atomic_path(dest) as tmp:  # renamed into place only once the checksum matches
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
            total = int(r.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
                for block in iter(lambda: r.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
        got = md5sum(tmp)
        if got != expected:
            raise DataError(f"checksum mismatch for {url}: expected md5 {expected}, got {got}")
    return dest


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Extract a zip into ``target``, refusing members that would escape it.

    Absolute names, ``..`` components and symbolic links are refused before
    anything is written; extraction goes to a temporary folder renamed into place.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf, atomic_dir(target, replace=True) as tmp:
        root = tmp.resolve()
        for m in zf.infolist():
            is_link = (m.external_attr >> 16) & 0o170000 == 0o120000
            dest = (root / m.filename).resolve()
            if is_link or os.path.isabs(m.filename) or not dest.is_relative_to(root):
                raise DataError(f"refusing unsafe archive member {m.filename!r} in {archive}")
        zf.extractall(root)
    return target
