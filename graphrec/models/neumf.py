"""Neural matrix factorisation (NeuMF), He et al., "Neural Collaborative Filtering", WWW 2017, sec. 3.4."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from .base import Biases, Recommender, declare
from .gmf import GMF
from .mlp import MLP, Tower, parse_layers


@declare()
class NeuMF(Recommender):
    """Fusion of GMF and MLP with separate embeddings (He et al. 2017, eq. 11-12):
    ``logit(u, i) = h^T [p^G_u * q^G_i, tower([p^M_u, q^M_i])] + b``.

    Unlike the original code, the tower has ReLU activations (dropout optional).
    :meth:`load_pretrained` initialises from trained :class:`GMF` and :class:`MLP`
    models, mixing their output layers with ``alpha`` (0.5 in the paper).

    Args:
        factors: GMF embedding size.
        layers: MLP tower sizes (each MLP embedding has ``layers[0] / 2`` dimensions).
        dropout: dropout after each tower layer.
        bias: add user and item biases ``b_u + b_i`` to the logit.
        sparse: sparse embedding gradients.
    """

    def __init__(self, num_users: int, num_items: int, factors: int = 8,
                 layers: Sequence[int] | str = (64, 32, 16, 8), dropout: float = 0.0, bias: bool = False,
                 sparse: bool = False) -> None:
        super().__init__()
        if factors < 1:
            raise ValueError(f"factors must be >= 1, got {factors}")
        self.num_users, self.num_items, self.factors = num_users, num_items, factors
        self.layers = parse_layers(layers, min_sizes=2, even_first=True)
        d = self.layers[0] // 2
        self.gmf_user = nn.Embedding(num_users, factors, sparse=sparse)
        self.gmf_item = nn.Embedding(num_items, factors, sparse=sparse)
        self.mlp_user = nn.Embedding(num_users, d, sparse=sparse)
        self.mlp_item = nn.Embedding(num_items, d, sparse=sparse)
        self.tower = Tower(self.layers, dropout)
        self.out = nn.Linear(factors + self.layers[-1], 1)
        self.bias = Biases(num_users, num_items, sparse) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for emb in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            nn.init.normal_(emb.weight, std=0.01)
        self.tower.reset_parameters()
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if self.bias is not None:
            self.bias.reset_parameters()

    def embedding_tables(self) -> tuple[list[nn.Embedding], list[nn.Embedding]]:
        return [self.gmf_user, self.mlp_user], [self.gmf_item, self.mlp_item]

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        g = self.gmf_user(user) * self.gmf_item(item)
        m = self.tower(torch.cat([self.mlp_user(user), self.mlp_item(item)], dim=-1))
        logit = self.out(torch.cat([g, m], dim=-1)).squeeze(-1)
        return logit if self.bias is None else logit + self.bias(user, item)

    @torch.no_grad()
    def score_all(self, users: Tensor) -> Tensor:
        w = self.out.weight[0]
        g = (self.gmf_user.weight[users] * w[:self.factors]) @ self.gmf_item.weight.T
        m = self.tower.all_pairs(self.mlp_user.weight[users], self.mlp_item.weight) @ w[self.factors:]
        out = g + m + self.out.bias
        return out if self.bias is None else out + self.bias.all_pairs(users)

    @torch.no_grad()
    def load_pretrained(self, gmf: GMF, mlp: MLP, alpha: float = 0.5) -> "NeuMF":
        """Copy the embeddings and tower of trained models; the output layer is
        ``[alpha * h_GMF, (1 - alpha) * h_MLP]`` with bias ``alpha * b_GMF + (1 - alpha) * b_MLP``."""
        if not isinstance(gmf, GMF) or not isinstance(mlp, MLP):
            raise TypeError("NeuMF pretraining needs a GMF and an MLP model")
        if gmf.factors != self.factors:
            raise ValueError(f"the GMF run has factors={gmf.factors}, NeuMF has factors={self.factors}")
        if mlp.layers != self.layers:
            raise ValueError(f"the MLP run has layers={mlp.layers}, NeuMF has layers={self.layers}")
        for m in (gmf, mlp):
            if (m.num_users, m.num_items) != (self.num_users, self.num_items):
                raise ValueError(f"a pretrained run has {m.num_users} users x {m.num_items} items, "
                                 f"NeuMF has {self.num_users} x {self.num_items}: not the same data")
        self.gmf_user.weight.copy_(gmf.user.weight)
        self.gmf_item.weight.copy_(gmf.item.weight)
        self.mlp_user.weight.copy_(mlp.user.weight)
        self.mlp_item.weight.copy_(mlp.item.weight)
        self.tower.load_state_dict(mlp.tower.state_dict())
        self.out.weight.copy_(torch.cat([alpha * gmf.out.weight, (1 - alpha) * mlp.out.weight], dim=1))
        self.out.bias.copy_(alpha * gmf.out.bias + (1 - alpha) * mlp.out.bias)
        if self.bias is not None and gmf.bias is not None:
            self.bias.load_state_dict(gmf.bias.state_dict())
        return self
