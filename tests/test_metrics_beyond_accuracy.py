"""MRR@k, catalogue coverage@k and the popularity of the top k: known answers."""
import pytest
import torch

from graphrec.evaluation import evaluate
from graphrec.metrics import coverage, mean_popularity, mrr


def test_mrr_known_answers():
    r = torch.tensor([0, 1, 4, 9, 10, 500])
    assert mrr(r, 10).tolist() == pytest.approx([1.0, 0.5, 0.2, 0.1, 0.0, 0.0])


def test_coverage_and_popularity_known_answers():
    top = torch.tensor([[0, 1], [1, 2], [1, 0]])
    assert coverage(top, 8) == pytest.approx(3 / 8)
    counts = torch.tensor([10, 2, 0, 5, 5, 5, 5, 5])
    assert mean_popularity(top, counts).tolist() == pytest.approx([6.0, 1.0, 6.0])


class Favourite:
    """Everyone gets the same ranking: items by index, highest first."""

    def __init__(self, num_items):
        self.num_items = num_items

    def score_all(self, users):
        return torch.arange(self.num_items, dtype=torch.float32).expand(len(users), -1)

    def score(self, users, items):
        return items.float()


def test_a_one_list_recommender_covers_little_and_its_popularity_is_the_average_of_that_list(synth_split):
    s = synth_split
    res = evaluate(Favourite(s.num_items), s, k=3, on="test", per_user=True)
    counts = torch.bincount(torch.cat([s.train_item, s.valid_item]), minlength=s.num_items).float()
    train = torch.zeros(s.num_users, s.num_items, dtype=torch.bool)
    train[s.train_user, s.train_item] = True
    train[s.valid_user, s.valid_item] = True
    expected_cov, expected_pop = set(), []
    for u in s.test_user.tolist():  # brute force: the top 3 unseen items, highest index first
        top = [i for i in range(s.num_items - 1, -1, -1) if not train[u, i]][:3]
        expected_cov.update(top)
        expected_pop.append(float(counts[top].mean()))
    assert res["full_coverage@3"] == pytest.approx(len(expected_cov) / s.num_items)
    assert res["per_user"]["full_popularity@3"].tolist() == pytest.approx(expected_pop)
    assert res["full_MRR@3"] <= res["full_HR@3"]
