"""``graphrec benchmark --suite data``: data pipeline speed (load, graph build, split, training negatives).

Each stage is timed ``--repeat`` times (``--quick``: once) and the best is kept; writes ``data.md`` (the
table) and ``data.json`` (seconds per stage).
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from ...config import DataConfig
from ...data import load_movielens, to_hetero
from ...data.sampling import pointwise_epoch
from ...pipeline import build_split
from . import save


def best_of(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def run(args, out: Path) -> list[Path]:
    repeat = args.repeat or (1 if args.quick else 3)
    num_ng = args.neg
    data = DataConfig(args.dataset, args.data_dir, args.split_dir, args.split_seed)
    t_load, ml = best_of(lambda: load_movielens(args.dataset, args.data_dir, download_ok=False), repeat)
    t_graph, graph = best_of(lambda: to_hetero(ml), repeat)
    t_split, split = best_of(lambda: build_split(data, ml, cache=False).split, repeat)
    gen = torch.Generator().manual_seed(0)
    t_neg, (u, _, _) = best_of(lambda: pointwise_epoch(split.train_user, split.train_item, split.train_sampler,
                                                       num_ng, gen), repeat)
    negs = len(split.train_user) * num_ng
    rows = [
        ("load ratings, movies, users", t_load, f"{len(ml.ratings):,} ratings"),
        ("build HeteroData", t_graph, f"{graph.num_edges:,} edges (both directions)"),
        ("leave-one-out split + 99 test negatives", t_split, f"{len(split.test_user):,} users"),
        (f"training negatives (num_ng={num_ng}, one epoch)", t_neg,
         f"{negs / t_neg / 1e6:.1f} M negatives/s; {len(u):,} samples/epoch"),
    ]
    lines = [f"| stage | time (best of {repeat}) | notes |", "|---|---:|---|"]
    lines += [f"| {name} | {t * 1000:.0f} ms | {note} |" for name, t, note in rows]
    lines.append(f"\n{ml.name}: {ml.num_users} users, {ml.num_items} movies; torch threads: {torch.get_num_threads()}")
    text = "\n".join(lines) + "\n"
    print(text)
    return [save(out / "data.md", text),
            save(out / "data.json", {"repeat": repeat, "num_ng": num_ng, "threads": torch.get_num_threads(),
                                           "seconds": {name: t for name, t, _ in rows}})]
