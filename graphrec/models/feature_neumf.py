"""FeatureNeuMF: NeuMF with side features.

NeuMF of He et al., "Neural Collaborative Filtering" (WWW 2017) -- a GMF branch
(element-wise product of user and movie vectors) fused with an MLP tower by one
linear layer -- where the tower is :class:`~graphrec.models.FeatureMLP`'s, over
every feature group. Each id has *one* embedding table whose first
``gmf_factors`` columns feed the GMF branch and the rest the tower, so each
group still has a single representation layer for attribution.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..data.features import FeatureTable
from .base import Recommender, declare
from .feature_mlp import FeatureMLP


@declare()
class FeatureNeuMF(FeatureMLP):
    """``logit = w^T [e_user^gmf * e_movie^gmf, tower(all groups)]``; see :class:`FeatureMLP` for the tower.

    Args:
        gmf_factors: width of the GMF branch (extra columns of the id embeddings).
    """

    def __init__(self, table: FeatureTable, factors: int = 32, side_dim: int = 8,
                 layers: Sequence[int] | str = (64, 32, 16), dropout: float = 0.0, gmf_factors: int = 8) -> None:
        super().__init__(table, factors, side_dim, layers, dropout)
        self.gmf_factors = gmf_factors
        self.user_emb = nn.Embedding(table.num_users, gmf_factors + factors)
        self.movie_emb = nn.Embedding(table.num_items, gmf_factors + factors)
        self.out = nn.Linear(gmf_factors + self.out.in_features, 1)
        self.reset_parameters()

    def forward_groups(self, *inputs: Tensor) -> Tensor:
        reps = [layer(x) for layer, x in zip(self.group_layers(), inputs)]
        g = self.gmf_factors
        (user, movie), rest = reps[:2], reps[2:]
        tower = self.tower(self.first(torch.cat([user[:, g:], movie[:, g:], *rest], dim=-1)))
        return self.out(torch.cat([user[:, :g] * movie[:, :g], tower], dim=-1)).squeeze(-1)

    def score_all(self, users: Tensor, chunk: int = 1 << 20) -> Tensor:
        """Every pair through :meth:`forward_groups` (the GMF product does not split like the tower)."""
        return Recommender.score_all(self, users, chunk)
