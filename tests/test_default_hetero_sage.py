"""The embedded default for new users: the shipped cold hetero-sage, trained on first use, reused, retrained
when its settings change; ``recommend --new-user`` and ``load_run().recommend_new_user`` without a run."""
import json
from dataclasses import replace

import pytest

import graphrec.defaults as defaults
import graphrec.inductive as inductive
from graphrec.defaults import default_hetero_sage, default_hetero_sage_dir
from graphrec.cli import main
from graphrec.training.runs import METRICS


@pytest.fixture
def small_default(monkeypatch, tmp_path):
    """The shipped default, made small enough for a unit test (its fingerprint changes with it)."""
    monkeypatch.setenv("GRAPHREC_HOME", str(tmp_path / "home"))
    small = replace(defaults.hetero_sage_config(), epochs=2, batch_size=512,
                    hparams={**defaults.hetero_sage_config().hparams, "hidden": 8})
    monkeypatch.setattr(defaults, "hetero_sage_config", lambda: small)
    return tmp_path / "home"


def test_the_shipped_default_is_the_cold_config():
    from graphrec.catalogue import load_tuned

    tuned = load_tuned("hetero-sage", "ml-100k")
    cfg = defaults.hetero_sage_config()
    assert cfg.model == "hetero-sage" and cfg.data.dataset == "ml-100k"
    assert {k: cfg.hparams[k] for k in tuned["hparams"]} == tuned["hparams"]
    assert cfg.hparams["use_ids"] is False  # features only: new users and movies


def test_trained_once_reused_and_retrained_when_its_settings_change(small_default, synth_dir, monkeypatch, capsys):
    first = default_hetero_sage(str(synth_dir), progress=False)
    assert first == default_hetero_sage_dir() and (first / METRICS).is_file()
    assert first.parent == small_default / "models"
    stamp = (first / METRICS).stat().st_mtime_ns
    again = default_hetero_sage(str(synth_dir), progress=False)
    assert again == first and (first / METRICS).stat().st_mtime_ns == stamp  # reused, not retrained
    cfg = defaults.hetero_sage_config()
    monkeypatch.setattr(defaults, "hetero_sage_config", lambda: replace(cfg, lr=cfg.lr * 2))
    changed = default_hetero_sage(str(synth_dir), progress=False)
    assert changed != first and (changed / METRICS).is_file() and (first / METRICS).stat().st_mtime_ns == stamp
    assert json.loads((changed / "config.json").read_text())["lr"] == pytest.approx(cfg.lr * 2)


def test_new_user_without_a_run_uses_the_default(small_default, synth_dir, synth, capsys):
    titles = list(synth.movies["title"])
    args = ["recommend", "--new-user", "--gender", "F", "--age", "25", "--occupation", "student",
            "--liked", f"{titles[0]};{titles[3]}", "-k", "10", "--data-dir", str(synth_dir), "--json"]
    assert main([*args, "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["run"] == str(default_hetero_sage_dir()) and len(out["recommendations"]) == 10
    ids = [r["movie_id"] for r in out["recommendations"]]
    assert int(synth.movies["raw_id"][0]) not in ids and int(synth.movies["raw_id"][3]) not in ids
    assert all(r["title"] for r in out["recommendations"])
    assert main([*args, "--quiet"]) == 0  # warm: the same list from the cached run and its exported twin
    assert json.loads(capsys.readouterr().out) == out
    assert (default_hetero_sage_dir() / inductive.INFERENCE).is_file()


def test_load_run_without_a_path_recommends_for_new_users(small_default, synth_dir, monkeypatch):
    from graphrec.api import load_run

    small = replace(defaults.recommender_config(), epochs=1, refit=False)
    monkeypatch.setattr(defaults, "recommender_config", lambda: small)
    run = load_run(data_dir=str(synth_dir), progress=False)
    assert run.config.model == defaults.RECOMMENDER
    recs = run.recommend_new_user("M", 40, "engineer", k=4)
    assert len(recs) == 4 and run.newcomer_run().path == default_hetero_sage_dir()


def test_a_warm_default_new_user_imports_only_torch(synth_dir, synth, capsys):
    """The shipped default as it is (trained here on the small synthetic data): warm, no run given, the call
    reads the cached run's twin and catalog and imports neither torch_geometric, pandas nor scikit-learn."""
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "cli"))
    from test_lazy_imports import _probe

    titles = list(synth.movies["title"])
    argv = ["recommend", "--new-user", "--gender", "M", "--age", "40", "--occupation", "engineer", "--liked",
            titles[2], "-k", "5", "--data-dir", str(synth_dir), "--json", "--quiet"]
    assert main(argv) == 0  # trains the default on first use, exports its twin
    first = json.loads(capsys.readouterr().out)
    assert first["run"] == str(default_hetero_sage_dir())
    seen = _probe([argv], env={"GRAPHREC_HOME": os.environ["GRAPHREC_HOME"]})
    modules = seen[" ".join(argv)]
    assert "torch" in modules and not {"torch_geometric", "pandas", "sklearn", "scipy"} & set(modules)
