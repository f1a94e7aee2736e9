"""LightGCN: graph from training edges only, PyG's propagation, BPR + ego L2, cached full ranking."""
import math

import pytest
import torch
from torch_geometric.nn import LightGCN as PyGLightGCN

from graphrec.models import LightGCN
from graphrec.config import TrainConfig
from graphrec.api import load_run
from graphrec.training import select_and_refit
from graphrec.training.trainer import batch_loss, make_optimizer


@pytest.fixture()
def model(synth, synth_split):
    torch.manual_seed(0)
    return LightGCN.build(synth, synth_split, factors=8, num_layers=2)


def test_graph_is_training_edges_with_symmetric_normalisation(model, synth_split):
    s = synth_split
    adj = model.adjacency().to_dense()
    assert int((adj != 0).sum()) == 2 * len(s.train_user)
    assert torch.equal(adj, adj.T)
    deg_u = torch.bincount(s.train_user, minlength=s.num_users).float()
    deg_i = torch.bincount(s.train_item, minlength=s.num_items).float()
    u, i = int(s.train_user[0]), int(s.train_item[0])
    assert adj[u, s.num_users + i] == pytest.approx(1 / math.sqrt(deg_u[u] * deg_i[i]))
    # held-out edges are not in the graph
    assert adj[s.test_user, s.num_users + s.test_item].abs().sum() == 0


def test_propagation_matches_pyg_lightgcn_and_its_gradient(model, synth_split):
    s = synth_split
    ref = PyGLightGCN(model.gnn.embedding.num_embeddings, 8, 2)  # normalises edge_index itself (gcn_norm)
    ref.load_state_dict(model.gnn.state_dict())
    from graphrec.data.graph import homogeneous

    edge_index = homogeneous(s.train_user, s.train_item, s.num_users, s.num_items).edge_index
    expected = ref.get_embedding(edge_index)
    got = model.embeddings()
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    g_ref = torch.autograd.grad(expected.pow(2).sum(), ref.embedding.weight)[0]
    g_got = torch.autograd.grad(got.pow(2).sum(), model.gnn.embedding.weight)[0]
    torch.testing.assert_close(g_got, g_ref, atol=1e-6, rtol=1e-5)


def test_scores_agree_and_cache_follows_weights(model, synth_split):
    model.eval()
    users = torch.arange(5)
    full = model.score_all(users)
    assert full.shape == (5, synth_split.num_items)
    items = torch.randint(synth_split.num_items, (5, 7))
    torch.testing.assert_close(model.score(users, items), full.gather(1, items))
    with torch.no_grad():
        torch.testing.assert_close(model(users, items[:, 0]), full[torch.arange(5), items[:, 0]])
        model.gnn.embedding.weight.mul_(2)  # in-place update, as an optimizer step does
    torch.testing.assert_close(model.score_all(users), 4 * full)  # dot products of doubled embeddings


def test_cache_is_dropped_after_a_training_step(model):
    from graphrec.training.trainer import make_optimizer

    opt = make_optimizer(model, TrainConfig(model="lightgcn", lr=0.1))  # fused Adam: no version bump
    users = torch.arange(4)
    model.eval()
    before = model.score_all(users)
    model.train()
    u, p, n = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([4, 5])
    loss = batch_loss(model, TrainConfig(model="lightgcn"), (u, p, n))
    loss.backward()
    opt.step()
    model.eval()
    after = model.score_all(users)
    with torch.no_grad():
        fresh = model.embeddings()
    torch.testing.assert_close(after, fresh[:4] @ fresh[model.num_users:].T)
    assert not torch.allclose(after, before)


def test_ego_l2_is_in_the_loss_not_in_weight_decay(model):
    cfg = TrainConfig(model="lightgcn", l2=0.1)
    assert make_optimizer(model, cfg).param_groups[0]["weight_decay"] == 0.0
    u, p, n = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([4, 5])
    w = model.gnn.embedding.weight
    ego = w[u].pow(2).sum() + w[p + model.num_users].pow(2).sum() + w[n + model.num_users].pow(2).sum()
    assert float(model.regularization(u, p, n)) == pytest.approx(float(ego) / 4)
    with_l2 = batch_loss(model, cfg, (u, p, n))
    without = batch_loss(model, TrainConfig(model="lightgcn", l2=0.0), (u, p, n))
    assert float(with_l2 - without) == pytest.approx(0.1 * float(ego) / 4, rel=1e-5)


def test_trains_and_reloads_from_run_dir(synth_dir, synth, synth_split, tmp_path):
    from graphrec.evaluation import evaluate
    from graphrec.config import DataConfig

    cfg = TrainConfig(model="lightgcn", hparams={"factors": 16, "num_layers": 2}, epochs=6, batch_size=128,
                      lr=0.01, l2=1e-4, patience=0, data=DataConfig(dataset="ml-100k", data_dir=str(synth_dir)))
    outcome = select_and_refit(cfg, (synth, synth_split), tmp_path / "run", progress=False)
    model, res = outcome.model, outcome.metrics()
    run = load_run(tmp_path / "run")
    again = evaluate(run.model, run.split, 10, "test")
    assert again["HR@10"] == pytest.approx(res["HR@10"]) and again["full_HR@10"] == pytest.approx(res["full_HR@10"])
    torch.manual_seed(0)
    untrained = evaluate(LightGCN.build(synth, synth_split, factors=16, num_layers=2), synth_split, 10, "test")
    assert res["NDCG@10"] > untrained["NDCG@10"] + 0.05
