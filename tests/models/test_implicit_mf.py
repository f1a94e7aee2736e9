"""implicit's ALS and BPR in graphrec's evaluator: the same top items as implicit's own recommend()."""
import numpy as np
import pytest
import torch

from graphrec.models.implicit_mf import ImplicitALS, ImplicitBPR, available

pytestmark = pytest.mark.skipif(not available(), reason="implicit is not installed (pip install graphrec[baselines])")


@pytest.mark.parametrize("cls, kw", [(ImplicitALS, {"factors": 8, "iterations": 5}),
                                     (ImplicitBPR, {"factors": 8, "iterations": 20})])
def test_top_items_match_implicits_recommend(synth_split, cls, kw):
    s = synth_split
    ours = cls(**kw, seed=3)
    model = ours._model()
    x = ours._matrix(s)
    model.fit(ours._weigh(x), show_progress=False)
    ours.fit(s)  # same seed, same data: the same factors
    users = np.arange(5)
    ids, _ = model.recommend(users, x[users], N=5, filter_already_liked_items=True)
    scores = ours.score_all(torch.from_numpy(users))
    scores[torch.from_numpy(x[users].toarray() > 0)] = -torch.inf
    assert np.array_equal(torch.topk(scores, 5).indices.numpy(), ids)
    items = torch.tensor([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]])
    torch.testing.assert_close(ours.score(torch.from_numpy(users), items), ours.score_all(torch.from_numpy(users)).gather(1, items))
