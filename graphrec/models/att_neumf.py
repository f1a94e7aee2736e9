"""Attention-based NeuMF: self-attention across feature fields, then GMF and MLP towers fused by attention.

Field attention follows AutoInt (Song et al., "AutoInt: Automatic Feature Interaction
Learning via Self-Attentive Neural Networks", CIKM 2019); the towers are NeuMF's
(He et al., "Neural Collaborative Filtering", WWW 2017).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ..data.features import FeatureTable, split_features
from ..errors import GraphrecError
from .attention import MultiHeadSelfAttention
from .base import Recommender, declare
from .groups import GroupRecommender
from .mlp import Tower, parse_layers

#: Feature groups (tokens) of each variant; user-side groups first, then movie-side ones.
ID_GROUPS = ("user", "movie")
ALL_GROUPS = ("user", "movie", "gender", "age", "occupation", "genres")


class GenrePool(nn.Linear):
    """The mean of a movie's genre embeddings, from its genres multi-hot ``[N, G]``."""

    def __init__(self, num_genres: int, dim: int) -> None:
        super().__init__(num_genres, dim, bias=False)

    def forward(self, multi_hot: Tensor) -> Tensor:
        return super().forward(multi_hot / multi_hot.sum(-1, keepdim=True).clamp_min(1.0))


class FieldAttention(nn.Module):
    """One AutoInt interacting layer: ``LayerNorm(x + MHSA(x))`` over the field tokens."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.attention = MultiHeadSelfAttention(dim, heads, dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        a, w = self.attention(x, need_weights=need_weights, average_weights=False)
        return self.norm(x + a), w


class TowerFusion(nn.Module):
    """Fuses the GMF and MLP tower outputs: each is projected to ``dim`` and the two form a
    2-token sequence; a learned query attends over it, so the softmax weights are the share
    each tower gets for this pair. ``logit = w^T out_proj(sum_t a_t V t_t) + b``."""

    def __init__(self, gmf_dim: int, mlp_dim: int, dim: int) -> None:
        super().__init__()
        self.gmf_proj, self.mlp_proj = nn.Linear(gmf_dim, dim), nn.Linear(mlp_dim, dim)
        self.query = nn.Parameter(torch.zeros(1, 1, dim))
        self.attention = MultiHeadSelfAttention(dim, 1)
        self.out = nn.Linear(dim, 1)

    def forward(self, gmf: Tensor, mlp: Tensor) -> tuple[Tensor, Tensor]:
        """(logits [B], tower weights [B, 2] in the order GMF, MLP)."""
        towers = torch.stack([self.gmf_proj(gmf), self.mlp_proj(mlp)], dim=1)  # [B, 2, dim]
        fused, w = self.attention(self.query.expand(len(towers), -1, -1), towers, need_weights=True)
        return self.out(fused[:, 0]).squeeze(-1), w[:, 0]


@declare(explainable=True, attention_map=True)
class AttentionNeuMF(GroupRecommender):
    """NeuMF over attended feature fields.

    Every feature group is one token of width ``factors``: the user and movie id embeddings and,
    in :class:`AttentionNeuMFAll`, gender, age bucket and occupation embeddings and the mean of
    the movie's genre embeddings. ``att_layers`` AutoInt layers (multi-head self-attention
    across the tokens, residual, layer norm) contextualise them. Then

    * GMF tower: ``z_user * z_movie`` (element-wise, ``factors`` wide);
    * MLP tower: ReLU layers of sizes ``layers`` on the concatenated tokens;
    * :class:`TowerFusion` weighs the two towers per pair and outputs the logit.

    Explanation interface (shared with the feature models): :attr:`groups`,
    :meth:`group_inputs` (per-group input tensors), :meth:`group_layers` (the layer that
    embeds each group), :meth:`forward_groups` (logits from group inputs) and
    :meth:`forward_tokens` (logits from the ``[B, F, factors]`` token embeddings).

    Args:
        features: side features (required when ``groups`` has more than user and movie).
        factors: token (embedding) width. heads: attention heads. att_layers: AutoInt layers.
        layers: the MLP tower's sizes after the concatenated tokens.
        fusion_dim: width the two towers are projected to. dropout: in attention and tower.
    """

    default_groups: tuple[str, ...] = ID_GROUPS

    def __init__(self, num_users: int, num_items: int, features: FeatureTable | None = None, factors: int = 16,
                 heads: int = 2, att_layers: int = 1, layers: Sequence[int] | str = (64, 32, 16),
                 fusion_dim: int = 16, dropout: float = 0.0, groups: Sequence[str] | None = None) -> None:
        groups = tuple(groups or self.default_groups)
        side = [g for g in groups if g not in ID_GROUPS]
        unknown = set(groups) - set(ALL_GROUPS)
        if unknown or groups[:2] != ID_GROUPS:
            raise ValueError(f"groups must start with user, movie and come from {ALL_GROUPS}, got {groups}")
        if side and features is None:
            raise GraphrecError(f"{self.registry_name} needs the MovieLens side features (user and movie files)")
        if side and (features.num_users, features.num_items) != (num_users, num_items):
            raise ValueError("the feature table does not match the split's users and items")
        super().__init__(features if side else None, num_users, num_items)  # the side features' buffers
        self.groups, self.factors = groups, factors
        dim = factors
        if att_layers < 0 or dim < 1 or heads < 1:
            raise ValueError("factors and heads must be >= 1 and att_layers >= 0")
        emb: dict[str, nn.Module] = {"user": nn.Embedding(num_users, dim), "movie": nn.Embedding(num_items, dim)}
        for g in ("gender", "age", "occupation"):
            if g in side:
                emb[g] = nn.Embedding(self.vocab[g], dim)
        if "genres" in side:
            emb["genres"] = GenrePool(self.vocab["genres"], dim)
        self.embeddings = nn.ModuleDict({g: emb[g] for g in self.groups})
        self.interacting = nn.ModuleList(FieldAttention(dim, heads, dropout) for _ in range(att_layers))
        self.mlp_sizes = [len(self.groups) * dim, *parse_layers(layers)]
        self.tower = Tower(self.mlp_sizes, dropout)
        self.fusion = TowerFusion(dim, self.mlp_sizes[-1], fusion_dim)
        self.reset_parameters()

    @classmethod
    def build(cls, ml, split, **hparams) -> "AttentionNeuMF":
        groups = tuple(hparams.get("groups") or cls.default_groups)
        features = split_features(ml, split) if len(groups) > 2 else None  # the training graph's node stores
        return cls(split.num_users, split.num_items, features=features, **hparams)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, std=0.1)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (MultiHeadSelfAttention, nn.LayerNorm)):
                m.reset_parameters()
        nn.init.zeros_(self.fusion.query)

    # -- explanation interface (group_inputs, item_embedding: GroupRecommender's) ---------------
    def group_layers(self) -> list[nn.Module]:
        """The layer that turns each group's input into its token, in :attr:`groups` order."""
        return [self.embeddings[g] for g in self.groups]

    def tokens(self, *inputs: Tensor) -> Tensor:
        """``[B, F, factors]`` field tokens in :attr:`groups` order."""
        return torch.stack([layer(x) for layer, x in zip(self.group_layers(), inputs)], dim=1)

    def forward_tokens(self, tokens: Tensor, need_weights: bool = False):
        """Logits from field tokens; with ``need_weights`` also ``(field maps [B, layers, H, F, F],
        tower weights [B, 2])``."""
        maps = []
        for layer in self.interacting:
            tokens, w = layer(tokens, need_weights=need_weights)
            maps.append(w)
        gmf = tokens[:, 0] * tokens[:, 1]
        mlp = self.tower(tokens.flatten(1))
        logits, tower_w = self.fusion(gmf, mlp)
        if not need_weights:
            return logits
        field = torch.stack(maps, dim=1) if maps else tokens.new_zeros(len(tokens), 0, 1, 1, 1)
        return logits, field, tower_w

    def forward_groups(self, *inputs: Tensor) -> Tensor:
        return self.forward_tokens(self.tokens(*inputs))

    @torch.no_grad()
    def attention(self, users: Tensor, items: Tensor) -> dict[str, Tensor]:
        """``{"fields": [B, layers, heads, F, F], "towers": [B, 2]}`` for (user, item) pairs."""
        _, field, towers = self.forward_tokens(self.tokens(*self.group_inputs(users, items)), need_weights=True)
        return {"fields": field, "towers": towers}


@declare()
class AttentionNeuMFAll(AttentionNeuMF):
    """:class:`AttentionNeuMF` with all feature groups: user, movie, gender, age, occupation, genres."""

    default_groups = ALL_GROUPS


@declare()
class SeedAttentionNeuMF(Recommender):
    """The original design, kept for comparison: NeuMF with attention applied to *each*
    embedding and each tower output as a sequence of length 1 (``x.unsqueeze(1)``).

    With one token the softmax over keys is identically 1, so every "attention" reduces to
    ``out_proj(v_proj(x))``, two linear maps; :meth:`attention` returns those weights.

    Args: factors (GMF embeddings), layers (MLP tower, ``layers[0] / 2`` per embedding),
    heads, dropout.
    """

    def __init__(self, num_users: int, num_items: int, factors: int = 8,
                 layers: Sequence[int] | str = (64, 32, 16, 8), heads: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.layers = parse_layers(layers, min_sizes=2, even_first=True)
        d = self.layers[0] // 2
        self.gmf_user, self.gmf_item = nn.Embedding(num_users, factors), nn.Embedding(num_items, factors)
        self.mlp_user, self.mlp_item = nn.Embedding(num_users, d), nn.Embedding(num_items, d)
        self.att = nn.ModuleDict({"gmf_user": MultiHeadSelfAttention(factors, heads, dropout),
                                  "gmf_item": MultiHeadSelfAttention(factors, heads, dropout),
                                  "mlp_user": MultiHeadSelfAttention(d, heads, dropout),
                                  "mlp_item": MultiHeadSelfAttention(d, heads, dropout),
                                  "gmf_out": MultiHeadSelfAttention(factors, heads, dropout),
                                  "mlp_out": MultiHeadSelfAttention(self.layers[-1], heads, dropout)})
        self.tower = Tower(self.layers, dropout)
        self.out = nn.Linear(factors + self.layers[-1], 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for emb in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            nn.init.normal_(emb.weight, std=0.01)
        for m in self.modules():
            if isinstance(m, MultiHeadSelfAttention):
                m.reset_parameters()
        self.tower.reset_parameters()
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def _forward(self, user: Tensor, item: Tensor, need_weights: bool = False):
        weights = {}

        def att(name: str, x: Tensor) -> Tensor:
            out, w = self.att[name](x.unsqueeze(1), need_weights=need_weights, average_weights=False)
            weights[name] = w
            return out.squeeze(1)

        g = att("gmf_user", self.gmf_user(user)) * att("gmf_item", self.gmf_item(item))
        m = self.tower(torch.cat([att("mlp_user", self.mlp_user(user)), att("mlp_item", self.mlp_item(item))], -1))
        logits = self.out(torch.cat([att("gmf_out", g), att("mlp_out", m)], dim=-1)).squeeze(-1)
        return logits, weights

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        return self._forward(user, item)[0]

    @torch.no_grad()
    def attention(self, users: Tensor, items: Tensor) -> dict[str, Tensor]:
        """Every attention's weights ``[B, heads, 1, 1]`` by name."""
        return self._forward(users, items, need_weights=True)[1]
