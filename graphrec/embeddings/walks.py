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


def interactions(split: Split, all_edges: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(users, movies, ratings, times) of the training ratings, or of every rating with ``all_edges``.

    The held-out ratings' stars and times come from the split's dataset where it has one
    (:meth:`~graphrec.data.Split.with_dataset`); otherwise they count as liked (5 stars) and as rated
    after the user's training ratings, validation before test, as the leave-one-out split ordered them.
    """
    u, i = split.train_user.numpy(), split.train_item.numpy()
    r, t = split.train_rating.numpy().astype(np.float64), split.train_time.numpy().astype(np.float64)
    if not all_edges:
        return u, i, r, t
    ml = getattr(split, "_dataset", None)
    if ml is not None and len(ml.ratings) == len(u) + len(split.valid_user) + len(split.test_user):
        d = ml.ratings
        return (d["user"].to_numpy(np.int64), d["item"].to_numpy(np.int64), d["rating"].to_numpy(np.float64),
                d["timestamp"].to_numpy(np.float64))
    last = (t.max() if len(t) else 0.0) + 1.0
    hu, hi = [split.valid_user.numpy(), split.test_user.numpy()], [split.valid_item.numpy(), split.test_item.numpy()]
    return (np.concatenate([u, *hu]), np.concatenate([i, *hi]),
            np.concatenate([r, np.full(len(hu[0]) + len(hu[1]), 5.0)]),
            np.concatenate([t, np.full(len(hu[0]), last), np.full(len(hu[1]), last + 1)]))


def histories(users: np.ndarray, items: np.ndarray, times: np.ndarray) -> list[np.ndarray]:
    """Each user's movies in the order they rated them (by time, then movie id, as the split orders them)."""
    order = np.lexsort((items, times, users))
    u, i = users[order], items[order]
    cuts = np.flatnonzero(np.diff(u)) + 1
    return np.split(i, cuts) if len(u) else []


def time_pairs(users: np.ndarray, items: np.ndarray, times: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) movie pairs, both directions, rated by one user at most ``span`` ratings apart in time order."""
    order = np.lexsort((items, times, users))
    u, i = users[order], items[order]
    a, b = [], []
    for d in range(1, span + 1):
        same = u[d:] == u[:-d]
        a.append(i[:-d][same])
        b.append(i[d:][same])
    a, b = np.concatenate(a), np.concatenate(b)
    return np.concatenate([a, b]), np.concatenate([b, a])


def genre_similarity(genres: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Jaccard similarity of the genre sets of movies ``row[e]`` and ``col[e]`` (0 where either has none)."""
    g = np.asarray(genres, dtype=bool)
    both = (g[row] & g[col]).sum(1)
    either = (g[row] | g[col]).sum(1)
    return np.where(either > 0, both / np.maximum(either, 1), 0.0)


def comovie_graph(split: Split, all_edges: bool = False, min_weight: int = 5, weight: str = "count",
                  neighbours: int | None = None, knn: str = "union", hub: float = 0.0,
                  max_edges: int = 4_000_000, liked: float = 0.0, span: int = 0, content: float = 0.0,
                  genres: np.ndarray | None = None, shrink: float = 10.0, years: np.ndarray | None = None,
                  period: float = 0.0) -> WalkGraph:
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
    ``lift`` is PMI shrunk towards 0 for pairs with few common raters,
    ``max(0, log(N c_ij / (n_i n_j))) * c_ij / (c_ij + shrink)``: it discounts
    popularity like ``pmi`` without trusting a pair two people rated;
    ``jaclift`` is the geometric mean of ``jaccard`` and ``lift`` (a pair needs both).

    Which ratings count: ``liked`` = r keeps only ratings of at least r stars
    (a common rater then liked both: rating agreement); ``span`` = s counts a
    common rater only when the two movies are at most s ratings apart in that
    user's time-ordered history (films rated minutes apart), ``n_i`` staying the
    movie's raters. ``content`` = c in [0, 1] multiplies each weight by
    ``1 - c + c * g_ij``, ``g_ij`` the Jaccard similarity of the two movies'
    ``genres`` (before the K nearest are kept): 0 = audience only, 1 = only
    pairs that share a genre, weighted by how much. ``period`` = T > 0
    multiplies each weight by ``exp(-|y_i - y_j| / T)``, ``y`` the release
    ``years`` (a movie without a year: no discount): films of one period.
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
    if not 0.0 <= content <= 1.0:
        raise GraphrecError(f"--content must be between 0 and 1, got {content}")
    if content and genres is None:
        raise GraphrecError("--content needs the movies' genres")
    if liked or span:
        u, i, r, t = interactions(split, all_edges)
        keep = r >= liked
        u, i, t = u[keep], i[keep], t[keep]
    else:
        b = bipartite_graph(split, all_edges)
        src, dst = b.edge_index
        keep = src < split.num_users  # user -> movie direction, once per rating
        u, i = src[keep].numpy(), (dst[keep] - split.num_users).numpy()
    x = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(split.num_users, split.num_items))
    x.sum_duplicates()
    x.data[:] = 1.0
    if span:
        a, c = time_pairs(u, i, t, span)
        co = sp.csr_matrix((np.ones(len(a), np.float32), (a, c)), shape=(split.num_items, split.num_items)).tocoo()
    else:
        co = (x.T @ x).tocoo()
    mask = (co.row != co.col) & (co.data >= min_weight)
    row, col, w = co.row[mask], co.col[mask], co.data[mask].astype(np.float64)
    n = np.asarray(x.sum(0)).ravel().astype(np.float64)
    if weight in ("lift", "jaclift"):
        lift = np.maximum(0.0, np.log(split.num_users * w / (n[row] * n[col]))) * w / (w + shrink)
        w = lift if weight == "lift" else np.sqrt(lift * w / (n[row] + n[col] - w))
        row, col, w = row[w > 0], col[w > 0], w[w > 0]
    elif weight == "cosine":
        w = w / np.sqrt(n[row] * n[col])
    elif weight == "jaccard":
        w = w / (n[row] + n[col] - w)
    elif weight == "pmi":
        w = np.log(split.num_users * w / (n[row] * n[col]))
        row, col, w = row[w > 0], col[w > 0], w[w > 0]
    if content:
        w = w * (1.0 - content + content * genre_similarity(genres, row, col))
        row, col, w = row[w > 0], col[w > 0], w[w > 0]
    if period:
        if years is None:
            raise GraphrecError("--period needs the movies' release years")
        y = np.asarray(years, dtype=np.float64)
        w = w * np.exp(-np.nan_to_num(np.abs(y[row] - y[col]), nan=0.0) / period)
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


def metapath_graph(base: WalkGraph, genres: np.ndarray | None, content: float) -> WalkGraph:
    """Movies and genres: a walk mixes the movie-user-movie meta-path (the co-movie graph ``base``,
    whose edges summarise "rated by the same people") with movie-genre-movie (metapath2vec-style,
    Dong et al., 2017, over graphrec's own node types).

    Nodes ``0..M-1`` are the movies, ``M..M+G-1`` the genres (or any multi-hot content,
    :func:`content_features`: genres and release periods). From a movie the walk takes a genre
    edge with probability ``content`` (each of the movie's genres alike) and a co-movie edge
    otherwise; from a genre it moves to one of its movies uniformly. ``content = 0`` is ``base``
    (genre nodes unwalked), ``1`` walks movie-genre-movie only. Genre tokens stay in the walks, so
    movies of one genre share them as contexts.
    """
    if genres is None:
        raise GraphrecError("the metapath graph needs the movies' genres")
    if not 0.0 <= content <= 1.0:
        raise GraphrecError(f"--content must be between 0 and 1, got {content}")
    g = np.asarray(genres, dtype=bool)
    m, k = g.shape
    movie, genre = np.nonzero(g)
    rows, cols = [base.edge_index[0].numpy()], [base.edge_index[1].numpy()]
    if content:
        q = np.bincount(rows[0], minlength=m).astype(np.float64)  # a movie's co-movie edge copies
        if 0 < content < 1 and (q > 0).any():  # at least 50 copies a movie, so the genre share rounds finely
            rep = int(min(50, np.ceil(50 / q[q > 0].min())))
            rows, cols, q = [np.repeat(rows[0], rep)], [np.repeat(cols[0], rep)], q * rep
        per = g.sum(1)
        if content < 1:
            copies = np.where(q[movie] > 0, np.rint(content / (1 - content) * q[movie] / per[movie]), 1)
            copies = np.maximum(1, copies).astype(np.int64)
        else:
            rows, cols = [], []
            copies = np.ones(len(movie), np.int64)
        rows += [np.repeat(movie, copies), m + genre]
        cols += [np.repeat(m + genre, copies), movie]
    row, col = np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)
    order = np.lexsort((col, row))
    ei = torch.from_numpy(np.stack([row[order], col[order]]))
    out = WalkGraph("metapath", ei, m + k, base.num_users, m, 0, edge_weight=base.edge_weight)
    out.unique_edge_index = getattr(base, "unique_edge_index", None)
    return out


def history_graph(split: Split, all_edges: bool = False) -> WalkGraph:
    """Time-ordered histories as walks (item2vec, Barkan & Koenigenstein, 2016, in rating order):
    ``histories`` holds each user's movies in the order they rated them; ``edge_index`` links the
    movies rated one after the other (both directions), for the degree of each movie."""
    u, i, _, t = interactions(split, all_edges)
    hist = histories(u, i, t)
    a, b = time_pairs(u, i, t, 1)
    e = np.unique(np.stack([a, b]), axis=1) if len(a) else np.zeros((2, 0), np.int64)
    g = WalkGraph("history", torch.from_numpy(e.astype(np.int64)), split.num_items, split.num_users,
                  split.num_items, 0)
    g.histories = hist
    return g


def history_walks(graph: WalkGraph, walk_length: int) -> Tensor:
    """``[W, walk_length]`` walks cut from ``graph.histories`` (padded with -1): every history once."""
    pieces = [h[s:s + walk_length] for h in graph.histories for s in range(0, len(h), walk_length)]
    out = torch.full((len(pieces), walk_length), -1, dtype=torch.long)
    for r, piece in enumerate(pieces):
        out[r, :len(piece)] = torch.from_numpy(piece.astype(np.int64))
    return out


def build_graph(kind: str, split: Split, all_edges: bool = False, min_weight: int = 5, weight: str = "count",
                neighbours: int | None = None, knn: str = "union", hub: float = 0.0, **options) -> WalkGraph:
    """The graph ``kind`` of :data:`~graphrec.embeddings.config.GRAPHS`; ``options`` go to
    :func:`comovie_graph` (``liked``, ``span``, ``content``, ``genres``, ``shrink``) or, for
    ``metapath`` (on the co-movie graph those options make, ``content`` aside), :func:`metapath_graph`."""
    if kind == "bipartite":
        return bipartite_graph(split, all_edges)
    if kind == "comovie":
        return comovie_graph(split, all_edges, min_weight, weight, neighbours, knn, hub, **options)
    if kind == "metapath":
        return metapath_graph(comovie_graph(split, all_edges, min_weight, weight, neighbours, knn, hub,
                                            **{**options, "content": 0.0, "genres": None}),
                              options.get("genres"), options.get("content", 0.0))
    if kind == "history":
        return history_graph(split, all_edges)
    raise GraphrecError(f"unknown graph {kind!r}: choose one of {', '.join(GRAPHS)}")


def content_features(genres: np.ndarray, years=None, width: int = 0) -> np.ndarray:
    """``[M, G (+ B)]`` multi-hot content of each movie: its genres, and with ``width`` > 0 its release
    period, one of ``B`` buckets of ``width`` years (a movie without a year has none)."""
    g = np.asarray(genres, dtype=np.float32)
    if not width:
        return g
    if years is None:
        raise GraphrecError("--years needs the movies' release years")
    y = np.asarray(years, dtype=np.float64)
    known = np.isfinite(y)
    if not known.any():
        return g
    bucket = np.where(known, (np.nan_to_num(y) // width), 0).astype(np.int64)
    bucket -= bucket[known].min()
    out = np.zeros((len(y), int(bucket[known].max()) + 1), np.float32)
    out[np.flatnonzero(known), bucket[known]] = 1.0
    return np.hstack([g, out])


def graph_for(config, split: Split, genres: np.ndarray | None = None) -> WalkGraph:
    """:func:`build_graph` with an :class:`~graphrec.embeddings.config.EmbeddingConfig`'s settings. The
    content of ``content`` (:func:`content_features`) takes the genres from ``genres`` or the split's
    dataset, and the release years (``config.years``) from the split's dataset."""
    ml = getattr(split, "_dataset", None)
    years = ml.movies["year"].to_numpy(np.float64) if ml is not None else None
    features = None
    if config.content and config.graph in ("comovie", "metapath"):  # the other graphs have no content
        if genres is None and ml is not None:
            genres = ml.genre_matrix()
        if genres is None:
            raise GraphrecError(f"content={config.content:g} needs the movies' genres: pass genres=, use a split "
                                "from graphrec.pipeline.prepare (it knows its dataset), or set content=0")
        features = content_features(genres, years if config.years else None, config.years)
    extra = {"liked": config.liked, "span": config.span, "content": config.content, "genres": features,
             "shrink": config.shrink, "years": years, "period": config.period}
    return build_graph(config.graph, split, config.all_edges, config.min_weight, config.weight, config.neighbours,
                       config.knn, config.hub, **extra)


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
