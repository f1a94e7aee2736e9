"""graphrec tune: Optuna finds a planted best setting on validation, and tuned configs round-trip."""
import pytest

from graphrec.config import TrainConfig
from graphrec.catalogue import config_from_tuned, load_tuned, save_tuned
from graphrec.tuning import tune

pytest.importorskip("optuna")


def test_finds_the_planted_learning_rate(synth_split):
    """A learning rate of 1e-7 cannot move GMF off its initialisation; 0.05 learns the popularity skew."""
    def space(t):
        return {"hparams": {"factors": 4}, "train": {"lr": t.suggest_categorical("lr", [1e-7, 0.05]),
                                                     "epochs": 4, "batch_size": 128, "patience": 0}}

    base = TrainConfig(model="gmf", full_eval_every=0)
    tuned = tune("gmf", None, synth_split, trials=4, seed=0, base=base, space=space)
    assert tuned["train"]["lr"] == 0.05 and tuned["tuning"]["trials"] == 4
    assert 1 <= tuned["tuning"]["best_epoch"] <= 4


def test_finds_the_planted_neighbourhood_for_a_fitted_model(synth_split):
    """ItemKNN with one neighbour is far worse than with 50 on the skewed synthetic data."""
    tuned = tune("itemknn", None, synth_split, trials=3, seed=1,
                 space=lambda t: {"params": {"k": t.suggest_categorical("k", [1, 50])}})
    assert tuned["params"] == {"k": 50}


def test_tuned_config_round_trips_and_flags_override(tmp_path):
    tuned = {"model": "neumf", "hparams": {"factors": 32, "layers": [64, 32]},
             "train": {"lr": 0.002, "num_ng": 6, "epochs": 30}, "tuning": {"trials": 3}}
    path = save_tuned(tuned, tmp_path / "neumf.json")
    assert load_tuned("neumf", path=path) == tuned
    cfg = config_from_tuned(load_tuned("neumf", path=path), TrainConfig(), lr=0.01, hparams={"factors": 8})
    assert (cfg.model, cfg.lr, cfg.num_ng, cfg.epochs) == ("neumf", 0.01, 6, 30)
    assert cfg.hparams == {"factors": 8, "layers": [64, 32]}
    with pytest.raises(ValueError, match="not 'gmf'"):
        load_tuned("gmf", path=path)


def test_tune_cli_writes_a_config_that_train_reads(synth_dir, tmp_path, capsys):
    from graphrec.cli import main

    out = tmp_path / "ease.json"
    assert main(["tune", "ease", "--trials", "2", "--data-dir", str(synth_dir), "--out", str(out)]) == 0
    tuned = load_tuned("ease", path=out)
    assert tuned["model"] == "ease" and tuned["tuning"]["trials"] == 2 and tuned["params"]["l2"] > 0
    assert "wrote" in capsys.readouterr().out
