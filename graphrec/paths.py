"""Where graphrec keeps what it caches: the one leaf every floor may import.

``$GRAPHREC_HOME`` (default: the platform's user cache folder, ``~/.cache/graphrec`` on Linux,
``~/Library/Caches/graphrec`` on macOS) holds

- ``datasets/``: downloaded MovieLens releases (:mod:`graphrec.data.download`);
- ``processed/``: parsed datasets and splits (:mod:`graphrec.data.processed`);
- ``models/``: the default models trained on first use (:mod:`graphrec.defaults`);
- ``embeddings/``: the default movie embeddings of ``graphrec similar`` (:mod:`graphrec.defaults`).
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import DataError

#: The folders of the cache home, one per kind of entry.
KINDS = ("datasets", "processed", "models", "embeddings")


def graphrec_home() -> Path:
    """``$GRAPHREC_HOME``, else the platform's user cache folder (``~/.cache/graphrec`` on Linux)."""
    if os.environ.get("GRAPHREC_HOME"):
        home = Path(os.environ["GRAPHREC_HOME"])
    else:
        import platformdirs

        home = Path(platformdirs.user_cache_dir("graphrec", appauthor=False))
    if home.exists() and not home.is_dir():
        raise DataError(f"GRAPHREC_HOME={home} is a file, not a folder: point it at a folder")
    return home


def cache_dir(kind: str, name: str = "") -> Path:
    """``graphrec_home() / kind / name`` with ``kind`` one of :data:`KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}")
    return graphrec_home() / kind / name if name else graphrec_home() / kind
