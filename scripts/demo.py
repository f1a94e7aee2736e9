"""`make demo`: the main job, end to end on ML-100K.

Each section is one capability of graphrec; it prints what a newcomer needs to see.
"""
from __future__ import annotations

import shutil
import sys

from graphrec.cli import main as graphrec


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def run(*argv: str) -> None:
    print("$ graphrec " + " ".join(argv), flush=True)
    code = graphrec(list(argv))
    if code:
        sys.exit(code)


if __name__ == "__main__":
    section("MovieLens-100K as a bipartite graph")
    run("data", "info")
    section("Leave-one-out split in the NCF paper's file format")
    run("data", "split", "--out", "runs/demo/split")
    section("Baselines every model must beat")
    run("evaluate", "mostpop", "--full")
    run("evaluate", "itemknn", "--full")
    section("Neural collaborative filtering: GMF, MLP and NeuMF (He et al. 2017), a few epochs each")
    for name in ("gmf", "mlp", "neumf"):  # start fresh on every run of the demo
        shutil.rmtree(f"runs/demo/{name}", ignore_errors=True)
    brief = ["--epochs", "5", "--batch-size", "4096", "--out", "runs/demo", "--quiet"]
    run("train", "gmf", "--factors", "16", "--lr", "0.01", "--name", "gmf", *brief)
    run("train", "mlp", "--layers", "64,32,16,8", "--lr", "0.01", "--name", "mlp", *brief)
    run("train", "neumf", "--factors", "16", "--layers", "64,32,16,8", "--lr", "0.0025", "--name", "neumf",
        "--pretrain", "runs/demo/gmf,runs/demo/mlp", *brief)
    run("evaluate", "runs/demo/neumf", "--full")
    section("Recommendations for user 1 (movies they have not rated)")
    run("recommend", "--user", "1", "-k", "10", "--run", "runs/demo/neumf")
    section("Why these movies? Feature groups explained with Captum and SHAP")
    run("recommend", "--user", "42", "-k", "3", "--explain")  # trains the default feature model on first use
    run("explain", "--user", "42", "--movie", "50", "--method", "shap", "--plot", "runs/demo/explain-42-50.png")
    run("explain", "--global", "--method", "ig", "--out", "runs/demo/explain")
    section("A new user and new movies: hetero-sage, a GNN over the graph's features (~1 min)")
    shutil.rmtree("runs/demo/hetero-sage", ignore_errors=True)
    run("train", "hetero-sage", "--name", "hetero-sage", "--out", "runs/demo", "--quiet")
    run("recommend", "--new-user", "--gender", "F", "--age", "25", "--occupation", "student",
        "--liked", "Star Wars;Fargo", "-k", "8", "--explain", "--run", "runs/demo/hetero-sage")
    section("node2vec movie embeddings (defaults: each movie's 5 nearest by raters (Jaccard x lift) plus "
            "movie-genre-movie steps, every rating; ~15 s)")
    run("embed", "node2vec", "--all-edges", "--out", "runs/demo/node2vec")
    run("similar", "Star Wars", "--embeddings", "runs/demo/node2vec", "-k", "8")
    print("PCA map: runs/demo/node2vec/pca.png; 3-D projector: tensorboard --logdir runs/demo/node2vec/tensorboard "
          "(PROJECTOR tab)")
