"""The default models' and embedding's cache folders follow their settings."""
from dataclasses import asdict, replace

import graphrec.defaults as defaults
from graphrec.defaults import default_neumf_dir, fingerprint
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
    before = default_neumf_dir()
    changed = replace(defaults.neumf_config(), epochs=defaults.neumf_config().epochs + 1)
    monkeypatch.setattr(defaults, "neumf_config", lambda: changed)
    after = default_neumf_dir()
    assert before.parent == after.parent == tmp_path / "models" and before != after
