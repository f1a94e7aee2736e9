"""Paired test differences between two models of a finished ``graphrec benchmark`` output folder.

    python scripts/bench_pairs.py results/ hetero-sage-ids lightgcn [neumf ...]

Re-evaluates each model's refit runs (``runs/<model>/*-refit``; without refit, the selected runs)
on the test item, per user, and prints ``A - B`` for every B with the benchmark's interval: a
two-level bootstrap over the users (paired) and the seeds (:func:`graphrec.metrics.bootstrap_seeds_users`).
A thin caller of the library: runs are read with :func:`graphrec.load_run`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import graphrec
from graphrec.evaluation import evaluate
from graphrec.metrics import bootstrap_seeds_users

METRICS = ("full_HR@10", "full_NDCG@10", "HR@10", "NDCG@10")


def per_user(out: Path, model: str) -> list[dict]:
    """Per-user test metrics of each seed's final run of ``model``."""
    runs = sorted((out / "runs" / model).glob("*-refit")) or sorted((out / "runs" / model).glob("*_seed*"))
    if not runs:
        raise SystemExit(f"no runs of {model!r} under {out / 'runs'}")
    rows = []
    for run_dir in runs:
        run = graphrec.load_run(run_dir, progress=False)
        rows.append(evaluate(run.model, run.split, 10, "test", per_user=True)["per_user"])
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="the benchmark's output folder")
    p.add_argument("a", help="model A (benchmark entry name)")
    p.add_argument("others", nargs="+", help="models B")
    args = p.parse_args()
    a = per_user(args.out, args.a)
    print("| A - B | " + " | ".join(METRICS) + " |\n|" + "---|" * (len(METRICS) + 1))
    for other in args.others:
        b = per_user(args.out, other)
        if len(a) != len(b):
            raise SystemExit(f"{args.a} has {len(a)} seeds, {other} {len(b)}")
        cells = []
        for m in METRICS:
            mean, lo, hi = bootstrap_seeds_users(np.stack([x[m] for x in a]) - np.stack([y[m] for y in b]))
            cells.append(f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        print(f"| {args.a} - {other} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
