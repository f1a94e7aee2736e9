"""Neighbour quality (item-to-item HR, popularity bias, sequels, collapse) and the block skip-gram trainer."""
import numpy as np
import pytest
import torch

from graphrec.data import Split
from graphrec.embeddings import (EmbeddingConfig, SkipGram, collapse_warning, compact_walks, fit_embeddings,
                                 item_cosine, item_to_item, mean_pairwise_cosine, popularity, popularity_bias,
                                 sequel_check, walk_step)
from graphrec.embeddings.quality import neighbour_task
from graphrec.embeddings.word2vec import chunk_band

NONE = torch.zeros(0, dtype=torch.long)


def make_split(rows: list[tuple[int, int, int]], valid: dict, test: dict, num_users: int, num_items: int) -> Split:
    """A split from (user, item, time) training rows and {user: item} held-out items."""
    u, i, t = (torch.tensor(c) for c in zip(*rows))
    vu, vi = torch.tensor(list(valid), dtype=torch.long), torch.tensor(list(valid.values()), dtype=torch.long)
    tu, ti = torch.tensor(list(test), dtype=torch.long), torch.tensor(list(test.values()), dtype=torch.long)
    return Split(num_users, num_items, u, i, torch.ones(len(u)), t, tu, ti, torch.zeros(len(tu), 99, dtype=torch.long),
                 vu, vi, torch.zeros(len(vu), 99, dtype=torch.long))


def planted(communities: int = 2, users: int = 30, movies: int = 12, seen: int = 8, seed: int = 0) -> Split:
    """Disjoint communities: each user rates ``seen`` movies of their own community only, in a random order."""
    rng = np.random.default_rng(seed)
    rows, valid, test = [], {}, {}
    for c in range(communities):
        for u in range(c * users, (c + 1) * users):
            items = c * movies + rng.choice(movies, size=seen, replace=False)
            rows += [(u, int(x), t) for t, x in enumerate(items[:-2])]
            valid[u], test[u] = int(items[-2]), int(items[-1])
    return make_split(rows, valid, test, communities * users, communities * movies)


# --------------------------------------------------------------------------- the metric

def test_item_to_item_known_answer_excludes_query_and_seen_and_counts_ties_against():
    # user 0 saw 0 and 1 (1 latest), validation 2, test 3; movie vectors on a line of angles
    s = make_split([(0, 0, 0), (0, 1, 1)], {0: 2}, {0: 3}, 1, 6)
    angle = torch.tensor([0.0, 0.1, 0.2, 0.5, 0.3, 0.31])
    emb = torch.stack([angle.cos(), angle.sin()], 1)
    users, q, t = neighbour_task(s, "test")
    assert (users.tolist(), q.tolist(), t.tolist()) == ([0], [2], [3])
    users, q, t = neighbour_task(s, "valid")  # never the test item
    assert (q.tolist(), t.tolist()) == ([1], [2])
    # test: query 2; candidates 3, 4, 5 (0, 1 seen, 2 the query); 4 and 5 are nearer than 3
    assert item_to_item(emb, s, "test", k=2)["i2i_HR@2"] == 0.0
    r = item_to_item(emb, s, "test", k=3)
    assert r["i2i_HR@3"] == 1.0 and r["i2i_NDCG@3"] == pytest.approx(1 / np.log2(4))
    # valid: query 1; candidates 2..5 (0 seen); 2 is nearest
    assert item_to_item(emb, s, "valid", k=1)["i2i_HR@1"] == 1.0
    # a tie with another candidate counts against the target, and so does a NaN score
    tied = emb.clone()
    tied[4] = tied[3]
    assert item_to_item(tied, s, "test", k=2)["i2i_HR@2"] == 0.0
    best_but_nan = lambda q: torch.tensor([[0.0, 0, 0, float("nan"), -1, -1]]).expand(len(q), -1)  # noqa: E731
    assert item_to_item(best_but_nan, s, "test", k=2)["i2i_HR@2"] == 0.0
    assert item_to_item(lambda q: best_but_nan(q).nan_to_num(5.0), s, "test", k=1)["i2i_HR@1"] == 1.0


def test_planted_communities_keep_their_neighbours_inside():
    s = planted()
    side = torch.arange(s.num_items) >= 12
    # the training matrix's item cosine never leaves a community: perfect at k = movies - seen + 1 ... = 5
    assert item_to_item(item_cosine(s), s, "test", k=5)["i2i_HR@5"] == 1.0
    assert item_to_item(popularity(s), s, "test", k=5)["i2i_HR@5"] < 0.5
    cfg = EmbeddingConfig(graph="bipartite", dim=16, walk_length=20, walks_per_node=40, window=3, negatives=3, epochs=3,
                          batch_size=8, seed=0)  # a tiny graph: small steps, more of them
    for c in (cfg, EmbeddingConfig(**{**cfg.__dict__, "tokens": "movies"}),
              EmbeddingConfig(**{**cfg.__dict__, "graph": "bipartite", "workers": 2}),  # Hogwild threads
              EmbeddingConfig(**{**cfg.__dict__, "graph": "comovie", "min_weight": 1, "weight": "cosine",
                                 "content": 0.0})):
        emb = fit_embeddings(s, c, progress=False).movie
        x = torch.nn.functional.normalize(emb, dim=1)
        near = (x @ x.T - 2 * torch.eye(len(x))).topk(10, dim=1).indices
        inside = side[near] == side[:, None]
        assert inside[:, :5].float().mean() >= 0.95 and inside.float().mean() >= 0.9, c  # random neighbours: ~0.48
        assert item_to_item(emb, s, "test", k=5)["i2i_HR@5"] >= 0.8  # popularity: below 0.5
        assert mean_pairwise_cosine(emb) < 0.5


def test_popularity_bias_and_sequels():
    counts = torch.tensor([100, 1, 1, 1])
    toward_hit = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    b = popularity_bias(toward_hit, counts, k=1)
    # neighbours: 0->1, 1->0, 2->3, 3->2: (log2 + log101 + 2 log2) / 4 - (log101 + 3 log2) / 4 = 0
    assert b["pop_bias"] == pytest.approx(0.0, abs=1e-6)
    pop = popularity_bias(lambda q: counts.float().expand(len(q), -1).clone(), counts, k=1)
    assert pop["pop_bias"] > 1.0  # everyone's nearest is the blockbuster
    titles = ["Star Wars (1977)", "Empire Strikes Back, The (1980)", "Return of the Jedi (1983)", "Other (1990)"]
    r = sequel_check(toward_hit, titles, k=1)
    assert r["sequels@1"] == 0.5 and r["sequel_pairs"] == 2
    assert r["missed"] == ["Star Wars (1977) -> Return of the Jedi (1983)"]


def test_collapse_detector():
    assert mean_pairwise_cosine(torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])) == pytest.approx(1 / 3)
    gen = torch.Generator().manual_seed(0)
    spread = torch.randn(500, 32, generator=gen)
    collapsed = torch.ones(500, 32) + 0.1 * torch.randn(500, 32, generator=gen)
    assert abs(mean_pairwise_cosine(spread)) < 0.05 and collapse_warning(spread) is None
    assert mean_pairwise_cosine(collapsed) > 0.95
    assert "collapsed embedding" in collapse_warning(collapsed)


def test_comovie_graph_is_not_collapsed():
    """Two taste communities plus blockbusters everyone rates: raw co-counts walk to the blockbusters."""
    rng = np.random.default_rng(0)
    rows, valid, test = [], {}, {}
    for u in range(80):
        own = (u % 2) * 40 + 4 + rng.choice(36, size=10, replace=False)
        items = list(rng.permutation([0, 1, 2, 3])) + list(own)
        rows += [(u, int(x), t) for t, x in enumerate(items[:-2])]
        valid[u], test[u] = int(items[-2]), int(items[-1])
    s = make_split(rows, valid, test, 80, 84)
    cfg = EmbeddingConfig(graph="comovie", min_weight=1, dim=16, walk_length=20, walks_per_node=10, window=5,
                          negatives=3, seed=0, content=0.0)  # no genres in this split
    default = fit_embeddings(s, cfg, progress=False).movie
    assert cfg.weight != "count" and mean_pairwise_cosine(default[4:]) < 0.5
    x = torch.nn.functional.normalize(default, dim=1)
    side = torch.arange(84) >= 44
    near = (x[4:] @ x[4:].T - 2 * torch.eye(80)).topk(5, dim=1).indices + 4
    assert (side[near] == side[4:, None]).float().mean() > 0.9


# --------------------------------------------------------------------------- the block trainer

def test_walk_step_is_sgd_on_the_skipgram_loss():
    torch.manual_seed(0)
    m = SkipGram(9, 4)
    torch.nn.init.normal_(m.context.weight)
    walks = torch.tensor([[0, 1, 2, 3, 1, -1], [4, 5, 6, 7, 8, 2]])
    neg = torch.tensor([[[5, 1, 7], [2, 8, 8]], [[0, 4, 3], [6, 1, 5]]])  # positions 0-2 and 3-5 share 3 each
    band, k, lr = chunk_band(3, 2), 2.0, 0.1
    a = {1: 1.0, 2: 0.5}  # word2vec's shrunk window of 2, in expectation
    # the oracle: one row per walk position, through autograd
    loss = 0.0
    for b in range(2):
        for i in range(6):
            if walks[b, i] < 0:
                continue
            ctx = [(int(walks[b, j]), a[abs(i - j)]) for j in range(6) if walks[b, j] >= 0 and 1 <= abs(i - j) <= 2]
            wsum = sum(a for _, a in ctx)
            negs = [(x, k * wsum / 3 if x != walks[b, i] else 0.0) for x in neg[b, i // 3].tolist()]
            cols = torch.tensor([[c for c, _ in ctx + negs]])
            coef = torch.tensor([[a for _, a in ctx + negs]])
            label = torch.tensor([[1.0] * len(ctx) + [0.0] * 3])
            loss = loss + m(walks[b, i:i + 1], cols, coef, label)
    loss.backward()
    want_t = m.target.weight.detach() - lr * m.target.weight.grad
    want_c = m.context.weight.detach() - lr * m.context.weight.grad
    t, c = m.target.weight.detach().clone(), m.context.weight.detach().clone()
    got, pairs = walk_step(t, c, walks, neg, band, k, lr, loss=True)
    pairs_by_hand = 2 * (4 * 1.0 + 3 * 0.5) + 2 * (5 * 1.0 + 4 * 0.5)  # walks of 5 and 6 tokens, both directions
    assert got == pytest.approx(loss.item(), rel=1e-5) and pairs == pytest.approx(pairs_by_hand)
    assert torch.allclose(t, want_t, atol=1e-6) and torch.allclose(c, want_c, atol=1e-6)


def test_chunk_band_and_compaction():
    band = chunk_band(2, 2)  # targets at columns 2 and 3 of 6
    assert band.tolist() == [[0.5, 1.0, 0.0, 1.0, 0.5, 0.0], [0.0, 0.5, 1.0, 0.0, 1.0, 0.5]]
    walks = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    keep = torch.tensor([[True, False, True, True], [False, True, False, False]])
    assert compact_walks(walks, keep).tolist() == [[0, 2, 3], [5, -1, -1]]
