"""Cold-start floors on hand-made tables with known answers."""
import numpy as np
import pytest
import torch

from graphrec.data.features import FeatureTable
from graphrec.models.cold_baselines import ColdMostPop, ContentKNN, DemographicPop, ItemKNNFromK


def table(genders, ages, genres, years):
    n, m = len(genders), len(years)
    return FeatureTable(torch.tensor(genders), torch.tensor(ages), torch.zeros(n, dtype=torch.long),
                        torch.tensor(genres, dtype=torch.float32), torch.tensor(years, dtype=torch.float32),
                        ["unknown", "M", "F"], ["unknown", "a", "b"], ["unknown"], ["g0", "g1"])


def test_demographic_popularity_counts_within_the_group():
    t = table([1, 1, 2, 2, 2], [1, 1, 1, 1, 2], [[1, 0]] * 3, [0.9, 0.9, 0.9])
    users, items = torch.tensor([0, 1, 2, 2, 3, 4, 4]), torch.tensor([0, 0, 1, 2, 2, 1, 0])
    pop, demo = ColdMostPop(t), DemographicPop(t)
    for s in (pop, demo):
        s.set_graph(users, items)
    assert pop.score_all(torch.tensor([0])).tolist() == [[3.0, 2.0, 2.0]]
    # user 3 is (F, a): the group {2, 3} rated item 2 twice, item 1 once; global counts break the 1-2 tie
    s = demo.score_all(torch.tensor([3, 0]))
    assert s[0].argsort(descending=True).tolist() == [2, 1, 0]
    assert s[1].argsort(descending=True).tolist()[0] == 0
    assert s[0, 2] == pytest.approx(2 + 2 / 8)


def test_content_knn_is_cosine_of_genres_and_decade():
    t = table([1], [1], [[1, 0], [1, 0], [0, 1], [1, 1]], [0.95, 0.55, 0.95, 0.0])
    knn = ContentKNN(t)
    knn.set_graph(torch.tensor([0]), torch.tensor([0]))
    s = knn.score_all(torch.tensor([0]))[0]
    # item 0 = (g0, 1990s); item 1 shares g0 only, item 2 the decade only, item 3 g0 (unknown year)
    assert s[0] == pytest.approx(1.0)
    assert s[1] == pytest.approx(0.5) and s[2] == pytest.approx(0.5)
    assert s[3] == pytest.approx(1 / np.sqrt(2) / np.sqrt(2))


def test_itemknn_from_k_reads_only_the_visible_profile():
    t = table([1, 1, 1], [1, 1, 1], [[1, 0]] * 3, [0.9] * 3)
    # items 0 and 1 are always rated together; item 2 alone
    knn = ItemKNNFromK(t, torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 0, 1, 2]))
    knn.set_graph(torch.tensor([2]), torch.tensor([0]))
    s = knn.score_all(torch.tensor([2, 0]))
    assert s[0, 1] > 0 and s[0, 2] == 0
    assert s[1].abs().sum() == 0  # user 0's training ratings are not visible any more
