"""The default models' and embedding's cache folders follow their settings."""
from dataclasses import asdict, replace

import graphrec.defaults as defaults
from graphrec.defaults import default_recommender_dir, fingerprint
from graphrec.embeddings.node2vec import DEFAULT_SIMILAR


def test_fingerprint_changes_with_a_setting_and_ignores_where_it_runs():
    base = asdict(DEFAULT_SIMILAR)
    assert fingerprint(base) == fingerprint(dict(reversed(list(base.items()))))  # key order does not matter
    assert fingerprint({**base, "window": base["window"] + 1}) != fingerprint(base)
    nested = {"lr": 0.01, "data": {"dataset": "ml-100k", "data_dir": "/a"}, "device": "cpu"}
    assert fingerprint(nested) == fingerprint({**nested, "data": {"dataset": "ml-100k", "data_dir": "/b"},
                                               "device": "cuda"})
    assert fingerprint(nested) != fingerprint({**nested, "data": {"dataset": "ml-1m", "data_dir": "/a"}})


def test_a_changed_default_neumf_gets_a_new_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHREC_HOME", str(tmp_path))
    before = default_recommender_dir()
    changed = replace(defaults.recommender_config(), epochs=defaults.recommender_config().epochs + 1)
    monkeypatch.setattr(defaults, "recommender_config", lambda: changed)
    after = default_recommender_dir()
    assert before.parent == after.parent == tmp_path / "models" and before != after


def test_the_default_recommender_is_the_best_shipped_config_on_validation():
    """Among the shipped configs of trained models scored on the validation item, the default has the best score
    (configs marked ``"default": false``, too slow to train on first use, stand aside: sasrec-long)."""
    import json

    from graphrec.catalogue import CONFIG_DIR
    from graphrec.models import REGISTRY

    scores = {}
    for p in (CONFIG_DIR / "ml-100k").glob("*.json"):
        tuned = json.loads(p.read_text())
        t = tuned.get("tuning", {})
        if REGISTRY[tuned["model"]].trainable and t.get("metric") == "valid_full_NDCG@10" and t.get("default", True):
            scores[p.stem] = t["best_value"]
    assert {"neumf", "lightgcn", "sasrec"} <= set(scores)
    assert max(scores, key=scores.get) == defaults.RECOMMENDER == defaults.recommender_config().model
