"""Selection, then refit: the refit has seen the validation pairs, and the test item steers nothing."""
from dataclasses import replace

import pytest
import torch

from graphrec.config import TrainConfig
from graphrec.training import trainer as trainer_mod
from graphrec.training.protocol import refit_config, select_and_refit


def cfg(**kw):
    base = dict(model="gmf", hparams={"factors": 4}, epochs=6, batch_size=64, lr=0.01, patience=0, threads=1,
                full_eval_every=0)
    return TrainConfig(**{**base, **kw})


def test_validation_moves_into_training(synth_split):
    s = synth_split
    m = s.with_validation_in_train()
    assert not m.has_validation and len(m.train_user) == len(s.train_user) + len(s.valid_user)
    pairs = set(zip(m.train_user.tolist(), m.train_item.tolist()))
    assert set(zip(s.valid_user.tolist(), s.valid_item.tolist())) <= pairs
    assert torch.equal(m.test_item, s.test_item) and torch.equal(m.test_negatives, s.test_negatives)
    # the validation item is known at test time either way
    assert set(zip(*(t.tolist() for t in m.known_items("test")))) == set(zip(*(t.tolist() for t in s.known_items("test"))))


def test_refit_trains_on_the_validation_pairs_for_the_selected_epochs(synth_split, monkeypatch):
    seen = []
    real = trainer_mod.epoch_tensors

    def recording(users, items, *args, **kw):
        seen.append(set(zip(users.tolist(), items.tolist())))
        return real(users, items, *args, **kw)

    monkeypatch.setattr(trainer_mod, "epoch_tensors", recording)
    out = select_and_refit(cfg(), (None, synth_split), progress=False)
    valid = set(zip(synth_split.valid_user.tolist(), synth_split.valid_item.tolist()))
    selection, refit = seen[:6], seen[6:]
    assert all(not (valid & s) for s in selection)
    assert len(refit) == out.selected.best_epoch and all(valid <= s for s in refit)
    assert out.refit.best_epoch == out.selected.best_epoch  # the refit keeps its last epoch
    metrics = out.metrics()
    assert metrics["selected"]["best_epoch"] == metrics["best_epoch"] and "full_HR@10" in metrics["selected"]


def test_the_test_item_is_never_used_for_a_choice(synth_split):
    """Replacing every test item (and its negatives) changes no chosen epoch and no final weight."""
    s = synth_split
    g = torch.Generator().manual_seed(5)
    other = replace(s, test_item=torch.randint(s.num_items, s.test_item.shape, generator=g),
                    test_negatives=torch.randint(s.num_items, s.test_negatives.shape, generator=g))
    runs = [select_and_refit(cfg(epochs=8, eval_every=2, patience=2), (None, split), progress=False)
            for split in (s, other)]
    assert runs[0].selected.best_epoch == runs[1].selected.best_epoch
    assert [r.get("valid_full_NDCG@10") for r in runs[0].selected.history] == \
        [r.get("valid_full_NDCG@10") for r in runs[1].selected.history]
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_patience_counts_evaluations_and_the_best_checkpoint_is_kept(synth_split, monkeypatch):
    scores = iter([0.1, 0.5, 0.4, 0.3, 0.9])  # evaluations at epochs 2, 4, 6, 8, 10

    def fake_eval(self, epoch):
        return {"valid_full_NDCG@10": next(scores)}

    monkeypatch.setattr(trainer_mod.Trainer, "evaluate_epoch", fake_eval)
    c = cfg(epochs=20, eval_every=2, patience=2, refit=False)
    out = select_and_refit(c, (None, synth_split), progress=False)
    t = out.selected
    assert [r["epoch"] for r in t.history] == [1, 2, 3, 4, 5, 6, 7, 8]  # stopped: 2 evaluations without gain
    assert t.best_epoch == 4 and out.refit is None


def test_refit_config_runs_exactly_the_chosen_epochs():
    r = refit_config(cfg(epochs=50, patience=3), 17)
    assert (r.epochs, r.patience, r.refit, r.data.validation_in_train) == (17, 0, False, True)


def test_loss_options_and_negatives(synth_split):
    from graphrec.models import GMF

    model = GMF(synth_split.num_users, synth_split.num_items, factors=4, bias=True)
    n = len(synth_split.train_user)
    bpr = trainer_mod.epoch_batches(model, synth_split, cfg(loss="bpr", num_ng=3), 1)
    assert len(bpr) == 3 and len(bpr[0]) == 3 * n  # BPR honours num_ng
    u, p, q = (t[:32] for t in bpr)
    c = cfg(loss="bpr", l2=0.5, l2_scope="batch")
    reg = sum(e.pow(2).sum() for e in (model.user(u), model.item(p), model.item(q))) / (2 * 32)
    expected = -torch.nn.functional.logsigmoid(model(u, p) - model(u, q)).mean() + 0.5 * reg
    torch.testing.assert_close(trainer_mod.batch_loss(model, c, (u, p, q)), expected)
    assert trainer_mod.make_optimizer(model, c).l2 == 0.0  # no weight decay on top
    assert trainer_mod.make_optimizer(model, cfg(l2=0.5)).l2 == 0.5


def test_unknown_options_are_refused():
    for bad in ({"loss": "hinge"}, {"l2_scope": "all"}, {"select": "AUC"}, {"eval_every": 0}):
        with pytest.raises(ValueError):
            cfg(**bad)
