"""graphrec train MODEL: the shipped tuned config is the default recipe; explicit flags override it."""
import argparse
import json

import pytest

from graphrec.cli.train import add_parser, request_of
from graphrec.config import TrainConfig


def build_config(args):
    from graphrec.training.request import resolve_config

    return resolve_config(request_of(args))


def parse(*argv):
    p = argparse.ArgumentParser()
    add_parser(p.add_subparsers())
    return p.parse_args(["train", *argv])


@pytest.fixture()
def shipped(tmp_path, monkeypatch):
    import graphrec.catalogue as catalogue

    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "neumf.json").write_text(json.dumps(
        {"model": "neumf", "hparams": {"factors": 32, "layers": [64, 32], "dropout": 0.1},
         "train": {"lr": 0.002, "num_ng": 6, "epochs": 30, "l2": 1e-5, "l2_scope": "batch"}}))
    monkeypatch.setattr(catalogue, "CONFIG_DIR", tmp_path)
    return tmp_path


def test_no_flags_take_the_shipped_tuned_config_with_refit(shipped):
    cfg = build_config(parse("neumf"))
    assert (cfg.lr, cfg.num_ng, cfg.epochs, cfg.l2, cfg.l2_scope, cfg.refit) == (0.002, 6, 30, 1e-5, "batch", True)
    assert cfg.hparams == {"factors": 32, "layers": [64, 32], "dropout": 0.1}


def test_explicit_flags_override_and_no_tuned_ignores_it(shipped):
    cfg = build_config(parse("neumf", "--lr", "0.01", "--factors", "8", "--no-refit", "--loss", "bpr"))
    assert (cfg.lr, cfg.num_ng, cfg.hparams["factors"], cfg.hparams["layers"], cfg.refit, cfg.loss) == \
        (0.01, 6, 8, [64, 32], False, "bpr")
    plain = build_config(parse("neumf", "--no-tuned"))
    d = TrainConfig()
    assert (plain.lr, plain.num_ng, plain.epochs, plain.hparams) == (d.lr, d.num_ng, d.epochs, {})
    gmf = build_config(parse("gmf"))  # no shipped config for gmf here: the defaults
    assert (gmf.lr, gmf.hparams) == (d.lr, {})


def test_config_names_a_shipped_variant_of_the_model(shipped):
    from graphrec.errors import GraphrecError

    (shipped / "ml-100k" / "neumf-wide.json").write_text(json.dumps(
        {"model": "neumf", "hparams": {"factors": 128}, "train": {"lr": 0.0005}}))
    wide = build_config(parse("neumf", "--config", "neumf-wide"))
    assert (wide.hparams["factors"], wide.lr) == (128, 0.0005)
    with pytest.raises(GraphrecError, match="shipped: neumf, neumf-wide"):
        build_config(parse("neumf", "--config", "neumf-narrow"))
    with pytest.raises(GraphrecError, match="shipped: neumf, neumf-wide"):  # an absolute path names them too
        build_config(parse("neumf", "--config", str(shipped / "nowhere" / "x.json")))
    with pytest.raises(ValueError, match="not 'gmf'"):  # a config of another model is refused
        build_config(parse("gmf", "--config", "neumf-wide"))
