"""What listing recommendations needs from a dataset, without pandas: ids, titles and who rated what.

A :class:`Catalog` maps the dataset's own user and movie ids to the dense
indices models use, names movies, and knows every movie each user rated (to
filter seen movies). :func:`load_catalog` reads it from the processed-data
cache, so a warm ``graphrec recommend`` neither parses MovieLens nor imports pandas.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np


if TYPE_CHECKING:
    from .movielens import MovieLens

#: The arrays of the cached dataset a catalog reads.
_KEYS = ("ratings.user", "ratings.item", "users.raw_id", "movies.raw_id", "movies.year", "movies.title.bytes",
         "movies.title.offsets", "movies.genres.bytes", "movies.genres.offsets")


@dataclass
class Catalog:
    """Raw ids, titles, years and genres of a dataset's movies, and each user's rated movies (CSR)."""

    name: str
    user_ids: np.ndarray  # [U] raw ids, ascending (index = dense user index)
    movie_ids: np.ndarray  # [M] raw ids, ascending
    titles: list[str]
    years: np.ndarray  # [M] float, NaN if unknown
    genres: list[list[str]]
    rated_ptr: np.ndarray  # [U + 1]: user u rated rated_items[rated_ptr[u]:rated_ptr[u + 1]]
    rated_items: np.ndarray
    #: The dataset's processed-data cache entry (:mod:`graphrec.data.processed`), if it has one.
    cache_entry: Path | None = None

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.movie_ids)

    def check_fits(self, model, source: str = "the model") -> None:
        """A clear error unless ``model`` scores exactly this catalog's users and movies."""
        from ..errors import GraphrecError

        if (model.num_users, model.num_items) != (self.num_users, self.num_items):
            raise GraphrecError(f"{source} scores {model.num_users} users x {model.num_items} movies but "
                                f"{self.name} has {self.num_users} x {self.num_items}")

    def user_index(self, raw_id: int) -> int:
        from .movielens import lookup_id

        return lookup_id(self.user_ids, raw_id, "user")

    def movie_index(self, raw_id: int) -> int:
        from .movielens import lookup_id

        return lookup_id(self.movie_ids, raw_id, "movie")

    def user_indices(self, raw_ids) -> np.ndarray:
        """Dense indices of several user ids; the first unknown one raises :class:`DataError`."""
        return self._indices(self.user_ids, raw_ids, self.user_index)

    def movie_indices(self, raw_ids) -> np.ndarray:
        """Dense indices of several movie ids; the first unknown one raises :class:`DataError`."""
        return self._indices(self.movie_ids, raw_ids, self.movie_index)

    @staticmethod
    def _indices(known: np.ndarray, raw_ids, one) -> np.ndarray:
        raw = np.asarray(raw_ids, dtype=np.int64).reshape(-1)
        pos = np.searchsorted(known, raw).clip(0, max(len(known) - 1, 0))
        bad = known[pos] != raw
        if bad.any():
            one(int(raw[np.flatnonzero(bad)[0]]))  # raises, naming the valid range
        return pos

    def rated(self, user: int) -> np.ndarray:
        """Dense indices of every movie dense user ``user`` rated."""
        return self.rated_items[self.rated_ptr[user]:self.rated_ptr[user + 1]]

    def movie(self, item: int) -> dict:
        """``movie_id``, ``title``, ``year`` (``None`` if unknown) and ``genres`` of dense movie ``item``."""
        year = float(self.years[item])
        return {"movie_id": int(self.movie_ids[item]), "title": self.titles[item],
                "year": None if year != year else int(year), "genres": list(self.genres[item])}

    @classmethod
    def from_arrays(cls, name: str, a: dict, cache_entry: Path | None = None) -> "Catalog":
        from .processed import unpack_strings

        users, items = a["ratings.user"], a["ratings.item"]
        n = len(a["users.raw_id"])
        order = np.argsort(users, kind="stable")
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(users, minlength=n), out=ptr[1:])
        return cls(name, a["users.raw_id"], a["movies.raw_id"], unpack_strings(a, "movies.title"), a["movies.year"],
                   [g.split("|") if g else [] for g in unpack_strings(a, "movies.genres")], ptr, items[order], cache_entry)

    @classmethod
    def from_movielens(cls, ml: MovieLens) -> "Catalog":
        from .movielens import dataset_arrays

        return cls.from_arrays(ml.name, dataset_arrays(ml), getattr(ml, "cache_entry", None))


def load_catalog(dataset: str | None = None, data_dir: str | os.PathLike | None = None,
                 cache: bool = True, on_bad_rows: str = "error") -> Catalog:
    """The catalog of a dataset (located as by :func:`~graphrec.data.load_movielens`), from the cache when warm."""
    from .movielens import dataset_entry, load_movielens, locate
    from .processed import CacheError, load_arrays

    if cache and on_bad_rows == "error":  # only a strict parse is cached
        name, root = locate(dataset, data_dir)
        entry, valid = dataset_entry(name, root)
        if valid:
            try:
                return Catalog.from_arrays(name, load_arrays(entry / "dataset.npz", _KEYS), entry)
            except CacheError:
                pass  # rebuilt below
    return Catalog.from_movielens(load_movielens(dataset, data_dir, on_bad_rows=on_bad_rows, cache=cache))
