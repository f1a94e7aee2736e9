"""Leave-one-out split with fixed test negatives, and the NCF paper's file format.

The test item of a user is their latest interaction, ordered by
``(timestamp, item)``; the second-latest is the validation item used for
early stopping. Each held-out item gets 99 negatives, seeded and distinct,
drawn from items the user never interacted with (train, validation or test).
"""
from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError
from ..io import atomic_dir, write_json
from .movielens import dataset_entry
from .processed import (CacheError, cached_arrays, load_entry_arrays, put_strings, split_dir_entry, split_key,
                        split_provenance, unpack_strings)
from .sampling import NegativeSampler

NUM_TEST_NEGATIVES = 99


@dataclass
class Ratings:
    """The training ratings every split has: ``num_users`` x ``num_items``, one row per (user, item) pair
    with its rating and time (dense 0-based indices)."""

    num_users: int
    num_items: int
    train_user: Tensor
    train_item: Tensor
    train_rating: Tensor
    train_time: Tensor


@dataclass
class Split(Ratings):
    """Train pairs plus one test (and optionally one validation) item per user.

    ``*_negatives[j]`` are the sampled negatives ranked against ``*_item[j]``.
    """

    test_user: Tensor
    test_item: Tensor
    test_negatives: Tensor
    valid_user: Tensor
    valid_item: Tensor
    valid_negatives: Tensor
    name: str = "split"
    seed: int = 0
    #: The NCF split files it was read from (:func:`~graphrec.data.processed.split_provenance`:
    #: ``{"split_dir", "fingerprint"}``); ``None`` for a split made from the dataset.
    files: dict | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._sampler: NegativeSampler | None = None
        self._graph = None
        self._dataset = None

    def with_dataset(self, ml) -> "Split":
        """Let :attr:`graph` carry ``ml``'s node features and id maps (built on first use)."""
        if ml is not None and (ml.num_users, ml.num_items) != (self.num_users, self.num_items):
            raise ValueError(f"{ml.name} has {ml.num_users} users x {ml.num_items} items, the split "
                             f"{self.num_users} x {self.num_items}")
        if ml is not self._dataset:
            self._dataset, self._graph = ml, None
        return self

    @property
    def graph(self):
        """The training edges as the bipartite :class:`~torch_geometric.data.HeteroData` every model reads:
        ``rating``/``time`` on the edges, and node features and id maps when the dataset is known
        (:meth:`with_dataset`, done by :func:`graphrec.pipeline.build_split`); built on first use."""
        if self._graph is None:
            from .graph import split_graph

            self._graph = split_graph(self, self._dataset)
        return self._graph

    @property
    def graph_built(self) -> bool:
        """Whether :attr:`graph` exists already (reading it would otherwise build it)."""
        return self._graph is not None

    @graph.setter
    def graph(self, data) -> None:
        store = data["user", "rates", "movie"]
        if (data["user"].num_nodes, data["movie"].num_nodes) != (self.num_users, self.num_items) \
                or store.edge_index.shape[1] != len(self.train_user):
            raise ValueError("the graph does not hold this split's training edges")
        self._graph = data

    def with_validation_in_train(self) -> "Split":
        """This split with each user's validation item added to the training pairs (no validation left):
        the data of a refit.

        Held-out items keep no rating or time, so the added pairs get rating 0 and one second after
        the user's latest training time (they came last; only their order matters to the models)."""
        if not self.has_validation:
            return self
        last = torch.zeros(self.num_users, dtype=self.train_time.dtype)
        last.scatter_reduce_(0, self.train_user.long(), self.train_time, "amax")
        merged = replace(self, train_user=torch.cat([self.train_user, self.valid_user]),
                         train_item=torch.cat([self.train_item, self.valid_item]),
                         train_rating=torch.cat([self.train_rating, torch.zeros(len(self.valid_user))]),
                         train_time=torch.cat([self.train_time, last[self.valid_user.long()] + 1]),
                         valid_user=self.valid_user[:0], valid_item=self.valid_item[:0],
                         valid_negatives=self.valid_negatives[:0])
        return merged.with_dataset(self._dataset)  # the training graph keeps the dataset's node features

    @property
    def has_validation(self) -> bool:
        return len(self.valid_user) > 0

    def held_out(self, on: str) -> tuple[Tensor, Tensor, Tensor]:
        """(users, items, negatives) of ``on`` = ``"test"`` or ``"valid"``."""
        if on == "test":
            return self.test_user, self.test_item, self.test_negatives
        if on == "valid":
            return self.valid_user, self.valid_item, self.valid_negatives
        raise ValueError(f"on must be 'test' or 'valid', not {on!r}")

    @property
    def train_sampler(self) -> NegativeSampler:
        """Sampler that excludes each user's training positives."""
        if self._sampler is None:
            self._sampler = NegativeSampler(self.train_user, self.train_item, self.num_items)
        return self._sampler

    def known_items(self, on: str = "test") -> tuple[Tensor, Tensor]:
        """(user, item) pairs excluded from full ranking when evaluating ``on``.

        These are the training pairs; for the test item, the validation item is
        known too (it was observed before the test item).
        """
        if on == "test" and self.has_validation:
            return torch.cat([self.train_user, self.valid_user]), torch.cat([self.train_item, self.valid_item])
        return self.train_user, self.train_item

    def user_items(self) -> list[np.ndarray]:
        """Training items of each user (for display and explanation)."""
        order = torch.argsort(self.train_user, stable=True)
        counts = torch.bincount(self.train_user, minlength=self.num_users).tolist()
        return [a.numpy() for a in torch.split(self.train_item[order], counts)]

    def summary(self) -> dict:
        return {
            "users": self.num_users, "items": self.num_items, "train": len(self.train_user),
            "valid": len(self.valid_user), "test": len(self.test_user),
            "negatives_per_user": int(self.test_negatives.shape[1]) if len(self.test_user) else 0,
            "seed": self.seed,
        }


def leave_one_out(users, items, num_users: int, num_items: int, timestamps, ratings=None,
                  validation: bool = True, num_negatives: int = NUM_TEST_NEGATIVES, seed: int = 0,
                  name: str = "split") -> Split:
    """Hold out each user's latest interaction (and the one before it, for validation).

    Users with a single interaction keep it for training; a validation item is
    held out only where at least one training interaction remains.
    """
    u = np.asarray(users, dtype=np.int64)
    i = np.asarray(items, dtype=np.int64)
    t = np.asarray(timestamps, dtype=np.int64)
    r = np.ones(len(u), np.float32) if ratings is None else np.asarray(ratings, dtype=np.float32)
    order = np.lexsort((i, t, u))  # by user, then (timestamp, item)
    u, i, t, r = u[order], i[order], t[order], r[order]
    count = np.bincount(u, minlength=num_users)
    end = np.cumsum(count)  # one past each user's last row
    has = count >= 2
    test_rows = end[has] - 1
    valid_rows = end[count >= 3] - 2 if validation else np.zeros(0, np.int64)
    train = np.ones(len(u), bool)
    train[test_rows] = False
    train[valid_rows] = False
    gen = torch.Generator().manual_seed(seed)
    sampler = NegativeSampler(torch.from_numpy(u), torch.from_numpy(i), num_items)

    def held(rows):
        hu, hi = torch.from_numpy(u[rows]), torch.from_numpy(i[rows])
        return hu, hi, sampler.sample(hu, num_negatives, gen, distinct=True)

    tu, ti, tn = held(test_rows)
    vu, vi, vn = held(valid_rows)
    return Split(num_users, num_items, torch.from_numpy(u[train]), torch.from_numpy(i[train]),
                 torch.from_numpy(r[train]), torch.from_numpy(t[train]), tu, ti, tn, vu, vi, vn, name, seed)


def split_movielens(ml, validation: bool = True, seed: int = 0, cache: bool = True) -> Split:
    """:func:`leave_one_out` of every rating in ``ml``.

    With ``cache``, a dataset loaded through the processed-data cache keeps its
    split there too (:mod:`graphrec.data.processed`), and later calls read it back.
    """
    def build() -> Split:
        r = ml.ratings
        return leave_one_out(r["user"].to_numpy(), r["item"].to_numpy(), ml.num_users, ml.num_items,
                             r["timestamp"].to_numpy(), r["rating"].to_numpy(), validation=validation, seed=seed,
                             name=ml.name)

    entry = getattr(ml, "cache_entry", None) if cache else None
    return cached_split(entry, split_key(seed, validation), build)


# --------------------------------------------------------------------------- NCF file format

#: Suffixes of the files of a split folder (besides ``split.json``).
SPLIT_FILES = (".train.rating", ".test.rating", ".test.negative", ".valid.rating", ".valid.negative")
#: Written last by :func:`save_ncf`: a graphrec split folder without it is incomplete.
SPLIT_META = "split.json"


def save_ncf(split: Split, out_dir: str | os.PathLike, ml=None) -> list[Path]:
    """Write ``<name>.train.rating``, ``.test.rating``, ``.test.negative`` as in He et al.'s release.

    The validation item goes to ``<name>.valid.rating``/``.valid.negative`` (same
    format) and the sizes to ``split.json``, so :func:`load_ncf` reads back the
    identical split. Indices are graphrec's dense 0-based ones.

    The files are written into a temporary folder renamed into place whole, with
    ``split.json`` written last as the completeness marker: a kill leaves either
    the old folder or the complete new one. An existing ``out_dir`` is replaced
    only if it holds nothing but this split's files (``<name>.*`` and ``split.json``).

    The held-out rows carry their rating and timestamp when ``ml`` (the dataset the split was
    made from) is given, else 0. ``split.json`` records each file's rows and SHA-256, which
    :func:`load_ncf` checks: a file cut or edited afterwards is refused.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is a file, not a folder; choose another --out")
    if out.is_dir():
        ours = {SPLIT_META, *(f"{split.name}{x}" for x in SPLIT_FILES)}
        other = [e.name for e in out.iterdir() if e.name not in ours]
        if other:
            raise DataError(f"{out}: the folder holds other files ({', '.join(sorted(other)[:3])}); "
                            "choose a new or empty folder for the split")
    written, files = [], {}
    with atomic_dir(out, replace=True) as stage:
        p = stage / split.name

        def rating_file(path, users, items, ratings, times):
            lines = [f"{a}\t{b}\t{c:g}\t{d}\n" for a, b, c, d in zip(users.tolist(), items.tolist(),
                                                                  ratings.tolist(), times.tolist())]
            _write_counted(path, lines, files)
            written.append(out / Path(path).name)

        def negative_file(path, users, items, negs):
            lines = [f"({a},{b})\t" + "\t".join(map(str, n)) + "\n"
                     for a, b, n in zip(users.tolist(), items.tolist(), negs.tolist())]
            _write_counted(path, lines, files)
            written.append(out / Path(path).name)

        rating_file(f"{p}.train.rating", split.train_user, split.train_item, split.train_rating, split.train_time)
        # A Split keeps only the ids of held-out items: their rating/time come from the dataset (else 0).
        held = lambda u, i: _held_out_values(ml, split.num_items, u, i)  # noqa: E731
        rating_file(f"{p}.test.rating", split.test_user, split.test_item, *held(split.test_user, split.test_item))
        negative_file(f"{p}.test.negative", split.test_user, split.test_item, split.test_negatives)
        if split.has_validation:
            rating_file(f"{p}.valid.rating", split.valid_user, split.valid_item,
                        *held(split.valid_user, split.valid_item))
            negative_file(f"{p}.valid.negative", split.valid_user, split.valid_item, split.valid_negatives)
        write_json(stage / SPLIT_META, {"name": split.name, "num_users": split.num_users,
                                        "num_items": split.num_items, "seed": split.seed, "files": files})
        written.append(out / SPLIT_META)
    return written


def load_ncf(split_dir: str | os.PathLike, seed: int = 0, cache: bool = True) -> Split:
    """Read NCF-format split files (graphrec's own or the paper's released ones).

    Without ``.valid.*`` files, each user's latest training interaction becomes
    the validation item and gets 99 seeded negatives. With ``cache``, the parsed
    split is kept under ``GRAPHREC_HOME`` while the files are unchanged.

    Everything is checked before use (:class:`DataError` naming file and line):
    ids in range, one row per user in each held-out file, held-out items unseen in
    training, validation and test items distinct, negatives distinct, unseen and
    never the held-out item; the two ``.valid.*`` files are both present or both
    absent, and a folder graphrec wrote (held-out ratings written as 0) must have
    its ``split.json``, written last, or it is an interrupted export.
    """
    d = Path(split_dir)
    if not d.is_dir():
        raise DataError(f"{d}: no such split folder" if not d.exists() else f"{d}: is a file, not a split folder")
    if cache:
        entry = split_dir_entry(d)
        split = cached_split(entry, split_key(seed), lambda: _read_ncf(d, seed))
    else:
        entry, split = None, _read_ncf(d, seed)
    split.files = split_provenance(d, cache, entry)  # runs record and check it (docs/reliability.md)
    return split


def _read_ncf(d: Path, seed: int) -> Split:
    from .tables import read_table  # pandas: only when the files are parsed

    trains = sorted(glob.glob(str(d / "*.train.rating")))
    if not trains:
        raise DataError(f"{d}: no *.train.rating file (expected NCF-format split files)")
    if len(trains) > 1:
        raise DataError(f"{d}: several *.train.rating files ({', '.join(Path(t).name for t in trains)}); keep one")
    prefix = trains[0][: -len(".train.rating")]
    name = Path(prefix).name
    valid_files = [Path(f"{prefix}{x}") for x in (".valid.rating", ".valid.negative")]
    present = [f.is_file() for f in valid_files]
    if any(present) and not all(present):
        missing = valid_files[present.index(False)]
        raise DataError(f"{missing}: file not found, but {valid_files[present.index(True)].name} is there: "
                        "the validation files come as a pair")
    meta_path = d / SPLIT_META
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
            for key in ("num_users", "num_items", "seed"):
                if key in meta and (not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] < 0):
                    raise ValueError(f"{key} must be a non-negative integer")
        except (ValueError, UnicodeDecodeError) as e:
            raise DataError(f"{meta_path}: invalid ({e})") from None
    else:
        meta = {}
    cols = ["user", "item", "rating", "timestamp"]
    tr = read_table(f"{prefix}.train.rating", cols, "\t", numeric=cols)
    te = read_table(f"{prefix}.test.rating", cols, "\t", numeric=cols)
    if not meta and (all(present) or not te["rating"].to_numpy().any()):
        raise DataError(f"{d}: incomplete split folder (no {SPLIT_META}, which graphrec writes last): an interrupted "
                        "'graphrec data split'? Write it again")
    for path, t in ((f"{prefix}.train.rating", tr), (f"{prefix}.test.rating", te)):
        _check_integers(path, t, ("user", "item", "timestamp"))
    tu, ti, tn = _read_negatives(Path(f"{prefix}.test.negative"))
    _check_pairs(Path(f"{prefix}.test.negative"), tu, ti, te, f"{prefix}.test.rating")
    has_valid = all(present)
    if has_valid:
        va = read_table(f"{prefix}.valid.rating", cols, "\t", numeric=cols)
        _check_integers(f"{prefix}.valid.rating", va, ("user", "item", "timestamp"))
        vu, vi, vn = _read_negatives(Path(f"{prefix}.valid.negative"))
        _check_pairs(Path(f"{prefix}.valid.negative"), vu, vi, va, f"{prefix}.valid.rating")
    tr_u, tr_i = tr["user"].to_numpy(np.int64), tr["item"].to_numpy(np.int64)
    all_u = [tr_u, tu] + ([vu] if has_valid else [])
    all_i = [tr_i, ti, tn.reshape(-1)] + ([vi, vn.reshape(-1)] if has_valid else [])
    num_users = int(meta.get("num_users", max(int(a.max()) for a in all_u if len(a)) + 1))
    num_items = int(meta.get("num_items", max(int(a.max()) for a in all_i if len(a)) + 1))
    files = {"train": f"{prefix}.train.rating", "test": f"{prefix}.test.negative",
             "valid": f"{prefix}.valid.negative"}
    _check_ids(files["train"], tr_u, tr_i, num_users, num_items)
    _check_ids(files["test"], tu, np.concatenate([ti[:, None], tn], axis=1), num_users, num_items)
    if has_valid:
        _check_ids(files["valid"], vu, np.concatenate([vi[:, None], vn], axis=1), num_users, num_items)
    held = {"test": (tu, ti, tn)}
    if has_valid:
        held["valid"] = (vu, vi, vn)
    _check_held_out(files, tr_u, tr_i, held, num_items)
    _check_files(d, meta)  # last: the checks above name what is wrong in a file more precisely
    if has_valid:
        return Split(num_users, num_items, torch.from_numpy(tr_u), torch.from_numpy(tr_i),
                     torch.from_numpy(tr["rating"].to_numpy(np.float32)),
                     torch.from_numpy(tr["timestamp"].to_numpy(np.int64)),
                     torch.from_numpy(tu), torch.from_numpy(ti), torch.from_numpy(tn),
                     torch.from_numpy(vu), torch.from_numpy(vi), torch.from_numpy(vn),
                     meta.get("name", name), int(meta.get("seed", seed)))
    # The paper's files: carve a validation item out of training, excluding test interactions too.
    inner = leave_one_out(tr_u, tr_i, num_users, num_items, tr["timestamp"].to_numpy(np.int64),
                          tr["rating"].to_numpy(np.float32), validation=False, seed=seed, name=name)
    all_known = NegativeSampler(torch.from_numpy(np.concatenate([tr_u, tu])),
                                torch.from_numpy(np.concatenate([tr_i, ti])), num_items)
    gen = torch.Generator().manual_seed(seed + 1)
    vneg = all_known.sample(inner.test_user, tn.shape[1], gen, distinct=True)
    return Split(num_users, num_items, inner.train_user, inner.train_item, inner.train_rating, inner.train_time,
                 torch.from_numpy(tu), torch.from_numpy(ti), torch.from_numpy(tn),
                 inner.test_user, inner.test_item, vneg, name, seed)


def _write_counted(path, lines: list[str], files: dict) -> None:
    """Write ``lines`` to ``path`` and record its rows and SHA-256 in ``files`` (for ``split.json``)."""
    import hashlib

    data = "".join(lines).encode()
    Path(path).write_bytes(data)
    files[Path(path).name] = {"rows": len(lines), "sha256": hashlib.sha256(data).hexdigest()}


def _held_out_values(ml, num_items: int, users: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
    """(rating, timestamp) of each held-out (user, item) in ``ml``'s ratings; 0 where unknown or ``ml`` is None."""
    n = len(users)
    if ml is None:
        return torch.zeros(n), torch.zeros(n, dtype=torch.long)
    r = ml.ratings
    key = r["user"].to_numpy(np.int64) * num_items + r["item"].to_numpy(np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    q = users.numpy().astype(np.int64) * num_items + items.numpy().astype(np.int64)
    pos = np.searchsorted(key, q).clip(0, max(len(key) - 1, 0))
    found = key[pos] == q if len(key) else np.zeros(n, bool)
    rating = np.where(found, r["rating"].to_numpy(np.float32)[order][pos], 0).astype(np.float32)
    time = np.where(found, r["timestamp"].to_numpy(np.int64)[order][pos], 0).astype(np.int64)
    return torch.from_numpy(rating), torch.from_numpy(time)


def _check_files(d: Path, meta: dict) -> None:
    """The files ``split.json`` lists (rows and SHA-256, written by :func:`save_ncf`) are as written."""
    import hashlib

    files = meta.get("files")
    if files is None:  # an older graphrec's split, or one written by hand: nothing recorded to check
        return
    if not isinstance(files, dict):
        raise DataError(f"{d / SPLIT_META}: invalid (files must be an object)")
    for name, want in files.items():
        path = d / name
        if not isinstance(want, dict) or "/" in name or name.startswith("."):
            raise DataError(f"{d / SPLIT_META}: invalid entry for {name!r}")
        if not path.is_file():
            raise DataError(f"{path}: file not found, but {SPLIT_META} lists it: write the split again")
        data = path.read_bytes()
        rows = data.count(b"\n")
        if rows != want.get("rows") or hashlib.sha256(data).hexdigest() != want.get("sha256"):
            raise DataError(f"{path}: changed since graphrec data split wrote it ({rows} rows, {SPLIT_META} records "
                            f"{want.get('rows')}; the checksum differs): write the split again (or, to use the "
                            f"edited files, remove \"files\" from {SPLIT_META})")


def _check_integers(path, table, columns) -> None:
    for c in columns:
        v = table[c].to_numpy()
        bad = ~np.isfinite(v) | (v != np.round(v)) | (np.abs(v) > 2 ** 53)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}: line {j + 1}: {c} {v[j]!r} is not an integer")


def _check_pairs(neg_path: Path, users, items, table, rating_path: str) -> None:
    """The negatives file lists the same (user, item) rows as its rating file."""
    ru, ri = table["user"].to_numpy(np.int64), table["item"].to_numpy(np.int64)
    if len(users) != len(ru):
        raise DataError(f"{neg_path}: {len(users)} rows but {Path(rating_path).name} has {len(ru)}: "
                        "they must list the same (user,item) rows")
    bad = (users != ru) | (items != ri)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise DataError(f"{neg_path}: line {j + 1}: ({users[j]},{items[j]}) does not match line {j + 1} of "
                        f"{Path(rating_path).name} ({ru[j]},{ri[j]})")


def _check_ids(path: str, users: np.ndarray, items: np.ndarray, num_users: int, num_items: int) -> None:
    for kind, ids, n in (("user", users, num_users), ("item", items, num_items)):
        bad = (ids < 0) | (ids >= n)
        if bad.any():
            j = int(np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))[0])
            v = ids[j] if ids.ndim == 1 else ids[j][bad[j]][0]
            raise DataError(f"{path}: line {j + 1}: {kind} id {v} is out of range 0..{n - 1}")


def _check_held_out(files: dict, tr_u, tr_i, held: dict, num_items: int) -> None:
    """One row per user; held-out items unseen in training and distinct; negatives distinct and unseen."""
    train_keys = np.sort(tr_u * num_items + tr_i)

    def in_train(keys: np.ndarray) -> np.ndarray:
        if not len(train_keys):
            return np.zeros(keys.shape, dtype=bool)
        pos = np.minimum(np.searchsorted(train_keys, keys), len(train_keys) - 1)
        return train_keys[pos] == keys

    item_of = {}
    for on, (u, i, negs) in held.items():
        path = files[on]
        su = np.sort(u)
        if (su[1:] == su[:-1]).any():
            twice = su[1:][su[1:] == su[:-1]]
            later = min(int(np.flatnonzero(u == x)[1]) for x in twice[:100])
            raise DataError(f"{path}: line {later + 1}: user {u[later]} has a second row (one row per user)")
        seen = in_train(u * num_items + i)
        if seen.any():
            j = int(np.flatnonzero(seen)[0])
            raise DataError(f"{path}: line {j + 1}: the {on} item {i[j]} of user {u[j]} is also a training item")
        item_of[on] = dict(zip(u.tolist(), i.tolist()))
        if negs.shape[1] > 1:
            s = np.sort(negs, axis=1)
            rep = (s[:, 1:] == s[:, :-1]).any(axis=1)
            if rep.any():
                j = int(np.flatnonzero(rep)[0])
                v = s[j][1:][s[j][1:] == s[j][:-1]][0]
                raise DataError(f"{path}: line {j + 1}: negative {v} is listed twice")
        own = negs == i[:, None]
        if own.any():
            j = int(np.flatnonzero(own.any(axis=1))[0])
            raise DataError(f"{path}: line {j + 1}: the {on} item {i[j]} is among its own negatives")
        known = in_train(u[:, None] * num_items + negs)
        if known.any():
            j = int(np.flatnonzero(known.any(axis=1))[0])
            raise DataError(f"{path}: line {j + 1}: negative {negs[j][known[j]][0]} is a training item of user {u[j]}")
    if "valid" in held:
        vu, vi, vn = held["valid"]
        tu, ti, tn = held["test"]
        test_of = item_of["test"]
        t = np.array([test_of.get(x, -1) for x in vu.tolist()], dtype=np.int64)
        same = vi == t
        if same.any():
            j = int(np.flatnonzero(same)[0])
            raise DataError(f"{files['valid']}: line {j + 1}: user {vu[j]}'s validation item {vi[j]} is also "
                            "their test item")
        hit = vn == t[:, None]
        if hit.any():
            j = int(np.flatnonzero(hit.any(axis=1))[0])
            raise DataError(f"{files['valid']}: line {j + 1}: the test item {t[j]} of user {vu[j]} is among the "
                            "validation negatives")
        valid_of = item_of["valid"]
        v = np.array([valid_of.get(x, -1) for x in tu.tolist()], dtype=np.int64)
        hit = tn == v[:, None]
        if hit.any():
            j = int(np.flatnonzero(hit.any(axis=1))[0])
            raise DataError(f"{files['test']}: line {j + 1}: the validation item {v[j]} of user {tu[j]} is among "
                            "the test negatives")


def _read_negatives(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    users, items, negs = [], [], []
    width = None
    with open(path, encoding="latin-1") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            head = parts[0].strip()
            try:
                if not (head.startswith("(") and head.endswith(")")):
                    raise ValueError
                a, b = head[1:-1].split(",")
                users.append(int(a))
                items.append(int(b))
                negs.append([int(x) for x in parts[1:]])
            except ValueError:
                raise DataError(f"{path}: line {n}: expected '(user,item)' then tab-separated item ids") from None
            if width is None:
                width = len(negs[-1])
            elif len(negs[-1]) != width:
                raise DataError(f"{path}: line {n}: {len(negs[-1])} negatives, earlier lines have {width}")
    if not users:
        raise DataError(f"{path}: file is empty")
    return np.array(users, np.int64), np.array(items, np.int64), np.array(negs, np.int64)


# --------------------------------------------------------------------------- the processed-data cache

_SPLIT_TENSORS = ("train_user", "train_item", "train_rating", "train_time", "test_user", "test_item",
                  "test_negatives", "valid_user", "valid_item", "valid_negatives")


def split_arrays(split: Split) -> dict[str, np.ndarray]:
    out = {k: getattr(split, k).numpy() for k in _SPLIT_TENSORS}
    out["sizes"] = np.array([split.num_users, split.num_items, split.seed], np.int64)
    put_strings(out, "name", [split.name])
    return out


def split_from_arrays(a: dict[str, np.ndarray]) -> Split:
    num_users, num_items, seed = (int(x) for x in a["sizes"])
    return Split(num_users, num_items, *(torch.from_numpy(a[k]) for k in _SPLIT_TENSORS),
                 name=unpack_strings(a, "name")[0], seed=seed)


def cached_split_of(name: str, root: Path, key: str) -> Split | None:
    """The split ``key`` of release ``name`` in ``root`` if the cache holds it (valid), else ``None``: no parsing."""
    entry, valid = dataset_entry(name, root)
    if not valid or not (entry / f"{key}.npz").is_file():
        return None
    try:
        return split_from_arrays(load_entry_arrays(entry / f"{key}.npz"))
    except CacheError:
        return None


def cached_split(entry: Path | None, key: str, build: Callable[[], Split]) -> Split:
    """The split stored as ``<key>.npz`` in ``entry``, built by ``build()`` on first use (always, without an entry)."""
    if entry is None:
        return build()
    return split_from_arrays(cached_arrays(entry / f"{key}.npz", lambda: split_arrays(build())))
