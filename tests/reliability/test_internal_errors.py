"""Class 8 of issue 25: inputs that used to end in an internal error (or a silent wrong result) are refused:
one line naming the bad value and exit 2 on the command line; a ValueError/TypeError in Python."""
import json

import pytest

from checks import one_line_error

TRAIN = ["train", "gmf", "--epochs", "1", "--quiet"]


@pytest.mark.parametrize("flag, value", [
    ("--seed", "-1"), ("--seed", "1e23"), ("--seed", str(2**64)), ("--factors", "100000000"),
    ("--neg", "100000"), ("--threads", "100000"), ("--layers", "64,,32")])
def test_train_flags_refused_before_anything_runs(run_cli, synth_dir, tmp_path, flag, value):
    model = "mlp" if flag == "--layers" else "gmf"
    code, out, err = run_cli("train", model, "--epochs", "1", "--quiet", "--data-dir", synth_dir, "--out", tmp_path,
                             flag, value)
    one_line_error(code, err, flag, value)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["data", "split", "--out", "x", "--seed", "-5"], ["tune", "itemknn", "--seed", "-1"],
                                  ["embed", "node2vec", "--seed", "-1"], ["evaluate", "mostpop", "--split-seed", "-1"],
                                  ["tune", "itemknn", "--threads", "100000"]])
def test_other_commands_refuse_bad_seeds_and_sizes(run_cli, argv):
    code, _, err = run_cli(*argv)
    one_line_error(code, err, argv[-2], argv[-1])


@pytest.mark.parametrize("flag, value, bound", [
    ("--dim", "100000000", "65536"), ("--walk-length", "10000000000", "10000"), ("--walks-per-node", "1000000", "1000"),
    ("--window", "1000000000", "10000"), ("--span", "1000000000000", "10000"), ("--negatives", "100000", "1000"),
    ("--shared-negatives", "1000000000", "16000"), ("--workers", "100000", "1024"), ("--epochs", "0", ">= 1")])
def test_embed_sizes_are_bounded(run_cli, synth_dir, tmp_path, flag, value, bound):
    """Each of these sizes allocates (or loops) in proportion to its value: a huge one is refused by the parser,
    before any data is read, naming the flag, the value and the bound."""
    out = tmp_path / "emb"
    code, _, err = run_cli("embed", "node2vec", "--data-dir", synth_dir, "--out", out, "--quiet", flag, value)
    one_line_error(code, err, flag, value, bound)
    assert not out.exists()


@pytest.mark.parametrize("content, says", [
    ("[1, 2]", "a config file holds a JSON object"), ("{\"model\": \"gmf\",", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"), ("{\"model\": \"gmf\", \"trian\": {}}", "unknown keys trian"),
    ("{\"model\": \"gmf\", \"train\": {\"learning_rate\": 1}}", "unknown keys train.learning_rate"),
    ("{\"model\": \"gmf\", \"train\": [1]}", "train must be a JSON object")])
def test_config_files_checked_and_named(run_cli, synth_dir, tmp_path, content, says):
    path = tmp_path / "cfg.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = run_cli(*TRAIN, "--data-dir", synth_dir, "--out", tmp_path / "runs", "--config", path)
    one_line_error(code, err, path, says)


def test_include_new_movies_needs_one_user_and_no_out(run_cli, tmp_path):
    csv = tmp_path / "new.csv"
    csv.write_text("title,year,genres\nA,1999,Drama\n")
    code, _, err = run_cli("recommend", "--users", "1,2", "--include-new-movies", csv, "--run", tmp_path / "r")
    one_line_error(code, err, "--include-new-movies", "--user")
    code, _, err = run_cli("recommend", "--user", "1", "--include-new-movies", csv, "--run", tmp_path / "r",
                           "--out", tmp_path / "o.csv")
    one_line_error(code, err, "--out")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("content, says", [
    (b"title,year,genres\nCaf\xe9,1999,Drama\n", "not UTF-8"),
    ("\ufefftitle,year,genres\nA,1999,Drama\n".encode(), None),  # a byte-order mark is fine
    (b'title,year,genres\n"Unterminated,1999,Drama\n', "not a valid CSV"),
    (b"title,year,genres\nA, B,1999,Drama\n", "more fields than the header"),
    (b"title,year,genres\nA,1999\n", "fewer fields than the header")])
def test_new_movies_csv_read_strictly(tmp_path, content, says):
    from graphrec.errors import DataError
    from graphrec.inductive import read_new_movies

    path = tmp_path / "new.csv"
    path.write_bytes(content)
    if says is None:
        rows, _, _ = read_new_movies(path, ["Drama"])
        assert rows == [{"title": "A", "year": 1999, "genres": ["Drama"]}]
        return
    with pytest.raises(DataError, match=says) as e:
        read_new_movies(path, ["Drama"])
    assert str(path) in str(e.value)


def test_python_api_type_errors(neumf_run, synth_dir):
    import graphrec

    run = graphrec.load_run(neumf_run)
    for call, says in ((lambda: run.recommend(1, k=2.5), "k must be an integer"),
                       (lambda: run.recommend(None), "user id must be an integer"),
                       (lambda: run.recommend("1"), "user id must be an integer"),
                       (lambda: run.recommend_all(users=[1.5]), "ids must be integers"),
                       (lambda: run.describe([1.7]), "ids must be integers")):
        with pytest.raises(TypeError, match=says):
            call()
    movies, _ = run.recommend(1, k=3)
    assert len(movies) == 3


def test_config_seed_range():
    from graphrec.config import TrainConfig

    for seed in (-1, 2**32):
        with pytest.raises(ValueError, match="seed"):
            TrainConfig(seed=seed)


def test_out_of_memory_is_one_line(run_cli, monkeypatch, tmp_path):
    import graphrec.cli.data as data

    def boom(args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 377000000000 bytes.")

    monkeypatch.setattr(data, "run_info", boom)
    code, out, err = run_cli("data", "info", "--json")
    one_line_error(code, err, "out of memory", "--factors")
    assert json.loads(out)["error"]["kind"] == "user"
