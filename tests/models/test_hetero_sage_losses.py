"""HeteroSAGE's full-softmax loss and its new-user loss, against brute-force oracles and a planted rule."""
import pytest
import torch
import torch.nn.functional as F

from graphrec.config import DataConfig
from graphrec.pipeline import build_cold_split
from graphrec.data import load_movielens
from graphrec.models import HeteroSAGE
from graphrec.config import TrainConfig
from graphrec.training.trainer import Trainer
from synthetic import write_ml100k
from test_hetero_sage import planted_weight, rule_auc, rule_matrix


@pytest.mark.parametrize("prior", ["none", "popularity", "group"])
def test_new_user_representations_are_those_of_users_without_edges(synth, synth_split, prior):
    torch.manual_seed(0)
    model = HeteroSAGE.build(synth, synth_split, hidden=8, num_layers=2, prior=prior).eval()
    users = torch.tensor([0, 3, 7])
    u, m = model.edge_index
    alone = ~torch.isin(u, users)
    oracle = model.with_nodes(edges=None)
    oracle.set_graph(u[alone], m[alone])  # the same users with every edge removed, through the encoder
    with torch.no_grad():
        hu, _ = oracle.encode_graph(oracle.graphs())
        torch.testing.assert_close(model.new_user_representations(users), hu[users])


@pytest.mark.parametrize("loss,cold_weight", [("softmax", 0.0), ("softmax", 0.7), ("bpr", 0.7)])
def test_softmax_loss_is_cross_entropy_over_the_movies_with_edges(synth, synth_split, loss, cold_weight):
    torch.manual_seed(0)
    model = HeteroSAGE.build(synth, synth_split, hidden=8, node_dropout=0.0, loss=loss, cold_weight=cold_weight)
    edge_ids, user, pos, neg = (t[:40] for t in model.epoch_batches(synth_split, TrainConfig(num_ng=2),
                                                                    torch.Generator().manual_seed(0)))
    with torch.no_grad():
        got = model.batch_loss((edge_ids, user, pos, neg), TrainConfig())
        hu, hm = model.encode_graph(model.graphs(model.step_edges(edge_ids)))
        movies = torch.unique(model.edge_index[1])  # only movies with training edges compete
        target = (movies[None, :] == pos[:, None]).float().argmax(1)

        def ce(eu):
            return F.cross_entropy(model.decode(eu[:, None, :], hm[movies][None]), target)

        if loss == "softmax":
            main = ce(hu[user])
        else:  # BPR against the sampled negatives
            main = -F.logsigmoid(model.decode(hu[user], hm[pos])[:, None]
                                 - model.decode(hu[user][:, None, :], hm[neg])).mean()
        # the new-user term is a full softmax whatever the main loss
        expected = main + cold_weight * ce(model.new_user_representations(user))
    torch.testing.assert_close(got, expected)


def test_bad_loss_settings_are_refused(synth, synth_split):
    for bad in ({"loss": "softmax", "decoder": "mlp"}, {"cold_weight": -0.1}, {"cold_weight": 1.0, "conv": "gat"}):
        with pytest.raises(ValueError):
            HeteroSAGE.build(synth, synth_split, hidden=8, **bad)


def test_softmax_with_the_new_user_loss_learns_the_planted_rule(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k", num_users=300, num_items=300, per_user=20, seed=1,
                          weight_fn=planted_weight)
    ml = load_movielens("ml-100k", folder)
    cold = build_cold_split(DataConfig(split_seed=0), ml)
    split = cold.warm_split()
    torch.manual_seed(0)
    model = HeteroSAGE.build(ml, split, hidden=32, loss="softmax", cold_weight=1.0)
    Trainer(model, split, TrainConfig(model="hetero-sage", epochs=12, batch_size=1024, lr=0.01, patience=0),
            progress=False, tensorboard=False).fit()
    model.set_graph(*cold.visible(0))  # cold users and cold movies have no edge at all
    warm_items = torch.tensor(sorted(set(range(ml.num_items)) - set(cold.cold_items.tolist())))
    with torch.no_grad():
        new_users = model.score_all(cold.cold_users)[:, warm_items]
        new_movies = model.score_all(cold.movie_users())[:, cold.cold_items]
    assert rule_auc(new_users, rule_matrix(ml, cold.cold_users, warm_items)) > 0.9  # chance: 0.5
    assert rule_auc(new_movies, rule_matrix(ml, cold.movie_users(), cold.cold_items)) > 0.9
