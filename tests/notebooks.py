"""Execute a notebook of ``notebooks/`` with nbclient, as the test suite's guard against rot."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(name: str, env: dict[str, str], cwd: Path, timeout: int = 300) -> list[dict]:
    """Run ``notebooks/<name>`` in a fresh kernel with ``env`` added; return every cell output.

    The kernel finds this checkout's ``graphrec`` first and never raises in a cell.
    """
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    full_env = {**os.environ,
                "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **env}
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute(env=full_env)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return outputs


def text_of(outputs: list[dict]) -> str:
    """Streamed text and plain-text results, joined."""
    return "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
