"""GMF, MLP, NeuMF, the trainer, run directories, recommendations and their CLI."""
import json
import os
import pickle
import shutil

import pytest
import torch
import torch.nn.functional as F

from graphrec.cli import main
from graphrec.errors import CheckpointError, DataError, GraphrecError
from graphrec.models import GMF, MLP, NeuMF, Recommender
from graphrec.api import TrainedRun
from graphrec.config import DataConfig, TrainConfig
from graphrec.api import load_run
from graphrec.training import Trainer, select_and_refit
from graphrec.training import trainer as trainer_mod
from graphrec.io import load_tensors
from graphrec.pipeline import Prepared
from graphrec.training.runs import CHECKPOINT, WEIGHTS, load_model

# A larger catalogue than the default synthetic data: 99 distinct test negatives out of ~135
# unseen items take seconds of rejection sampling per split, out of ~220 not.
@pytest.fixture(scope="module")
def wide(synthetic_data):
    return synthetic_data(num_items=300)


@pytest.fixture(scope="module")
def wide_dir(wide):
    return wide.dir


@pytest.fixture(scope="module")
def wide_ml(wide):
    return wide.ml


@pytest.fixture(scope="module")
def wide_split(wide):
    return wide.split


SMALL = {"gmf": {"factors": 4}, "mlp": {"layers": [8, 4]}, "neumf": {"factors": 4, "layers": [8, 4]}}


def config(model="neumf", epochs=2, **kw):
    """One training run (no refit: tests/training/test_refit.py covers selection, then refit)."""
    return TrainConfig(model=model, hparams=SMALL[model], epochs=epochs, batch_size=64, patience=0,
                       **{"refit": False, **kw})


def randomized(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    return model.eval()


@pytest.mark.parametrize("cls", [GMF, MLP, NeuMF])
def test_shapes_and_fast_full_scores_match_pairwise(cls):
    model = randomized(cls(7, 11, **SMALL[cls.registry_name]))
    u, i = torch.tensor([0, 3, 6]), torch.tensor([10, 0, 5])
    assert model(u, i).shape == (3,)
    assert model.score(u, torch.tensor([[1, 2], [3, 4], [5, 6]])).shape == (3, 2)
    fast = model.score_all(torch.arange(7))
    assert fast.shape == (7, 11)
    torch.testing.assert_close(fast, Recommender.score_all(model, torch.arange(7)), rtol=1e-5, atol=1e-5)


def test_initialisation_as_in_the_paper():
    m = NeuMF(500, 800, factors=8, layers=[64, 32, 16, 8])
    for emb in (m.gmf_user, m.mlp_item):
        assert abs(float(emb.weight.detach().std()) - 0.01) < 0.001
    lin = m.tower.linears[0]
    bound = (6 / (lin.in_features + lin.out_features)) ** 0.5  # Xavier uniform
    assert float(lin.weight.abs().max()) <= bound and float(lin.weight.abs().max()) > 0.8 * bound


def test_gmf_is_a_weighted_dot_product():
    m = randomized(GMF(3, 4, factors=2))
    expect = (m.user.weight[1] * m.item.weight[2] * m.out.weight[0]).sum() + m.out.bias[0]
    torch.testing.assert_close(m(torch.tensor([1]), torch.tensor([2]))[0], expect)


def test_loss_is_bce_with_logits_and_training_lowers_it(wide_split):
    model = NeuMF(wide_split.num_users, wide_split.num_items, **SMALL["neumf"])
    cfg = config()
    batch = trainer_mod.epoch_batches(model, wide_split, cfg, 1)
    u, i, y = (t[:256] for t in batch)
    assert set(y.tolist()) == {0.0, 1.0} and int(y.sum()) * 5 == pytest.approx(len(y), abs=60)
    loss = trainer_mod.batch_loss(model, cfg, (u, i, y))
    torch.testing.assert_close(loss, F.binary_cross_entropy_with_logits(model(u, i), y))
    opt = trainer_mod.make_optimizer(model, config(lr=0.01))
    for _ in range(30):
        opt.zero_grad()
        trainer_mod.batch_loss(model, cfg, (u, i, y)).backward()
        opt.step()
    assert float(trainer_mod.batch_loss(model, cfg, (u, i, y))) < float(loss) - 0.05


def test_sparse_embeddings_use_sparse_adam_and_learn(wide_split):
    model = GMF(wide_split.num_users, wide_split.num_items, factors=4, sparse=True)
    opt = trainer_mod.make_optimizer(model, config("gmf", l2=1e-4))
    assert isinstance(opt.sparse, torch.optim.SparseAdam) and len(opt.dense.param_groups[0]["params"]) == 2
    before = model.user.weight.detach().clone()
    u, i = torch.tensor([0, 1]), torch.tensor([2, 3])
    opt.zero_grad()
    F.binary_cross_entropy_with_logits(model(u, i), torch.ones(2)).backward()
    opt.step()
    changed = (model.user.weight != before).any(dim=1)
    assert changed[:2].all() and not changed[2:].any()  # only the rows the batch touched


def test_neumf_pretraining_mixes_outputs_with_alpha():
    gmf, mlp = randomized(GMF(5, 6, factors=4)), randomized(MLP(5, 6, layers=[8, 4]))
    neumf = NeuMF(5, 6, factors=4, layers=[8, 4]).load_pretrained(gmf, mlp, alpha=0.5).eval()
    u, i = torch.arange(5).repeat(6), torch.arange(6).repeat_interleave(5)
    torch.testing.assert_close(neumf(u, i), 0.5 * gmf(u, i) + 0.5 * mlp(u, i))
    with pytest.raises(ValueError, match="factors"):
        NeuMF(5, 6, factors=3, layers=[8, 4]).load_pretrained(gmf, mlp)


def test_same_seed_same_metrics(wide_ml, wide_split):
    a = select_and_refit(config(seed=3), (wide_ml, wide_split), None, progress=False).metrics()
    b = select_and_refit(config(seed=3), (wide_ml, wide_split), None, progress=False).metrics()
    c = select_and_refit(config(seed=4), (wide_ml, wide_split), None, progress=False).metrics()
    drop = ("train_seconds",)
    assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}
    assert a["HR@10"] != c["HR@10"] or a["NDCG@10"] != c["NDCG@10"]


def test_run_dir_round_trip(wide_ml, wide_split, tmp_path):
    cfg = config(data=DataConfig("ml-100k", str(wide_ml.root)))
    outcome = select_and_refit(cfg, None, tmp_path / "run", progress=False)
    model, metrics = outcome.model, outcome.metrics()
    for name in ("config.json", "model.pt", "checkpoint.pt", "metrics.json", "history.csv", "curves.png"):
        assert (tmp_path / "run" / name).is_file(), name
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "run").iterdir())
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]
    run = load_run(tmp_path / "run")
    assert run.config == cfg and isinstance(run.model, NeuMF)
    users = torch.arange(wide_split.num_users)
    torch.testing.assert_close(run.model.score_all(users), model.score_all(users))
    assert run.metrics["HR@10"] == metrics["HR@10"]


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory, wide_dir):
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "neumf", "--factors", "4", "--layers", "8,4", "--epochs", "1", "--batch-size", "128",
                 "--no-tuned", "--data-dir", str(wide_dir), "--out", str(out), "--name", "n", "--quiet"]) == 0
    return out / "n"


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_tampered_checkpoint_is_refused_without_running_code(synth_run, tmp_path, capsys):
    shutil.copytree(synth_run, tmp_path / "run")
    marker = tmp_path / "pwned"
    with open(tmp_path / "run" / WEIGHTS, "wb") as f:
        pickle.dump({"user.weight": _Exploit(str(marker))}, f)
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        load_run(tmp_path / "run")
    torch.save({"model": _Exploit(str(marker))}, tmp_path / "run" / CHECKPOINT)  # torch's own zip format
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        load_tensors(tmp_path / "run" / CHECKPOINT)
    assert main(["evaluate", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be loaded" in err
    assert not marker.exists()


def test_resume_after_a_kill_mid_epoch_equals_uninterrupted(wide_ml, wide_split, tmp_path, monkeypatch):
    full = select_and_refit(config(epochs=3), (wide_ml, wide_split), tmp_path / "full", progress=False).metrics()
    calls = {"n": 0}
    real = trainer_mod.batch_loss

    def dies_in_epoch_3(*a):
        calls["n"] += 1
        if calls["n"] == 2 * steps + 3:
            raise KeyboardInterrupt
        return real(*a)

    steps = -(-len(wide_split.train_user) * 5 // 64)
    monkeypatch.setattr(trainer_mod, "batch_loss", dies_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        select_and_refit(config(epochs=3), (wide_ml, wide_split), tmp_path / "killed", progress=False)
    monkeypatch.setattr(trainer_mod, "batch_loss", real)
    ck = load_tensors(tmp_path / "killed" / CHECKPOINT)  # the last good checkpoint: epoch 2
    assert ck["epoch"] == 2 and len(ck["history"]) == 2
    load_model(tmp_path / "killed", Prepared(wide_ml, wide_split))  # its best weights so far load too
    resumed = select_and_refit(config(epochs=3), (wide_ml, wide_split), tmp_path / "killed", resume=True, progress=False).metrics()
    drop = ("train_seconds",)
    assert {k: v for k, v in resumed.items() if k not in drop} == {k: v for k, v in full.items() if k not in drop}
    a, b = load_tensors(tmp_path / "full" / WEIGHTS), load_tensors(tmp_path / "killed" / WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)


def recommend(model, split, ml, user_id: int, k: int) -> list[dict]:
    run = TrainedRun.from_model(model, ml, split)
    return run.listing(*run.recommend(user_id, k))


def test_recommendations_exclude_rated_movies(wide_ml, wide_split):
    model = randomized(NeuMF(wide_split.num_users, wide_split.num_items, **SMALL["neumf"]))
    raw = int(wide_ml.users["raw_id"].iloc[4])
    rated = set(wide_ml.ratings.loc[wide_ml.ratings["user"] == 4, "item"])
    assert set(TrainedRun.from_model(model, wide_ml, wide_split).catalog.rated(4).tolist()) == rated
    recs = recommend(model, wide_split, wide_ml, raw, k=10)
    assert [r["rank"] for r in recs] == list(range(1, 11))
    ids = {wide_ml.movie_index(r["movie_id"]) for r in recs}
    assert not ids & rated
    scores = [r["score"] for r in recs]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    logits = model.score_all(torch.tensor([4]))[0]
    logits[list(rated)] = -float("inf")
    assert [wide_ml.movie_index(r["movie_id"]) for r in recs] == torch.topk(logits, 10).indices.tolist()
    top = recs[0]
    movie = wide_ml.movies.iloc[wide_ml.movie_index(top["movie_id"])]
    assert top["title"] == movie["title"] and top["year"] == movie["year"] and top["genres"] == movie["genres"]
    everything = recommend(model, wide_split, wide_ml, raw, k=10_000)
    assert len(everything) == wide_ml.num_items - len(rated)
    with pytest.raises(DataError, match=r"valid user ids lie in 1\.\.60"):
        recommend(model, wide_split, wide_ml, 999, k=5)
    with pytest.raises(GraphrecError, match="k must be >= 1"):
        recommend(model, wide_split, wide_ml, raw, k=0)


def test_cli_train_evaluate_recommend(synth_run, wide_dir, capsys):
    capsys.readouterr()
    assert json.loads((synth_run / "config.json").read_text())["hparams"] == {"factors": 4, "layers": [8, 4]}
    assert main(["evaluate", str(synth_run), "--full", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["users"] == 60 and res["HR@10"]["mean"] == pytest.approx(load_run(synth_run).metrics["HR@10"])
    assert main(["recommend", "--user", "3", "-k", "4", "--run", str(synth_run), "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)["recommendations"]
    assert len(recs) == 4 and {"title", "year", "genres", "score", "movie_id"} <= set(recs[0])


def test_cli_pretrain_and_resume(wide_dir, tmp_path, capsys):
    common = ["--epochs", "1", "--batch-size", "256", "--data-dir", str(wide_dir), "--out", str(tmp_path), "--quiet"]
    assert main(["train", "gmf", "--factors", "4", *common]) == 0
    assert main(["train", "mlp", "--layers", "8,4", *common]) == 0
    assert main(["train", "neumf", "--factors", "4", "--layers", "8,4", "--name", "p",
                 "--pretrain", f"{tmp_path / 'gmf'},{tmp_path / 'mlp'}", *common]) == 0
    cfg = json.loads((tmp_path / "p" / "config.json").read_text())
    assert [os.path.basename(p) for p in cfg["pretrain"]] == ["gmf", "mlp"]
    assert main(["train", "neumf", "--name", "p", "--resume", *common[:1], "2", *common[2:]]) == 0
    assert len(load_tensors(tmp_path / "p" / CHECKPOINT)["history"]) == 2
    capsys.readouterr()
    assert main(["train", "neumf", "--factors", "8", "--layers", "8,4", "--name", "q",
                 "--pretrain", f"{tmp_path / 'gmf'},{tmp_path / 'mlp'}", *common]) == 2
    assert "factors" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["recommend", "--user", "999"], "valid user ids lie in 1..60"),
    (["recommend", "--user", "1", "-k", "0"], "must be >= 1"),
    (["recommend", "--user", "x"], "invalid int value"),
    (["evaluate", "NOPE"], "no such run directory"),
    (["recommend", "--user", "1", "--run", "NOPE"], "no such run directory"),
    (["train", "gmf", "--layers", "8,4"], "does not take layers"),
    (["train", "mlp", "--factors", "8"], "does not take factors"),
    (["train", "neumf", "--layers", "8,x"], "comma-separated"),
    (["train", "neumf", "--lr", "-1"], "must be > 0, got -1.0"),
    (["train", "neumf", "--pretrain", "a"], "two run directories"),
    (["train", "nope"], "invalid choice"),
    (["train", "gmf", "--resume"], "--resume needs --name"),
])
def test_cli_errors_are_one_line_exit_2(argv, message, synth_run, wide_dir, tmp_path, capsys):
    argv = [a.replace("NOPE", str(tmp_path / "nope")) for a in argv]
    if argv[0] == "recommend" and "--run" not in argv:
        argv += ["--run", str(synth_run)]
    if argv[0] == "train":
        argv += ["--data-dir", str(wide_dir), "--out", str(tmp_path), "--epochs", "1"]
    capsys.readouterr()
    with_exit = None
    try:
        code = main(argv)
    except SystemExit as e:  # argparse errors
        code = with_exit = e.code
    err = capsys.readouterr().err
    assert code == 2, (with_exit, err)
    assert err.count("\n") == 1 and err.startswith("graphrec: error: ") and message in err
    assert not (tmp_path / "gmf").exists() and not (tmp_path / "mlp").exists()


@pytest.mark.slow
def test_recommend_default_model_trained_once_on_ml100k(ml100k_dir, monkeypatch, capsys):
    import graphrec.defaults as defaults
    from graphrec.defaults import default_recommender_dir

    monkeypatch.setattr(defaults, "recommender_config", lambda: TrainConfig(
        model="neumf", hparams={"factors": 8, "layers": [16, 8]}, epochs=1, batch_size=4096, lr=0.005,
        full_eval_every=0, data=DataConfig(dataset="ml-100k")))
    monkeypatch.setenv("GRAPHREC_DATA", str(ml100k_dir))
    assert main(["recommend", "--user", "1", "--json", "--quiet"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["recommendations"]) == 10 and first["run"] == str(default_recommender_dir())
    stamp = (default_recommender_dir() / "model.pt").stat().st_mtime_ns
    assert main(["recommend", "--user", "1", "-k", "3", "--quiet"]) == 0  # reused, not retrained
    out = capsys.readouterr().out
    assert (default_recommender_dir() / "model.pt").stat().st_mtime_ns == stamp
    assert first["recommendations"][0]["title"] in out
    assert main(["recommend", "--user", "944", "--quiet"]) == 2
    assert "valid user ids lie in 1..943" in capsys.readouterr().err
