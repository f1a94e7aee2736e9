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


BOM = b"\xef\xbb\xbf"
RATINGS_CSV = b"userId,movieId,rating,timestamp\n1,10,4.5,100\n1,20,3.0,101\n2,10,5.0,102\n"
MOVIES_CSV = b'movieId,title,genres\n10,"Heat, The (1995)",Action|Crime\n20,Toy Story (1995),Animation\n'


def _latest(folder, ratings, movies):
    from graphrec.data import load_movielens

    folder.mkdir()
    (folder / "ratings.csv").write_bytes(ratings)
    (folder / "movies.csv").write_bytes(movies)
    return load_movielens(None, folder, cache=False)


@pytest.mark.parametrize("bom_in", ["ratings.csv", "movies.csv", "both"])
def test_a_byte_order_mark_reads_as_the_same_data(tmp_path, bom_in):
    """ml-latest-small / ml-25m files saved by an editor with a UTF-8 byte-order mark parse exactly as without."""
    plain = _latest(tmp_path / "plain", RATINGS_CSV, MOVIES_CSV)
    marked = _latest(tmp_path / "marked", (BOM if bom_in in ("ratings.csv", "both") else b"") + RATINGS_CSV,
                     (BOM if bom_in in ("movies.csv", "both") else b"") + MOVIES_CSV)
    assert marked.ratings.equals(plain.ratings) and marked.movies.equals(plain.movies)
    assert marked.movies["title"].tolist() == ["Heat, The (1995)", "Toy Story (1995)"]


def test_a_byte_order_mark_does_not_hide_a_missing_header(tmp_path):
    """A movies.csv without its header line is refused; a byte-order mark in front of its first id used to make
    that id unreadable as a number, so the first movie was taken for the header and silently dropped."""
    from graphrec.data.tables import read_table
    from graphrec.errors import DataError

    path = tmp_path / "movies.csv"
    path.write_bytes(BOM + b"10,Heat (1995),Action\n20,Toy Story (1995),Animation\n")
    with pytest.raises(DataError, match="line 1 holds data, not the header"):
        read_table(path, ["raw_id", "title", "genres"], ",", numeric=["raw_id"], encoding="utf-8", header=True,
                   quoted=True)


def test_a_byte_order_mark_in_a_headerless_file(synth_dir, tmp_path):
    """ML-100K's u.data has no header: a byte-order mark used to make its first user id 'not a number'."""
    import shutil

    from graphrec.data import load_movielens

    d = tmp_path / "ml-100k"
    shutil.copytree(synth_dir, d)
    (d / "u.data").write_bytes(BOM + (d / "u.data").read_bytes())
    marked = load_movielens("ml-100k", d, cache=False)
    assert marked.ratings.equals(load_movielens("ml-100k", synth_dir, cache=False).ratings)
