"""Graph embeddings: walks, skip-gram pairs and negatives, the trainer, similarity, scorer."""
import networkx as nx
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graphrec.embeddings import (EmbeddingScorer, UnigramNegatives, WalkGraph, bipartite_graph, comovie_graph,
                                 genre_coherence, match_title, nearest, random_walks, train_skipgram)
from graphrec.embeddings.word2vec import subsample_mask
from graphrec.errors import GraphrecError
from graphrec.evaluation import evaluate


def graph_of(g: nx.Graph) -> WalkGraph:
    e = torch.tensor(list(g.edges())).T
    ei = torch.cat([e, e.flip(0)], 1)
    ei = ei[:, torch.argsort(ei[0] * g.number_of_nodes() + ei[1])]
    n = g.number_of_nodes()
    return WalkGraph("test", ei, n, 0, n, 0)


def edge_set(ei: torch.Tensor, n: int) -> set:
    return set((ei[0] * n + ei[1]).tolist())


# --------------------------------------------------------------------------- walks

def test_walks_step_along_training_edges_only(synth_split):
    s = synth_split
    g = bipartite_graph(s)
    n = g.num_nodes
    walks = random_walks(g, walk_length=12, walks_per_node=3, p=0.5, q=2.0, seed=1)
    assert walks.shape == (3 * int((g.degree() > 0).sum()), 12)
    steps = set((walks[:, :-1] * n + walks[:, 1:]).reshape(-1).tolist())
    assert steps <= edge_set(g.edge_index, n)
    # the graph holds exactly the training ratings, never a held-out one
    train = set((s.train_user * n + s.train_item + s.num_users).tolist())
    ei = g.edge_index
    assert set((ei[0] * n + ei[1])[ei[0] < s.num_users].tolist()) == train
    held = set((torch.cat([s.test_user, s.valid_user]) * n + torch.cat([s.test_item, s.valid_item]) + s.num_users).tolist())
    assert held and not held & steps and not held & edge_set(ei, n)
    # --all-edges adds them back
    assert held <= edge_set(bipartite_graph(s, all_edges=True).edge_index, n)


def test_uniform_walks_are_seeded():
    g = graph_of(nx.karate_club_graph())
    a = random_walks(g, 20, 2, seed=5)
    assert torch.equal(a, random_walks(g, 20, 2, seed=5))
    assert not torch.equal(a, random_walks(g, 20, 2, seed=6))


def _rates(walks: torch.Tensor, g: nx.Graph) -> tuple[float, float]:
    """(return rate, outward rate): share of second steps going back, and going to distance 2."""
    a, c = walks[:, :-2].reshape(-1).tolist(), walks[:, 2:].reshape(-1).tolist()
    back = sum(x == y for x, y in zip(a, c))
    out = sum(x != y and not g.has_edge(x, y) for x, y in zip(a, c))
    return back / len(a), out / len(a)


def test_p_and_q_bias_the_walk():
    nxg = nx.karate_club_graph()
    g = graph_of(nxg)
    kw = dict(walk_length=30, walks_per_node=20, seed=0)
    back_low_p, _ = _rates(random_walks(g, p=0.1, q=1.0, **kw), nxg)
    back_high_p, _ = _rates(random_walks(g, p=10.0, q=1.0, **kw), nxg)
    assert back_low_p > 2 * back_high_p  # low p: return often
    _, out_low_q = _rates(random_walks(g, p=1.0, q=0.1, **kw), nxg)
    _, out_high_q = _rates(random_walks(g, p=1.0, q=10.0, **kw), nxg)
    assert out_low_q > out_high_q + 0.2  # low q: move outwards


@pytest.mark.parametrize("kw, msg", [
    (dict(p=0), "--p must be > 0"), (dict(q=-1), "--q must be > 0"), (dict(walk_length=1), "--walk-length must be >= 2"),
])
def test_bad_walk_arguments(kw, msg):
    g = graph_of(nx.path_graph(4))
    with pytest.raises(GraphrecError, match=msg):
        random_walks(g, **{"walk_length": 5, **kw})


def test_comovie_weights_threshold_and_proportional_steps(tmp_path):
    from graphrec.data import Split

    # movies 0,1 rated together by users 0-4; 0,2 and 1,2 by users 0-1; 1,3 by user 4 only
    pairs = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (3, 0), (3, 1), (4, 3), (4, 1),
             (4, 0)]
    u, i = torch.tensor(pairs).T
    none = torch.zeros(0, dtype=torch.long)
    s = Split(5, 4, u, i, torch.ones(len(u)), torch.zeros(len(u)), none, none, none.view(0, 99), none, none,
              none.view(0, 99))
    g = comovie_graph(s, min_weight=2)
    w = {(a, b): float(x) for a, b, x in zip(*g.unique_edge_index.tolist(), g.edge_weight.tolist())}
    assert w == {(0, 1): 5.0, (1, 0): 5.0, (0, 2): 2.0, (2, 0): 2.0, (1, 2): 2.0, (2, 1): 2.0}
    first = random_walks(g, 2, 20000, start=torch.tensor([0]), seed=0)[:, 1]
    share = (first == 1).float().mean().item()
    assert share == pytest.approx(5 / 7, abs=0.02)  # neighbours drawn in proportion to co-ratings
    with pytest.raises(GraphrecError, match="no two movies"):
        comovie_graph(s, min_weight=9)


# --------------------------------------------------------------------------- skip-gram

def test_negatives_table_follows_counts_to_the_power():
    counts = torch.tensor([1000, 100, 10, 1, 500])
    for power in (0.75, 0.0, -0.5):
        table = UnigramNegatives(counts, power, table_size=1_000_000).table
        p = counts.double() ** power
        emp = torch.bincount(table, minlength=5).double() / len(table)
        assert torch.allclose(emp, p / p.sum(), atol=1e-4)


def test_subsampling_drops_frequent_tokens():
    walks = torch.tensor([[0] * 90 + [1] * 10] * 2000)
    keep = subsample_mask(walks, torch.bincount(walks.reshape(-1)), 1e-2, torch.Generator().manual_seed(0))
    rate0, rate1 = keep[walks == 0].float().mean().item(), keep[walks == 1].float().mean().item()
    # word2vec: keep with probability (sqrt(f / t) + 1) * t / f
    assert rate0 == pytest.approx((np.sqrt(90) + 1) * 0.01 / 0.9, abs=0.01)
    assert rate1 == pytest.approx((np.sqrt(10) + 1) * 0.01 / 0.1, abs=0.02)


def test_word2vec_separates_planted_communities():
    nxg = nx.planted_partition_graph(2, 20, 0.5, 0.01, seed=0)
    g = graph_of(nxg)
    walks = random_walks(g, 20, 10, seed=0)
    model, hist = train_skipgram(walks, g.num_nodes, dim=16, window=3, negatives=3, epochs=3, batch_size=8,
                                 progress=False, seed=0)
    x = torch.nn.functional.normalize(model.target.weight.detach(), dim=1)
    sim = x @ x.T
    side = torch.arange(40) < 20
    same = side[:, None] == side[None, :]
    off = ~torch.eye(40, dtype=torch.bool)
    assert sim[same & off].mean() > sim[~same].mean() + 0.3
    assert hist[-1]["loss"] < hist[0]["loss"]


def test_bad_window_and_negatives():
    with pytest.raises(GraphrecError, match="--window must be >= 1"):
        train_skipgram(torch.zeros(2, 5, dtype=torch.long), 3, window=0, progress=False)
    with pytest.raises(GraphrecError, match="--negatives"):
        train_skipgram(torch.zeros(2, 5, dtype=torch.long), 3, negatives=0, progress=False)


# --------------------------------------------------------------------------- using embeddings

def test_nearest_cosine_and_euclidean():
    e = torch.tensor([[1.0, 0.0], [10.0, 1.0], [0.9, 0.05], [0.0, 1.0]])
    idx, val = nearest(e, 0, k=2, metric="cosine")
    assert idx.tolist() == [2, 1] and val[0] > val[1]
    idx, val = nearest(e, 0, k=2, metric="euclidean")
    assert idx.tolist() == [2, 3] and val[0] == pytest.approx(np.hypot(0.1, 0.05))


def test_genre_coherence_known_answer():
    genres = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    e = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    coh, rand = genre_coherence(e, genres, k=1)
    assert coh == 1.0 and rand == pytest.approx(4 / 12)
    coh2, _ = genre_coherence(e, genres, k=3)
    assert coh2 == pytest.approx(1 / 3)


TITLES = ["Star Wars (1977)", "Empire Strikes Back, The (1980)", "Return of the Jedi (1983)",
          "Hamlet (1948)", "Hamlet (1996)", "Star Trek: Generations (1994)"]


@pytest.mark.parametrize("query, want", [
    ("star wars", 0), ("STAR WARS (1977)", 0), ("The Empire Strikes Back", 1), ("jedi", 2), ("hamlet (1996)", 4),
])
def test_match_title(query, want):
    assert match_title(TITLES, query) == want


def test_match_title_ambiguous_and_unknown():
    with pytest.raises(GraphrecError, match=r"ambiguous: 2 titles match: Hamlet \(1948\); Hamlet \(1996\)"):
        match_title(TITLES, "hamlet")
    with pytest.raises(GraphrecError, match=r"no movie titled 'Star Warz'; did you mean: Star Wars \(1977\)"):
        match_title(TITLES, "Star Warz")


def test_embedding_scorer_dot_cosine_and_movie_only(synth_split):
    s = synth_split
    gen = torch.Generator().manual_seed(0)
    movie, user = torch.randn(s.num_items, 8, generator=gen), torch.randn(s.num_users, 8, generator=gen)
    sc = EmbeddingScorer(movie, user, "dot")
    assert torch.allclose(sc.score_all(torch.tensor([3]))[0], movie @ user[3], atol=1e-5)
    items = torch.tensor([[1, 2], [5, 0]])
    assert torch.allclose(sc.score(torch.tensor([3, 4]), items), sc.score_all(torch.tensor([3, 4])).gather(1, items))
    cos = EmbeddingScorer(movie, user, "cosine").score_all(torch.tensor([0]))
    assert cos.abs().max() <= 1.0 + 1e-6
    # co-movie embeddings: a user is the mean of their training movies
    only = EmbeddingScorer(movie, None, "dot", split=s)
    mine = s.train_item[s.train_user == 2]
    assert torch.allclose(only.user[2], movie[mine].mean(0), atol=1e-5)
    res = evaluate(sc, s)
    assert 0.0 <= res["HR@10"] <= 1.0 and "full_NDCG@10" in res
