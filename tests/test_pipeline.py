"""graphrec.pipeline: the one split builder, the HeteroData training graph every model reads,
the one build-pretrain-train sequence, and HeteroData from elsewhere."""
import pytest
import torch
from torch_geometric.data import HeteroData

from graphrec.data import FeatureTable, homogeneous, save_ncf
from graphrec.data.graph import RATED_BY, RATES, homogeneous_view, user_features
from graphrec.errors import CheckpointError, GraphrecError
from graphrec.pipeline import build_split, from_hetero, prepare
from graphrec.training.protocol import build, train_run
from graphrec.config import DataConfig, TrainConfig


def test_split_files_with_the_wrong_dataset_are_refused(synth, synth_dir, tmp_path):
    from synthetic import write_ml100k

    other = write_ml100k(tmp_path / "other" / "ml-100k", num_users=40)
    save_ncf(prepare(DataConfig(data_dir=str(other))).split, tmp_path / "split")
    with pytest.raises(GraphrecError, match="do not belong together"):
        build_split(DataConfig(data_dir=str(synth_dir), split_dir=str(tmp_path / "split")))
    alone = build_split(DataConfig(split_dir=str(tmp_path / "split")))  # no dataset: a bare graph
    assert alone.ml is None and alone.split.num_users == 40 and "x" not in alone.graph["user"]


def test_the_training_graph_is_the_splits_training_edges_with_features(synth, synth_split):
    data = prepare(DataConfig(), synth)
    g, s = data.graph, data.split
    assert torch.equal(g[RATES].edge_index, torch.stack([s.train_user, s.train_item]))
    assert torch.equal(g[RATED_BY].edge_index, torch.stack([s.train_item, s.train_user]))
    held_out = set(zip(s.test_user.tolist(), s.test_item.tolist()))
    assert not held_out & set(zip(*g[RATES].edge_index.tolist()))
    r = synth.ratings.set_index(["user", "item"])
    for k in (0, 7, len(s.train_user) - 1):
        u, i = int(s.train_user[k]), int(s.train_item[k])
        assert g[RATES].rating[k] == r.loc[(u, i), "rating"] and g[RATES].time[k] == r.loc[(u, i), "timestamp"]
    assert torch.equal(g["user"].x, user_features(synth)[0])
    codes = FeatureTable.from_graph(g)
    gender = synth.users["gender"].to_numpy()
    assert [int(c) for c in codes.user_gender[:10]] == [{"M": 1, "F": 2}[x] for x in gender[:10]]


def test_walks_view_through_pyg_to_homogeneous_equals_the_hand_built_one(synth_split):
    s = synth_split
    ours = homogeneous(s.train_user, s.train_item, s.num_users, s.num_items)
    pyg = homogeneous_view(s.graph)
    assert torch.equal(pyg.edge_index, ours.edge_index) and pyg.num_nodes == ours.num_nodes


def pyg_like(num_users=30, num_movies=120, per_user=6, seed=0) -> HeteroData:
    """Shaped like torch_geometric.datasets.MovieLens100K: user/movie x, rates + rated_by with rating and time."""
    gen = torch.Generator().manual_seed(seed)
    users = torch.arange(num_users).repeat_interleave(per_user)
    movies = torch.stack([torch.randperm(num_movies, generator=gen)[:per_user] for _ in range(num_users)]).flatten()
    time = torch.randperm(len(users), generator=gen) * 10
    data = HeteroData()
    data["user"].x = torch.rand(num_users, 24, generator=gen)
    data["movie"].x = torch.rand(num_movies, 20, generator=gen)
    data["user", "rates", "movie"].edge_index = torch.stack([users, movies])
    data["user", "rates", "movie"].rating = torch.randint(1, 6, (len(users),), generator=gen)
    data["user", "rates", "movie"].time = time
    data["movie", "rated_by", "user"].edge_index = torch.stack([movies, users])
    return data


def test_a_hetero_graph_from_elsewhere_trains_through_the_pipeline():
    src = pyg_like()
    data = from_hetero(src, seed=0)
    s, (eu, ei) = data.split, src["user", "rates", "movie"].edge_index
    t = src["user", "rates", "movie"].time
    for u in (0, 11, 29):  # the held-out test item is the user's latest edge, validation the one before
        mine = (eu == u).nonzero().flatten()
        order = mine[torch.argsort(t[mine])]
        assert int(s.test_item[s.test_user == u]) == int(ei[order[-1]])
        assert int(s.valid_item[s.valid_user == u]) == int(ei[order[-2]])
    assert torch.equal(data.graph["user"].x, src["user"].x)
    assert data.graph[RATES].edge_index.shape[1] == len(s.train_user) == 30 * 4
    cfg = TrainConfig(model="lightgcn", hparams={"factors": 8, "num_layers": 1}, epochs=1, batch_size=64)
    trainer = train_run(cfg, None, data, progress=False)
    model, metrics = trainer.model, trainer.result
    assert model._adj._nnz() == 2 * 30 * 4  # propagates over the graph's training edges only
    assert 0.0 <= metrics["HR@10"] <= 1.0
    with pytest.raises((GraphrecError, CheckpointError), match="side features"):
        train_run(TrainConfig(model="feature-mlp", epochs=1), None, data, progress=False)


def test_pretraining_from_models_and_from_runs_is_one_sequence(synth, tmp_path):
    data = prepare(DataConfig(), synth)
    small = dict(epochs=1, batch_size=256, patience=0, full_eval_every=0)
    gmf = train_run(TrainConfig(model="gmf", hparams={"factors": 4}, **small), tmp_path / "gmf", data,
                    progress=False).model
    mlp = train_run(TrainConfig(model="mlp", hparams={"layers": [8, 4]}, **small), tmp_path / "mlp", data,
                    progress=False).model
    neumf = TrainConfig(model="neumf", hparams={"factors": 4, "layers": [8, 4]}, **small)
    a = build(neumf, data, pretrained=[gmf, mlp])
    b = build(TrainConfig(**{**neumf.to_dict(), "pretrain": [str(tmp_path / "gmf"), str(tmp_path / "mlp")]}), data)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    fresh = build(neumf, data)  # same seed, no pretraining: the copy above did change the weights
    assert any(not torch.equal(x, y) for x, y in zip(a.state_dict().values(), fresh.state_dict().values()))
