"""EASE (Steck, WWW 2019, "Embarrassingly Shallow Autoencoders for Sparse Data")."""
from __future__ import annotations

import torch
from torch import Tensor

from ..data.split import Split


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

    Args:
        l2: the ridge penalty :math:`\lambda` (chosen on the validation item; a few hundred
            suits MovieLens-100K).
    """

    def __init__(self, l2: float = 300.0) -> None:
        if not l2 > 0:
            raise ValueError(f"l2 must be > 0, got {l2}")
        self.l2 = float(l2)
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
        self.user_items = x.float()
        return self

    def score_all(self, users: Tensor) -> Tensor:
        return self.user_items[users.long()] @ self.weight

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return torch.gather(self.score_all(users), 1, items.long())
