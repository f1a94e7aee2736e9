"""Non-finite scores never help the held-out item: checked against a brute-force oracle
on random score tensors with NaN, +-inf and ties sprinkled in."""
import math

import numpy as np
import pytest
import torch

from graphrec.evaluation import KnownItems, evaluate, full_ranks, sampled_ranks
from graphrec.metrics import MISS, hit_rate, ndcg, ranks_against

SPECIALS = [math.nan, math.inf, -math.inf]


def sprinkled(gen: np.random.Generator, shape, p_special: float) -> torch.Tensor:
    """Scores from a few levels (many ties) with NaN, inf and -inf sprinkled in."""
    x = gen.integers(0, 4, size=shape).astype(np.float32) / 2
    mask = gen.random(shape) < p_special
    x[mask] = gen.choice(SPECIALS, size=int(mask.sum()))
    return torch.from_numpy(x)


def oracle_rank(target: float, others: list[float]) -> float:
    """Brute force: a non-finite held-out score is a miss; a competitor counts against the held-out
    item when it is >= it or not finite (ties and non-finite scores count against it)."""
    if not math.isfinite(target):
        return math.inf
    return sum(1 for o in others if not math.isfinite(o) or o >= target)


@pytest.mark.parametrize("seed", range(20))
def test_ranks_match_the_oracle_and_never_favour_the_target(seed):
    gen = np.random.default_rng(seed)
    n, c = 50, int(gen.integers(1, 30))
    p = [0.0, 0.05, 0.3, 1.0][seed % 4]
    target, others = sprinkled(gen, (n,), p), sprinkled(gen, (n, c), p)
    valid = torch.from_numpy(gen.random((n, c)) < 0.8)
    ranks = ranks_against(target, others, valid)
    for row in range(n):
        t = float(target[row])
        cand = [float(o) for o, v in zip(others[row], valid[row]) if v]
        want = oracle_rank(t, cand)
        got = int(ranks[row])
        assert (got == MISS) if want == math.inf else got == want
        # the property: every finite competitor scoring >= the target is ranked above it
        ahead = sum(1 for o in cand if math.isfinite(o) and math.isfinite(t) and o >= t)
        assert got >= ahead
        for k in (1, 3, 10, 100):
            hit = bool(hit_rate(ranks[row:row + 1], k)[0])
            assert hit == (want < k)
            assert (float(ndcg(ranks[row:row + 1], k)[0]) > 0) == hit
            if not math.isfinite(t):
                assert not hit


class Table:
    """A scorer that returns a fixed (user x item) table of sprinkled scores."""

    def __init__(self, table: torch.Tensor) -> None:
        self.table, self.num_items = table, table.shape[1]

    def score(self, users, items):
        return torch.gather(self.table[users], 1, items)

    def score_all(self, users):
        return self.table[users]


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5])
def test_sampled_and_full_ranking_against_the_oracle(synth_split, p):
    s = synth_split
    table = sprinkled(np.random.default_rng(7), (s.num_users, s.num_items), p)
    scorer = Table(table)
    users, items, negs = s.held_out("test")
    sampled = sampled_ranks(scorer, users, items, negs, batch_size=7)
    known_u, known_i = s.known_items("test")
    full = full_ranks(scorer, users, items, KnownItems(known_u, known_i, s.num_users), batch_size=5)
    for j in range(len(users)):
        u, i = int(users[j]), int(items[j])
        want = oracle_rank(float(table[u, i]), [float(table[u, x]) for x in negs[j].tolist()])
        assert (int(sampled[j]) == MISS) if want == math.inf else int(sampled[j]) == want
        seen = set(known_i[known_u == u].tolist()) | {i}
        want = oracle_rank(float(table[u, i]), [float(table[u, x]) for x in range(s.num_items) if x not in seen])
        assert (int(full[j]) == MISS) if want == math.inf else int(full[j]) == want


def test_a_diverged_model_scores_zero_not_one(synth_split):
    """All-NaN scores used to rank every test item first (NaN comparisons are false): HR@10 = 1."""
    s = synth_split
    res = evaluate(Table(torch.full((s.num_users, s.num_items), math.nan)), s, k=10, full=True)
    ranking = ("HR@10", "NDCG@10", "MRR@10", "full_HR@10", "full_NDCG@10", "full_MRR@10")
    assert {m: res[m] for m in ranking} == dict.fromkeys(ranking, 0.0)
    res = evaluate(Table(torch.full((s.num_users, s.num_items), math.inf)), s, k=10, full=True)
    assert res["HR@10"] == 0.0 and res["full_HR@10"] == 0.0
