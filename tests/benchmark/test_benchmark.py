"""``graphrec benchmark --quick`` end to end on synthetic data, and its user errors."""
import csv

import pytest

from graphrec.catalogue import CATALOGUE, available, select
from graphrec.cli import main
from graphrec.errors import GraphrecError
from graphrec.models import REGISTRY, model_class

METRICS = ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")


def test_the_catalogue_covers_the_registry_and_follows_it(monkeypatch):
    assert {e.model for e in CATALOGUE} == set(REGISTRY)  # every registered recommender is in the catalogue
    # a model whose optional dependency is missing from this install drops out, the rest stay
    monkeypatch.setattr(model_class("lightgcn"), "available", classmethod(lambda cls: False), raising=False)
    names = [e.name for e in available()]
    assert "lightgcn" not in names and names[:2] == ["mostpop", "itemknn"] and "neumf-pre" in names


def test_select_refuses_unknown_models():
    with pytest.raises(GraphrecError, match="no-such-model"):
        select(["att-neumf", "no-such-model"])


def test_benchmark_quick_end_to_end(synth_dir, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["benchmark", "--quick", "--seeds", "2", "--out", str(out), "--data-dir", str(synth_dir),
                 "--threads", "1"]) == 0
    for name in ("results.csv", "seeds.csv", "results.md", "comparison.png", "curves.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    rows = list(csv.DictReader(open(out / "results.csv")))
    expected = [e.name for e in available()]
    assert [r["model"] for r in rows] == expected
    for r in rows:
        assert r["seeds"] == "2"
        for m in METRICS:
            assert 0.0 <= float(r[m]) <= 1.0, (r["model"], m)
            assert float(r[m + "_lo"]) <= float(r[m]) <= float(r[m + "_hi"]), (r["model"], m)
    # beside HR and NDCG: MRR, catalogue coverage and the top 10's popularity, where MostPop is the extreme
    by = {r["model"]: r for r in rows}
    for r in rows:
        assert 0.0 <= float(r["full_MRR@10"]) <= float(r["full_HR@10"]) + 1e-9, r["model"]
        assert 0.0 < float(r["full_coverage@10"]) <= 1.0, r["model"]
    pop, knn = by["mostpop"], by["itemknn"]  # one list for all vs a personal one (2-epoch models may collapse)
    assert float(pop["full_coverage@10"]) < float(knn["full_coverage@10"])
    assert float(pop["full_popularity@10"]) > float(knn["full_popularity@10"])
    seeds = list(csv.DictReader(open(out / "seeds.csv")))
    assert len(seeds) == 2 * len(expected)
    for r in seeds:
        for m in METRICS:
            assert 0.0 <= float(r[m]) <= 1.0
    # one run directory per learned (model, seed): seed 0's selection, then each seed's refit
    assert len(list((out / "runs" / "att-neumf-all").glob("*seed0/history.csv"))) == 1
    assert len(list((out / "runs" / "att-neumf-all").glob("*seed1-refit/history.csv"))) == 1
    md = (out / "results.md").read_text()
    assert "att-neumf-seed" in md and "best baseline" in md and "fusion weights" in md
    assert "| model |" in capsys.readouterr().out


def test_benchmark_cli_errors(synth_dir, tmp_path, capsys):
    assert main(["benchmark", "--quick", "--models", "nope", "--out", str(tmp_path / "r"),
                 "--data-dir", str(synth_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphrec: error: unknown or unavailable model(s) nope") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
    with pytest.raises(SystemExit):
        main(["benchmark", "--seeds", "0"])


def test_grid_point_is_chosen_on_validation(synth_split, tmp_path):
    from graphrec.benchmark import Benchmark
    from graphrec.catalogue import KNN_GRID, Settings
    from graphrec.evaluation import evaluate
    from graphrec.models import ItemKNN

    bench = Benchmark(None, synth_split, select(["itemknn"]), Settings(seeds=2, tuned=False), tmp_path, progress=False)
    runs = bench.run()["itemknn"]
    valid = {k: evaluate(ItemKNN(k=k).fit(synth_split), synth_split, on="valid")["full_NDCG@10"] for k in KNN_GRID}
    assert runs[0].setting == {"k": max(valid, key=valid.get)}
    assert [r.seed for r in runs] == [0, 1] and runs[1].setting == runs[0].setting
