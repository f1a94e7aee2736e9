"""What listing recommendations needs from a dataset, without pandas: ids, titles and who rated what.

A :class:`Catalog` maps the dataset's own user and movie ids to the dense
indices models use, names movies, and knows every movie each user rated (to
filter seen movies). :func:`load_catalog` reads it from the processed-data
cache, so a warm ``graphrec recommend`` neither parses MovieLens nor imports pandas.
"""
from __future__ import annotations

import functools
import os
import re
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
        raw = np.asarray(raw_ids)
        if raw.size and not np.issubdtype(raw.dtype, np.integer):
            raise TypeError(f"ids must be integers, got {raw.dtype} values such as {raw.reshape(-1)[0]!r}")
        raw = raw.astype(np.int64).reshape(-1)
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
    from .processed import CacheError, load_entry_arrays

    if cache and on_bad_rows == "error":  # only a strict parse is cached
        name, root = locate(dataset, data_dir)
        entry, valid = dataset_entry(name, root)
        if valid:
            try:
                return Catalog.from_arrays(name, load_entry_arrays(entry / "dataset.npz", _KEYS), entry)
            except CacheError:
                pass  # rebuilt below
    return Catalog.from_movielens(load_movielens(dataset, data_dir, on_bad_rows=on_bad_rows, cache=cache))


# --------------------------------------------------------------------------- titles

#: Leading articles MovieLens moves to the end ("Usual Suspects, The (1995)").
_ARTICLE = re.compile(r"^(.*), (the|a|an|la|le|les|l'|il|das|der|die|el)( \(\d{4}\))?$", re.IGNORECASE)
_YEAR = re.compile(r"\s*\(\d{4}\)\s*$")


def canonical_title(title: str) -> str:
    """Lower-case, whitespace collapsed, article in front: "Empire Strikes Back, The (1980)" ->
    "the empire strikes back (1980)"."""
    t = " ".join(title.strip().lower().split())
    m = _ARTICLE.match(t)
    return f"{m.group(2)} {m.group(1)}{m.group(3) or ''}" if m else t


@functools.lru_cache(maxsize=8)
def _title_keys(titles: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each title :func:`canonical_title`, with and without its year (kept for the last few catalogs: a
    server matches every query against the same titles)."""
    canon = tuple(canonical_title(t) for t in titles)
    return canon, tuple(_YEAR.sub("", t) for t in canon)


def find_titles(titles: list[str], query: str, close: int = 5) -> tuple[list[int], list[int]]:
    """``(matches, suggestions)``: the indices of the titles ``query`` names at the first level of
    :func:`resolve_title` that has any (empty if none), and, when none does, up to ``close`` close titles
    (difflib). A ``query`` that is not a string is a :class:`TypeError`, an empty one a
    :class:`~graphrec.errors.GraphrecError`."""
    import difflib

    from ..errors import GraphrecError

    if not isinstance(query, str):
        raise TypeError(f"a title must be a string, got {type(query).__name__} {query!r}")
    q = canonical_title(query)
    if not q:
        raise GraphrecError("empty title: name a movie, e.g. \"Star Wars\"")
    canon, bare = _title_keys(tuple(titles))
    words = re.compile(rf"(?<!\w){re.escape(q)}(?!\w)")
    levels = (
        lambda: [i for i, t in enumerate(canon) if t == q],
        lambda: [] if _YEAR.search(q) else [i for i, t in enumerate(bare) if t == q],
        lambda: [i for i, t in enumerate(canon) if words.search(t)],
    )
    for level in levels:
        found = level()
        if found:
            return found, []
    keys = list(canon) if _YEAR.search(q) else list(bare)  # compare like with like
    return [], [keys.index(c) for c in difflib.get_close_matches(q, keys, n=close, cutoff=0.5)]


def resolve_title(titles: list[str], query: str, counts=None, limit: int = 10) -> int:
    """The index in ``titles`` of the one movie ``query`` names: the one title resolver of graphrec
    (``recommend --liked``, ``similar``, ``serve``, :func:`graphrec.inductive.recommend_new_user`).

    Case-insensitive, the article in either place; tried in order: the full title; the title without its
    year (a query without a year); titles holding the query as whole words ("jedi", never "s" in
    "Star Wars") (:func:`find_titles`). The first level with matches decides: one match is the answer,
    several are refused (:class:`~graphrec.errors.GraphrecError` listing them; identical titles, a film
    listed twice, are one movie: the most-rated of them by ``counts``, else the first); no match is
    refused with close titles. A ``query`` that is not a string is a :class:`TypeError`.
    """
    from ..errors import GraphrecError

    found, close = find_titles(titles, query)
    if len({titles[i] for i in found}) == 1:
        return max(found, key=lambda i: (int(counts[i]), -i)) if counts is not None else found[0]
    if found:
        shown = "; ".join(titles[i] for i in found[:limit])
        more = f" and {len(found) - limit} more" if len(found) > limit else ""
        raise GraphrecError(f"{query!r} is ambiguous: {len(found)} titles match: {shown}{more}; "
                            "give the full title with its year")
    hint = f"; did you mean: {'; '.join(titles[i] for i in close)}?" if close else ""
    raise GraphrecError(f"no movie titled {query!r}{hint}")


def resolve_titles(titles: list[str], queries, counts=None) -> list[int]:
    """:func:`resolve_title` of each of ``queries``, a list (or tuple) of titles (one that names no movie
    as a whole may list several separated by commas); a single string is a :class:`TypeError` (it would
    otherwise be read as a list of letters)."""
    if isinstance(queries, (str, bytes)):
        raise TypeError(f"titles must be a list of strings, got the string {queries!r}: write [{queries!r}]")
    try:
        queries = list(queries)
    except TypeError:
        raise TypeError(f"titles must be a list of strings, got {type(queries).__name__}") from None
    return [i for q in queries for i in _resolve_listed(titles, q, counts)]


def _resolve_listed(titles: list[str], query: str, counts=None) -> list[int]:
    """``query`` as one title; failing that, as titles separated by commas when every one of them names a
    movie ("Star Wars (1977),Fargo (1996)"). A title that holds commas ("Usual Suspects, The") resolves
    whole first, so it is never split; otherwise the error of the whole query stands."""
    from ..errors import GraphrecError

    try:
        return [resolve_title(titles, query, counts)]
    except GraphrecError:
        parts = [p.strip() for p in query.split(",")] if isinstance(query, str) else []
        if len(parts) < 2 or not all(parts):
            raise
        try:
            return [resolve_title(titles, p, counts) for p in parts]
        except GraphrecError:
            raise GraphrecError(f"{query!r} is neither one title nor titles separated by commas that each name "
                                "a movie; give each title its own --liked (or separate them by ';')") from None
