"""The benchmark reads tuned configs instead of re-tuning, and refits the chosen setting per seed."""
import json

import numpy as np

from graphrec.benchmark import Benchmark
from graphrec.catalogue import Settings, select
from graphrec.evaluation import evaluate
from graphrec.models import ItemKNN


def test_a_shipped_config_replaces_the_grid_and_the_refit_sees_validation(synth_split, tmp_path, monkeypatch):
    import graphrec.catalogue as catalogue

    (tmp_path / "configs" / "ml-100k").mkdir(parents=True)
    (tmp_path / "configs" / "ml-100k" / "itemknn.json").write_text(json.dumps({"model": "itemknn", "params": {"k": 7}}))
    monkeypatch.setattr(catalogue, "CONFIG_DIR", tmp_path / "configs")
    bench = Benchmark(None, synth_split, select(["itemknn"]), Settings(seeds=2), tmp_path / "out", progress=False)
    runs = bench.run()["itemknn"]
    assert [r.setting for r in runs] == [{"k": 7}, {"k": 7}]
    refit = evaluate(ItemKNN(k=7).fit(synth_split.with_validation_in_train()), synth_split, per_user=True)
    selected = evaluate(ItemKNN(k=7).fit(synth_split), synth_split, per_user=True)
    np.testing.assert_array_equal(runs[0].per_user["HR@10"], refit["per_user"]["HR@10"])
    np.testing.assert_array_equal(runs[0].selected["HR@10"], selected["per_user"]["HR@10"])
    no_refit = Benchmark(None, synth_split, select(["itemknn"]), Settings(seeds=1, refit=False), tmp_path / "o2",
                         progress=False).run()["itemknn"]
    np.testing.assert_array_equal(no_refit[0].per_user["HR@10"], selected["per_user"]["HR@10"])
