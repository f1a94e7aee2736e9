import json

import pytest

from graphrec.cli import main


def test_data_info_json(ml100k_dir, capsys):
    assert main(["data", "info", "--dataset", "ml-100k", "--data-dir", str(ml100k_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["users"], info["movies"], info["ratings"]) == (943, 1682, 100000)
    assert info["density"] == pytest.approx(100000 / (943 * 1682))
    assert info["user_degree"]["min"] == 20


def test_data_info_text(ml100k_dir, capsys):
    assert main(["data", "info", "--data-dir", str(ml100k_dir)]) == 0
    out = capsys.readouterr().out
    assert "943" in out and "1682" in out and "100000" in out


def test_data_split_then_evaluate_with_split_dir(synth_dir, tmp_path, capsys):
    out = tmp_path / "split"
    assert main(["data", "split", "--data-dir", str(synth_dir), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "mostpop", "--split-dir", str(out), "--full", "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "mostpop", "--data-dir", str(synth_dir), "--full", "--json"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a["HR@10"] == b["HR@10"] and a["full_NDCG@10"] == b["full_NDCG@10"]


def test_bad_input_one_line_no_traceback(tmp_path, capsys):
    (tmp_path / "u.data").write_text("1\t2\n")
    code = main(["data", "info", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "u.data: line 1: expected 4 fields, found 2" in err


def test_missing_folder(tmp_path, capsys):
    assert main(["data", "info", "--data-dir", str(tmp_path / "nope")]) == 2
    assert "no MovieLens files found" in capsys.readouterr().err


def test_split_out_is_atomic_on_error(synth_dir, tmp_path, monkeypatch, capsys):
    """A failure after some split files are written (here: the last one, split.json) leaves no file behind."""
    import graphrec.data.split as split_module
    from graphrec.errors import DataError

    def disk_full(path, obj):
        raise DataError(f"{path}: disk full")

    monkeypatch.setattr(split_module, "write_json", disk_full)
    assert main(["data", "split", "--data-dir", str(synth_dir), "--out", str(tmp_path / "out")]) == 2
    assert "disk full" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
