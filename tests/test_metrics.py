import numpy as np
import pytest
import torch

from graphrec.evaluation import evaluate, paired_difference, with_intervals
from graphrec.metrics import bootstrap_ci, bootstrap_seeds_users, hit_rate, ndcg, paired_bootstrap, ranks_against
from graphrec.models import ItemKNN, MostPop


class Constant:
    """Scores every item equally: ties must count against the test item."""

    def __init__(self, num_items):
        self.num_items = num_items

    def score(self, users, items):
        return torch.zeros(items.shape)

    def score_all(self, users):
        return torch.zeros(len(users), self.num_items)


class Oracle:
    """Knows the test item: HR@1 must be 1."""

    def __init__(self, split):
        self.num_items = split.num_items
        self.target = torch.full((split.num_users,), -1)
        self.target[split.test_user] = split.test_item

    def score(self, users, items):
        return (items == self.target[users][:, None]).float()

    def score_all(self, users):
        return self.score(users, torch.arange(self.num_items).expand(len(users), -1))


class Random:
    def __init__(self, num_items, seed=0):
        self.num_items = num_items
        self.table = None
        self.seed = seed

    def score_all(self, users):
        g = torch.Generator().manual_seed(self.seed)
        table = torch.rand(int(users.max()) + 1, self.num_items, generator=g)
        return table[users]

    def score(self, users, items):
        return torch.gather(self.score_all(users), 1, items)


def test_rank_ties_count_against_target():
    target = torch.tensor([1.0, 1.0, 2.0])
    others = torch.tensor([[1.0, 0.0], [0.0, 0.0], [3.0, 3.0]])
    assert ranks_against(target, others).tolist() == [1, 0, 2]
    r = torch.tensor([0, 1, 9, 10])
    assert hit_rate(r, 10).tolist() == [1, 1, 1, 0]
    assert ndcg(r, 10)[0] == pytest.approx(1.0)
    assert ndcg(r, 10)[1] == pytest.approx(1 / np.log2(3))
    assert ndcg(r, 10)[3] == 0


def test_constant_scorer_gets_nothing(synth_split):
    res = evaluate(Constant(synth_split.num_items), synth_split, k=10, full=True)
    assert res["HR@10"] == 0.0 and res["full_HR@10"] == 0.0


def test_random_scorer_is_near_k_over_n(ml100k_split):
    res = evaluate(Random(ml100k_split.num_items), ml100k_split, k=10, full=False)
    assert abs(res["HR@10"] - 0.10) < 0.04


def test_oracle_is_perfect(synth_split):
    res = evaluate(Oracle(synth_split), synth_split, k=1, full=True)
    assert res["HR@1"] == 1.0 and res["full_HR@1"] == 1.0 and res["NDCG@1"] == 1.0


def test_full_ranking_excludes_known_items(synth_split):
    """A scorer that puts all training items first still finds the test item at the top."""
    s = synth_split

    class TrainFirst(Oracle):
        def score_all(self, users):
            x = super().score_all(users)
            train = torch.zeros(s.num_users, s.num_items)
            train[s.train_user, s.train_item] = 2.0
            return x + train[users]

    res = evaluate(TrainFirst(s), s, k=1, full=True, sampled=False)
    assert res["full_HR@1"] == 1.0


def test_bootstrap_and_paired():
    rng = np.random.default_rng(0)
    a = rng.binomial(1, 0.6, size=943).astype(float)
    mean, lo, hi = bootstrap_ci(a)
    assert lo < mean < hi and 0.02 < hi - lo < 0.09
    d, dlo, dhi = paired_bootstrap(a, a)
    assert d == dlo == dhi == 0
    b = np.clip(a + rng.binomial(1, 0.2, size=943), 0, 1)
    d, dlo, dhi = paired_bootstrap(b, a)
    assert dlo > 0
    with pytest.raises(ValueError):
        paired_bootstrap(a, a[:-1])


def test_baselines_beat_random_on_ml100k(ml100k_split):
    s = ml100k_split
    pop = evaluate(MostPop().fit(s), s, per_user=True)
    knn = evaluate(ItemKNN(k=50).fit(s), s, per_user=True)
    rnd = evaluate(Random(s.num_items), s, per_user=True)
    assert pop["HR@10"] > 0.25 and knn["HR@10"] > pop["HR@10"]
    assert pop["full_HR@10"] > rnd["full_HR@10"]
    diff = paired_difference(knn, rnd)
    assert diff["HR@10"][1] > 0
    ci = with_intervals(knn)
    assert ci["HR@10"][1] < knn["HR@10"] < ci["HR@10"][2]


def test_bootstrap_seeds_users_one_seed_is_user_bootstrap():
    rng = np.random.default_rng(1)
    v = (rng.random(500) < 0.3).astype(float)
    assert bootstrap_seeds_users(v[None], seed=3) == pytest.approx(bootstrap_ci(v, seed=3))


def test_bootstrap_seeds_users_widens_with_seed_spread():
    rng = np.random.default_rng(2)
    base = (rng.random(800) < 0.5).astype(float)
    same = np.stack([base, base, base])
    spread = np.stack([base * 0.8, base, np.minimum(base * 1.2, 1.0) + 0.1])
    m0, lo0, hi0 = bootstrap_seeds_users(same)
    m1, lo1, hi1 = bootstrap_seeds_users(spread)
    assert m0 == pytest.approx(base.mean())
    assert lo0 < m0 < hi0 and lo1 < m1 < hi1
    assert hi1 - lo1 > 1.5 * (hi0 - lo0)
