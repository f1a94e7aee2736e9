"""The data-exploration notebook runs top to bottom (on small synthetic data)."""
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def test_data_exploration_notebook_runs(synth_dir, synth, monkeypatch):
    monkeypatch.setenv("GRAPHREC_DATA", str(synth_dir))
    monkeypatch.setenv("GRAPHREC_DATASET", "ml-100k")
    monkeypatch.setenv("GRAPHREC_NB_TOP_MOVIES", "40")
    monkeypatch.setenv("GRAPHREC_NB_TOP_PAIRS", "5")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(ROOT / "notebooks" / "data_exploration.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert f"{synth.num_users} users, {synth.num_items} movies, {len(synth.ratings):,} ratings" in text
    assert "connected components" in text and "users rating both" in text
