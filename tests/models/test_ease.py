"""EASE: the closed form against a per-column constrained ridge solve, and its scores."""
import numpy as np
import pytest
import torch

from graphrec.data.split import Split
from graphrec.models import EASE


def small_split(num_users=12, num_items=7, seed=0) -> Split:
    rng = np.random.default_rng(seed)
    x = rng.random((num_users, num_items)) < 0.4
    u, i = np.nonzero(x)
    e = torch.zeros(0, dtype=torch.long)
    return Split(num_users, num_items, torch.from_numpy(u), torch.from_numpy(i), torch.ones(len(u)),
                 torch.zeros(len(u), dtype=torch.long), e, e, e.reshape(0, 0), e, e, e.reshape(0, 0))


@pytest.mark.parametrize("l2", [0.5, 3.0, 50.0])
def test_weights_solve_the_constrained_ridge_problem_column_by_column(l2):
    split = small_split()
    model = EASE(l2=l2).fit(split)
    x = np.zeros((split.num_users, split.num_items))
    x[split.train_user.numpy(), split.train_item.numpy()] = 1.0
    # Oracle: diag(B) = 0 means column j regresses X[:, j] on the other columns with a ridge penalty.
    expected = np.zeros((split.num_items, split.num_items))
    for j in range(split.num_items):
        rest = [c for c in range(split.num_items) if c != j]
        a = x[:, rest]
        expected[rest, j] = np.linalg.solve(a.T @ a + l2 * np.eye(len(rest)), a.T @ x[:, j])
    np.testing.assert_allclose(model.weight.numpy(), expected, rtol=1e-4, atol=1e-6)
    assert np.all(np.diag(model.weight.numpy()) == 0)


def test_scores_are_the_users_rows_times_b():
    split = small_split()
    model = EASE(l2=2.0).fit(split)
    users = torch.tensor([0, 5, 11])
    x = torch.zeros(split.num_users, split.num_items)
    x[split.train_user, split.train_item] = 1.0
    torch.testing.assert_close(model.score_all(users), x[users] @ model.weight)
    items = torch.tensor([[0, 3], [6, 1], [2, 2]])
    torch.testing.assert_close(model.score(users, items), model.score_all(users).gather(1, items))


def test_penalty_must_be_positive():
    with pytest.raises(ValueError, match="l2"):
        EASE(l2=0.0)


def test_recency_weights_the_latest_interactions_most():
    """Brute force: each user's pairs by (time, item); the latest weighs 1, then exp(-1/tau), ..."""
    split = small_split(num_users=6, num_items=9, seed=3)
    g = torch.Generator().manual_seed(0)
    split.train_time = torch.randint(0, 4, split.train_user.shape, generator=g)  # ties broken by item
    model = EASE(l2=2.0, recency=2.0, floor=0.25).fit(split)
    for u in range(split.num_users):
        mine = [(int(t), int(i)) for uu, i, t in zip(split.train_user, split.train_item, split.train_time) if uu == u]
        for later, (_, i) in enumerate(sorted(mine, reverse=True)):
            assert float(model.user_items[u, i]) == pytest.approx(0.25 + 0.75 * np.exp(-later / 2.0), rel=1e-6)
    assert int((model.user_items > 0).sum()) == len(split.train_user)
    plain = EASE(l2=2.0).fit(split)
    torch.testing.assert_close(model.weight, plain.weight)  # only the query changes
