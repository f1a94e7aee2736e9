"""``graphrec benchmark --suite scale``: every pipeline stage on MovieLens-shaped synthetic data.

Sizes: ``--sizes`` numbers of ratings (default 1M 5M 25M; ``--quick``: 200K). Users and movies grow with the
number of ratings (25M: ML-25M's 162,541 users x 62,423 movies), degrees follow power laws (user activity
Pareto-distributed with at least 20 ratings, movie popularity Zipf-like with exponent 0.9). Each size runs
in a fresh process (``python -m graphrec.benchmark.suites.scale --one SIZE``) so that its peak resident
memory (``ru_maxrss``) is its own. The ratings are written as a CSV-family folder (``ratings.csv``,
``movies.csv``) in a temporary directory and read back with ``load_movielens``. Stages: leave-one-out split
with 99 test negatives per user; one epoch of training negatives (4 per positive); one GMF epoch through the
``Trainer`` (32 factors, ``--batch-size``, default 65,536, sampling included); building LightGCN's normalised
graph; one LightGCN propagation (64 factors, 3 layers); full ranking of ``--eval-users`` (default 10,000)
test users. Writes ``scale.md`` and ``scale.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ...config import DataConfig, TrainConfig
from ...data import load_movielens
from ...data.sampling import pointwise_epoch
from ...errors import GraphrecError
from ...evaluation import KnownItems, full_ranks
from ...models import MODELS, LightGCN
from ...pipeline import build_split
from ...training import Trainer
from . import save

FULL = (25_000_095, 162_541, 62_423)  # ML-25M: ratings, users, movies


def parse_size(s: str) -> int:
    s = s.upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(s[-1], 1)
    return int(float(s.rstrip("KM")) * mult)


def synthesize(num_ratings: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(users, items) raw pairs, distinct, with power-law degrees; sizes scaled from ML-25M."""
    rng = np.random.default_rng(seed)
    num_users = max(100, round(FULL[1] * num_ratings / FULL[0]))
    num_items = max(100, round(FULL[2] * num_ratings / FULL[0]))
    deg = 20 + rng.pareto(1.5, num_users)  # heavy tail, minimum 20 as in MovieLens
    deg = deg / deg.sum() * num_ratings
    pop = 1.0 / np.arange(1, num_items + 1) ** 0.9
    pop = rng.permutation(pop / pop.sum())
    key = np.zeros(0, np.int64)
    for _ in range(10):  # repeated (user, movie) draws are dropped: top up until there are enough
        want = np.minimum(np.round(deg * 1.02 * num_ratings / max(len(key), num_ratings // 2)),
                          num_items // 2).astype(np.int64)
        users = np.repeat(np.arange(num_users, dtype=np.int64), want)
        key = np.union1d(key, users * num_items + rng.choice(num_items, size=len(users), p=pop))
        if len(key) >= num_ratings:
            break
    if len(key) > num_ratings:
        key = np.sort(rng.choice(key, size=num_ratings, replace=False))
    return key // num_items, key % num_items, num_users, num_items


def write_csv_family(folder: Path, users: np.ndarray, items: np.ndarray, num_items: int, seed: int = 0) -> None:
    import pandas as pd

    rng = np.random.default_rng(seed + 1)
    pd.DataFrame({"movieId": np.arange(1, num_items + 1),
                  "title": [f"Movie {i} ({1950 + i % 70})" for i in range(1, num_items + 1)],
                  "genres": np.where(np.arange(num_items) % 3 == 0, "Drama", "Comedy|Romance")}
                 ).to_csv(folder / "movies.csv", index=False)
    ratings = pd.DataFrame({"userId": users + 1, "movieId": items + 1,
                            "rating": rng.integers(1, 11, len(users)) / 2.0,
                            "timestamp": 800_000_000 + rng.integers(0, 700_000_000, len(users))})
    ratings.to_csv(folder / "ratings.csv", index=False, chunksize=1_000_000)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run_size(num_ratings: int, eval_users: int, batch_size: int) -> dict:
    row: dict = {"target": num_ratings}
    row["generate"], (u, i, nu, ni) = timed(lambda: synthesize(num_ratings))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ml-25m"
        folder.mkdir()
        row["write csv"], _ = timed(lambda: write_csv_family(folder, u, i, ni))
        del u, i
        row["load"], ml = timed(lambda: load_movielens("ml-25m", folder, download_ok=False))
    row.update(ratings=len(ml.ratings), users=ml.num_users, movies=ml.num_items)
    row["split"], split = timed(lambda: build_split(DataConfig("ml-25m"), ml).split)
    del ml
    gen = torch.Generator().manual_seed(0)
    sampler = split.train_sampler
    row["negatives (4/pos)"], _ = timed(lambda: pointwise_epoch(split.train_user, split.train_item, sampler, 4, gen))
    cfg = TrainConfig(model="gmf", epochs=1, batch_size=batch_size, num_ng=4, lr=1e-3)
    torch.manual_seed(0)
    model = MODELS["gmf"].build(None, split, factors=32)
    row["GMF epoch"], _ = timed(lambda: Trainer(model, split, cfg, progress=False, tensorboard=False).train_epoch(1))
    del model
    row["LightGCN graph"], lgcn = timed(lambda: LightGCN.build(None, split, factors=64, num_layers=3))
    lgcn.eval()
    with torch.no_grad():
        row["LightGCN propagation"], _ = timed(lgcn.embeddings)
    users, items, _ = split.held_out("test")
    known = KnownItems(*split.known_items("test"), split.num_users)
    lgcn.propagate()  # the cached final embeddings, as after training
    row[f"full ranking ({eval_users // 1000}K users)"], _ = timed(
        lambda: full_ranks(lgcn, users[:eval_users], items[:eval_users], known))
    row["peak RSS GiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return row


def run(args, out: Path) -> list[Path]:
    sizes = args.sizes or (["200K"] if args.quick else ["1M", "5M", "25M"])
    for s in sizes:
        try:
            if parse_size(s) < 1000:
                raise ValueError
        except ValueError:
            raise GraphrecError(f"--sizes {s}: not a number of ratings of at least 1K (e.g. 200K, 1M, 25M)") from None
    eval_users = args.eval_users or (1000 if args.quick else 10_000)
    batch_size = args.batch_size if "batch_size" in args.given else 65_536
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    for size in sizes:
        done = subprocess.run([sys.executable, "-m", __name__, "--one", size, "--eval-users", str(eval_users),
                               "--batch-size", str(batch_size), "--threads", str(torch.get_num_threads())],
                              capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise GraphrecError(f"scale {size} failed: {done.stderr.strip()[-300:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"done {size}: {rows[-1]['ratings']:,} ratings", file=sys.stderr, flush=True)
    keys = [k for k in rows[0] if k not in ("target", "ratings", "users", "movies")]
    lines = ["| stage | " + " | ".join(f"{r['ratings'] / 1e6:.1f}M ratings, {r['users']:,} x {r['movies']:,}"
                                       for r in rows) + " | per 1M ratings |", "|---|" + "---|" * (len(rows) + 1)]
    for k in keys:
        unit = "" if "GiB" in k else " s"
        vals = " | ".join(f"{r[k]:.2f}{unit}" for r in rows)
        per = " / ".join(f"{r[k] / (r['ratings'] / 1e6):.2f}" for r in rows)
        lines.append(f"| {k} | {vals} | {per} |")
    text = ("\n".join(lines) + f"\n\nGMF epoch: batch {batch_size}, 4 negatives per positive; torch threads: "
            f"{torch.get_num_threads()}\n")
    print(text)
    return [save(out / "scale.md", text), save(out / "scale.json", {"batch_size": batch_size, "rows": rows})]


def main() -> None:
    """One size in this process (the suite's child): its row as JSON on the last line."""
    p = argparse.ArgumentParser()
    p.add_argument("--one", required=True)
    p.add_argument("--eval-users", type=int, required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(json.dumps(run_size(parse_size(a.one), a.eval_users, a.batch_size)))


if __name__ == "__main__":
    main()
