"""Neighbour quality of movie embeddings, measured the way users judge ``graphrec similar``.

* **Item-to-item HR@k / NDCG@k** (:func:`item_to_item`): for each user, rank
  every movie by its similarity to one of the user's movies (the *query*) and
  ask whether the next movie they watched (the *target*) is among the ``k``
  nearest. The query and the user's training movies are not candidates; ties
  and non-finite scores count against the target (:mod:`graphrec.metrics`).
  ``on="test"``: query = the validation movie, target = the test movie.
  ``on="valid"`` (for tuning; the test movie is never looked at): query = the
  user's latest training movie, target = the validation movie. Embeddings come
  from training edges only, which hold neither held-out movie.
* **Genre coherence@k**: :func:`~graphrec.embeddings.similarity.genre_coherence`.
* **Popularity bias** (:func:`popularity_bias`): the mean ``log(1 + training
  ratings)`` of each movie's ``k`` nearest minus the movie's own, averaged over
  the movies with training ratings. Near 0: neighbours as popular as the query;
  large: every list drifts towards the blockbusters.
  ``top100`` is the share of all those neighbours that are among the 100
  most-rated movies (of the training ratings).
* **Sequel check** (:func:`sequel_check`): the share of the :data:`SEQUELS`
  pairs whose sequel is among its query's ``k`` nearest.
* **Franchise recall@k** (:func:`franchise_recall`): the same question for
  every franchise found from titles (:mod:`graphrec.embeddings.franchise`):
  per movie of a franchise, the share of its siblings among its ``k``
  nearest (out of at most ``k``), averaged over those movies.
* **Collapse** (:func:`mean_pairwise_cosine`): the mean cosine between two
  distinct movies' vectors. Near 1 every movie points the same way and the
  nearest-neighbour lists are noise; :func:`collapse_warning` says so.

A *similarity* is a movie embedding ``[M, E]`` (compared by cosine) or a
callable mapping query movies ``[Q]`` to scores ``[Q, M]``
(:func:`item_cosine` and :func:`popularity` are the two baselines).
"""
from __future__ import annotations

import math
from typing import Callable, Union

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import Split
from ..metrics import hit_rate, ndcg, ranks_against
from .franchise import franchise_groups, franchise_keys, siblings
from .similarity import neighbour_coherence

Similarity = Union[Tensor, Callable[[Tensor], Tensor]]

#: (query, sequels) pairs of MovieLens titles checked by :func:`sequel_check` (ML-100K has all of them;
#: Toy Story's sequel is newer than the dataset). Titles missing from a dataset are skipped.
SEQUELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Star Wars (1977)", ("Empire Strikes Back, The (1980)", "Return of the Jedi (1983)")),
    ("Godfather, The (1972)", ("Godfather: Part II, The (1974)",)),
    ("Alien (1979)", ("Aliens (1986)",)),
    ("Terminator, The (1984)", ("Terminator 2: Judgment Day (1991)",)),
    ("Raiders of the Lost Ark (1981)", ("Indiana Jones and the Last Crusade (1989)",)),
    ("Die Hard (1988)", ("Die Hard 2 (1990)", "Die Hard: With a Vengeance (1995)")),
    ("Batman (1989)", ("Batman Returns (1992)",)),
    ("Jurassic Park (1993)", ("Lost World: Jurassic Park, The (1997)",)),
    ("Star Trek: The Wrath of Khan (1982)", ("Star Trek III: The Search for Spock (1984)",
                                            "Star Trek IV: The Voyage Home (1986)")),
    ("Three Colors: Red (1994)", ("Three Colors: Blue (1993)", "Three Colors: White (1994)")),
    ("Wallace & Gromit: The Best of Aardman Animation (1996)", ("Wrong Trousers, The (1993)",
                                                               "Close Shave, A (1995)")),
    ("Free Willy (1993)", ("Free Willy 2: The Adventure Home (1995)",)),
    ("Ace Ventura: Pet Detective (1994)", ("Ace Ventura: When Nature Calls (1995)",)),
)

#: Mean pairwise cosine above which :func:`collapse_warning` calls an embedding collapsed.
COLLAPSE_COSINE = 0.8


def _scores(sim: Similarity, queries: Tensor) -> Tensor:
    if callable(sim) and not isinstance(sim, Tensor):
        return sim(queries).float()
    x = F.normalize(sim.float(), dim=1)
    return x[queries] @ x.T


def item_cosine(split: Split) -> Callable[[Tensor], Tensor]:
    """Cosine between the movies' columns of the binary training matrix (the baseline to beat)."""
    x = sp.csr_matrix((np.ones(len(split.train_user), np.float32), (split.train_user.numpy(), split.train_item.numpy())),
                      shape=(split.num_users, split.num_items))
    x.data[:] = 1.0
    columns = torch.from_numpy(x.T.toarray())
    return lambda q: _scores(columns, q)


def popularity(split: Split) -> Callable[[Tensor], Tensor]:
    """Every query's neighbours are the most-rated movies (a query-blind floor)."""
    counts = torch.bincount(split.train_item, minlength=split.num_items).float()
    return lambda q: counts.expand(len(q), -1).clone()


def neighbour_task(split: Split, on: str = "test") -> tuple[Tensor, Tensor, Tensor]:
    """(users, queries, targets) of the item-to-item task (see the module docstring)."""
    if on == "test":
        query = torch.full((split.num_users,), -1, dtype=torch.long)
        query[split.valid_user] = split.valid_item
        keep = query[split.test_user] >= 0
        users = split.test_user[keep]
        return users, query[users], split.test_item[keep]
    if on == "valid":
        # the latest training movie of each validation user, by (time, item) as the split orders them
        u, t, i = split.train_user, split.train_time, split.train_item
        order = np.lexsort((i.numpy(), t.numpy(), u.numpy()))
        last = np.ones(len(order), bool)
        last[:-1] = u.numpy()[order][1:] != u.numpy()[order][:-1]
        latest = dict(zip(u.numpy()[order][last].tolist(), i.numpy()[order][last].tolist()))
        keep = [j for j, uu in enumerate(split.valid_user.tolist()) if uu in latest]
        users = split.valid_user[keep]
        return users, torch.tensor([latest[int(x)] for x in users.tolist()], dtype=torch.long), split.valid_item[keep]
    raise ValueError(f"on must be 'test' or 'valid', not {on!r}")


def item_to_item(sim: Similarity, split: Split, on: str = "test", k: int = 10, per_user: bool = False,
                 batch_size: int = 1024) -> dict:
    """Item-to-item ``HR@k`` and ``NDCG@k`` (module docstring); ``per_user`` adds the per-user arrays."""
    users, queries, targets = neighbour_task(split, on)
    order = torch.argsort(split.train_user, stable=True)
    starts = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(
        torch.bincount(split.train_user, minlength=split.num_users), 0)])
    seen_items = split.train_item[order]
    ranks = []
    for s in range(0, len(users), batch_size):
        u, q, t = users[s:s + batch_size], queries[s:s + batch_size], targets[s:s + batch_size]
        scores = _scores(sim, q)
        rows = torch.arange(len(u))
        target = scores[rows, t].clone()
        target[~torch.isfinite(target)] = -math.inf  # a non-finite target loses to everything
        valid = torch.ones_like(scores, dtype=torch.bool)
        lens = starts[u + 1] - starts[u]
        r = torch.repeat_interleave(rows, lens)
        cols = torch.cat([seen_items[starts[x]:starts[x + 1]] for x in u.tolist()]) if len(u) else r
        valid[r, cols] = False
        valid[rows, q] = False
        valid[rows, t] = False
        scores = torch.nan_to_num(scores, nan=math.inf)  # a NaN competitor counts against the target
        ranks.append(ranks_against(target, scores, valid))
    rank = torch.cat(ranks) if ranks else torch.zeros(0, dtype=torch.long)
    hr, nd = hit_rate(rank, k), ndcg(rank, k)
    out = {f"i2i_HR@{k}": float(hr.mean()) if len(rank) else math.nan,
           f"i2i_NDCG@{k}": float(nd.mean()) if len(rank) else math.nan, "users": len(rank)}
    if per_user:
        out["per_user"] = {f"i2i_HR@{k}": hr.numpy(), f"i2i_NDCG@{k}": nd.numpy()}
    return out


def top_k(sim: Similarity, queries: Tensor, k: int = 10) -> Tensor:
    """``[Q, k]`` nearest movies of each query, the query itself excluded (ties broken by index)."""
    scores = _scores(sim, queries).clone()
    scores = torch.nan_to_num(scores, nan=-math.inf)
    scores[torch.arange(len(queries)), queries] = -math.inf
    return torch.topk(scores, min(k, scores.shape[1] - 1), dim=1).indices


def popularity_bias(sim: Similarity, counts: Tensor, k: int = 10, top: int = 100) -> dict:
    """``{"pop_bias", "neighbour_logpop", "query_logpop", "top100"}`` over movies with ``counts > 0``
    (module docstring); ``top100`` is the share of neighbours among the ``top`` most-rated movies."""
    queries = torch.nonzero(counts > 0).flatten()
    lp = torch.log1p(counts.float())
    near = torch.cat([top_k(sim, queries[s:s + 1024], k) for s in range(0, len(queries), 1024)])
    nb, qp = float(lp[near].mean()), float(lp[queries].mean())
    popular = torch.zeros(len(counts), dtype=torch.bool)
    popular[torch.argsort(counts, descending=True, stable=True)[:top]] = True
    return {"pop_bias": nb - qp, "neighbour_logpop": nb, "query_logpop": qp,
            f"top{top}": float(popular[near].float().mean())}


def franchise_recall(sim: Similarity, titles: list[str], k: int = 10, series: list[str] | None = None) -> dict:
    """``{"franchise@k", "franchise_movies", "franchise_series"}``: per movie of the franchises named in
    ``series`` (default: every franchise :func:`~graphrec.embeddings.franchise.franchise_groups` finds),
    the share of its siblings among its ``k`` nearest, out of ``min(k, siblings)``; the mean over movies."""
    keys, groups = franchise_keys(titles), franchise_groups(titles)
    series = sorted(groups) if series is None else [s for s in series if s in groups]
    queries = [i for s in series for i in groups[s]]
    if not queries:
        return {f"franchise@{k}": math.nan, "franchise_movies": 0, "franchise_series": 0}
    near = top_k(sim, torch.tensor(queries), k).tolist()
    shares = []
    for q, row in zip(queries, near):
        sib = {j for j in groups[keys[q][0]] if siblings(keys, titles, q, j)}
        shares.append(len(sib & set(row)) / min(k, len(sib)))
    return {f"franchise@{k}": float(np.mean(shares)), "franchise_movies": len(queries), "franchise_series": len(series)}


def sequel_check(sim: Similarity, titles: list[str], k: int = 10,
                 pairs: tuple[tuple[str, tuple[str, ...]], ...] = SEQUELS) -> dict:
    """``{"sequels@k": share of pairs found, "sequel_pairs": pairs checked, "missed": ["query -> sequel", ...]}``."""
    index = {t: i for i, t in enumerate(titles)}
    found, missed, n = 0, [], 0
    for query, sequels in pairs:
        if query not in index:
            continue
        near = set(top_k(sim, torch.tensor([index[query]]), k)[0].tolist())
        for s in sequels:
            if s in index:
                n += 1
                if index[s] in near:
                    found += 1
                else:
                    missed.append(f"{query} -> {s}")
    return {f"sequels@{k}": found / n if n else math.nan, "sequel_pairs": n, "missed": missed}


def mean_pairwise_cosine(emb: Tensor) -> float:
    """Mean cosine over pairs of distinct non-zero rows: ``(|sum x_i|^2 - n) / (n (n - 1))`` for unit rows."""
    x = emb.float()
    x = x[x.norm(dim=1) > 0]
    n = len(x)
    if n < 2:
        return math.nan
    s = F.normalize(x, dim=1).sum(0)
    return float((s @ s - n) / (n * (n - 1)))


def collapse_warning(emb: Tensor, threshold: float = COLLAPSE_COSINE) -> str | None:
    """A one-line warning when the embedding is collapsed (mean pairwise cosine above ``threshold``), else None."""
    c = mean_pairwise_cosine(emb)
    if c > threshold:
        return (f"collapsed embedding: the mean cosine between two movies is {c:.2f} (> {threshold:g}); "
                f"nearest-neighbour lists are unreliable (try more epochs, --subsample, or another --graph)")
    return None


def neighbour_quality(sim: Similarity, split: Split, titles: list[str] | None = None, genres: np.ndarray | None = None,
                      on: tuple[str, ...] = ("valid", "test"), k: int = 10) -> dict:
    """Every metric above in one flat dict (the bench's row and the ``embeddings.json`` summary).

    Keys: ``valid_i2i_HR@k`` etc. for each of ``on``; ``coherence@k`` and
    ``random_coherence`` with ``genres``; ``pop_bias`` and ``top100``; ``sequels@k`` and
    ``franchise@k`` with ``titles``; ``mean_cosine`` (embeddings only).
    """
    out: dict = {}
    for o in on:
        r = item_to_item(sim, split, o, k)
        out[f"{o}_i2i_HR@{k}"], out[f"{o}_i2i_NDCG@{k}"] = r[f"i2i_HR@{k}"], r[f"i2i_NDCG@{k}"]
    if genres is not None:
        has = torch.nonzero(torch.as_tensor(genres).sum(1) > 0).flatten()
        out[f"coherence@{k}"], out["random_coherence"] = neighbour_coherence(genres, has, top_k(sim, has, k))
    counts = torch.bincount(split.train_item, minlength=split.num_items)
    out.update(popularity_bias(sim, counts, k))
    if titles is not None:
        s = sequel_check(sim, titles, k)
        out[f"sequels@{k}"], out["sequels_missed"] = s[f"sequels@{k}"], s["missed"]
        out[f"franchise@{k}"] = franchise_recall(sim, titles, k)[f"franchise@{k}"]
    if isinstance(sim, Tensor):
        out["mean_cosine"] = mean_pairwise_cosine(sim)
    return out
