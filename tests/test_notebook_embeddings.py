"""notebooks/embeddings.ipynb runs top to bottom on small settings (so it cannot rot)."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_embeddings_notebook_executes(synth_dir, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "notebooks" / "embeddings.ipynb", as_version=4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "GRAPHREC_DATA": str(synth_dir), "GRAPHREC_NB_OUT": str(tmp_path / "emb"),
           "GRAPHREC_NB_FLAGS": "--dim 8 --walk-length 8 --walks-per-node 2 --window 2 --negatives 2"}
    # the kernel spec's "python" is replaced by this interpreter (jupyter_client does so for native kernels)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "most similar to Movie 1 (1950)" in out and "tensorboard --logdir" in out
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c["outputs"])
    assert (tmp_path / "emb" / "embeddings.pt").is_file() and sys.executable
