"""Cold-start protocols: new movies and new users, seeded and exported like the LOO split.

One :class:`ColdSplit` serves both protocols. A seeded 10 % of the movies (*cold movies*) lose every
rating, and a seeded 10 % of the users (*cold users*) keep only their demographics and their first
``k`` ratings (by time); training and message passing see only warm users x warm movies.

* **cold movies:** every rating of a warm user on a cold movie is a target. Each target is ranked
  among all cold movies the user did not rate (``full``) and among the user's 99 seeded cold
  negatives (sampled; fewer when the user left fewer cold movies unrated).
* **cold users** with ``k`` in ``COLD_KS``: the first ``k`` ratings on warm movies are visible at
  inference, the others are targets, each ranked among all warm movies the user did not rate and
  among 99 seeded warm negatives.

Metrics are HR@k and NDCG@k of every target, averaged per user, so the paired bootstrap is over
users as in :mod:`graphrec.evaluation`. Ties and non-finite target scores count against the target.
A scorer needs ``score_all(users)`` and ``set_graph(users, items)``: the interactions it may read
at inference (the warm ratings, plus the cold users' visible ones).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .data.split import NUM_TEST_NEGATIVES, Ratings, Split, leave_one_out
from .errors import DataError
from .io import atomic_path, write_json
from .metrics import bootstrap_ci, hit_rate, ndcg, paired_bootstrap, ranks_against

COLD_FRACTION = 0.1
COLD_KS = (0, 1, 3, 5)
_ARRAYS = ("train_user", "train_item", "train_rating", "train_time", "cold_items", "cold_users",
           "movie_test_user", "movie_test_item", "movie_negatives",
           "user_known_user", "user_known_item", "user_test_user", "user_test_item", "user_negatives")


@dataclass
class ColdSplit(Ratings):
    """Warm training ratings plus the targets of both cold protocols (dense 0-based indices).

    ``movie_negatives[j]`` / ``user_negatives[j]`` are the sampled negatives of the ``j``-th user of
    ``movie_users()`` / ``cold_users`` (``-1`` pads short rows). ``user_known_*`` lists each cold
    user's visible ratings in time order, at most ``max(COLD_KS)`` of them.
    """

    cold_items: Tensor
    cold_users: Tensor
    movie_test_user: Tensor
    movie_test_item: Tensor
    movie_negatives: Tensor
    user_known_user: Tensor
    user_known_item: Tensor
    user_test_user: Tensor
    user_test_item: Tensor
    user_negatives: Tensor
    name: str = "split"
    seed: int = 0

    def movie_users(self) -> Tensor:
        """Warm users with at least one cold-movie target, sorted."""
        return torch.unique(self.movie_test_user)

    def visible(self, k: int) -> tuple[Tensor, Tensor]:
        """Interactions readable at inference with ``k`` known ratings per cold user."""
        if k < 0 or k > max(COLD_KS):
            raise ValueError(f"k must be in 0..{max(COLD_KS)}, got {k}")
        first = _rank_within(self.user_known_user) < k
        return (torch.cat([self.train_user, self.user_known_user[first]]),
                torch.cat([self.train_item, self.user_known_item[first]]))

    def warm_split(self, seed: int | None = None) -> Split:
        """Leave-one-out over the warm ratings: what models train and early-stop on."""
        return leave_one_out(self.train_user.numpy(), self.train_item.numpy(), self.num_users, self.num_items,
                             self.train_time.numpy(), self.train_rating.numpy(),
                             seed=self.seed if seed is None else seed, name=self.name)

    def summary(self) -> dict:
        return {"users": self.num_users, "items": self.num_items, "train": len(self.train_user),
                "cold_movies": len(self.cold_items), "cold_movie_targets": len(self.movie_test_user),
                "cold_movie_users": len(self.movie_users()), "cold_users": len(self.cold_users),
                "cold_user_targets": len(self.user_test_user), "seed": self.seed}


def _rank_within(users: Tensor) -> Tensor:
    """Position of each row among the rows of the same user (rows grouped by user, in order)."""
    if not len(users):
        return users.clone()
    change = torch.ones(len(users), dtype=torch.bool)
    change[1:] = users[1:] != users[:-1]
    starts = torch.nonzero(change).flatten()
    counts = torch.diff(torch.cat([starts, torch.tensor([len(users)])]))
    return torch.arange(len(users)) - torch.repeat_interleave(starts, counts)


def _negatives(users: np.ndarray, pool: np.ndarray, rated: list[set], rng: np.random.Generator,
               num: int) -> np.ndarray:
    """``[len(users), num]`` distinct items of ``pool`` each user did not rate (``-1`` pads)."""
    out = np.full((len(users), num), -1, np.int64)
    for row, u in enumerate(users.tolist()):
        free = pool[~np.isin(pool, np.fromiter(rated[u], np.int64, len(rated[u])))]
        pick = rng.permutation(free)[:num]
        out[row, :len(pick)] = pick
    return out


def cold_split(users, items, timestamps, num_users: int, num_items: int, ratings=None, seed: int = 0,
               fraction: float = COLD_FRACTION, num_negatives: int = NUM_TEST_NEGATIVES,
               name: str = "split") -> ColdSplit:
    """Draw cold movies and cold users (seeded) and build both protocols' targets and negatives.

    Cold users are drawn among users with more than ``max(COLD_KS)`` ratings on warm movies.
    """
    u, i = np.asarray(users, np.int64), np.asarray(items, np.int64)
    t = np.asarray(timestamps, np.int64)
    r = np.ones(len(u), np.float32) if ratings is None else np.asarray(ratings, np.float32)
    order = np.lexsort((i, t, u))  # by user, then (timestamp, item)
    u, i, t, r = u[order], i[order], t[order], r[order]
    rng = np.random.default_rng(seed)
    cold_items = np.sort(rng.choice(num_items, size=max(1, round(fraction * num_items)), replace=False))
    is_cold_item = np.zeros(num_items, bool)
    is_cold_item[cold_items] = True
    warm_count = np.bincount(u[~is_cold_item[i]], minlength=num_users)
    eligible = np.flatnonzero(warm_count > max(COLD_KS))
    n_cold_users = min(len(eligible), max(1, round(fraction * num_users)))
    cold_users = np.sort(rng.choice(eligible, size=n_cold_users, replace=False))
    is_cold_user = np.zeros(num_users, bool)
    is_cold_user[cold_users] = True
    ci, cu = is_cold_item[i], is_cold_user[u]
    train = ~ci & ~cu
    movie_test = ci & ~cu
    user_rows = np.flatnonzero(~ci & cu)  # grouped by user, in time order
    pos = _rank_within(torch.from_numpy(u[user_rows])).numpy()
    known_rows, test_rows = user_rows[pos < max(COLD_KS)], user_rows[pos >= max(COLD_KS)]
    rated: list[set] = [set() for _ in range(num_users)]
    for a, b in zip(u.tolist(), i.tolist()):
        rated[a].add(b)
    movie_users = np.unique(u[movie_test])
    movie_neg = _negatives(movie_users, cold_items, rated, rng, num_negatives)
    user_neg = _negatives(cold_users, np.flatnonzero(~is_cold_item), rated, rng, num_negatives)
    T = torch.from_numpy  # noqa: N806
    return ColdSplit(num_users, num_items, T(u[train]), T(i[train]), T(r[train]), T(t[train]),
                     T(cold_items), T(cold_users), T(u[movie_test]), T(i[movie_test]), T(movie_neg),
                     T(u[known_rows]), T(i[known_rows]), T(u[test_rows]), T(i[test_rows]), T(user_neg),
                     name, seed)


# --------------------------------------------------------------------------- export

def save_cold(cold: ColdSplit, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``<name>.cold.<array>.txt`` (one row per line, tab-separated) and ``cold.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key in _ARRAYS:
        a = getattr(cold, key).numpy()
        rows = a[:, None] if a.ndim == 1 else a
        path = out / f"{cold.name}.cold.{key}.txt"
        with atomic_path(path) as tmp:
            tmp.write_text("".join("\t".join(map(lambda x: f"{x:g}" if isinstance(x, float) else str(x), row))
                                   + "\n" for row in rows.tolist()))
        written.append(path)
    write_json(out / "cold.json", {"name": cold.name, "num_users": cold.num_users, "num_items": cold.num_items,
                                    "seed": cold.seed, "negatives": int(cold.movie_negatives.shape[1])})
    written.append(out / "cold.json")
    return written


def load_cold(split_dir: str | os.PathLike) -> ColdSplit:
    """Read back what :func:`save_cold` wrote."""
    d = Path(split_dir)
    meta_path = d / "cold.json"
    if not meta_path.is_file():
        raise DataError(f"{d}: no cold.json (expected a cold-start split written by save_cold)")
    meta = json.loads(meta_path.read_text())
    arrays = {}
    for key in _ARRAYS:
        path = d / f"{meta['name']}.cold.{key}.txt"
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        text = path.read_text().split("\n")[:-1]
        dtype = np.float32 if key == "train_rating" else np.int64
        rows = [np.array(line.split("\t"), dtype=dtype) for line in text]
        width = meta["negatives"] if key.endswith("negatives") else 1
        a = np.stack(rows) if rows else np.zeros((0, width), dtype)
        arrays[key] = torch.from_numpy(a if key.endswith("negatives") else a.reshape(-1))
    return ColdSplit(meta["num_users"], meta["num_items"], name=meta["name"], seed=meta["seed"], **arrays)


# --------------------------------------------------------------------------- evaluation

def _per_user(users: Tensor, targets: Tensor, scores: Tensor, full_cand: Tensor, neg: Tensor, row_of: Tensor,
              k: int) -> dict:
    """Per-user mean HR@k / NDCG@k over a user's targets, ranked among the user's ``full_cand`` (bool
    ``[rows, I]``) and among their sampled negatives ``neg`` (``-1`` pads); the metrics of
    :mod:`graphrec.metrics`, so ties and non-finite scores count against the target."""
    rows = row_of[users]
    target = scores[rows, targets].float()
    others = scores[rows].float()
    sampled_cand = torch.zeros_like(full_cand)
    valid = neg >= 0
    sampled_cand[torch.arange(len(neg))[:, None].expand_as(neg)[valid], neg[valid]] = True
    n_rows = full_cand.shape[0]
    count = torch.bincount(rows, minlength=n_rows).double()
    out = {}
    for suffix, cand in (("", sampled_cand), ("full_", full_cand)):
        mask = cand[rows]
        mask[torch.arange(len(rows)), targets] = False  # the target is not its own competitor
        r = ranks_against(target, others, mask)
        for name, metric in (("HR", hit_rate), ("NDCG", ndcg)):
            total = torch.zeros(n_rows, dtype=torch.float64).index_add_(0, rows, metric(r, k).double())
            out[f"{suffix}{name}@{k}"] = (total / count).numpy()
    return out


@torch.no_grad()
def evaluate_cold_movies(scorer, cold: ColdSplit, k: int = 10) -> dict:
    """Per-user HR/NDCG of warm users' cold-movie targets, ranked among cold movies only."""
    scorer.set_graph(*cold.visible(0))
    users = cold.movie_users()
    row_of = torch.full((cold.num_users,), -1, dtype=torch.long)
    row_of[users] = torch.arange(len(users))
    scores = _score_all(scorer, users)
    cand = torch.zeros(len(users), cold.num_items, dtype=torch.bool)
    cand[:, cold.cold_items] = True
    cand[row_of[cold.movie_test_user], cold.movie_test_item] = False  # other targets are not negatives
    per = _per_user(cold.movie_test_user, cold.movie_test_item, scores, cand, cold.movie_negatives, row_of, k)
    return _result(per, users)


@torch.no_grad()
def evaluate_cold_users(scorer, cold: ColdSplit, known: int, k: int = 10) -> dict:
    """Per-user HR/NDCG of cold users' targets with ``known`` visible ratings each, among warm movies."""
    vu, vi = cold.visible(known)
    scorer.set_graph(vu, vi)
    users = cold.cold_users
    row_of = torch.full((cold.num_users,), -1, dtype=torch.long)
    row_of[users] = torch.arange(len(users))
    scores = _score_all(scorer, users)
    cand = torch.ones(len(users), cold.num_items, dtype=torch.bool)
    cand[:, cold.cold_items] = False
    cand[row_of[cold.user_known_user], cold.user_known_item] = False  # rated: never a candidate
    cand[row_of[cold.user_test_user], cold.user_test_item] = False
    per = _per_user(cold.user_test_user, cold.user_test_item, scores, cand, cold.user_negatives, row_of, k)
    return _result(per, users)


def _score_all(scorer, users: Tensor, batch: int = 1024) -> Tensor:
    training = getattr(scorer, "training", None)
    if training:
        scorer.eval()
    try:
        return torch.cat([scorer.score_all(users[s:s + batch]).float().cpu() for s in range(0, len(users), batch)])
    finally:
        if training:
            scorer.train()


def _result(per: dict, users: Tensor) -> dict:
    res: dict = {key: float(v.mean()) if len(v) else float("nan") for key, v in per.items()}
    res["per_user"], res["users"] = per, users.numpy()
    return res


def evaluate_cold(scorer, cold: ColdSplit, k: int = 10, ks: tuple[int, ...] = COLD_KS) -> dict:
    """``{"movies": result, "users@0": result, ...}`` for one scorer; the graph is restored to the warm one."""
    out = {"movies": evaluate_cold_movies(scorer, cold, k)}
    for known in ks:
        out[f"users@{known}"] = evaluate_cold_users(scorer, cold, known, k)
    scorer.set_graph(*cold.visible(0))
    return out


def interval(result: dict, metric: str, seed: int = 0) -> tuple[float, float, float]:
    return bootstrap_ci(result["per_user"][metric], seed=seed)


def paired(a: dict, b: dict, metric: str, seed: int = 0) -> tuple[float, float, float]:
    if not np.array_equal(a["users"], b["users"]):
        raise ValueError("paired comparison needs both results on the same users")
    return paired_bootstrap(a["per_user"][metric], b["per_user"][metric], seed=seed)
