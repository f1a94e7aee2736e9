"""Data pipeline speed: load, graph build, split, and training-negative sampling throughput.

    python scripts/bench_data.py [--data-dir DIR] [--repeat 3]
"""
from __future__ import annotations

import argparse
import time

import torch

from graphrec.data import load_movielens, to_hetero
from graphrec.pipeline import build_split
from graphrec.config import DataConfig
from graphrec.data.sampling import pointwise_epoch


def best_of(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--num-ng", type=int, default=4)
    args = p.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    t_load, ml = best_of(lambda: load_movielens(args.dataset, args.data_dir, download_ok=False), args.repeat)
    t_graph, data = best_of(lambda: to_hetero(ml), args.repeat)
    t_split, split = best_of(lambda: build_split(DataConfig(args.dataset, args.data_dir), ml).split, args.repeat)
    gen = torch.Generator().manual_seed(0)
    sampler = split.train_sampler
    t_neg, (u, _, _) = best_of(lambda: pointwise_epoch(split.train_user, split.train_item, sampler, args.num_ng, gen),
                              args.repeat)
    negs = len(split.train_user) * args.num_ng
    rows = [
        ("load ratings, movies, users", f"{t_load * 1000:.0f} ms", f"{len(ml.ratings):,} ratings"),
        ("build HeteroData", f"{t_graph * 1000:.0f} ms", f"{data.num_edges:,} edges (both directions)"),
        ("leave-one-out split + 99 test negatives", f"{t_split * 1000:.0f} ms", f"{len(split.test_user):,} users"),
        (f"training negatives (num_ng={args.num_ng}, one epoch)", f"{t_neg * 1000:.0f} ms",
         f"{negs / t_neg / 1e6:.1f} M negatives/s; {len(u):,} samples/epoch"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'stage':<{w}}  {'time (best of ' + str(args.repeat) + ')':>18}  notes")
    print("-" * w + "  " + "-" * 18 + "  " + "-" * 30)
    for name, t, note in rows:
        print(f"{name:<{w}}  {t:>18}  {note}")
    print(f"\n{ml.name}: {ml.num_users} users, {ml.num_items} movies; torch threads: {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
