"""FeatureMLP: an MLP over every feature group of a (user, movie) pair.

The MLP of He et al., "Neural Collaborative Filtering" (WWW 2017), widened
with side features as in Cheng et al., "Wide & Deep Learning for Recommender
Systems" (DLRS 2016): the user, movie, gender, age-bucket and occupation
embeddings, the genres multi-hot and the scaled release year are concatenated
and fed through a ReLU tower to one logit. Each input is a named feature group
(:mod:`graphrec.models.groups`), which is what :mod:`graphrec.explain` reports.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..data.features import FeatureTable
from .base import declare
from .groups import GroupRecommender
from .mlp import parse_layers

USER_SIDE = ("user", "gender", "age", "occupation")


@declare()
class FeatureMLP(GroupRecommender):
    """``logit = w^T tower([e_user, e_movie, e_gender, e_age, e_occupation, genres, year])``.

    Args:
        table: side features of the data set.
        factors: width of the user and movie embeddings.
        side_dim: width of the gender, age and occupation embeddings.
        layers: widths of the ReLU tower.
        dropout: dropout after each hidden layer.
    """

    def __init__(self, table: FeatureTable, factors: int = 32,
                 side_dim: int = 8, layers: Sequence[int] | str = (64, 32, 16), dropout: float = 0.0) -> None:
        super().__init__(table)
        layers = parse_layers(layers)
        self.user_emb = nn.Embedding(table.num_users, factors)
        self.movie_emb = nn.Embedding(table.num_items, factors)
        self.gender_emb = nn.Embedding(self.vocab["gender"], side_dim)
        self.age_emb = nn.Embedding(self.vocab["age"], side_dim)
        self.occupation_emb = nn.Embedding(self.vocab["occupation"], side_dim)
        self.genres_in, self.year_in = nn.Identity(), nn.Identity()
        self.widths = [factors, factors, side_dim, side_dim, side_dim, self.vocab["genres"], 1]
        self.first = nn.Linear(sum(self.widths), layers[0])
        tower: list[nn.Module] = []
        for a, b in zip(layers[:-1], layers[1:]):
            tower += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(a, b)]
        self.tower = nn.Sequential(*tower, nn.ReLU(), nn.Dropout(dropout))
        self.out = nn.Linear(layers[-1], 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for emb in self.group_layers()[:5]:
            nn.init.normal_(emb.weight, 0.0, 0.01)
        for m in [self.first, self.out, *self.tower]:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def group_layers(self) -> list[nn.Module]:
        return [self.user_emb, self.movie_emb, self.gender_emb, self.age_emb, self.occupation_emb,
                self.genres_in, self.year_in]

    def forward_groups(self, *inputs: Tensor) -> Tensor:
        reps = [layer(x) for layer, x in zip(self.group_layers(), inputs)]
        return self.head(self.first(torch.cat(reps, dim=-1)))

    def head(self, h: Tensor) -> Tensor:
        """Logits from the first layer's pre-activation."""
        return self.out(self.tower(h)).squeeze(-1)

    @torch.no_grad()
    def score_all(self, users: Tensor, chunk: int = 1 << 22) -> Tensor:
        """All items at once: the first layer splits into a user part and an item part."""
        items = torch.arange(self.num_items, device=self.item_genres.device)
        inputs = self.group_inputs(users, torch.zeros_like(users))
        item_inputs = self.group_inputs(torch.zeros_like(items), items)
        w = torch.split(self.first.weight, self.widths, dim=1)
        user_part, item_part = self.first.bias, 0.0
        for g, layer, wg, xu, xi in zip(self.groups, self.group_layers(), w, inputs, item_inputs):
            if g in USER_SIDE:
                user_part = user_part + layer(xu) @ wg.T
            else:
                item_part = item_part + layer(xi) @ wg.T
        rows = max(1, chunk // (self.num_items * self.first.out_features))
        return torch.cat([self.head(user_part[s:s + rows, None, :] + item_part[None])
                          for s in range(0, len(users), rows)])
