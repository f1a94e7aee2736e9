"""graphrec.training.request: a TrainRequest resolved into a run, from Python and from the CLI."""
import json

import pytest

from graphrec.config import DataConfig, TrainConfig
from graphrec.errors import GraphrecError
from graphrec.models import check_hparams, hparam_names
from graphrec.training.request import TrainRequest, claim_run_dir, resolve_config, train
from tests.helpers import cli


def test_hparam_names_are_the_constructor_keywords_with_defaults():
    assert hparam_names("gmf") == ("factors", "bias", "sparse")
    assert hparam_names("lightgcn") == ("factors", "num_layers")
    assert hparam_names("node2vec") is None  # takes any keyword: not checked
    check_hparams("node2vec", {"window": 3})
    with pytest.raises(GraphrecError, match=r"model 'gmf' does not take layers \(it takes: factors, bias, sparse\)"):
        check_hparams("gmf", {"factors": 4, "layers": [8]})
    with pytest.raises(GraphrecError, match="unknown model 'nope'"):
        check_hparams("nope", {})


def test_defaults_then_tuned_file_then_explicit(tmp_path):
    tuned = tmp_path / "gmf.json"
    tuned.write_text(json.dumps({"model": "gmf", "hparams": {"factors": 12}, "train": {"lr": 0.02, "epochs": 7}}))
    cfg = resolve_config(TrainRequest("gmf", settings={"lr": 0.5}, hparams={"bias": True}, config=str(tuned)))
    assert (cfg.hparams["factors"], cfg.lr, cfg.epochs) == (12, 0.5, 7)
    assert cfg.hparams == {"factors": 12, "bias": True}
    assert cfg.num_ng == TrainConfig().num_ng  # untouched: the default, written once in TrainConfig
    untuned = resolve_config(TrainRequest("gmf", tuned=False))
    assert (untuned.lr, untuned.hparams) == (TrainConfig().lr, {})


def test_a_tuned_config_with_a_key_the_model_does_not_take_is_refused(tmp_path, capsys, synth_dir):
    bad = tmp_path / "gmf.json"
    bad.write_text(json.dumps({"model": "gmf", "hparams": {"factors": 4, "layerz": [8]}}))
    with pytest.raises(GraphrecError, match="does not take layerz"):
        resolve_config(TrainRequest("gmf", config=str(bad)))
    code, out, err = cli(["train", "gmf", "--config", bad, "--data-dir", synth_dir, "--out", tmp_path / "runs"], capsys)
    assert code == 2 and "does not take layerz" in err and "Traceback" not in err
    assert not (tmp_path / "runs" / "gmf").exists() or not any((tmp_path / "runs" / "gmf").iterdir())


def test_unnamed_runs_are_numbered_and_a_named_one_is_claimed(tmp_path):
    import contextlib

    with contextlib.ExitStack() as claims:
        first = claim_run_dir(TrainRequest("gmf", out=tmp_path), claims)
        second = claim_run_dir(TrainRequest("gmf", out=tmp_path), claims)
        assert (first.name, second.name) == ("gmf", "gmf-2")
    with pytest.raises(GraphrecError, match="--resume needs --name"):
        claim_run_dir(TrainRequest("gmf", out=tmp_path, resume=True))


def test_train_from_python_gives_the_run_the_cli_gives(tmp_path, synth_dir, capsys):
    data = DataConfig(dataset="ml-100k", data_dir=str(synth_dir))
    settings = {"epochs": 1, "batch_size": 256, "seed": 3, "refit": False}
    started = train(TrainRequest("gmf", settings=settings, hparams={"factors": 4}, data=data, tuned=False,
                                 out=tmp_path / "py", progress=False))
    assert started.run_dir == tmp_path / "py" / "gmf" and (started.run_dir / "model.pt").is_file()
    code, out, err = cli(["train", "gmf", "--epochs", 1, "--batch-size", 256, "--seed", 3, "--no-refit", "--factors", 4,
                          "--no-tuned", "--data-dir", synth_dir, "--out", tmp_path / "cli", "--quiet"], capsys)
    assert code == 0, err
    import torch

    a = torch.load(started.run_dir / "model.pt", weights_only=True)
    b = torch.load(tmp_path / "cli" / "gmf" / "model.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
