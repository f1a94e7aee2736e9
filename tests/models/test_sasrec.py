"""SASRec: causality, padding, the sequence it reads, a planted order rule, the refit's input, the CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from graphrec.data.split import leave_one_out
from graphrec.models import TRAINABLE, capabilities
from graphrec.models.sasrec import SASRec, user_sequences
from graphrec.pipeline import Prepared
from graphrec.config import TrainConfig
from graphrec.training.protocol import select_and_refit


def _model(num_items=12, max_len=8, **kw):
    torch.manual_seed(0)
    m = SASRec(3, num_items, factors=8, num_layers=2, heads=2, max_len=max_len, **kw)
    for p in m.parameters():  # non-trivial biases and norms too
        torch.nn.init.normal_(p, std=0.3)
    return m.eval()


def _walk_split(num_users=40, num_items=20, length=12, seed=0):
    """Every user walks the items in order: after item A always comes A + 1 (mod num_items)."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for u in range(num_users):
        start = int(rng.integers(num_items))
        for t in range(length):
            users.append(u)
            items.append((start + t) % num_items)
            times.append(1000 + int(rng.integers(0, 3)) + 10 * t)
    return leave_one_out(users, items, num_users, num_items, times, num_negatives=5, seed=seed)


def test_registered_as_trainable():
    assert "sasrec" in TRAINABLE and capabilities("sasrec").trainable and capabilities("sasrec").score_all


def test_sequences_are_ordered_by_time_then_item_and_left_padded():
    u = torch.tensor([0, 0, 0, 1, 1, 2, 0])
    i = torch.tensor([3, 1, 2, 4, 0, 1, 7])
    t = torch.tensor([5, 1, 5, 2, 1, 0, 9])
    seq = user_sequences(u, i, t, 4, 3, pad=99)
    assert seq.tolist() == [[2, 3, 7], [99, 0, 4], [99, 99, 1], [99, 99, 99]]  # user 0: latest 3 of 1, 2, 3, 7


def test_causal_a_later_item_never_changes_an_earlier_output():
    m = _model()
    seq = torch.tensor([[12, 12, 3, 5, 1, 7, 2, 9]])
    h, _ = m.encode(seq)
    for t in range(2, 8):
        changed = seq.clone()
        changed[0, t] = (int(seq[0, t]) + 4) % 12
        h2, _ = m.encode(changed)
        torch.testing.assert_close(h2[0, :t], h[0, :t], rtol=0, atol=0)
        assert float((h2[0, t:] - h[0, t:]).abs().max().detach()) > 1e-3  # it does change itself and what follows


def test_padding_changes_nothing():
    m = _model()
    seq = torch.tensor([[3, 5, 1, 7]])
    h, w = m.encode(seq, need_weights=True)
    for extra in (1, 4):
        padded = torch.cat([torch.full((1, extra), 12), seq], 1)
        hp, wp = m.encode(padded, need_weights=True)
        torch.testing.assert_close(hp[:, extra:], h, rtol=1e-6, atol=1e-6)
        assert all(float(x[0, extra:, :extra].abs().max()) == 0.0 for x in wp)  # real tokens ignore padding
    # a user's scores do not depend on who else is in the batch (a longer history pads theirs)
    hist = torch.full((3, 9), 12)
    hist[0, -3:] = torch.tensor([3, 5, 1])
    hist[1, :] = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8])
    m.history.copy_(hist)
    alone = m.score_all(torch.tensor([0]))
    together = m.score_all(torch.tensor([1, 0]))[1:]
    torch.testing.assert_close(alone, together, rtol=1e-5, atol=1e-6)
    items = torch.tensor([[4, 0, 11]])
    torch.testing.assert_close(m.score(torch.tensor([0]), items), alone[:, [4, 0, 11]], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(m(torch.tensor([0, 0, 0]), items[0]), alone[0, [4, 0, 11]], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["bce", "bpr", "sampled", "ce"])
def test_learns_a_planted_order_rule(loss):
    """After item A always comes A + 1: trained on every position, it ranks A + 1 first after A."""
    split = _walk_split()
    cfg = TrainConfig(model="sasrec", hparams={"factors": 16, "num_layers": 1, "max_len": 10, "dropout": 0.0,
                                               "loss": loss}, epochs=60, batch_size=16, lr=0.01, num_ng=2,
                      patience=0, eval_every=60, full_eval_every=0, threads=1, refit=False)
    out = select_and_refit(cfg, Prepared(None, split), progress=False)
    model = out.model.eval()
    last = model.history[:, -1]
    scores = model.score_all(torch.arange(split.num_users))  # the next item after the whole history,
    scores[split.train_user, split.train_item] = -float("inf")  # among the movies not seen yet (as evaluated)
    top = scores.argmax(1)
    assert float((top == (last + 1) % split.num_items).float().mean()) > 0.9
    assert out.metrics()["full_HR@10"] > 0.9


def test_refit_appends_the_validation_item_to_the_input():
    split = _walk_split(num_users=10)
    plain = SASRec.build(None, split, max_len=20)
    merged = split.with_validation_in_train()
    refit = SASRec.build(None, merged, max_len=20)
    users = split.valid_user.long()
    assert torch.equal(refit.history[users, -1], split.valid_item.long())
    assert torch.equal(refit.history[users, :-1], plain.history[users, 1:])
    # through the protocol: the refit model's input ends with the validation item, the selected one's does not
    cfg = TrainConfig(model="sasrec", hparams={"factors": 8, "num_layers": 1, "max_len": 20}, epochs=2,
                      batch_size=8, patience=0, full_eval_every=0, threads=1)
    out = select_and_refit(cfg, Prepared(None, split), progress=False)
    assert torch.equal(out.refit.model.history[users, -1], split.valid_item.long())
    assert torch.equal(out.selected.model.history[users, -1], plain.history[users, -1])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="loss"):
        SASRec(2, 5, loss="mse")
    with pytest.raises(ValueError, match="divisible"):
        SASRec(2, 5, factors=10, heads=3)


def test_cli_trains_and_reloads(synth_dir, tmp_path):
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "graphrec", "train", "sasrec", "--data-dir", str(synth_dir), "--epochs", "2",
           "--factors", "8", "--num-layers", "1", "--batch-size", "16", "--threads", "1", "--out", str(out),
           "--name", "s", "--no-tuned"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads((out / "s" / "metrics.json").read_text())
    assert 0.0 <= metrics["full_HR@10"] <= 1.0
    from graphrec.api import load_run

    run = load_run(out / "s")
    assert isinstance(run.model, SASRec) and run.model.history.shape[1] == 51


def test_integrated_gradients_are_complete():
    m = _model(num_items=12, max_len=8)
    m.history[0] = torch.tensor([12, 12, 12, 3, 5, 1, 7, 2, 9])
    items, contrib = m.history_attributions(0, 4, steps=256)
    assert items.tolist() == [3, 5, 1, 7, 2, 9]
    with torch.no_grad():
        full = m.score(torch.tensor([0]), torch.tensor([[4]]))[0, 0]
        seq = torch.tensor([[3, 5, 1, 7, 2, 9]])
        zero = m.encode_embedded(torch.zeros(1, 6, 8), seq == 12)[0][0, -1] @ m.item_emb.weight[4]
    torch.testing.assert_close(contrib.sum(), full - zero, rtol=1e-2, atol=1e-3)


def _pairs_split(num_users=60, seed=0):
    """Planted pairs: trigger movie k (0..9) is always followed by movie 10 + k; the other movies (20..39)
    are noise in random order around three such pairs per user."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for u in range(num_users):
        blocks = [[int(k), 10 + int(k)] for k in rng.choice(10, 3, replace=False)]
        blocks += [[20 + int(n)] for n in rng.choice(20, 7, replace=False)]
        order = [x for j in rng.permutation(len(blocks)) for x in blocks[j]]
        users += [u] * len(order)
        items += order
        times += list(range(len(order)))
    return leave_one_out(users, items, num_users, 40, times, num_negatives=5, seed=seed)


def test_after_a_comes_b_learned_and_explained():
    """Trained on planted pairs, a history of noise ending with trigger A ranks its B first, and
    integrated gradients name A as what drove B."""
    split = _pairs_split()
    cfg = TrainConfig(model="sasrec", hparams={"factors": 16, "num_layers": 1, "max_len": 12, "dropout": 0.0,
                                               "loss": "ce"}, epochs=60, batch_size=16, lr=0.01, patience=0,
                      eval_every=60, full_eval_every=0, threads=1, refit=False)
    model = select_and_refit(cfg, Prepared(None, split), progress=False).model.eval()
    rng = np.random.default_rng(1)
    ranks, explained = [], 0
    for k in range(10):
        noise = [20 + int(n) for n in rng.choice(20, 5, replace=False)]
        model.history[0] = torch.tensor([40] * 7 + noise + [k])
        scores = model.score_all(torch.tensor([0]))[0]
        scores[noise + [k]] = -float("inf")  # the movies seen are not recommended again
        ranks.append(int((scores > scores[10 + k]).sum()))
        items, contrib = model.history_attributions(0, 10 + k)
        explained += int(items[int(contrib.argmax())]) == k
    assert sum(r == 0 for r in ranks) >= 8 and max(ranks) < 5 and explained >= 9, (ranks, explained)


def test_graph_propagation_is_lightgcn_two_hops():
    """P = N^T N, N = D_u^-1/2 R D_i^-1/2, against a dense brute force; the model's table is (E + P E) / 2."""
    from graphrec.models.sasrec import item_propagation

    u = torch.tensor([0, 0, 1, 1, 1, 2, 0])
    i = torch.tensor([0, 1, 1, 2, 3, 3, 0])  # a repeated pair counts once
    r = torch.zeros(3, 5)
    r[u, i] = 1.0
    du, di = r.sum(1).clamp_min(1), r.sum(0).clamp_min(1)
    n = r / du.sqrt()[:, None] / di.sqrt()[None, :]
    p = item_propagation(u, i, 3, 5)
    torch.testing.assert_close(p.to_dense(), n.T @ n)
    m = SASRec(3, 5, factors=4, max_len=3, graph=p)
    e = m.item_emb.weight[:5]
    torch.testing.assert_close(m.table()[:5], (e + n.T @ n @ e) / 2)
    assert float(m.table()[5].abs().max()) == 0.0  # padding stays zero


def test_recommend_explain_names_the_recent_movies_that_drove_each_score(synth, synth_split):
    """``run.explain_recommendations`` on a sequential run: each movie gets the past movies with the largest
    integrated-gradients contributions, the same as the model's own attribution, titled."""
    from graphrec.api import RECENT, TrainedRun

    cfg = TrainConfig(model="sasrec", hparams={"factors": 8, "num_layers": 1, "max_len": 10, "loss": "ce"},
                      epochs=2, batch_size=64, patience=0, full_eval_every=0, threads=1, refit=False)
    model = select_and_refit(cfg, Prepared(synth, synth_split), progress=False).model.eval()
    run = TrainedRun.from_model(model, synth, synth_split)
    user = int(synth.users["raw_id"].iloc[3])
    recs = run.explain_recommendations(user, run.listing(*run.recommend(user, 3)))
    for x in recs:
        past, contribution = model.history_attributions(3, synth.movie_index(x["movie_id"]))
        best = torch.argsort(contribution, descending=True)[:RECENT]
        got = x["because_you_recently_watched"]
        assert [m["movie_id"] for m in got] == [int(synth.movies["raw_id"].iloc[int(past[j])]) for j in best]
        assert [m["contribution"] for m in got] == pytest.approx([float(contribution[j]) for j in best])
        assert all(m["title"] for m in got)
