"""Would batching concurrent requests help ``graphrec serve``? Times one model call that scores ``b`` users
(and ranks their top 10) against ``b`` calls of one user, for a run (default: the default NeuMF).

    python scripts/bench_serve_batching.py [--run DIR] [--threads 1]

Prints the best of 5 repeats per batch size; the ratio is what batching would save per user.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", help="a run directory (default: the default NeuMF, trained on first use)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batches", default="1,2,4,8,16")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    import graphrec

    run = graphrec.load_run(args.run)
    model = run.model.eval()
    users = np.arange(run.catalog.num_users)

    def per_user(b: int) -> float:
        calls = max(4, 64 // b)
        best = float("inf")
        with torch.no_grad():
            for rep in range(6):
                t = time.perf_counter()
                for c in range(calls):
                    u = torch.as_tensor(users[(c * b) % (len(users) - b):][:b])
                    torch.topk(model.score_all(u), 10, dim=1)
                if rep:  # the first repeat warms up
                    best = min(best, (time.perf_counter() - t) / (calls * b))
        return best

    base = None
    for b in (int(x) for x in args.batches.split(",")):
        t = per_user(b)
        base = base or t
        print(f"batch {b:>3}: {t * 1e3:.3f} ms a user ({base / t:.2f}x the speed of one user a call)")


if __name__ == "__main__":
    main()
