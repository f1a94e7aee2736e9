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
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError
from ..io import atomic_path, write_json
from .sampling import NegativeSampler
from .tables import read_table

NUM_TEST_NEGATIVES = 99


@dataclass
class Split:
    """Train pairs plus one test (and optionally one validation) item per user.

    ``*_negatives[j]`` are the sampled negatives ranked against ``*_item[j]``.
    """

    num_users: int
    num_items: int
    train_user: Tensor
    train_item: Tensor
    train_rating: Tensor
    train_time: Tensor
    test_user: Tensor
    test_item: Tensor
    test_negatives: Tensor
    valid_user: Tensor
    valid_item: Tensor
    valid_negatives: Tensor
    name: str = "split"
    seed: int = 0

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

    @graph.setter
    def graph(self, data) -> None:
        store = data["user", "rates", "movie"]
        if (data["user"].num_nodes, data["movie"].num_nodes) != (self.num_users, self.num_items) \
                or store.edge_index.shape[1] != len(self.train_user):
            raise ValueError("the graph does not hold this split's training edges")
        self._graph = data

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


def split_movielens(ml, validation: bool = True, seed: int = 0) -> Split:
    r = ml.ratings
    return leave_one_out(r["user"].to_numpy(), r["item"].to_numpy(), ml.num_users, ml.num_items,
                         r["timestamp"].to_numpy(), r["rating"].to_numpy(), validation=validation, seed=seed,
                         name=ml.name)


# --------------------------------------------------------------------------- NCF file format

def save_ncf(split: Split, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``<name>.train.rating``, ``.test.rating``, ``.test.negative`` as in He et al.'s release.

    The validation item goes to ``<name>.valid.rating``/``.valid.negative`` (same
    format) and the sizes to ``split.json``, so :func:`load_ncf` reads back the
    identical split. Indices are graphrec's dense 0-based ones.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p = out / split.name
    written = []

    def rating_file(path, users, items, ratings, times):
        lines = [f"{a}\t{b}\t{c:g}\t{d}\n" for a, b, c, d in zip(users.tolist(), items.tolist(),
                                                              ratings.tolist(), times.tolist())]
        with atomic_path(path) as tmp:
            tmp.write_text("".join(lines))
        written.append(Path(path))

    def negative_file(path, users, items, negs):
        lines = [f"({a},{b})\t" + "\t".join(map(str, n)) + "\n"
                 for a, b, n in zip(users.tolist(), items.tolist(), negs.tolist())]
        with atomic_path(path) as tmp:
            tmp.write_text("".join(lines))
        written.append(Path(path))

    rating_file(f"{p}.train.rating", split.train_user, split.train_item, split.train_rating, split.train_time)
    # A Split keeps only the ids of held-out items: their rating/time columns are written as 0.
    zeros = lambda n: (torch.zeros(n), torch.zeros(n, dtype=torch.long))  # noqa: E731
    rating_file(f"{p}.test.rating", split.test_user, split.test_item, *zeros(len(split.test_user)))
    negative_file(f"{p}.test.negative", split.test_user, split.test_item, split.test_negatives)
    if split.has_validation:
        rating_file(f"{p}.valid.rating", split.valid_user, split.valid_item, *zeros(len(split.valid_user)))
        negative_file(f"{p}.valid.negative", split.valid_user, split.valid_item, split.valid_negatives)
    write_json(out / "split.json", {"name": split.name, "num_users": split.num_users,
                                     "num_items": split.num_items, "seed": split.seed})
    written.append(out / "split.json")
    return written


def load_ncf(split_dir: str | os.PathLike, seed: int = 0) -> Split:
    """Read NCF-format split files (graphrec's own or the paper's released ones).

    Without ``.valid.*`` files, each user's latest training interaction becomes
    the validation item and gets 99 seeded negatives.
    """
    d = Path(split_dir)
    trains = sorted(glob.glob(str(d / "*.train.rating")))
    if not trains:
        raise DataError(f"{d}: no *.train.rating file (expected NCF-format split files)")
    if len(trains) > 1:
        raise DataError(f"{d}: several *.train.rating files ({', '.join(Path(t).name for t in trains)}); keep one")
    prefix = trains[0][: -len(".train.rating")]
    name = Path(prefix).name
    cols = ["user", "item", "rating", "timestamp"]
    tr = read_table(f"{prefix}.train.rating", cols, "\t", numeric=cols)
    te = read_table(f"{prefix}.test.rating", cols, "\t", numeric=cols)
    tu, ti, tn = _read_negatives(Path(f"{prefix}.test.negative"))
    if not (np.array_equal(tu, te["user"].to_numpy(np.int64)) and np.array_equal(ti, te["item"].to_numpy(np.int64))):
        raise DataError(f"{prefix}.test.negative: its (user,item) pairs do not match {prefix}.test.rating")
    meta_path = d / "split.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    has_valid = Path(f"{prefix}.valid.rating").is_file()
    if has_valid:
        va = read_table(f"{prefix}.valid.rating", cols, "\t", numeric=cols)
        vu, vi, vn = _read_negatives(Path(f"{prefix}.valid.negative"))
    tr_u, tr_i = tr["user"].to_numpy(np.int64), tr["item"].to_numpy(np.int64)
    all_u = [tr_u, tu] + ([vu] if has_valid else [])
    all_i = [tr_i, ti, tn.reshape(-1)] + ([vi, vn.reshape(-1)] if has_valid else [])
    num_users = int(meta.get("num_users", max(int(a.max()) for a in all_u if len(a)) + 1))
    num_items = int(meta.get("num_items", max(int(a.max()) for a in all_i if len(a)) + 1))
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
