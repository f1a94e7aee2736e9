"""Class 7 of issue 25: files that lost or changed data. data split --out keeps unrelated files (refuses the
folder), exports the held-out ratings and timestamps, records rows and checksums in split.json and checks them."""
import json

import pytest

from checks import one_line_error


@pytest.fixture
def split_dir(run_cli, synth_dir, tmp_path):
    code, _, err = run_cli("data", "split", "--data-dir", synth_dir, "--out", tmp_path / "split")
    assert code == 0, err
    return tmp_path / "split"


def test_unrelated_split_files_are_not_deleted(run_cli, synth_dir, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "other.train.rating").write_text("0\t1\t5\t1\n")
    code, _, err = run_cli("data", "split", "--data-dir", synth_dir, "--out", out)
    one_line_error(code, err, out, "other.train.rating")
    assert (out / "other.train.rating").read_text() == "0\t1\t5\t1\n"


def test_a_split_folder_is_replaced_by_the_same_split(run_cli, synth_dir, split_dir):
    code, _, err = run_cli("data", "split", "--data-dir", synth_dir, "--out", split_dir, "--seed", "3")
    assert code == 0, err
    assert json.loads((split_dir / "split.json").read_text())["seed"] == 3


def test_held_out_rows_keep_their_rating_and_timestamp(split_dir, synth):
    r = synth.ratings
    known = {(u, i): (float(x), int(t)) for u, i, x, t in zip(r["user"], r["item"], r["rating"], r["timestamp"])}
    for name in ("ml-100k.test.rating", "ml-100k.valid.rating"):
        rows = [line.split("\t") for line in (split_dir / name).read_text().splitlines()]
        assert rows and all(known[(int(u), int(i))] == (float(x), int(t)) for u, i, x, t in rows), name
        assert all(float(x) > 0 for _, _, x, _ in rows)


def test_split_json_records_rows_and_checksums(split_dir):
    meta = json.loads((split_dir / "split.json").read_text())
    for name, f in meta["files"].items():
        assert f["rows"] == len((split_dir / name).read_text().splitlines()) and len(f["sha256"]) == 64


@pytest.mark.parametrize("edit", ["cut", "same-size"])
def test_a_split_file_changed_after_writing_is_refused(run_cli, split_dir, edit):
    path = split_dir / "ml-100k.train.rating"
    lines = path.read_text().splitlines(keepends=True)
    if edit == "cut":  # cut at a line boundary: every remaining line is valid
        path.write_text("".join(lines[: len(lines) // 2]))
    else:  # another valid rating of the same length
        u, i, x, t = lines[0].split("\t")
        lines[0] = "\t".join([u, i, "1" if x != "1" else "2", t])
        path.write_text("".join(lines))
    code, _, err = run_cli("evaluate", "mostpop", "--split-dir", split_dir, "--no-cache")
    one_line_error(code, err, path, "changed since")


def test_layers_with_an_empty_size_refused():
    from graphrec.models.mlp import parse_layers

    with pytest.raises(ValueError, match="64,,32"):
        parse_layers("64,,32")
    assert parse_layers("64,32") == [64, 32]
