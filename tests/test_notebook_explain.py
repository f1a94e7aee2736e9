"""notebooks/explain.ipynb runs end to end on small synthetic data (nbclient)."""
import pytest

from notebooks import run_notebook
from synthetic import planted_weight


@pytest.fixture(scope="module")
def planted_dir(synthetic_data):
    return synthetic_data(num_users=80, num_items=150, per_user=10, seed=0, weight_fn=planted_weight).dir


def test_notebook_explains_recommendations(planted_dir, tmp_path):
    outputs = run_notebook("explain.ipynb", {
        "GRAPHREC_DATA": str(planted_dir), "GRAPHREC_NB_EPOCHS": "1", "GRAPHREC_NB_PAIRS": "20",
        "GRAPHREC_NB_USER": "3"}, cwd=tmp_path, timeout=120)
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "because you liked" in "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "gender" in text and "genres" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # waterfall, bar, beeswarm
