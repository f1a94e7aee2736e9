"""What hetero-sage's new-user term does to warm users: a run's test metrics with and without it, paired.

    python scripts/new_user_term_warm.py RUN_DIR      # e.g. $GRAPHREC_HOME/models/hetero-sage-ml-100k-<fingerprint>
"""
from __future__ import annotations

import argparse

import torch

import graphrec
from graphrec.evaluation import evaluate
from graphrec.metrics import paired_bootstrap


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    args = p.parse_args()
    torch.set_num_threads(1)
    run = graphrec.load_run(args.run)
    model, split = run.model, run.split
    with_term = evaluate(model, split, 10, "test", per_user=True)
    without = evaluate(model.without_new_user_term(), split, 10, "test", per_user=True)
    for m in ("full_HR@10", "full_NDCG@10", "HR@10", "NDCG@10"):
        mean, lo, hi = paired_bootstrap(with_term["per_user"][m], without["per_user"][m])
        print(f"{m}: with {with_term[m]:.4f}, without {without[m]:.4f}, paired {mean:+.4f} [{lo:+.4f}, {hi:+.4f}]")


if __name__ == "__main__":
    main()
