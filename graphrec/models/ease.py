"""EASE (Steck, WWW 2019, "Embarrassingly Shallow Autoencoders for Sparse Data")."""
from __future__ import annotations

import torch
from torch import Tensor

from ..data.split import Split
from .base import declare


@declare()
class EASE:
    r"""A linear item-to-item model with a closed-form solution.

    With the binary user-item matrix :math:`X \in \{0,1\}^{U \times I}` of the training
    pairs, EASE learns item weights :math:`B` by

    .. math::
        \min_B \|X - XB\|_F^2 + \lambda \|B\|_F^2 \quad \text{s.t.} \quad \operatorname{diag}(B) = 0,

    whose solution is, with :math:`P = (X^\top X + \lambda I)^{-1}`,

    .. math::
        B_{ij} = -\frac{P_{ij}}{P_{jj}} \quad (i \neq j), \qquad B_{jj} = 0.

    A user's scores are the row :math:`x_u B`. One ``I x I`` inverse (Cholesky) is all
    the training there is: 1,682 movies take a fraction of a second.

    *Recency* (an option, off by default): when scoring, the user's row weights each
    interaction by how recent it is, :math:`x_{uj} = f + (1 - f)\, e^{-p_{uj} / \tau}`, where
    :math:`p_{uj}` counts the user's interactions after :math:`j` (0 for the latest, ordered by
    time then item), :math:`\tau` is ``recency`` and :math:`f` is ``floor``. :math:`B` is
    learned as above; only the query is sequence-aware, so the items a user rated last
    steer the next recommendation most.

    Args:
        l2: the ridge penalty :math:`\lambda` (chosen on the validation item; a few hundred
            suits MovieLens-100K).
        recency: the decay :math:`\tau`, in interactions (0: every interaction weighs 1).
        floor: the weight :math:`f` in ``[0, 1]`` that old interactions keep under ``recency``.
    """

    def __init__(self, l2: float = 300.0, recency: float = 0.0, floor: float = 0.0) -> None:
        if not l2 > 0:
            raise ValueError(f"l2 must be > 0, got {l2}")
        if recency < 0:
            raise ValueError(f"recency must be >= 0, got {recency}")
        if not 0.0 <= floor <= 1.0:
            raise ValueError(f"floor must be in [0, 1], got {floor}")
        self.l2, self.recency, self.floor = float(l2), float(recency), float(floor)
        self.weight: Tensor | None = None
        self.user_items: Tensor | None = None

    def fit(self, split: Split) -> "EASE":
        """Solve for ``B`` on the split's training pairs (duplicates count once)."""
        self.num_items = split.num_items
        x = torch.zeros(split.num_users, split.num_items, dtype=torch.float64)
        x[split.train_user.long(), split.train_item.long()] = 1.0
        g = x.T @ x
        g.diagonal().add_(self.l2)
        p = torch.cholesky_inverse(torch.linalg.cholesky(g))
        b = -p / p.diagonal()[None, :]
        b.diagonal().zero_()
        self.weight = b.float()
        self.user_items = x.float() if not self.recency else recency_weights(split, self.recency, self.floor)
        return self

    def score_all(self, users: Tensor) -> Tensor:
        return self.user_items[users.long()] @ self.weight

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return torch.gather(self.score_all(users), 1, items.long())


def recency_weights(split: Split, tau: float, floor: float = 0.0) -> Tensor:
    """``[users, items]``: ``floor + (1 - floor) exp(-p / tau)`` at each training pair, ``p`` counting
    the user's later interactions (ordered by time, then item); 0 elsewhere."""
    u, i, t = split.train_user.long(), split.train_item.long(), split.train_time.long()
    order = torch.argsort(i, stable=True)
    for key in (t, u):  # stable sorts: by user, then time, then item
        order = order[torch.argsort(key[order], stable=True)]
    u, i = u[order], i[order]
    end = torch.cumsum(torch.bincount(u, minlength=split.num_users), 0)
    later = (end[u] - 1 - torch.arange(len(u))).double()
    w = floor + (1.0 - floor) * torch.exp(-later / tau)
    x = torch.zeros(split.num_users, split.num_items, dtype=torch.float64)
    x.view(-1).scatter_reduce_(0, u * split.num_items + i, w, "amax")  # a repeated pair: its latest weight
    return x.float()
