"""Class 3 of issue 25: a run directory is claimed by one process at a time (graphrec.io.claim_dir), and a
default built on first use is built by one process while the others wait (graphrec.io.file_lock in cached())."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from checks import one_line_error
from graphrec.io import NameTaken, claim_dir, file_lock

GMF = ["train", "gmf", "--factors", "4", "--epochs", "1", "--batch-size", "256", "--quiet", "--no-refit"]
ROOT = Path(__file__).resolve().parents[2]


def test_a_claim_is_exclusive_and_released(tmp_path):
    with claim_dir(tmp_path / "run"):
        with pytest.raises(NameTaken, match="name taken"):
            with claim_dir(tmp_path / "run"):
                pass
    with claim_dir(tmp_path / "run"):  # released at the end of the block
        pass
    assert not (tmp_path / "run").exists()


def _hold(path: Path, seconds: float, then: str = "") -> subprocess.Popen:
    """Another process holding ``file_lock(path)`` for ``seconds``, then running ``then``; returns once it holds it."""
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from graphrec.io import file_lock
        with file_lock(Path({str(path)!r})):
            print("held", flush=True)
            time.sleep({seconds})
            {then or 'pass'}
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.stdout.readline().strip() == "held"
    return p


def test_second_train_of_the_same_name_is_refused(run_cli, synth_dir, tmp_path):
    holder = _hold(tmp_path / "runs" / "x", 30)
    try:
        code, _, err = run_cli(*GMF, "--data-dir", synth_dir, "--out", tmp_path / "runs", "--name", "x")
        one_line_error(code, err, "name taken", tmp_path / "runs" / "x")
        assert not (tmp_path / "runs" / "x").exists()
    finally:
        holder.kill()
        holder.wait()
    code, _, err = run_cli(*GMF, "--data-dir", synth_dir, "--out", tmp_path / "runs", "--name", "x")
    assert code == 0, err  # the holder died: its claim went with it


def test_unnamed_runs_started_together_get_different_folders(run_cli, synth_dir, tmp_path):
    with claim_dir(tmp_path / "runs" / "gmf"):  # another process is creating runs/gmf right now
        code, out, err = run_cli(*GMF, "--data-dir", synth_dir, "--out", tmp_path / "runs")
    assert code == 0, err
    assert (tmp_path / "runs" / "gmf-2" / "metrics.json").is_file() and not (tmp_path / "runs" / "gmf").exists()


def test_a_default_is_built_once_while_others_wait(tmp_path):
    from graphrec.defaults import cached

    target = tmp_path / "models" / "default"
    done = target / "metrics.json"
    holder = _hold(target, 1.5, then=f"Path({str(target)!r}).mkdir(parents=True); "
                                     f"Path({str(done)!r}).write_text('{{}}')")
    built = []
    start = time.monotonic()
    try:
        assert cached(target, lambda tmp: built.append(tmp), "metrics.json") == target
    finally:
        holder.wait()
    assert not built and time.monotonic() - start > 0.5  # it waited, then used the other process's build


def test_claims_leave_nothing_in_the_output_folder(run_cli, synth_dir, tmp_path):
    code, _, err = run_cli(*GMF, "--data-dir", synth_dir, "--out", tmp_path / "runs", "--name", "x")
    assert code == 0, err
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["x"]  # the lock lives under GRAPHREC_HOME/locks
