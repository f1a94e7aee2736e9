"""``graphrec ... | head``: when the reader of stdout goes away the command ends quietly with the
shell's 128 + SIGPIPE, no traceback, no "Exception ignored" and no error line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphrec.cli import BROKEN_PIPE

ROOT = Path(__file__).resolve().parents[2]

#: A command whose output (~1 MB) is far larger than a pipe's buffer, so a write fails mid-command.
BIG = """
import sys
from graphrec.cli import data, main
from graphrec.cli.common import print_json
data.run_info = lambda args: print_json({str(i): "x" * 40 for i in range(20000)})
sys.exit(main(["data", "info"] + sys.argv[1:]))
"""


def _closed_reader(cmd: list[str]) -> tuple[int, str]:
    """Run ``cmd`` with its stdout pipe closed before it writes; its exit status and stderr."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # block-buffered, as for users
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    proc.stdout.close()  # the reader is gone, like `| head -c 0`
    err = proc.stderr.read().decode()
    return proc.wait(timeout=300), err


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_write_into_closed_pipe_mid_command(debug):
    code, err = _closed_reader([sys.executable, "-c", BIG, *debug])
    assert (code, err) == (BROKEN_PIPE, "")


def test_small_json_flushed_at_exit_into_closed_pipe(synth_dir):
    # a short output sits in the buffer until the exit flush, which used to print "Exception ignored"
    code, err = _closed_reader([sys.executable, "-m", "graphrec", "data", "info", "--data-dir", str(synth_dir),
                                "--json"])
    assert (code, err) == (BROKEN_PIPE, "")
