"""Class 9 of issue 25: under --json every command fails the same way: the one line on stderr, a JSON error
object on stdout ({"error": {"message", "kind", "exit_code"}}), a non-zero exit."""
import json

import pytest


@pytest.mark.parametrize("argv", [
    ["data", "info", "--data-dir", "{tmp}/missing", "--json"],
    ["cache", "info", "--json", "--bogus"],
    ["evaluate", "{tmp}/no-run", "--json"],
    ["recommend", "--user", "1", "--run", "{tmp}/no-run", "--json"],
    ["similar", "Star Wars", "--embeddings", "{tmp}/no-emb", "--json"],
    ["explain", "--user", "1", "--movie", "1", "--run", "{tmp}/no-run", "--json"],
    ["recommend", "--user", "x", "--json"],
])
def test_json_error_object(run_cli, tmp_path, argv):
    code, out, err = run_cli(*[a.format(tmp=tmp_path) for a in argv])
    assert code != 0 and err.count("\n") == 1 and err.startswith("graphrec: error: ")
    obj = json.loads(out)
    assert set(obj) == {"error"} and obj["error"]["exit_code"] == code
    assert obj["error"]["message"] == err.strip()[len("graphrec: error: "):]
    assert obj["error"]["kind"] in ("usage", "user", "environment", "internal")


def test_without_json_stdout_stays_empty(run_cli, tmp_path):
    code, out, err = run_cli("evaluate", tmp_path / "no-run")
    assert code == 2 and out == "" and err.count("\n") == 1


@pytest.mark.parametrize("make, says", [
    (lambda p: p.mkdir(), "is a folder, not a file"),
    (lambda p: p.symlink_to(p), "is a symbolic link loop"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), "is a broken symbolic link")])
def test_a_ratings_file_that_is_not_a_file_is_named(run_cli, tmp_path, make, says):
    """Class 9: u.data that is a folder or a link loop is not reported as missing."""
    from checks import one_line_error

    d = tmp_path / "ml"
    d.mkdir()
    make(d / "u.data")
    code, _, err = run_cli("data", "info", "--data-dir", d)
    one_line_error(code, err, d / "u.data", says)


def test_a_run_killed_during_its_refit_says_what_to_do(tmp_path):
    """Class 9: not 'stopped before its first epoch', and not 'train it again under the same name'."""
    from graphrec.errors import CheckpointError
    from graphrec.config import TrainConfig
    from graphrec.training.runs import check_finished

    run = tmp_path / "runs" / "x"
    (run / "selection").mkdir(parents=True)
    (run / "selection" / "metrics.json").write_text("{}")
    (run / "selection" / "model.pt").write_text("")
    (run / "config.json").write_text("{}")
    with pytest.raises(CheckpointError) as e:
        check_finished(run, TrainConfig())
    msg = str(e.value)
    assert "final retraining" in msg and str(run / "selection") in msg and "first epoch" not in msg
    assert "same name" not in msg
