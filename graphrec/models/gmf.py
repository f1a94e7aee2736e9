"""Generalized matrix factorisation (GMF), He et al., "Neural Collaborative Filtering", WWW 2017, sec. 3.2."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import Biases, Recommender, declare


@declare()
class GMF(Recommender):
    """``logit(u, i) = h^T (p_u * q_i) + b``: the element-wise product of a user and an item
    embedding, weighted by a learned output layer (He et al. 2017, eq. 9 without the sigmoid).

    Args:
        num_users, num_items: sizes of the embedding tables.
        factors: embedding size (the paper's "predictive factors").
        bias: add user and item biases ``b_u + b_i`` to the logit.
        sparse: sparse embedding gradients (the trainer then uses ``SparseAdam`` for them).
    """

    def __init__(self, num_users: int, num_items: int, factors: int = 8, bias: bool = False,
                 sparse: bool = False) -> None:
        super().__init__()
        if factors < 1:
            raise ValueError(f"factors must be >= 1, got {factors}")
        self.num_users, self.num_items, self.factors = num_users, num_items, factors
        self.user = nn.Embedding(num_users, factors, sparse=sparse)
        self.item = nn.Embedding(num_items, factors, sparse=sparse)
        self.out = nn.Linear(factors, 1)
        self.bias = Biases(num_users, num_items, sparse) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """normal(0, 0.01) embeddings and a Xavier output layer, as in the paper's code."""
        nn.init.normal_(self.user.weight, std=0.01)
        nn.init.normal_(self.item.weight, std=0.01)
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if self.bias is not None:
            self.bias.reset_parameters()

    def embedding_tables(self) -> tuple[list[nn.Embedding], list[nn.Embedding]]:
        return [self.user], [self.item]

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        logit = self.out(self.user(user) * self.item(item)).squeeze(-1)
        return logit if self.bias is None else logit + self.bias(user, item)

    @torch.no_grad()
    def score_all(self, users: Tensor) -> Tensor:
        """One matrix product: ``(p_u * h) Q^T + b`` (+ ``b_u + b_i``)."""
        out = (self.user.weight[users] * self.out.weight) @ self.item.weight.T + self.out.bias
        return out if self.bias is None else out + self.bias.all_pairs(users)
