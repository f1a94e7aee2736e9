"""MovieLens in its three file families, read into one :class:`MovieLens` table set.

* ML-100K: ``u.data``, ``u.item``, ``u.user`` (latin-1, ``\\t`` and ``|``).
* ML-1M: ``ratings.dat``, ``movies.dat``, ``users.dat`` (latin-1, ``::``).
* The CSV family (ml-latest-small, ml-20m, ml-25m, ml-32m): ``ratings.csv`` and
  ``movies.csv`` (UTF-8, pipe-separated genres, no user demographics).

Users and movies are indexed ``0..n-1`` in the order of their sorted raw ids;
only users and movies with at least one rating are kept.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from typing import Callable, TYPE_CHECKING

import numpy as np

from ..errors import DataError
from ..paths import cache_dir
from .processed import (DATASET, CacheError, create_entry, data_fingerprint, find_entry, fingerprint_sources,
                        load_entry_arrays, put_strings, remove_entry, stamp_sources, unpack_strings)

if TYPE_CHECKING:  # pandas, and tqdm through the downloader, load only when a file is parsed or fetched
    import pandas as pd

#: Archive name on GroupLens, and the file that marks a folder as holding it.
DATASETS: dict[str, str] = {
    "ml-100k": "u.data",
    "ml-1m": "ratings.dat",
    "ml-latest-small": "ratings.csv",
    "ml-20m": "ratings.csv",
    "ml-25m": "ratings.csv",
    "ml-32m": "ratings.csv",
}

ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]
ML1M_OCCUPATIONS = [
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer", "programmer",
    "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer", "tradesman/craftsman",
    "unemployed", "writer",
]
#: Lowest and highest rating of each release (the CSV family has half stars from 0.5).
RATING_RANGE: dict[str, tuple[float, float]] = {"ml-100k": (1.0, 5.0), "ml-1m": (1.0, 5.0)}
CSV_RATING_RANGE = (0.5, 5.0)
#: Ids are integers that float64 holds exactly.
MAX_ID = 2 ** 53

#: Age buckets as in ML-1M's users.dat (lower bounds).
AGE_BUCKETS = [0, 18, 25, 35, 45, 50, 56]
AGE_LABELS = ["<18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"]

log = logging.getLogger("graphrec")

_YEAR = re.compile(r"\((\d{4})\)\s*$")


@dataclass
class MovieLens:
    """Ratings, users and movies of one MovieLens release, with dense indices.

    ``ratings`` has columns ``user``, ``item`` (dense indices), ``rating`` and
    ``timestamp``. ``users`` and ``movies`` are indexed by dense index and keep
    the raw id in ``raw_id``. Demographic columns are absent when the release
    has none.
    """

    name: str
    ratings: pd.DataFrame
    users: pd.DataFrame
    movies: pd.DataFrame
    genres: list[str]
    occupations: list[str] = field(default_factory=list)
    root: Path | None = None
    #: Rows dropped while loading: bad rows (``on_bad_rows="skip"``) and repeated (user, movie) ratings.
    skipped_rows: int = 0
    duplicates_dropped: int = 0
    #: The processed-data cache entry of the source files (:mod:`graphrec.data.processed`), if loaded through it.
    cache_entry: Path | None = field(default=None, repr=False, compare=False)

    @property
    def num_users(self) -> int:
        return len(self.users)

    @property
    def num_items(self) -> int:
        return len(self.movies)

    @property
    def has_demographics(self) -> bool:
        return {"age", "gender", "occupation"} <= set(self.users.columns)

    def user_index(self, raw_id: int) -> int:
        """Dense index of a dataset user id; a clear error names the valid range."""
        return lookup_id(self.users["raw_id"].to_numpy(), raw_id, "user")

    def movie_index(self, raw_id: int) -> int:
        return lookup_id(self.movies["raw_id"].to_numpy(), raw_id, "movie")

    def genre_matrix(self) -> np.ndarray:
        """Multi-hot ``[num_items, num_genres]`` float32 matrix."""
        out = np.zeros((self.num_items, len(self.genres)), dtype=np.float32)
        col = {g: j for j, g in enumerate(self.genres)}
        for i, gs in enumerate(self.movies["genres"]):
            for g in gs:
                out[i, col[g]] = 1.0
        return out


def lookup_id(raw_ids: np.ndarray, raw_id: int, kind: str) -> int:
    if isinstance(raw_id, bool) or not isinstance(raw_id, (int, np.integer)):
        raise TypeError(f"a {kind} id must be an integer, got {type(raw_id).__name__} {raw_id!r}")
    pos = int(np.searchsorted(raw_ids, raw_id))
    if pos >= len(raw_ids) or raw_ids[pos] != raw_id:
        raise DataError(
            f"unknown {kind} id {raw_id}: valid {kind} ids lie in {raw_ids.min()}..{raw_ids.max()}"
            f" ({len(raw_ids)} {kind}s)"
        )
    return pos


# --------------------------------------------------------------------------- locating data

def detect_dataset(folder: Path) -> str | None:
    if (folder / "u.data").is_file():
        return "ml-100k"
    if (folder / "ratings.dat").is_file():
        return "ml-1m"
    if (folder / "ratings.csv").is_file():
        return folder.name if folder.name in DATASETS else "ml-latest-small"
    return None


def locate(dataset: str | None = None, data_dir: str | os.PathLike | None = None, download_ok: bool = True) -> tuple[str, Path]:
    """Find a dataset folder: ``data_dir``, then ``$GRAPHREC_DATA``, then the cache, then GroupLens.

    A folder may be the dataset itself or hold it as a sub-folder named after it.
    """
    if dataset is not None and dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    name = dataset or "ml-100k"
    looked: list[str] = []
    candidates: list[Path] = []
    if data_dir is not None:
        candidates.append(Path(data_dir))
    elif os.environ.get("GRAPHREC_DATA"):
        candidates.append(Path(os.environ["GRAPHREC_DATA"]))
    candidates.append(cache_dir("datasets"))
    for folder in candidates:
        for sub in (folder, folder / name):
            looked.append(str(sub))
            if sub.is_dir():
                found = detect_dataset(sub)
                if found is not None and (dataset is None or found == dataset or DATASETS[found] == DATASETS[name]):
                    return (dataset or found), sub
        if data_dir is not None:  # an explicit folder is never silently replaced
            _refuse_unreadable(Path(data_dir), name)
            raise DataError(
                f"no MovieLens files found in {data_dir} (looked for u.data, ratings.dat or ratings.csv in "
                f"{' and '.join(looked)})"
            )
    if download_ok:
        from .download import BASE_URL

        try:
            return name, fetch(name)
        except OSError as e:
            looked.append(f"{BASE_URL}/{name}.zip ({e.__class__.__name__}: {e})")
    raise DataError(
        f"{name} not found; looked in: {'; '.join(looked)}. Point at a folder with --data-dir DIR "
        f"or GRAPHREC_DATA=DIR, or go online to download it from GroupLens."
    )


def _refuse_unreadable(folder: Path, name: str) -> None:
    """A ratings file that is there but not a readable file (a folder, a broken or looping link) is named as such,
    not reported as missing."""
    for sub in (folder, folder / name):
        for f in ("u.data", "ratings.dat", "ratings.csv"):
            p = sub / f
            if os.path.lexists(p) and not p.is_file():
                kind = "not a regular file"
                if p.is_dir():
                    kind = "a folder"
                elif p.is_symlink():
                    try:
                        os.stat(p)
                    except OSError as e:
                        kind = "a symbolic link loop" if e.errno == errno.ELOOP else "a broken symbolic link"
                raise DataError(f"{p}: is {kind}, not a file: point --data-dir at a folder whose {f} is the "
                                "MovieLens file")


def fetch(name: str) -> Path:
    """Download ``name`` from GroupLens into the cache (checksum-verified) and extract it."""
    from .download import BASE_URL, download, safe_extract

    cache = cache_dir("datasets")
    archive = download(f"{BASE_URL}/{name}.zip", cache / f"{name}.zip")
    extracted = safe_extract(archive, cache / f".{name}.extract")
    inner = extracted / name if (extracted / name).is_dir() else extracted
    target = cache / name
    os.replace(inner, target)
    return target


# --------------------------------------------------------------------------- reading

def load_movielens(dataset: str | None = None, data_dir: str | os.PathLike | None = None,
                   download_ok: bool = True, on_bad_rows: str = "error", cache: bool = True) -> MovieLens:
    """Load a MovieLens release; see :func:`locate` for where it is looked for.

    Every row is checked: the right number of fields, integer ids that exist,
    ratings within the release's range (:data:`RATING_RANGE`), finite integer
    timestamps. ``on_bad_rows="error"`` stops at the first bad row with a
    :class:`DataError` naming file and line; ``"skip"`` drops bad rows and logs
    how many and the first few line numbers. A (user, movie) pair rated more
    than once keeps its latest rating; how many were dropped is logged.

    With ``cache``, a strict parse (``on_bad_rows="error"``) is kept under ``GRAPHREC_HOME/processed``
    and reused while the source files are unchanged (:mod:`graphrec.data.processed`).
    """
    name, root = locate(dataset, data_dir, download_ok)
    if cache and on_bad_rows == "error":  # a lenient parse is never cached: it could hide a bad file
        return cached_dataset(name, root, lambda: parse_movielens(name, root))
    return parse_movielens(name, root, on_bad_rows)


# --------------------------------------------------------------------------- the processed-data cache

#: Files each release is parsed from (absent optional files are recorded as absent).
SOURCES = {
    "u.data": ("u.data", "u.item", "u.user", "u.genre", "u.occupation"),
    "ratings.dat": ("ratings.dat", "movies.dat", "users.dat"),
    "ratings.csv": ("ratings.csv", "movies.csv"),
}


def dataset_arrays(ml: MovieLens) -> dict[str, np.ndarray]:
    """A :class:`MovieLens` as plain arrays for the processed-data cache (the inverse of
    :func:`movielens_from_arrays`)."""
    r, u, m = ml.ratings, ml.users, ml.movies
    out = {"ratings.user": r["user"].to_numpy(np.int64), "ratings.item": r["item"].to_numpy(np.int64),
           "ratings.rating": r["rating"].to_numpy(np.float32), "ratings.timestamp": r["timestamp"].to_numpy(np.int64),
           "users.raw_id": u["raw_id"].to_numpy(np.int64), "movies.raw_id": m["raw_id"].to_numpy(np.int64),
           "movies.year": m["year"].to_numpy(np.float64)}
    if "age" in u.columns:
        out["users.age"] = u["age"].to_numpy(np.int64)
    for col in ("gender", "occupation"):
        if col in u.columns:
            put_strings(out, f"users.{col}", u[col].astype(str))
    put_strings(out, "movies.title", m["title"].astype(str))
    put_strings(out, "movies.genres", ["|".join(gs) for gs in m["genres"]])
    put_strings(out, "genres", ml.genres)
    put_strings(out, "occupations", ml.occupations)
    out["counts"] = np.array([ml.skipped_rows, ml.duplicates_dropped], np.int64)
    return out


def movielens_from_arrays(a: dict[str, np.ndarray], name: str, root: Path | None) -> MovieLens:
    import pandas as pd

    ratings = pd.DataFrame({"user": a["ratings.user"], "item": a["ratings.item"], "rating": a["ratings.rating"],
                            "timestamp": a["ratings.timestamp"]})
    users = pd.DataFrame({"raw_id": a["users.raw_id"]})
    if "users.age" in a:
        users["age"] = a["users.age"]
    for col in ("gender", "occupation"):
        if f"users.{col}.bytes" in a:
            users[col] = pd.Series(unpack_strings(a, f"users.{col}")).astype(str)  # the parser's dtype
    movies = pd.DataFrame({"raw_id": a["movies.raw_id"], "title": pd.Series(unpack_strings(a, "movies.title")).astype(str),
                           "genres": [g.split("|") if g else [] for g in unpack_strings(a, "movies.genres")],
                           "year": a["movies.year"]})
    skipped, dropped = (int(x) for x in a["counts"])
    return MovieLens(name, ratings, users, movies, unpack_strings(a, "genres"), unpack_strings(a, "occupations"), root,
                     skipped_rows=skipped, duplicates_dropped=dropped)


def dataset_files(name: str, root: Path) -> list[Path]:
    """The files release ``name`` is parsed from (what its cache entry is stamped with)."""
    return [root / f for f in SOURCES[DATASETS[name]]]


def dataset_entry(name: str, root: Path) -> tuple[Path, bool]:
    """The cache folder of the release ``name`` in ``root``, and whether it holds a valid parse."""
    entry, valid = find_entry(name, root, dataset_files(name, root))
    return entry, valid and (entry / DATASET).is_file()


def cached_dataset(name: str, root: Path, parse: Callable[[], MovieLens]) -> MovieLens:
    """``parse()`` once; afterwards the stored arrays, while the source files are unchanged."""
    entry, valid = dataset_entry(name, root)
    if valid:
        try:
            ml = movielens_from_arrays(load_entry_arrays(entry / DATASET), name, root)
            ml.cache_entry = entry
            if ml.duplicates_dropped:  # said again on every load, as a fresh parse would
                log.warning("%s: dropped %d repeated (user, movie) rating%s, keeping the latest of each",
                            dataset_files(name, root)[0], ml.duplicates_dropped,
                            "s" if ml.duplicates_dropped > 1 else "")
            return ml
        except CacheError as e:
            print(f"graphrec: warning: {e}; rebuilding it", file=sys.stderr)
            remove_entry(entry)
    ml = parse()
    entry, valid = dataset_entry(name, root)  # another process may have stored it meanwhile: keep theirs
    if not valid:
        remove_entry(entry)
        create_entry(entry, dataset_files(name, root), {DATASET: dataset_arrays(ml)}, dataset=name,
                      root=str(root))
    ml.cache_entry = entry
    return ml


def dataset_fingerprint(name: str, root: Path | None, entry: Path | None = None) -> str | None:
    """:func:`data_fingerprint` of release ``name`` in ``root``: from its cache ``entry`` when given (no
    hashing), else from the files themselves (hashed: a few milliseconds for ML-100K)."""
    fp = data_fingerprint(entry)
    if fp is None and root is not None and name in DATASETS:
        fp = fingerprint_sources(stamp_sources(dataset_files(name, Path(root))))
    return fp


# --------------------------------------------------------------------------- datasets

# --------------------------------------------------------------------------- feature codes

# --------------------------------------------------------------------------- splits


def data_provenance(ml) -> dict | None:
    """Release, resolved folder and fingerprint (:func:`dataset_fingerprint`) of the dataset
    ``ml`` (a :class:`~graphrec.data.MovieLens`, or anything with ``name``, ``root``, ``cache_entry``)."""
    if ml is None:
        return None
    root = getattr(ml, "root", None)
    fp = dataset_fingerprint(ml.name, root, getattr(ml, "cache_entry", None))
    return None if fp is None else {"dataset": ml.name, "data_dir": str(Path(root).resolve()) if root else None,
                                    "fingerprint": fp}


def parse_movielens(name: str, root: Path, on_bad_rows: str = "error") -> MovieLens:
    """Read release ``name`` from the folder ``root`` (no cache); see :func:`load_movielens`."""
    kind = DATASETS[name]
    if kind == "u.data":
        ml = _read_100k(root, on_bad_rows)
    elif kind == "ratings.dat":
        ml = _read_1m(root, on_bad_rows)
    else:
        ml = _read_csv_family(root, name, on_bad_rows)
    ml.name, ml.root = name, root
    return ml


def _year_from_title(titles: pd.Series) -> pd.Series:
    return titles.str.extract(_YEAR, expand=False).astype("float64")


def _read_100k(root: Path, on_bad: str = "error") -> MovieLens:
    import pandas as pd

    from .tables import check_rows, read_table

    r = read_table(root / "u.data", ["user", "item", "rating", "timestamp"], "\t",
                   numeric=["user", "item", "rating", "timestamp"], on_bad=on_bad)
    genres = ML100K_GENRES
    genre_file = root / "u.genre"
    if genre_file.is_file():
        g = read_table(genre_file, ["name", "id"], "|", numeric=["id"])
        genres = list(g.sort_values("id")["name"])
    m = read_table(root / "u.item", ["raw_id", "title", "release", "video", "url", *genres], "|",
                   numeric=["raw_id", *genres], on_bad=on_bad)
    m = check_rows(m, {"raw_id": _ID_CHECK}, on_bad)
    flags = m[genres].to_numpy(dtype=bool)
    movies = pd.DataFrame({
        "raw_id": m["raw_id"].astype("int64"),
        "title": m["title"].astype(str),
        "genres": [[genres[j] for j in np.flatnonzero(row)] for row in flags],
    })
    year = _year_from_title(movies["title"])
    release_year = pd.to_datetime(m["release"], format="%d-%b-%Y", errors="coerce").dt.year
    movies["year"] = year.fillna(release_year)
    u = read_table(root / "u.user", ["raw_id", "age", "gender", "occupation", "zip"], "|",
                   numeric=["raw_id", "age"], on_bad=on_bad)
    u = check_rows(u, {"raw_id": _ID_CHECK, "age": _INT_CHECK}, on_bad)
    users = pd.DataFrame({
        "raw_id": u["raw_id"].astype("int64"),
        "age": u["age"].astype("int64"),
        "gender": u["gender"].astype(str),
        "occupation": u["occupation"].astype(str),
    })
    occ_file = root / "u.occupation"
    occupations = (occ_file.read_text("latin-1").split() if occ_file.is_file()
                   else sorted(users["occupation"].unique()))
    return _finish("ml-100k", r, users, movies, genres, occupations, on_bad, m, u)


def _read_1m(root: Path, on_bad: str = "error") -> MovieLens:
    import pandas as pd

    from .tables import check_rows, read_table

    r = read_table(root / "ratings.dat", ["user", "item", "rating", "timestamp"], "::",
                   numeric=["user", "item", "rating", "timestamp"], on_bad=on_bad)
    m = read_table(root / "movies.dat", ["raw_id", "title", "genres"], "::", numeric=["raw_id"], on_bad=on_bad)
    m = check_rows(m, {"raw_id": _ID_CHECK}, on_bad)
    movies, genres = _movies_with_pipe_genres(m)
    u = read_table(root / "users.dat", ["raw_id", "gender", "age", "occupation", "zip"], "::",
                   numeric=["raw_id", "age", "occupation"], on_bad=on_bad)
    u = check_rows(u, {"raw_id": _ID_CHECK, "age": _INT_CHECK, "occupation": _INT_CHECK}, on_bad)
    occ = u["occupation"].astype("int64")
    if ((occ < 0) | (occ >= len(ML1M_OCCUPATIONS))).any():
        bad = int(np.flatnonzero(((occ < 0) | (occ >= len(ML1M_OCCUPATIONS))).to_numpy())[0])
        raise DataError(f"{root / 'users.dat'}: line {bad + 1}: occupation code {occ.iloc[bad]} is not in 0..20")
    users = pd.DataFrame({
        "raw_id": u["raw_id"].astype("int64"),
        "age": u["age"].astype("int64"),
        "gender": u["gender"].astype(str),
        "occupation": [ML1M_OCCUPATIONS[i] for i in occ],
    })
    return _finish("ml-1m", r, users, movies, genres, list(ML1M_OCCUPATIONS), on_bad, m, u)


def _read_csv_family(root: Path, name: str, on_bad: str = "error") -> MovieLens:
    import pandas as pd

    from .tables import check_rows, read_table

    r = read_table(root / "ratings.csv", ["user", "item", "rating", "timestamp"], ",", encoding="utf-8",
                   header=True, numeric=["user", "item", "rating", "timestamp"], on_bad=on_bad)
    m = read_table(root / "movies.csv", ["raw_id", "title", "genres"], ",", encoding="utf-8", header=True,
                   quoted=True, numeric=["raw_id"], on_bad=on_bad)
    m = check_rows(m, {"raw_id": _ID_CHECK}, on_bad)
    movies, genres = _movies_with_pipe_genres(m)
    r = check_rows(r, {"user": _ID_CHECK}, on_bad)
    users = pd.DataFrame({"raw_id": np.unique(r["user"].to_numpy().astype("int64"))})
    return _finish(name, r, users, movies, genres, [], on_bad, m)


def _movies_with_pipe_genres(m: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    import pandas as pd

    lists = [[g for g in s.split("|") if g and g != "(no genres listed)"] for s in m["genres"].astype(str)]
    genres = sorted({g for gs in lists for g in gs})
    title = m["title"].astype(str).str.strip()
    movies = pd.DataFrame({"raw_id": m["raw_id"].astype("int64"), "title": title, "genres": lists})
    movies["year"] = _year_from_title(title)
    return movies, genres


def _not_integer(v: np.ndarray) -> np.ndarray:
    return ~np.isfinite(v) | (v != np.round(v)) | (np.abs(v) > MAX_ID)


_ID_CHECK = (_not_integer, "is not an integer id")
_INT_CHECK = (_not_integer, "is not an integer")


def _finish(name, r, users, movies, genres, occupations, on_bad="error", *tables) -> MovieLens:
    """Check every rating row, keep rated users and movies, drop repeated (user, movie) ratings
    (keeping the latest), and map raw ids to dense indices."""
    import pandas as pd

    from .tables import check_rows, report_skipped

    for frame, kind in ((users, "user"), (movies, "movie")):
        dup = frame["raw_id"].duplicated()
        if dup.any():
            raise DataError(f"{kind} id {int(frame['raw_id'][dup].iloc[0])} is listed twice")
    lo, hi = RATING_RANGE.get(name, CSV_RATING_RANGE)
    r = check_rows(r, {
        "user": _ID_CHECK, "item": _ID_CHECK,
        "rating": (lambda v: ~np.isfinite(v) | (v < lo) | (v > hi), f"is outside {name}'s range {lo:g}..{hi:g}"),
        "timestamp": (_not_integer, "is not a finite integer timestamp"),
    }, on_bad)
    r = check_rows(r, {
        "user": (lambda v: ~np.isin(v.astype("int64"), users["raw_id"].to_numpy()), "is unknown (rating names unknown user id)"),
        "item": (lambda v: ~np.isin(v.astype("int64"), movies["raw_id"].to_numpy()), "is unknown (rating names unknown movie id)"),
    }, on_bad) if on_bad == "skip" else _known_ids(r, users, movies)
    skipped = sum(report_skipped(t) for t in (r, *tables))
    raw_u = r["user"].to_numpy().astype("int64")
    raw_i = r["item"].to_numpy().astype("int64")
    t = r["timestamp"].to_numpy().astype("int64")
    # a pair rated twice keeps its latest rating (by timestamp, then file order): a duplicate would
    # otherwise let the test item also be a validation or training item
    dropped = 0
    if _has_repeats(raw_u, raw_i):
        order = np.lexsort((np.arange(len(r)), t, raw_i, raw_u))
        last = np.ones(len(order), dtype=bool)
        last[:-1] = (raw_u[order][1:] != raw_u[order][:-1]) | (raw_i[order][1:] != raw_i[order][:-1])
        keep = np.sort(order[last])
        dropped = len(r) - len(keep)
    if dropped:
        log.warning("%s: dropped %d repeated (user, movie) rating%s, keeping the latest of each", r.attrs["source"],
                    dropped, "s" if dropped > 1 else "")
        raw_u, raw_i, t = raw_u[keep], raw_i[keep], t[keep]
    rated_u = np.unique(raw_u)
    rated_i = np.unique(raw_i)
    users = users[users["raw_id"].isin(rated_u)].sort_values("raw_id").reset_index(drop=True)
    movies = movies[movies["raw_id"].isin(rated_i)].sort_values("raw_id").reset_index(drop=True)
    ratings = pd.DataFrame({
        "user": np.searchsorted(users["raw_id"].to_numpy(), raw_u),
        "item": np.searchsorted(movies["raw_id"].to_numpy(), raw_i),
        "rating": r["rating"].to_numpy(dtype=np.float32)[keep] if dropped else r["rating"].to_numpy(dtype=np.float32),
        "timestamp": t,
    })
    if ratings.empty:
        raise DataError(f"{r.attrs['source']}: no ratings")
    return MovieLens(name, ratings, users, movies, list(genres), list(occupations),
                     skipped_rows=skipped, duplicates_dropped=dropped)


def _has_repeats(u: np.ndarray, i: np.ndarray) -> bool:
    """Whether some (u, i) pair occurs twice (one hash pass over a combined key where it fits int64)."""
    if not len(u):
        return False
    span_u, span_i = int(u.max()) - int(u.min()) + 1, int(i.max()) - int(i.min()) + 1
    if span_u * span_i < 2 ** 62:
        key = np.sort((u - u.min()) * span_i + (i - i.min()))  # sorting beats np.unique's hashing many times over
        return bool((key[1:] == key[:-1]).any())
    import pandas as pd

    return bool(pd.DataFrame({"u": u, "i": i}).duplicated().any())


def _known_ids(r: pd.DataFrame, users: pd.DataFrame, movies: pd.DataFrame) -> pd.DataFrame:
    from .tables import row_line

    for col, frame, kind in (("user", users, "user"), ("item", movies, "movie")):
        raw = r[col].to_numpy().astype("int64")
        known = np.isin(raw, frame["raw_id"].to_numpy())
        if not known.all():
            j = int(np.flatnonzero(~known)[0])
            raise DataError(f"{r.attrs['source']}: line {row_line(r, j)}: rating names unknown {kind} id {raw[j]}")
    return r
