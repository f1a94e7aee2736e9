"""notebooks/explain.ipynb runs end to end on small synthetic data (nbclient)."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from synthetic import write_ml100k
from test_explain import planted_weight


@pytest.fixture(scope="module")
def planted_dir(tmp_path_factory):
    return write_ml100k(tmp_path_factory.mktemp("planted") / "ml-100k", num_users=80, num_items=150, per_user=10,
                        seed=0, weight_fn=planted_weight)


def test_notebook_explains_recommendations(planted_dir, tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("GRAPHREC_DATA", str(planted_dir))
    monkeypatch.setenv("GRAPHREC_NB_EPOCHS", "1")
    monkeypatch.setenv("GRAPHREC_NB_PAIRS", "20")
    monkeypatch.setenv("GRAPHREC_NB_USER", "3")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(root / "notebooks" / "explain.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "because you liked" in "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "gender" in text and "genres" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # waterfall, bar, beeswarm
