"""``graphrec --help``, sub-command help and argument errors never import the heavy libraries,
and a warm ``recommend`` of a NeuMF run imports neither torch_geometric, scikit-learn nor pandas."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "numpy", "torch_geometric", "sklearn", "shap", "captum", "pandas", "scipy", "matplotlib")

#: Each argv exits through argparse (help or a usage error) before any command runs.
PARSE_ONLY = [
    ["--help"], ["recommend", "--help"], ["similar", "--help"], ["explain", "--help"], ["train", "--help"],
    ["evaluate", "--help"], ["benchmark", "--help"], ["data", "info", "--help"], ["embed", "node2vec", "--help"],
    ["cache", "--help"], ["recommend", "--user", "x"], ["train", "nope"], ["recommend"], ["similar"],
    ["explain", "--method", "nope"], ["nope"], ["serve", "--help"], ["serve", "--port", "x"],
    ["benchmark", "--suite", "nope"], ["benchmark", "--suite", "data", "--sizes", "1M"],
]

PROBE = """
import json, sys
from graphrec.cli import main
seen = {}
for argv in json.loads(sys.argv[1]):
    try:
        main(argv)
    except SystemExit:
        pass
    seen[" ".join(argv)] = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps(seen))
"""


def _probe(argvs, heavy=HEAVY, env=None) -> dict:
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argvs), json.dumps(heavy)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_and_argument_errors_import_nothing_heavy():
    seen = _probe(PARSE_ONLY)
    assert seen == {" ".join(a): [] for a in PARSE_ONLY}


def test_import_graphrec_and_its_packages_is_light():
    code = ("import sys, graphrec, graphrec.data, graphrec.models, graphrec.explain, graphrec.embeddings, "
            "graphrec.training, graphrec.cli; print([m for m in %r if m in sys.modules])" % (HEAVY,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_warm_recommend_imports_only_torch(neumf_run, synth_dir, tmp_path):
    import graphrec

    graphrec.load_run(neumf_run).recommend(1, k=3)  # warms the processed-data cache
    argv = [["recommend", "--user", "1", "-k", "3", "--run", str(neumf_run), "--json"],
            ["recommend", "--users", "1,2", "--run", str(neumf_run), "--out", str(tmp_path / "r.csv")]]
    seen = _probe(argv, env={"GRAPHREC_HOME": os.environ["GRAPHREC_HOME"]})
    assert seen == {" ".join(argv[0]): ["torch", "numpy"], " ".join(argv[1]): ["torch", "numpy"]}
    assert (tmp_path / "r.csv").read_text().count("\n") == 1 + 2 * 10


def test_warm_explain_builds_no_graph_and_reads_no_dataframe(synth_dir, tmp_path):
    import graphrec
    from graphrec.config import DataConfig, TrainConfig
    from graphrec.training import select_and_refit

    config = TrainConfig(model="feature-mlp", hparams={"factors": 4, "side_dim": 2, "layers": [8]}, epochs=1,
                         batch_size=256, full_eval_every=0, data=DataConfig(dataset="ml-100k", data_dir=str(synth_dir)))
    select_and_refit(config, None, tmp_path / "f", progress=False)
    graphrec.load_run(tmp_path / "f").explain(1, 2)  # warms the cache: dataset, split and feature codes
    argv = [["explain", "--user", "1", "--movie", "2", "--run", str(tmp_path / "f"), "--json"]]
    seen = _probe(argv, env={"GRAPHREC_HOME": os.environ["GRAPHREC_HOME"]})[" ".join(argv[0])]
    assert "torch" in seen and not {"torch_geometric", "pandas", "sklearn", "shap"} & set(seen)
