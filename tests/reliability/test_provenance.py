"""Classes 4 and 5 of issue 25: a run records the fingerprint of its training data (data.json) and a later
command on other data is refused (--force to go on); the processed-data cache keys on content where size and
mtime cannot be trusted, and checks what it reads."""
import json
import os
import shutil

import numpy as np
import pytest

from checks import one_line_error

GMF = ["train", "gmf", "--factors", "4", "--epochs", "1", "--batch-size", "256", "--quiet", "--no-refit"]


def _same_size_edit(folder):
    """Change one rating in u.data without changing its size or mtime."""
    path = folder / "u.data"
    st = path.stat()
    lines = path.read_text().splitlines(keepends=True)
    u, i, r, t = lines[0].split("\t")
    lines[0] = "\t".join([u, i, "1" if r != "1" else "2", t])
    path.write_text("".join(lines))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


@pytest.fixture
def gmf_run(run_cli, synth_dir, tmp_path):
    code, _, err = run_cli(*GMF, "--data-dir", synth_dir, "--out", tmp_path / "runs", "--name", "gmf")
    assert code == 0, err
    return tmp_path / "runs" / "gmf"


def test_a_run_records_its_data(gmf_run, synth_dir):
    info = json.loads((gmf_run / "data.json").read_text())
    assert info["dataset"] == "ml-100k" and info["data_dir"] == str(synth_dir.resolve())
    assert len(info["fingerprint"]) == 16


def test_data_from_the_environment_is_recorded_too(run_cli, synth_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHREC_DATA", str(synth_dir))
    code, _, err = run_cli(*GMF, "--out", tmp_path / "runs", "--name", "env")
    assert code == 0, err
    assert json.loads((tmp_path / "runs" / "env" / "data.json").read_text())["data_dir"] == str(synth_dir.resolve())


@pytest.mark.parametrize("command", [["evaluate", "{run}"], ["recommend", "--user", "1", "--run", "{run}"]])
def test_other_data_of_the_same_shape_is_refused(run_cli, gmf_run, synth_dir, tmp_path, command):
    other = tmp_path / "other"
    shutil.copytree(synth_dir, other)
    _same_size_edit(other)
    argv = [a.format(run=gmf_run) for a in command] + ["--data-dir", other]
    code, out, err = run_cli(*argv)
    one_line_error(code, err, gmf_run, "trained on other data", "--force")
    code, out, err = run_cli(*argv, "--force")
    assert code == 0, err
    assert "--force: going on" in err
    code, _, err = run_cli(*[a.format(run=gmf_run) for a in command], "--data-dir", synth_dir)
    assert code == 0, err  # the data it was trained on


def test_python_api_refuses_other_data(gmf_run, synth_dir, tmp_path):
    import graphrec
    from graphrec.errors import CheckpointError

    other = tmp_path / "other"
    shutil.copytree(synth_dir, other)
    _same_size_edit(other)
    with pytest.raises(CheckpointError, match="trained on other data"):
        graphrec.load_run(gmf_run, data_dir=str(other))
    assert graphrec.load_run(gmf_run, data_dir=str(other), force=True).recommend(1, k=2)[0].shape == (2,)


def test_a_same_size_same_mtime_change_is_not_served_stale(synth_dir, tmp_path):
    from graphrec.data import load_movielens

    d = tmp_path / "ml-100k"
    shutil.copytree(synth_dir, d)
    before = load_movielens("ml-100k", d).ratings["rating"].to_numpy().copy()
    _same_size_edit(d)
    after = load_movielens("ml-100k", d)
    assert after.ratings["rating"].to_numpy()[0] != before[0] or (after.ratings["rating"].to_numpy() != before).any()


def _entry(d):
    from graphrec.data.movielens import dataset_entry

    entry, valid = dataset_entry("ml-100k", d)
    assert valid
    return entry


def test_an_altered_cache_file_is_refused_and_rebuilt(synth_dir, tmp_path, capsys):
    from graphrec.data import load_movielens

    d = tmp_path / "ml-100k"
    shutil.copytree(synth_dir, d)
    want = load_movielens("ml-100k", d).ratings["rating"].to_numpy().copy()
    npz = _entry(d) / "dataset.npz"
    a = dict(np.load(npz))
    a["ratings.rating"] = a["ratings.rating"][::-1].copy()  # valid arrays, other data
    np.savez(npz, **a)
    capsys.readouterr()
    got = load_movielens("ml-100k", d).ratings["rating"].to_numpy()
    assert (got == want).all() and "changed since graphrec wrote it" in capsys.readouterr().err


def test_an_out_of_range_id_in_the_cache_is_refused_before_sizing(synth_dir, tmp_path, run_cli):
    from graphrec.data import load_movielens
    from graphrec.data.processed import CacheError, _record_array, load_entry_arrays

    d = tmp_path / "ml-100k"
    shutil.copytree(synth_dir, d)
    load_movielens("ml-100k", d)
    npz = _entry(d) / "dataset.npz"
    a = dict(np.load(npz))
    movies = len(a["movies.raw_id"])
    a["ratings.item"][0] = 2**40  # bincount would allocate terabytes
    np.savez(npz, **a)
    _record_array(npz)  # as if graphrec had written it: only the content checks stand in the way
    with pytest.raises(CacheError, match=rf"ratings.item outside 0\.\.{movies - 1}"):
        load_entry_arrays(npz)
    code, out, err = run_cli("data", "info", "--data-dir", d, "--json")
    assert code == 0 and json.loads(out)["movies"] == movies  # rebuilt from the source files


def test_an_embedding_folder_records_its_data(run_cli, synth_dir, tmp_path):
    tiny = ["--dim", "8", "--walk-length", "8", "--walks-per-node", "2", "--window", "2", "--negatives", "2",
            "--no-progress"]
    code, _, err = run_cli("embed", "node2vec", "--data-dir", synth_dir, "--out", tmp_path / "n2v", *tiny)
    assert code == 0, err
    run = json.loads((tmp_path / "n2v" / "embeddings.json").read_text())["data"]
    assert run["data_dir"] == str(synth_dir.resolve()) and len(run["fingerprint"]) == 16


# --------------------------------------------------------------------------- split files (--split-dir)

def _ncf_folder(run_cli, synth_dir, folder, *flags):
    """Split files as the NCF paper released them: no validation files and no split.json, so nothing but the
    run's record can tell that they changed."""
    code, _, err = run_cli("data", "split", "--data-dir", synth_dir, "--out", folder, *flags)
    assert code == 0, err
    for f in [*folder.glob("*.valid.*"), folder / "split.json"]:
        f.unlink()
    return folder


def _edit_one_test_line(folder):
    """Change the rating of the first line of the test file (the ids, so the split's checks, stay valid)."""
    path = next(folder.glob("*.test.rating"))
    lines = path.read_text().splitlines(keepends=True)
    u, i, r, t = lines[0].split("\t")
    lines[0] = "\t".join([u, i, "1" if r != "1" else "2", t])
    path.write_text("".join(lines))


@pytest.fixture
def split_run(run_cli, synth_dir, tmp_path):
    split = _ncf_folder(run_cli, synth_dir, tmp_path / "split")
    code, _, err = run_cli(*GMF, "--data-dir", synth_dir, "--split-dir", split, "--out", tmp_path / "runs",
                           "--name", "on-split")
    assert code == 0, err
    return tmp_path / "runs" / "on-split", split


def test_a_run_records_its_split_files(split_run, synth_dir, gmf_run):
    run, split = split_run
    info = json.loads((run / "data.json").read_text())
    assert info["split"]["split_dir"] == str(split.resolve()) and len(info["split"]["fingerprint"]) == 16
    assert len(info["fingerprint"]) == 16  # the dataset's, as before
    assert json.loads((gmf_run / "data.json").read_text())["split"] is None  # the dataset's own split


@pytest.mark.parametrize("command", [["evaluate", "{run}"], ["recommend", "--user", "1", "--run", "{run}"]])
def test_a_changed_split_file_is_refused(run_cli, split_run, command):
    run, split = split_run
    argv = [a.format(run=run) for a in command]
    code, _, err = run_cli(*argv)
    assert code == 0, err  # unchanged files
    _edit_one_test_line(split)
    code, _, err = run_cli(*argv)
    one_line_error(code, err, run, "trained on other split files", split.resolve(), "--split-dir", "--force")
    code, _, err = run_cli(*argv, "--force")
    assert code == 0, err
    assert "--force: going on" in err


def test_python_api_refuses_changed_split_files(split_run):
    import graphrec
    from graphrec.errors import CheckpointError

    run, split = split_run
    _edit_one_test_line(split)
    with pytest.raises(CheckpointError, match="trained on other split files"):
        graphrec.load_run(run)
    assert graphrec.load_run(run, force=True).recommend(1, k=2)[0].shape == (2,)


def test_other_split_files_or_none_are_refused(run_cli, split_run, synth_dir, tmp_path):
    """evaluate --split-dir with another folder (a copy with one line changed), or with none (the dataset's own
    split), is not the split the run was trained on; the same files copied elsewhere are."""
    import shutil

    run, split = split_run
    copy = tmp_path / "copy"
    shutil.copytree(split, copy)
    code, _, err = run_cli("evaluate", run, "--split-dir", copy, "--data-dir", synth_dir)
    assert code == 0, err
    _edit_one_test_line(copy)
    code, _, err = run_cli("evaluate", run, "--split-dir", copy, "--data-dir", synth_dir)
    one_line_error(code, err, run, copy.resolve(), split.resolve())
    code, _, err = run_cli("evaluate", run, "--data-dir", synth_dir)
    one_line_error(code, err, run, "the dataset's own leave-one-out split")


def test_a_re_exported_split_is_refused_and_its_cache_replaced(run_cli, synth_dir, tmp_path):
    """`data split --out` over the training split with another seed writes consistent new files (and a new
    split.json): the run refuses them, and --force evaluates on the new negatives, not the cached old ones."""
    from graphrec.data.split import load_ncf

    split = tmp_path / "split"
    code, _, err = run_cli("data", "split", "--data-dir", synth_dir, "--out", split)
    assert code == 0, err
    code, _, err = run_cli(*GMF, "--data-dir", synth_dir, "--split-dir", split, "--out", tmp_path, "--name", "g")
    assert code == 0, err
    old = load_ncf(split).test_negatives.clone()
    code, _, err = run_cli("data", "split", "--data-dir", synth_dir, "--out", split, "--seed", "1")
    assert code == 0, err
    code, _, err = run_cli("evaluate", tmp_path / "g")
    one_line_error(code, err, "trained on other split files")
    new = load_ncf(split)
    assert (new.test_negatives == load_ncf(split, cache=False).test_negatives).all()
    assert not (new.test_negatives == old).all()
    code, _, err = run_cli("evaluate", tmp_path / "g", "--force")
    assert code == 0, err
