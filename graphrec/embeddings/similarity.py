"""Using movie embeddings: nearest movies, title lookup, genre coherence, and a recommender scorer."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..data.catalog import resolve_title
from ..errors import GraphrecError
from .config import METRICS


def nearest(emb: Tensor, query: int, k: int = 10, metric: str = "cosine") -> tuple[Tensor, Tensor]:
    """(indices, values) of the ``k`` rows nearest ``emb[query]``, the query itself excluded.

    ``cosine`` returns similarities (highest first), ``euclidean`` distances (lowest first).
    """
    idx, val = nearest_all(emb, torch.tensor([query]), k, metric)
    return idx[0], val[0]


def nearest_all(emb: Tensor, queries: Tensor, k: int = 10, metric: str = "cosine") -> tuple[Tensor, Tensor]:
    """Row-wise :func:`nearest` for a batch of query rows: ``[Q, k]`` indices and values."""
    if metric not in METRICS:
        raise GraphrecError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    k = min(k, len(emb) - 1)
    emb = emb.float()
    if metric == "cosine":
        x = torch.nn.functional.normalize(emb, dim=1)
        score = x[queries] @ x.T
    else:
        score = -torch.cdist(emb[queries], emb)
    score[torch.arange(len(queries)), queries] = -float("inf")
    val, idx = torch.topk(score, k, dim=1)
    return idx, (val if metric == "cosine" else -val)


def genre_coherence(emb: Tensor, genres: np.ndarray, k: int = 10, metric: str = "cosine",
                    movies: Tensor | None = None) -> tuple[float, float]:
    """(coherence@k, random-pair rate).

    Coherence@k: the share of a movie's ``k`` nearest neighbours that share at
    least one genre with it, averaged over ``movies`` (default: all movies with
    a genre). The random-pair rate is the same share over all pairs of distinct
    such movies: what neighbours drawn at random would score.
    """
    has = torch.as_tensor(genres).sum(1) > 0
    movies = torch.nonzero(has).flatten() if movies is None else movies
    idx, _ = nearest_all(emb, movies, k, metric)
    return neighbour_coherence(genres, movies, idx)


def neighbour_coherence(genres: np.ndarray, movies: Tensor, neighbours: Tensor) -> tuple[float, float]:
    """:func:`genre_coherence` of given ``[Q, k]`` ``neighbours`` of ``movies``."""
    g = torch.as_tensor(genres, dtype=torch.float32)
    has = g.sum(1) > 0
    share = (g[movies][:, None, :] * g[neighbours]).sum(-1) > 0
    overlap = (g[has] @ g[has].T) > 0
    n = int(has.sum())
    random_rate = (overlap.sum() - overlap.diagonal().sum()) / (n * (n - 1))
    return float(share.float().mean()), float(random_rate)


# --------------------------------------------------------------------------- titles

def match_title(titles: list[str], query: str, limit: int = 10, counts=None) -> int:
    """Index of the one title ``query`` names: :func:`graphrec.data.catalog.resolve_title`, the one title
    resolver (ambiguous and unknown titles refused with candidates)."""
    return resolve_title(titles, query, counts, limit)


# --------------------------------------------------------------------------- as a recommender

class EmbeddingScorer:
    """Scores (user, movie) by the dot product or cosine of their embeddings.

    A user's vector is their node embedding when the graph had user nodes
    (``bipartite``), otherwise the mean of their training movies' vectors
    (``comovie``; pass ``split``). Usable with :func:`graphrec.evaluation.evaluate`.
    """

    def __init__(self, movie: Tensor, user: Tensor | None = None, metric: str = "dot", split=None) -> None:
        if metric not in ("dot", "cosine"):
            raise GraphrecError(f"unknown scoring {metric!r}: choose dot or cosine")
        movie = movie.float()
        if user is None:
            if split is None:
                raise GraphrecError("movie-only embeddings need the split to build user vectors")
            user = _mean_of_items(movie, split)
        user = user.float()
        if metric == "cosine":
            movie = torch.nn.functional.normalize(movie, dim=1)
            user = torch.nn.functional.normalize(user, dim=1)
        self.movie, self.user, self.num_items = movie, user, len(movie)

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return torch.einsum("ne,nce->nc", self.user[users], self.movie[items])

    def score_all(self, users: Tensor) -> Tensor:
        return self.user[users] @ self.movie.T


def _mean_of_items(movie: Tensor, split) -> Tensor:
    out = torch.zeros(split.num_users, movie.shape[1])
    out.index_add_(0, split.train_user, movie[split.train_item])
    return out / torch.bincount(split.train_user, minlength=split.num_users).clamp_min(1)[:, None]
