"""notebooks/embeddings.ipynb runs top to bottom on small settings (so it cannot rot)."""
from notebooks import run_notebook


def test_embeddings_notebook_executes(synth_dir, tmp_path):
    outputs = run_notebook("embeddings.ipynb", {
        "GRAPHREC_DATA": str(synth_dir), "GRAPHREC_NB_OUT": str(tmp_path / "emb"),
        "GRAPHREC_NB_FLAGS": "--dim 8 --walk-length 8 --walks-per-node 2 --window 2 --negatives 2"}, cwd=tmp_path)
    out = "".join(o.get("text", "") for o in outputs)
    assert "most similar to Movie 1 (1950)" in out and "tensorboard --logdir" in out
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (tmp_path / "emb" / "embeddings.pt").is_file()
