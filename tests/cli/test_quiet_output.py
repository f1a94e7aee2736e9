"""Logs get one line per epoch instead of progress bars; dependencies' deprecation notices are hidden."""
import warnings

from graphrec.cli import main, quiet_dependency_warnings


def test_training_writes_one_line_per_epoch_when_not_on_a_terminal(synth_dir, tmp_path, capsys):
    argv = ["train", "gmf", "--factors", "4", "--epochs", "3", "--patience", "0", "--data-dir", str(synth_dir),
            "--out", str(tmp_path), "--name", "g"]
    assert main(argv) == 0  # capsys: stderr is not a terminal
    err = capsys.readouterr().err
    assert "\r" not in err and "%|" not in err
    assert [line.split(":")[0] for line in err.splitlines()] == [f"gmf epoch {e}/3" for e in (1, 2, 3)]
    assert main([*argv[:-1], "q", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main([*argv[:-1], "p", "--progress"]) == 0  # bars forced on
    assert "%|" in capsys.readouterr().err


def test_dependency_deprecations_are_hidden_but_graphrecs_own_are_not():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_dependency_warnings()
        for module in ("shap.plots.colors._colors", "torch_geometric.typing", "captum.attr", "graphrec.data"):
            warnings.warn_explicit("old api", DeprecationWarning, "x.py", 1, module=module)
        warnings.warn_explicit("lr too high", UserWarning, "x.py", 1, module="shap")
    assert [(str(w.message), w.category) for w in seen] == [("old api", DeprecationWarning),
                                                          ("lr too high", UserWarning)]
