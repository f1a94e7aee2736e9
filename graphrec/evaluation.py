"""Evaluating any scorer on a :class:`~graphrec.data.Split`, sampled and full ranking.

A *scorer* is anything with ``num_items``, ``score(users[N], items[N, C]) -> [N, C]``
and ``score_all(users[N]) -> [N, num_items]``: the baselines and every
:class:`~graphrec.models.Recommender`. Higher scores rank first.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from .data.split import Split
from .metrics import bootstrap_ci, coverage, hit_rate, mean_popularity, mrr, ndcg, paired_bootstrap, ranks_against


class Scorer(Protocol):
    num_items: int

    def score(self, users: Tensor, items: Tensor) -> Tensor: ...

    def score_all(self, users: Tensor) -> Tensor: ...


class KnownItems:
    """Per-user known items in CSR form, to mask them out of full rankings."""

    def __init__(self, users: Tensor, items: Tensor, num_users: int) -> None:
        order = torch.argsort(users, stable=True)
        self.items = items[order].long()
        self.count = torch.bincount(users.long(), minlength=num_users)
        self.start = torch.cumsum(self.count, 0) - self.count

    def pairs(self, users: Tensor) -> tuple[Tensor, Tensor]:
        """(row in ``users``, item) for every known item of the given users, vectorized."""
        cnt = self.count[users]
        rows = torch.repeat_interleave(torch.arange(len(users)), cnt)
        first = torch.repeat_interleave(torch.cumsum(cnt, 0) - cnt, cnt)
        pos = torch.arange(int(cnt.sum())) - first + torch.repeat_interleave(self.start[users], cnt)
        return rows, self.items[pos]


@torch.no_grad()
def sampled_ranks(scorer: Scorer, users: Tensor, items: Tensor, negatives: Tensor, batch_size: int = 4096) -> Tensor:
    """Rank of each held-out item among its sampled negatives."""
    out = []
    for s in range(0, len(users), batch_size):
        u, i, n = users[s:s + batch_size], items[s:s + batch_size], negatives[s:s + batch_size]
        scores = scorer.score(u, torch.cat([i[:, None], n], dim=1)).float()
        out.append(ranks_against(scores[:, 0], scores[:, 1:]))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


@torch.no_grad()
def full_ranks(scorer: Scorer, users: Tensor, items: Tensor, known: KnownItems, batch_size: int = 1024) -> Tensor:
    """Rank of each held-out item among all items the user has not interacted with."""
    return full_ranking(scorer, users, items, known, batch_size)[0]


@torch.no_grad()
def full_ranking(scorer: Scorer, users: Tensor, items: Tensor, known: KnownItems, batch_size: int = 1024,
                 top_k: int = 0) -> tuple[Tensor, Tensor]:
    """(rank of each held-out item among all items the user has not interacted with,
    ``[N, top_k]`` top-scored such items per user, held-out item included; empty for ``top_k=0``)."""
    out, tops = [], []
    for s in range(0, len(users), batch_size):
        u, i = users[s:s + batch_size], items[s:s + batch_size]
        scores = scorer.score_all(u).float()
        rows = torch.arange(len(u))
        target = scores[rows, i].clone()
        valid = torch.ones_like(scores, dtype=torch.bool)
        kr, ki = known.pairs(u)
        valid[kr, ki] = False
        if top_k:
            ranked = torch.where(valid & ~scores.isnan(), scores, torch.full_like(scores, -torch.inf))
            tops.append(torch.topk(ranked, min(top_k, scores.shape[1]), dim=1).indices)
        valid[rows, i] = False
        out.append(ranks_against(target, scores, valid))
    ranks = torch.cat(out) if out else torch.zeros(0, dtype=torch.long)
    return ranks, torch.cat(tops) if tops else torch.zeros(0, top_k, dtype=torch.long)


def evaluate(scorer: Scorer, split: Split, k: int = 10, on: str = "test", full: bool = True,
             sampled: bool = True, per_user: bool = False) -> dict:
    """Ranking metrics of ``scorer`` on the split's test (or validation) items.

    Keys: ``HR@k``/``NDCG@k``/``MRR@k`` (sampled: among the fixed negatives) and
    ``full_HR@k``/``full_NDCG@k``/``full_MRR@k`` (among all unseen items), with
    ``full_coverage@k`` (share of the catalogue in some user's top k) and
    ``full_popularity@k`` (mean number of training interactions of the top-k items).
    With ``per_user``, the per-user values come back under ``"per_user"`` as numpy
    arrays (coverage is a catalogue-level figure and has none).
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    users, items, negatives = split.held_out(on)
    training = getattr(scorer, "training", None)
    if training:
        scorer.eval()
    res: dict = {}
    per: dict = {}
    try:
        if sampled:
            r = sampled_ranks(scorer, users, items, negatives)
            per[f"HR@{k}"], per[f"NDCG@{k}"], per[f"MRR@{k}"] = hit_rate(r, k), ndcg(r, k), mrr(r, k)
        if full:
            r, top = full_ranking(scorer, users, items, KnownItems(*split.known_items(on), split.num_users), top_k=k)
            per[f"full_HR@{k}"], per[f"full_NDCG@{k}"], per[f"full_MRR@{k}"] = hit_rate(r, k), ndcg(r, k), mrr(r, k)
            counts = torch.bincount(split.known_items(on)[1], minlength=split.num_items)
            per[f"full_popularity@{k}"] = mean_popularity(top, counts)
            res[f"full_coverage@{k}"] = coverage(top, split.num_items)
    finally:
        if training:
            scorer.train()
    for key, v in per.items():
        res[key] = float(v.mean()) if len(v) else float("nan")
    if per_user:
        res["per_user"] = {key: v.numpy() for key, v in per.items()}
        res["users"] = users.numpy()
    return res


def with_intervals(result: dict, seed: int = 0) -> dict:
    """``{metric: (mean, lo, hi)}`` from an ``evaluate(..., per_user=True)`` result."""
    return {key: bootstrap_ci(v, seed=seed) for key, v in result["per_user"].items()}


def paired_difference(a: dict, b: dict, seed: int = 0) -> dict:
    """``{metric: (mean a-b, lo, hi)}`` of two per-user results on the same users."""
    if not np.array_equal(a["users"], b["users"]):
        raise ValueError("paired comparison needs both results on the same users")
    return {key: paired_bootstrap(a["per_user"][key], b["per_user"][key], seed=seed)
            for key in a["per_user"] if key in b["per_user"]}
