"""Why two movies are neighbours: what a neighbour shares with its query (``graphrec similar``).

* **common raters**: users who rated both, among the ratings the embedding was trained on
  (``raters.pt`` beside the embedding: each movie's raters as a CSR ``indptr``/``users`` pair);
* **shared genres**: the genres both have (``movies.tsv``);
* **franchise**: the series both belong to, by :mod:`graphrec.embeddings.franchise`;
* **year**: the neighbour's year, and how far it is from the query's.

Reads only the embedding folder (no dataset, no scipy).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import CheckpointError
from ..io import load_tensors, save_tensors
from .franchise import franchise_keys, siblings

RATERS = "raters.pt"


def save_raters(folder: str | Path, users: np.ndarray, items: np.ndarray, num_items: int) -> None:
    """Write ``raters.pt``: movie ``m``'s raters are ``users[indptr[m]:indptr[m + 1]]`` (sorted, distinct)."""
    pairs = np.unique(np.stack([np.asarray(items, np.int64), np.asarray(users, np.int64)]), axis=1)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pairs[0], minlength=num_items))])
    save_tensors({"indptr": torch.from_numpy(indptr), "users": torch.from_numpy(pairs[1].copy())},
                 Path(folder) / RATERS)


def load_raters(folder: str | Path) -> list[np.ndarray] | None:
    """Each movie's raters from ``raters.pt``, or ``None`` for folders written before it existed."""
    path = Path(folder) / RATERS
    if not path.is_file():
        return None
    t = load_tensors(path)
    if not isinstance(t, dict) or not all(isinstance(t.get(k), torch.Tensor) for k in ("indptr", "users")):
        raise CheckpointError(f"{path}: no indptr/users tensors")
    indptr, users = t["indptr"].numpy(), t["users"].numpy()
    return [users[indptr[m]:indptr[m + 1]] for m in range(len(indptr) - 1)]


def _year(row: dict) -> int | None:
    y = str(row.get("year", "")).strip()
    return int(y) if y.isdigit() else None


def _genres(row: dict) -> list[str]:
    g = row.get("genres", "")
    return [] if g in ("", "(none)") else g.split("|")


class Reasons:
    """What each neighbour shares with its query, from ``movies.tsv`` rows and (optionally) the raters."""

    def __init__(self, movies: list[dict], raters: list[np.ndarray] | None = None) -> None:
        self.movies, self.raters = movies, raters
        self.titles = [m["title"] for m in movies]
        self.keys = franchise_keys(self.titles)

    def __call__(self, query: int, other: int) -> dict:
        """``{"common_raters", "shared_genres", "franchise", "year", "year_gap"}`` (``common_raters`` is
        ``None`` without raters; ``franchise`` ``None`` unless the two are siblings)."""
        common = None
        if self.raters is not None:
            common = int(len(np.intersect1d(self.raters[query], self.raters[other], assume_unique=True)))
        mine = _genres(self.movies[query])
        shared = [g for g in _genres(self.movies[other]) if g in mine]
        same = self.keys[query][0] if siblings(self.keys, self.titles, query, other) else None
        yq, yo = _year(self.movies[query]), _year(self.movies[other])
        return {"common_raters": common, "shared_genres": shared, "franchise": same, "year": yo,
                "year_gap": None if yq is None or yo is None else yo - yq}

    def raters_of(self, movie: int) -> int | None:
        return None if self.raters is None else int(len(self.raters[movie]))
