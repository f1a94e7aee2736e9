"""Logs get one line per epoch instead of progress bars; bars with --progress, nothing with --quiet."""
from graphrec.cli import main


def test_training_writes_one_line_per_epoch_when_not_on_a_terminal(synth_dir, tmp_path, capsys):
    argv = ["train", "gmf", "--factors", "4", "--epochs", "3", "--patience", "0", "--no-refit", "--data-dir", str(synth_dir),
            "--out", str(tmp_path), "--name", "g"]
    assert main(argv) == 0  # capsys: stderr is not a terminal
    err = capsys.readouterr().err
    assert "\r" not in err and "%|" not in err
    assert [line.split(":")[0] for line in err.splitlines()] == [f"gmf epoch {e}/3" for e in (1, 2, 3)]
    assert main([*argv[:-1], "q", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main([*argv[:-1], "p", "--progress"]) == 0  # bars forced on
    assert "%|" in capsys.readouterr().err
