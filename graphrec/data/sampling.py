"""Vectorized negative sampling against a set of known (user, item) pairs."""
from __future__ import annotations

import torch
from torch import Tensor

from ..errors import DataError


class NegativeSampler:
    """Draws items a user has not interacted with, by vectorized rejection.

    Known pairs are kept as sorted ``user * num_items + item`` keys; a draw is
    checked with one ``searchsorted`` over all candidates, and only rejected
    draws are redrawn. There is no Python loop over rows.
    """

    def __init__(self, users: Tensor, items: Tensor, num_items: int) -> None:
        users, items = torch.as_tensor(users).long(), torch.as_tensor(items).long()
        self.num_items = int(num_items)
        self.keys = torch.unique(users * self.num_items + items)  # sorted
        self.num_users = int(users.max()) + 1 if users.numel() else 0
        self.count = torch.bincount(users, minlength=self.num_users)

    def contains(self, users: Tensor, items: Tensor) -> Tensor:
        """Boolean mask: is ``(users[i], items[i])`` a known pair?"""
        q = users.long() * self.num_items + items.long()
        pos = torch.searchsorted(self.keys, q).clamp_max(max(len(self.keys) - 1, 0))
        return self.keys[pos] == q if len(self.keys) else torch.zeros_like(q, dtype=torch.bool)

    def sample(self, users: Tensor, num: int, generator: torch.Generator | None = None,
               distinct: bool = False, max_rounds: int = 1000) -> Tensor:
        """``[len(users), num]`` unknown items for each user.

        With ``distinct`` the items of one row are all different (used for the
        fixed test negatives); otherwise each draw is independent (training).
        """
        users = torch.as_tensor(users).long()
        known = torch.zeros_like(users)
        seen = users < self.num_users
        known[seen] = self.count[users[seen]]
        need = num if distinct else 1
        if users.numel() and int((self.num_items - known).min()) < need:
            u = int(users[int(torch.argmin(self.num_items - known))])
            raise DataError(f"user index {u} has fewer than {need} items left to sample as negatives "
                            f"({self.num_items} items in all)")
        out = torch.randint(self.num_items, (len(users), num), generator=generator)
        pending = torch.arange(len(users))  # rows that may still hold a rejected draw
        for _ in range(max_rounds):
            # Only rows with a fresh draw are re-checked, so each round costs what it redraws.
            sub = out[pending]
            bad = self.contains(users[pending, None].expand(-1, num), sub)
            if distinct:
                bad |= _duplicates(sub)
            keep = bad.any(dim=1)
            pending, sub, bad = pending[keep], sub[keep], bad[keep]
            n_bad = int(bad.sum())
            if n_bad == 0:
                return out
            sub[bad] = torch.randint(self.num_items, (n_bad,), generator=generator)
            out[pending] = sub
        raise RuntimeError("negative sampling did not converge")  # pragma: no cover


def _duplicates(x: Tensor) -> Tensor:
    """Mask of entries equal to an earlier entry in the same row."""
    s, idx = torch.sort(x, dim=1, stable=True)
    dup_sorted = torch.zeros_like(s, dtype=torch.bool)
    dup_sorted[:, 1:] = s[:, 1:] == s[:, :-1]
    dup = torch.zeros_like(dup_sorted)
    dup.scatter_(1, idx, dup_sorted)
    return dup


def pointwise_epoch(users: Tensor, items: Tensor, sampler: NegativeSampler, num_ng: int,
                    generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """One epoch of (user, item, label): every positive plus ``num_ng`` fresh negatives, shuffled."""
    neg = sampler.sample(users, num_ng, generator).reshape(-1)
    u = torch.cat([users, users.repeat_interleave(num_ng)])
    i = torch.cat([items, neg])
    y = torch.cat([torch.ones(len(users)), torch.zeros(len(neg))])
    perm = torch.randperm(len(u), generator=generator)
    return u[perm], i[perm], y[perm]


def pairwise_epoch(users: Tensor, items: Tensor, sampler: NegativeSampler, num_ng: int = 1,
                   generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """One epoch of BPR triples (user, positive, negative), ``num_ng`` per positive, shuffled."""
    neg = sampler.sample(users, num_ng, generator).reshape(-1)
    u = users.repeat_interleave(num_ng)
    p = items.repeat_interleave(num_ng)
    perm = torch.randperm(len(u), generator=generator)
    return u[perm], p[perm], neg[perm]
