"""Does the order of a new user's liked titles help? Validation cold splits only.

    python scripts/liked_order.py [--data-dir DIR] [--seeds 100 101 102]

A mean over neighbours counts a repeated edge twice, so "the most recent titles weigh more" can be tried
without new machinery: each cold user's ``m`` most recent visible ratings (``user_known_*`` are in time
order) are repeated ``r`` times in the graph. One model of the shipped cold config per validation split
(seeded by it), scored at k = 3 and 5 with each (m, r) against the plain set of edges.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from bench_coldstart import setting, train_model
from graphrec.coldstart import _rank_within
from graphrec.config import DataConfig
from graphrec.pipeline import build_cold_split
from graphrec.data import load_movielens
from tune_new_user_prior import FullRanks

SCHEMES = ((0, 1), (1, 2), (1, 3), (2, 2))  # (most recent m, repeated r times); (0, 1): the plain set


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    args = p.parse_args()
    if set(args.seeds) & {0, 1, 2}:
        raise SystemExit("the reported seeds 0-2 choose nothing")
    torch.set_num_threads(1)
    ml = load_movielens("ml-100k", args.data_dir, download_ok=False)
    cfg = setting("hetero-sage", None)
    out: dict = {}
    for seed in args.seeds:
        cold = build_cold_split(DataConfig(split_seed=seed), ml)
        model, _, best = train_model(ml, cold.warm_split(), cfg, seed)
        model.eval()
        print(f"split {seed}: best epoch {best}", flush=True)
        pos = _rank_within(cold.user_known_user)
        for k in (3, 5):
            ranks = FullRanks(cold, k)
            vu, vi = cold.visible(k)
            for m, r in SCHEMES:
                recent = (pos < k) & (pos >= k - m)
                extra_u = cold.user_known_user[recent].repeat(r - 1)
                extra_i = cold.user_known_item[recent].repeat(r - 1)
                model.set_graph(torch.cat([vu, extra_u]), torch.cat([vi, extra_i]))
                with torch.no_grad():
                    scores = model.score_all(cold.cold_users).float()
                out.setdefault((k, m, r), []).append(ranks(scores))
    for (k, m, r), v in sorted(out.items()):
        print(f"k={k} last {m} x{r}: full HR@10 {np.mean([a for a, _ in v]):.4f}, full NDCG@10 "
              f"{np.mean([b for _, b in v]):.4f}  (per split {[round(a, 4) for a, _ in v]})")


if __name__ == "__main__":
    main()
