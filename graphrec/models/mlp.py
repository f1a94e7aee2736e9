"""Multi-layer perceptron collaborative filtering, He et al., "Neural Collaborative Filtering", WWW 2017, sec. 3.3."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from .base import Recommender, declare


def parse_layers(layers: Sequence[int] | str, min_sizes: int = 1, even_first: bool = False) -> list[int]:
    """The one layer-list reader: ``"64,32,16,8"`` or a sequence -> ``[64, 32, 16, 8]``.

    ``min_sizes``: how many sizes at least; ``even_first``: the first size is the concatenation of
    equal user and item embeddings (MLP, NeuMF), so it must be even.
    """
    if isinstance(layers, str):
        try:
            layers = [int(x) for x in layers.split(",")]  # an empty piece ("64,,32") is a mistake, not a skip
        except ValueError:
            raise ValueError(f"layers must be comma-separated integers, got {layers!r}") from None
    layers = [int(x) for x in layers]
    if len(layers) < min_sizes or not layers or min(layers) < 1:
        raise ValueError(f"layers need at least {min_sizes} positive size(s), got {layers}")
    if even_first and layers[0] % 2:
        raise ValueError(f"layers need an even first size (user and item embeddings of layers[0]/2 each), "
                         f"got {layers}")
    return layers


class Tower(nn.Module):
    """Linear + ReLU (+ dropout) layers ``layers[0] -> layers[1] -> ... -> layers[-1]``.

    :meth:`all_pairs` evaluates it for every (user, item) pair without building the
    concatenated input: the first layer on ``[p_u, q_i]`` is ``W_u p_u + W_i q_i + b``.
    """

    def __init__(self, layers: list[int], dropout: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(layers[:-1], layers[1:]))
        self.dropout = dropout

    def reset_parameters(self) -> None:
        for lin in self.linears:
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def _act(self, h: Tensor) -> Tensor:
        h = torch.relu(h)
        return nn.functional.dropout(h, self.dropout, self.training) if self.dropout else h

    def forward(self, x: Tensor) -> Tensor:
        for lin in self.linears:
            x = self._act(lin(x))
        return x

    @torch.no_grad()
    def all_pairs(self, pu: Tensor, qi: Tensor, chunk: int = 1 << 18) -> Tensor:
        """Tower output for every pair of ``pu[N, d]`` x ``qi[M, d]``, shape ``[N, M, layers[-1]]``."""
        first = self.linears[0]
        d = pu.shape[1]
        hu = pu @ first.weight[:, :d].T + first.bias  # [N, h1]
        hi = qi @ first.weight[:, d:].T  # [M, h1]
        rows = max(1, chunk // (len(qi) * hi.shape[1]))
        out = []
        for s in range(0, len(hu), rows):
            h = self._act(hu[s:s + rows, None, :] + hi[None])
            for lin in self.linears[1:]:
                h = self._act(lin(h))
            out.append(h)
        return torch.cat(out)


@declare()
class MLP(Recommender):
    """``logit(u, i) = h^T tower([p_u, q_i]) + b`` with a ReLU tower (He et al. 2017, eq. 10).

    Args:
        layers: tower sizes; ``layers[0]`` is the concatenated input, so each embedding has
            ``layers[0] / 2`` dimensions (the paper's ``[64, 32, 16, 8]`` for 8 predictive factors).
        dropout: dropout after each hidden layer (0 = none).
        sparse: sparse embedding gradients.
    """

    def __init__(self, num_users: int, num_items: int, layers: Sequence[int] | str = (64, 32, 16, 8),
                 dropout: float = 0.0, sparse: bool = False) -> None:
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.layers = parse_layers(layers, min_sizes=2, even_first=True)
        d = self.layers[0] // 2
        self.user = nn.Embedding(num_users, d, sparse=sparse)
        self.item = nn.Embedding(num_items, d, sparse=sparse)
        self.tower = Tower(self.layers, dropout)
        self.out = nn.Linear(self.layers[-1], 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.user.weight, std=0.01)
        nn.init.normal_(self.item.weight, std=0.01)
        self.tower.reset_parameters()
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def embedding_tables(self) -> tuple[list[nn.Embedding], list[nn.Embedding]]:
        return [self.user], [self.item]

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        x = torch.cat([self.user(user), self.item(item)], dim=-1)
        return self.out(self.tower(x)).squeeze(-1)

    @torch.no_grad()
    def score_all(self, users: Tensor) -> Tensor:
        h = self.tower.all_pairs(self.user.weight[users], self.item.weight)
        return (h @ self.out.weight.T).squeeze(-1) + self.out.bias
