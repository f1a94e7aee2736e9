"""Graphs to walk on and biased second-order random walks (node2vec, Grover & Leskovec, 2016).

Two graphs over MovieLens:

* ``bipartite``: the homogeneous view of the user-movie graph (users ``0..U-1``,
  movies ``U..U+M-1``), from the split's *training* edges by default, so that
  embeddings can be evaluated on the held-out items;
* ``comovie``: the movie-movie co-rating projection, an edge between two movies
  rated by at least ``min_weight`` common users, weighted by that count.

Walks come from :func:`torch_cluster.random_walk`, all walkers advancing together
in C++ (no Python loop per step). torch-cluster picks neighbours uniformly, so a
weighted graph is walked as a multigraph: each edge is repeated
``round(weight / quantum)`` times (at least once), with ``quantum`` chosen so that
the multigraph has at most ``max_edges`` edges. A neighbour is then drawn with
probability proportional to its (quantised) weight.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
import torch_cluster
from torch import Tensor

from ..data import Split, homogeneous
from ..data.graph import homogeneous_view
from ..errors import GraphrecError
from .config import GRAPHS, KNN, WEIGHTINGS, check_walk_args


@dataclass
class WalkGraph:
    """A graph to walk on: ``edge_index`` ``[2, E]`` sorted by source, both directions present.

    ``user_offset`` is where movie ids start (``num_users`` for ``bipartite``,
    0 for ``comovie``, which has no user nodes); ``edge_weight`` holds the
    original weights of a weighted graph (before quantisation).
    """

    kind: str
    edge_index: Tensor
    num_nodes: int
    num_users: int
    num_items: int
    user_offset: int
    edge_weight: Tensor | None = None

    @property
    def movie_nodes(self) -> Tensor:
        return torch.arange(self.user_offset, self.user_offset + self.num_items)

    def degree(self) -> Tensor:
        return torch.bincount(self.edge_index[0], minlength=self.num_nodes)


def bipartite_graph(split: Split, all_edges: bool = False, ratings: tuple[Tensor, Tensor] | None = None) -> WalkGraph:
    """The user-movie graph of the split's training edges, or of ``ratings`` = (users, items) if given.

    With ``all_edges`` the held-out validation and test items are added back.
    """
    if ratings is not None:
        users, items = ratings
    elif all_edges:
        users = torch.cat([split.train_user, split.valid_user, split.test_user])
        items = torch.cat([split.train_item, split.valid_item, split.test_item])
    else:  # the split's training graph (HeteroData), through PyG's homogeneous view
        users = items = None
    view = homogeneous_view(split.graph) if users is None else homogeneous(users, items, split.num_users,
                                                                             split.num_items)
    return WalkGraph("bipartite", view.edge_index, view.num_nodes, split.num_users, split.num_items, split.num_users)


def comovie_graph(split: Split, all_edges: bool = False, min_weight: int = 5, weight: str = "count",
                  neighbours: int | None = None, knn: str = "union", hub: float = 0.0,
                  max_edges: int = 4_000_000) -> WalkGraph:
    """Movie-movie graph: an edge where at least ``min_weight`` users rated both movies.

    With ``c_ij`` common raters and ``n_i`` raters of movie ``i`` (``N`` users),
    the edge weight is ``c_ij`` (``count``: walks drift to the blockbusters,
    which share raters with everything), ``c_ij / sqrt(n_i n_j)`` (``cosine``),
    ``c_ij / (n_i + n_j - c_ij)`` (``jaccard``) or ``max(0, log(N c_ij / (n_i n_j)))``
    (``pmi``, positive pointwise mutual information; pairs at or below chance are dropped).
    ``neighbours`` = K keeps each movie's K heaviest edges: without it the graph
    is nearly complete, a walk forgets its start within two steps and every
    movie gets the same contexts (collapsed embeddings). ``knn`` says which:
    ``union`` adds the edges that name the movie among theirs (a popular movie,
    named by many, becomes a hub), ``mutual`` keeps only the pairs that name
    each other (a movie may be left without edges), ``directed`` keeps each
    movie's own K as one-way edges. ``hub`` = a divides each kept weight by
    ``(s_i s_j) ** a``, with ``s_i`` movie ``i``'s summed weight: walks enter
    hubs less often (a = 0.5: the symmetric normalisation of spectral methods).
    The walkable ``edge_index`` repeats each edge in proportion to its weight
    (see the module docstring); ``edge_weight`` keeps the weights of the
    distinct edges, in the order of ``unique_edge_index``.
    """
    if knn not in KNN:
        raise GraphrecError(f"unknown --knn {knn!r}: choose one of {', '.join(KNN)}")
    if min_weight < 1:
        raise GraphrecError(f"--min-weight must be >= 1, got {min_weight}")
    if weight not in WEIGHTINGS:
        raise GraphrecError(f"unknown --weight {weight!r}: choose one of {', '.join(WEIGHTINGS)}")
    b = bipartite_graph(split, all_edges)
    src, dst = b.edge_index
    keep = src < split.num_users  # user -> movie direction, once per rating
    u, i = src[keep].numpy(), (dst[keep] - split.num_users).numpy()
    x = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(split.num_users, split.num_items))
    co = (x.T @ x).tocoo()
    mask = (co.row != co.col) & (co.data >= min_weight)
    row, col, w = co.row[mask], co.col[mask], co.data[mask].astype(np.float64)
    n = np.asarray(x.sum(0)).ravel().astype(np.float64)
    if weight == "cosine":
        w = w / np.sqrt(n[row] * n[col])
    elif weight == "jaccard":
        w = w / (n[row] + n[col] - w)
    elif weight == "pmi":
        w = np.log(split.num_users * w / (n[row] * n[col]))
        row, col, w = row[w > 0], col[w > 0], w[w > 0]
    if neighbours is not None and len(w):
        order = np.lexsort((-w, row))  # by movie, heaviest first
        rank = np.empty(len(w), np.int64)
        rank[order] = np.arange(len(order)) - np.searchsorted(row[order], row[order])
        top = rank < neighbours
        m = split.num_items
        named = np.isin(col.astype(np.int64) * m + row, row[top].astype(np.int64) * m + col[top])  # j named i
        keep = top | named if knn == "union" else top & named if knn == "mutual" else top
        row, col, w = row[keep], col[keep], w[keep]
    if hub:
        s = np.bincount(row, weights=w, minlength=split.num_items)
        w = w / (s[row] * s[col]) ** hub
    if len(w) == 0:
        raise GraphrecError(f"no two movies share {min_weight} raters: lower --min-weight")
    # quantise: the lightest edge appears once, at most max_edges copies in all
    if weight == "count":
        quantum = max(1.0, float(w.sum()) / max_edges)
    else:  # the heaviest edge gets at most 100 copies (1 % resolution), the lightest at least one
        quantum = max(float(w.min()), float(w.max()) / 100, float(w.sum()) / max_edges)
    mult = np.maximum(1, np.rint(w / quantum)).astype(np.int64)
    rep_row, rep_col = np.repeat(row, mult), np.repeat(col, mult)
    order = np.lexsort((rep_col, rep_row))
    ei = torch.from_numpy(np.stack([rep_row[order], rep_col[order]]).astype(np.int64))
    g = WalkGraph("comovie", ei, split.num_items, split.num_users, split.num_items, 0,
                  edge_weight=torch.from_numpy(w.astype(np.float32)))
    g.unique_edge_index = torch.from_numpy(np.stack([row, col]).astype(np.int64))
    g.quantum = quantum
    return g


def build_graph(kind: str, split: Split, all_edges: bool = False, min_weight: int = 5, weight: str = "count",
                neighbours: int | None = None, knn: str = "union", hub: float = 0.0) -> WalkGraph:
    if kind == "bipartite":
        return bipartite_graph(split, all_edges)
    if kind == "comovie":
        return comovie_graph(split, all_edges, min_weight, weight, neighbours, knn, hub)
    raise GraphrecError(f"unknown graph {kind!r}: choose one of {', '.join(GRAPHS)}")


def random_walks(graph: WalkGraph, walk_length: int = 80, walks_per_node: int = 10, p: float = 1.0,
                 q: float = 1.0, seed: int | None = 0, start: Tensor | None = None) -> Tensor:
    """``[walks_per_node * N, walk_length]`` node2vec walks, ``walk_length`` nodes each.

    ``p`` is the return parameter (low p: walks go back more often), ``q`` the
    in-out parameter (low q: walks move outwards, DFS-like). Walks start at
    every non-isolated node (or at ``start``), ``walks_per_node`` times each.
    A walk that reaches a node without neighbours stays there. With
    ``p = q = 1`` the walks are reproducible under ``seed``; torch-cluster's
    rejection sampler for other p, q draws from its own unseeded generator.
    """
    check_walk_args(p, q, walk_length, walks_per_node)
    if start is None:
        start = torch.nonzero(graph.degree() > 0).flatten()
    start = start.repeat(walks_per_node)
    row, col = graph.edge_index
    with torch.random.fork_rng():  # torch-cluster draws from torch's default generator
        if seed is not None:
            torch.manual_seed(seed)
        # torch-cluster's walk_length counts steps; ours counts nodes
        return torch_cluster.random_walk(row, col, start, walk_length - 1, p=p, q=q, num_nodes=graph.num_nodes)
