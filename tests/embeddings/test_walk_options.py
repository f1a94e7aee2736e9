"""Graph and walk options on tiny graphs whose right neighbours are known: time-ordered histories and
time-adjacent co-ratings, movie-genre-movie meta-path walks, the content mix, rating agreement, lift."""
import numpy as np
import pytest
import torch

from graphrec.data import Split
from graphrec.embeddings import EmbeddingConfig, fit_embeddings
from graphrec.embeddings.similarity import nearest_all
from graphrec.embeddings.walks import (comovie_graph, histories, history_walks, metapath_graph, random_walks,
                                       time_pairs)
from graphrec.errors import GraphrecError

NONE = torch.zeros(0, dtype=torch.long)


def split_of(u, i, r=None, t=None, users=None, movies=None) -> Split:
    u, i = torch.as_tensor(u), torch.as_tensor(i)
    r = torch.ones(len(u)) if r is None else torch.as_tensor(r, dtype=torch.float32)
    t = torch.arange(len(u)) if t is None else torch.as_tensor(t)
    return Split(users or int(u.max()) + 1, movies or int(i.max()) + 1, u, i, r, t, NONE, NONE, NONE.view(0, 99),
                 NONE, NONE, NONE.view(0, 99))


def paired_sessions(users: int = 40, pairs: int = 4, seed: int = 0) -> Split:
    """Every user rates every movie, so raters say nothing; but movies 2k and 2k+1 are always rated one
    right after the other (pairs in random order, each pair in random order): time knows the partners."""
    rng = np.random.default_rng(seed)
    u, i, t = [], [], []
    for user in range(users):
        order = [m for p in rng.permutation(pairs) for m in rng.permutation([2 * p, 2 * p + 1])]
        u += [user] * len(order)
        i += order
        t += list(range(len(order)))
    return split_of(u, i, t=t)


def test_histories_and_time_pairs_follow_the_clock():
    u, i, t = np.array([0, 0, 0, 1, 1]), np.array([5, 3, 4, 2, 1]), np.array([30, 10, 20, 7, 7])
    assert [h.tolist() for h in histories(u, i, t)] == [[3, 4, 5], [1, 2]]  # ties by movie id
    a, b = time_pairs(u, i, t, 1)
    assert sorted(zip(a.tolist(), b.tolist())) == sorted([(3, 4), (4, 3), (4, 5), (5, 4), (1, 2), (2, 1)])
    a, b = time_pairs(u, i, t, 2)
    assert (3, 5) in set(zip(a.tolist(), b.tolist()))


def test_span_one_links_each_movie_to_its_time_partner():
    s = paired_sessions()
    full = comovie_graph(s, min_weight=1, weight="count", neighbours=1, knn="directed")
    w = full.edge_weight.numpy()
    assert np.allclose(w, w[0])  # all co-rating counts are equal: raters alone cannot tell
    g = comovie_graph(s, min_weight=1, weight="count", neighbours=1, knn="directed", span=1)
    a, b = g.unique_edge_index.tolist()
    assert sorted(zip(a, b)) == [(m, m ^ 1) for m in range(8)]


def test_history_walks_embed_time_partners_together():
    s = paired_sessions(users=60)
    g = __import__("graphrec.embeddings.walks", fromlist=["history_graph"]).history_graph(s)
    walks = history_walks(g, 5)
    assert walks.shape == (60 * 2, 5) and (walks[1::2, 3:] == -1).all()  # 8 movies: one piece of 5, one of 3
    emb = fit_embeddings(s, EmbeddingConfig(graph="history", dim=16, window=1, negatives=3, epochs=30,
                                            walk_length=8, seed=0), progress=False).movie
    idx, _ = nearest_all(emb, torch.arange(8), 1)
    assert idx[:, 0].tolist() == [m ^ 1 for m in range(8)]


def genre_split(seed: int = 0, overlap: bool = True):
    """Random ratings of 12 movies; movies 0-5 have genre A, 6-11 genre B (movie 11 also A with ``overlap``)."""
    rng = np.random.default_rng(seed)
    u, i = np.nonzero(rng.random((30, 12)) < 0.5)
    genres = np.zeros((12, 2), np.float32)
    genres[:6, 0] = genres[6:, 1] = 1
    genres[11, 0] = float(overlap)
    return split_of(u, i), genres


def test_metapath_content_one_walks_within_genres_only():
    s, genres = genre_split(overlap=False)
    base = comovie_graph(s, min_weight=1, weight="jaccard", neighbours=3)
    g = metapath_graph(base, genres, 1.0)
    assert g.num_nodes == 14 and g.edge_index.shape[1] == 2 * int(genres.sum())  # movie-genre edges only
    walks = random_walks(g, 9, 3, seed=0, start=torch.arange(6))
    movies = walks[:, ::2]  # movie, genre, movie, ...: a walk from a genre-A-only movie stays in genre A
    assert (walks[:, 1::2] == 12).all() and set(movies.flatten().tolist()) <= set(range(6))


@pytest.mark.parametrize("content", [0.2, 0.5])
def test_metapath_genre_steps_have_the_content_share(content):
    s, genres = genre_split()
    base = comovie_graph(s, min_weight=1, weight="jaccard", neighbours=3)
    g = metapath_graph(base, genres, content)
    src, dst = g.edge_index
    movie = src < 12
    to_genre = torch.bincount(src[movie & (dst >= 12)], minlength=12).double()
    to_movie = torch.bincount(src[movie & (dst < 12)], minlength=12).double()
    share = to_genre / (to_genre + to_movie)
    assert torch.allclose(share, torch.full((12,), content, dtype=torch.double), atol=0.02)
    assert torch.equal(metapath_graph(base, genres, 0.0).edge_index, base.edge_index)


def test_content_multiplies_by_genre_jaccard_and_one_drops_pairs_without_a_shared_genre():
    s, genres = genre_split()
    plain = comovie_graph(s, min_weight=1, weight="jaccard")
    got = {}
    for c in (0.5, 1.0):
        g = comovie_graph(s, min_weight=1, weight="jaccard", content=c, genres=genres)
        got[c] = {(a, b): w for a, b, w in zip(*g.unique_edge_index.tolist(), g.edge_weight.tolist())}
    gs = [set(np.nonzero(row)[0]) for row in genres]
    for (a, b), w in zip(zip(*plain.unique_edge_index.tolist()), plain.edge_weight.tolist()):
        jac = len(gs[a] & gs[b]) / len(gs[a] | gs[b])
        assert got[0.5][a, b] == pytest.approx(w * (0.5 + 0.5 * jac), rel=1e-5)
        assert ((a, b) in got[1.0]) == (jac > 0)
    with pytest.raises(GraphrecError, match="genres"):
        comovie_graph(s, min_weight=1, content=0.5)
    with pytest.raises(GraphrecError):
        EmbeddingConfig(content=1.5).check()


def test_liked_counts_only_ratings_at_or_above_the_stars_and_lift_matches_its_formula():
    # users 0-2 rate movies 0, 1, 2; user 0 rated movie 2 with 2 stars; user 3 rates movie 3 only
    u = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    i = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3]
    r = [5, 5, 2, 4, 4, 4, 5, 4, 4, 5]
    s = split_of(u, i, r)
    g = comovie_graph(s, min_weight=1, weight="count", liked=4)
    got = {(a, b): w for a, b, w in zip(*g.unique_edge_index.tolist(), g.edge_weight.tolist())}
    assert got == {(0, 1): 3, (1, 0): 3, (0, 2): 2, (2, 0): 2, (1, 2): 2, (2, 1): 2}
    lift = comovie_graph(s, min_weight=1, weight="lift", shrink=1.0)
    want = np.log(4 * 3 / (3 * 3)) * 3 / (3 + 1)
    assert np.allclose(lift.edge_weight.numpy(), want)
    both = comovie_graph(s, min_weight=1, weight="jaclift", shrink=1.0)  # Jaccard of movies 0-2: 3 / 3
    assert np.allclose(both.edge_weight.numpy(), np.sqrt(want * 1.0))
