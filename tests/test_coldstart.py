"""Cold-start protocols: the split's invariants, export, and ranks against a brute-force oracle."""
import math

import numpy as np
import pytest
import torch

from graphrec.coldstart import COLD_KS, evaluate_cold, evaluate_cold_movies, evaluate_cold_users, load_cold, save_cold
from graphrec.config import DataConfig
from graphrec.pipeline import build_cold_split


@pytest.fixture(scope="module")
def cold(synth):
    return build_cold_split(DataConfig(split_seed=3), synth)


def ratings(ml):
    r = ml.ratings
    return r["user"].to_numpy(), r["item"].to_numpy(), r["timestamp"].to_numpy()


def test_cold_nodes_have_no_training_edge_and_targets_are_their_ratings(synth, cold):
    u, i, t = ratings(synth)
    cold_i, cold_u = set(cold.cold_items.tolist()), set(cold.cold_users.tolist())
    assert len(cold_i) == round(0.1 * synth.num_items) and len(cold_u) == round(0.1 * synth.num_users)
    assert not cold_i & set(cold.train_item.tolist()) and not cold_u & set(cold.train_user.tolist())
    warm_pairs = {(a, b) for a, b in zip(u, i) if a not in cold_u and b not in cold_i}
    assert set(zip(cold.train_user.tolist(), cold.train_item.tolist())) == warm_pairs
    movie_targets = {(a, b) for a, b in zip(u, i) if a not in cold_u and b in cold_i}
    assert set(zip(cold.movie_test_user.tolist(), cold.movie_test_item.tolist())) == movie_targets
    for user in cold_u:
        rows = sorted((tt, b) for a, b, tt in zip(u, i, t) if a == user and b not in cold_i)
        first = [b for _, b in rows[:max(COLD_KS)]]
        for k in COLD_KS:
            vu, vi = cold.visible(k)
            assert vi[vu == user].tolist() == first[:k]
        assert sorted(cold.user_test_item[cold.user_test_user == user].tolist()) == sorted(b for _, b in rows[5:])


def test_negatives_are_unrated_and_from_the_right_pool(synth, cold):
    u, i, _ = ratings(synth)
    rated = {}
    for a, b in zip(u, i):
        rated.setdefault(a, set()).add(b)
    cold_i = set(cold.cold_items.tolist())
    for user, negs in zip(cold.movie_users().tolist(), cold.movie_negatives.tolist()):
        negs = [n for n in negs if n >= 0]
        assert len(negs) == min(99, len(cold_i - rated[user])) == len(set(negs))
        assert set(negs) <= cold_i - rated[user]
    for user, negs in zip(cold.cold_users.tolist(), cold.user_negatives.tolist()):
        assert len(set(negs)) == 99 and not set(negs) & (rated[user] | cold_i) and min(negs) >= 0


def test_seeded_and_exported(synth, cold, tmp_path):
    again = build_cold_split(DataConfig(split_seed=3), synth)
    other = build_cold_split(DataConfig(split_seed=4), synth)
    assert torch.equal(again.cold_items, cold.cold_items) and torch.equal(again.movie_negatives, cold.movie_negatives)
    assert not torch.equal(other.cold_items, cold.cold_items)
    save_cold(cold, tmp_path)
    back = load_cold(tmp_path)
    for key, v in vars(cold).items():
        got = getattr(back, key)
        assert torch.equal(got, v) if isinstance(v, torch.Tensor) else got == v, key


class TableScorer:
    """Fixed scores, for checking ranks against a brute-force loop."""

    def __init__(self, scores):
        self.scores, self.num_items, self.graphs = scores, scores.shape[1], []

    def set_graph(self, users, items):
        self.graphs.append((users, items))

    def score_all(self, users):
        return self.scores[users]


def brute_force(scores, users, targets, candidates_of, negatives_of, k):
    per_user = {}
    for user, target in zip(users.tolist(), targets.tolist()):
        s = scores[user]
        full = sum(1 for c in candidates_of(user) if c != target and not s[c] < s[target])
        sampled = sum(1 for c in negatives_of(user) if not s[c] < s[target])
        if not math.isfinite(s[target]):
            full, sampled = len(candidates_of(user)), len(negatives_of(user))
        hits = per_user.setdefault(user, [])
        hits.append((full < k, sampled < k, 1 / math.log2(full + 2) if full < k else 0.0))
    return per_user


@pytest.mark.parametrize("discrete", [False, True])
def test_ranks_match_a_brute_force_oracle(synth, cold, discrete):
    gen = torch.Generator().manual_seed(0)
    scores = torch.rand(synth.num_users, synth.num_items, generator=gen)
    if discrete:  # many ties, and a NaN: both count against the target
        scores = torch.floor(scores * 4)
        scores[cold.movie_test_user[0], cold.movie_test_item[0]] = float("nan")
    scorer = TableScorer(scores)
    res = evaluate_cold_movies(scorer, cold, k=5)
    rated = {}
    for a, b in zip(*ratings(synth)[:2]):
        rated.setdefault(int(a), set()).add(int(b))
    cold_i = cold.cold_items.tolist()
    neg = dict(zip(cold.movie_users().tolist(), cold.movie_negatives.tolist()))
    oracle = brute_force(scores.tolist(), cold.movie_test_user, cold.movie_test_item,
                         lambda u: [c for c in cold_i if c not in rated[u]] + [],
                         lambda u: [n for n in neg[u] if n >= 0], 5)
    for row, user in enumerate(res["users"].tolist()):
        hits = oracle[user]
        assert res["per_user"]["full_HR@5"][row] == pytest.approx(np.mean([h[0] for h in hits]))
        assert res["per_user"]["HR@5"][row] == pytest.approx(np.mean([h[1] for h in hits]))
        assert res["per_user"]["full_NDCG@5"][row] == pytest.approx(np.mean([h[2] for h in hits]))
    # the evaluator handed the scorer the warm graph only
    vu, vi = scorer.graphs[-1]
    assert torch.equal(vu, cold.train_user) and torch.equal(vi, cold.train_item)


def test_cold_user_ranks_and_graphs(synth, cold):
    scores = torch.rand(synth.num_users, synth.num_items, generator=torch.Generator().manual_seed(1))
    scorer = TableScorer(scores)
    res = evaluate_cold_users(scorer, cold, known=3, k=10)
    assert len(scorer.graphs[-1][0]) == len(cold.train_user) + 3 * len(cold.cold_users)
    rated = {}
    for a, b in zip(*ratings(synth)[:2]):
        rated.setdefault(int(a), set()).add(int(b))
    warm = [m for m in range(synth.num_items) if m not in set(cold.cold_items.tolist())]
    neg = dict(zip(cold.cold_users.tolist(), cold.user_negatives.tolist()))
    oracle = brute_force(scores.tolist(), cold.user_test_user, cold.user_test_item,
                         lambda u: [c for c in warm if c not in rated[u]], lambda u: neg[u], 10)
    for row, user in enumerate(res["users"].tolist()):
        assert res["per_user"]["full_HR@10"][row] == pytest.approx(np.mean([h[0] for h in oracle[user]]))
        assert res["per_user"]["HR@10"][row] == pytest.approx(np.mean([h[1] for h in oracle[user]]))


def test_a_constant_scorer_hits_nothing_and_an_oracle_everything(synth, cold):
    flat = evaluate_cold(TableScorer(torch.zeros(synth.num_users, synth.num_items)), cold, ks=(0, 5))
    assert all(r["full_HR@10"] == 0 and r["HR@10"] == 0 for r in flat.values())
    truth = torch.zeros(synth.num_users, synth.num_items)
    truth[cold.movie_test_user, cold.movie_test_item] = 1.0
    truth[cold.user_test_user, cold.user_test_item] = 1.0
    best = evaluate_cold(TableScorer(truth), cold, ks=(0,))
    assert best["movies"]["full_HR@10"] == 1.0 and best["users@0"]["HR@10"] == 1.0
