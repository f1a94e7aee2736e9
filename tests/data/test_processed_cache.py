"""The processed-data cache: the same data as a fresh parse, invalidated by changed files, never unpickling."""
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

import graphrec.data.movielens as movielens
from graphrec.cli import main
from graphrec.data import load_movielens, load_ncf, save_ncf, split_movielens
from graphrec.data.processed import CacheError, cache_root, load_arrays
from graphrec.data.catalog import load_catalog


def _same_data(a, b):
    assert (a.name, a.genres, a.occupations) == (b.name, b.genres, b.occupations)
    for frame in ("ratings", "users", "movies"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame))


def _same_split(a, b):
    assert (a.num_users, a.num_items, a.name, a.seed) == (b.num_users, b.num_items, b.name, b.seed)
    for k in ("train_user", "train_item", "train_rating", "train_time", "test_user", "test_item", "test_negatives",
              "valid_user", "valid_item", "valid_negatives"):
        assert torch.equal(getattr(a, k), getattr(b, k)), k


def _no_parsing(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("parsed although the cache is warm")

    monkeypatch.setattr(movielens, "parse_movielens", refuse)


@pytest.fixture
def data(synth_dir, tmp_path):
    return shutil.copytree(synth_dir, tmp_path / "ml-100k")


def test_warm_load_equals_a_fresh_parse_and_skips_parsing(data, monkeypatch):
    fresh = load_movielens("ml-100k", data, cache=False)
    assert not cache_root().exists()  # --no-cache writes nothing
    first = load_movielens("ml-100k", data)
    split_movielens(first, seed=3)  # kept in the cache
    _no_parsing(monkeypatch)
    warm = load_movielens("ml-100k", data)
    _same_data(warm, fresh)
    _same_split(split_movielens(warm, seed=3), split_movielens(fresh, seed=3, cache=False))
    _same_split(split_movielens(warm, seed=3, validation=False), split_movielens(fresh, seed=3, validation=False))
    catalog = load_catalog("ml-100k", data)
    assert catalog.titles == list(fresh.movies["title"])
    rated = fresh.ratings.groupby("user")["item"].apply(set)
    assert all(set(catalog.rated(u).tolist()) == rated[u] for u in range(fresh.num_users))


def test_a_changed_ratings_file_invalidates_the_cache(data):
    load_movielens("ml-100k", data)
    lines = (data / "u.data").read_text().splitlines(keepends=True)
    (data / "u.data").write_text("".join(lines[:-7]))
    changed = load_movielens("ml-100k", data)
    assert len(changed.ratings) == len(lines) - 7
    _same_data(changed, load_movielens("ml-100k", data, cache=False))
    assert len(load_catalog("ml-100k", data).rated_items) == len(lines) - 7


def test_same_bytes_with_a_new_mtime_stay_valid(data, monkeypatch):
    load_movielens("ml-100k", data)
    st = (data / "u.data").stat()
    os.utime(data / "u.data", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    _no_parsing(monkeypatch)
    load_movielens("ml-100k", data)


def test_a_cache_file_that_would_unpickle_code_is_refused(data, tmp_path, capsys):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.npz"
    np.savez(evil, x=np.array([Payload()], dtype=object))
    with pytest.raises(CacheError, match="refused"):
        load_arrays(evil)
    assert not marker.exists()
    load_movielens("ml-100k", data)  # plant the payload as the cached dataset
    entry = next(cache_root().iterdir())
    shutil.copy(evil, entry / "dataset.npz")
    ml = load_movielens("ml-100k", data)
    assert not marker.exists()
    assert "refused" in capsys.readouterr().err
    _same_data(ml, load_movielens("ml-100k", data, cache=False))


def test_split_dir_cache_follows_the_files(synth, tmp_path, monkeypatch):
    split = split_movielens(synth, seed=1, cache=False)
    save_ncf(split, tmp_path / "s")
    _same_split(load_ncf(tmp_path / "s"), split)
    import graphrec.data.split as split_module

    with monkeypatch.context() as m:
        m.setattr(split_module, "_read_ncf", lambda *a: pytest.fail("read although cached"))
        _same_split(load_ncf(tmp_path / "s"), split)
    other = split_movielens(synth, seed=2, cache=False)
    save_ncf(other, tmp_path / "s")
    _same_split(load_ncf(tmp_path / "s"), other)


def test_cli_cache_info_and_clear(data, tmp_path, capsys):
    assert main(["data", "info", "--data-dir", str(data), "--json", "--no-cache"]) == 0
    assert main(["train", "gmf", "--factors", "2", "--epochs", "1", "--data-dir", str(data), "--out", str(tmp_path),
                 "--quiet", "--no-cache"]) == 0
    assert not cache_root().exists()  # --no-cache neither reads nor writes it
    assert main(["data", "info", "--data-dir", str(data), "--json"]) == 0
    capsys.readouterr()
    assert main(["cache", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert len(info["entries"]) == 1 and info["entries"][0]["files"] == ["dataset.npz"] and info["bytes"] > 0
    assert main(["cache", "clear"]) == 0
    assert "removed" in capsys.readouterr().out and not cache_root().exists()
    assert main(["cache", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == []


def test_processes_filling_the_cache_at_once_all_succeed(data):
    """torchrun ranks (or scripts in parallel) may find the cache cold together: each entry is renamed
    into place whole, so none of them sees a half-written one or trips over another's."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from graphrec.data import load_movielens, split_movielens; "
            "ml = load_movielens('ml-100k', sys.argv[1]); s = split_movielens(ml, seed=5); "
            "print(len(ml.ratings), int(s.test_item.sum()))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    fresh = split_movielens(load_movielens("ml-100k", data, cache=False), seed=5, cache=False)
    assert {o for o, _ in outs} == {f"{len(fresh.train_user) + len(fresh.test_user) + len(fresh.valid_user)} "
                                    f"{int(fresh.test_item.sum())}\n"}
    assert [p.name for p in cache_root().iterdir()] == [next(cache_root().iterdir()).name]  # one entry, no debris
