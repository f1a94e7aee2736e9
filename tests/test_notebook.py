"""The data-exploration notebook runs top to bottom (on small synthetic data)."""
from notebooks import ROOT, run_notebook, text_of


def test_data_exploration_notebook_runs(synth_dir, synth):
    outputs = run_notebook("data_exploration.ipynb", {
        "GRAPHREC_DATA": str(synth_dir), "GRAPHREC_DATASET": "ml-100k",
        "GRAPHREC_NB_TOP_MOVIES": "40", "GRAPHREC_NB_TOP_PAIRS": "5", "MPLBACKEND": "Agg"}, cwd=ROOT)
    text = text_of(outputs)
    assert f"{synth.num_users} users, {synth.num_items} movies, {len(synth.ratings):,} ratings" in text
    assert "connected components" in text and "users rating both" in text
