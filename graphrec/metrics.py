"""Ranking metrics on ranks, and bootstrap confidence intervals over users.

A *rank* is the number of competing items that score at least as high as the
held-out item, so ties count against it: a model that scores everything
equally has rank = number of candidates - 1 and a sampled HR@10 of 0.

Non-finite scores never help the held-out item: a competitor scored NaN or
+-inf counts against it like a tie, and a held-out item scored NaN or +-inf is a
miss at every cut-off (rank :data:`MISS`). A diverged model therefore scores 0,
never a perfect 1 (NaN comparisons are all false, which would rank it first).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


#: Rank of a held-out item whose own score is not finite: beyond every cut-off.
MISS = torch.iinfo(torch.int64).max


def ranks_against(target: Tensor, others: Tensor, valid: Tensor | None = None) -> Tensor:
    """``rank[n] = #{c : others[n, c] >= target[n] or others[n, c] is not finite}``, counting
    only ``valid`` entries; :data:`MISS` where ``target[n]`` itself is not finite."""
    ge = (others >= target[:, None]) | ~torch.isfinite(others)
    if valid is not None:
        ge &= valid
    ranks = ge.sum(dim=1)
    return ranks.masked_fill(~torch.isfinite(target), MISS)


def hit_rate(ranks: Tensor, k: int = 10) -> Tensor:
    """Per-user HR@k: 1 if the held-out item is in the top k."""
    return (ranks < k).float()


def ndcg(ranks: Tensor, k: int = 10) -> Tensor:
    """Per-user NDCG@k with a single relevant item: ``1 / log2(rank + 2)`` inside the top k."""
    r = ranks.double()
    return torch.where(ranks < k, 1.0 / torch.log2(r + 2.0), torch.zeros_like(r)).float()


def mrr(ranks: Tensor, k: int = 10) -> Tensor:
    """Per-user reciprocal rank cut at k: ``1 / (rank + 1)`` inside the top k, else 0."""
    return torch.where(ranks < k, 1.0 / (ranks.double() + 1.0), torch.zeros_like(ranks, dtype=torch.double)).float()


def coverage(top: Tensor, num_items: int) -> float:
    """Catalogue coverage: the share of the ``num_items`` items that appear in some row of ``top[N, k]``."""
    return float(torch.unique(top).numel()) / max(int(num_items), 1) if top.numel() else 0.0


def mean_popularity(top: Tensor, counts: Tensor) -> Tensor:
    """Per-user mean popularity (training interactions) of the recommended items ``top[N, k]``."""
    return counts.float()[top].mean(dim=1) if top.numel() else torch.zeros(len(top))


def bootstrap_ci(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean of per-user ``values`` and a percentile bootstrap interval over users."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("no values to bootstrap")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    means = v[idx].mean(axis=1)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [a, 1.0 - a])
    return float(v.mean()), float(lo), float(hi)


def paired_bootstrap(a, b, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a - b`` over the same users, with a bootstrap interval.

    Call ``a`` better than ``b`` only when the interval excludes zero.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same users: shapes {a.shape} and {b.shape}")
    return bootstrap_ci(a - b, n_boot=n_boot, level=level, seed=seed)


def bootstrap_seeds_users(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean of a ``[seeds, users]`` matrix and a two-level percentile bootstrap interval.

    Each replicate resamples the users (the same draw for every seed: they share the
    split) and the seeds, both with replacement, so the interval carries both the
    user sampling noise and the seed-to-seed spread. One seed gives :func:`bootstrap_ci`.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[None] if v.ndim == 1 else v
    if v.size == 0:
        raise ValueError("no values to bootstrap")
    rng = np.random.default_rng(seed)
    n_seeds, n_users = v.shape
    users = rng.integers(0, n_users, size=(n_boot, n_users))
    per_seed = np.stack([row[users].mean(axis=1) for row in v], axis=1)  # [n_boot, seeds]
    if n_seeds > 1:
        per_seed = np.take_along_axis(per_seed, rng.integers(0, n_seeds, size=(n_boot, n_seeds)), axis=1)
    means = per_seed.mean(axis=1)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [a, 1.0 - a])
    return float(v.mean()), float(lo), float(hi)
