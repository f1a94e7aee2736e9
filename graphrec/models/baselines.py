"""Non-learned floors every model must beat: MostPop and ItemKNN."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.preprocessing import normalize
from torch import Tensor

from ..data.split import Split
from .base import declare


@declare(baseline=True)
class MostPop:
    """Scores an item by its number of training interactions."""

    def __init__(self) -> None:
        self.counts: Tensor | None = None

    def fit(self, split: Split) -> "MostPop":
        self.num_items = split.num_items
        self.counts = torch.bincount(split.train_item, minlength=split.num_items).float()
        return self

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return self.counts[items]

    def score_all(self, users: Tensor) -> Tensor:
        return self.counts.expand(len(users), -1)


@declare(baseline=True)
class ItemKNN:
    """Item-based k-nearest-neighbours (Sarwar et al., 2001) on binary implicit feedback.

    ``sim`` is the cosine similarity of item columns, keeping each item's ``k``
    most similar neighbours; a user's score for item ``i`` is the sum of ``sim``
    between ``i`` and the items the user interacted with.
    """

    def __init__(self, k: int = 50, shrink: float = 0.0) -> None:
        if k < 1:
            raise ValueError("k must be >= 1")
        self.k, self.shrink = k, shrink

    def fit(self, split: Split) -> "ItemKNN":
        self.num_items = split.num_items
        u, i = split.train_user.numpy(), split.train_item.numpy()
        x = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(split.num_users, split.num_items))
        x.data[:] = 1.0  # duplicates collapse to one interaction
        self.user_items = x
        xn = normalize(x.T.tocsr(), axis=1)  # items x users, unit rows
        sim = (xn @ xn.T).tocsr()
        if self.shrink:
            co = (x.T @ x).tocsr()
            sim = sim.multiply(co / (co + self.shrink)).tocsr()
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        self.sim = _top_k_per_row(sim, self.k).T.tocsr()  # column j: neighbours of item j
        return self

    def score_all(self, users: Tensor) -> Tensor:
        s = self.user_items[users.numpy()] @ self.sim
        return torch.from_numpy(np.asarray(s.todense(), dtype=np.float32))

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return torch.gather(self.score_all(users), 1, items)


def _top_k_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for r in range(m.shape[0]):  # one row per item: fine for MovieLens-sized catalogues
        s, e = m.indptr[r], m.indptr[r + 1]
        if e - s > k:
            keep = np.argpartition(-m.data[s:e], k - 1)[:k]
        else:
            keep = np.arange(e - s)
        rows.append(np.full(len(keep), r))
        cols.append(m.indices[s:e][keep])
        vals.append(m.data[s:e][keep])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=m.shape)
