"""Choose hetero-sage's new-user term (``demo_prior``, ``demo_decay``, ``demo_floor``, ``demo_smoothing``) on the
validation cold splits.

    python scripts/tune_new_user_prior.py [--data-dir DIR] [--seeds 100 101 102] [--out FILE]

The term is added at inference only (:class:`graphrec.models.HeteroSAGE`, docs/coldstart.md), so one model per
validation cold split (the shipped cold config, trained on the split's warm ratings as ``bench_coldstart.py``
does, seeded by the split) is scored once per cold protocol, and every point of the grid is that score plus
``(lambda_inf + (lambda_0 - lambda_inf) decay^k) log(1 + c_g(m) + s c(m) n_g / n)`` for the cold users with ``k`` visible ratings. The point with
the highest mean full HR@10 over the cold-user protocols (k = 0, 1, 3, 5; the term is 0 for every cold movie, so
the cold-movie protocol does not move) is printed and, with ``--out``, written into a copy of the cold config.
The reported seeds (0-2) are never read.
"""
from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch

from bench_coldstart import setting, train_model
from graphrec.coldstart import COLD_KS, evaluate_cold_users
from graphrec.config import DataConfig
from graphrec.pipeline import build_cold_split
from graphrec.data import load_movielens
from graphrec.data.features import FeatureTable
from graphrec.io import write_json
from graphrec.models.cold_baselines import ColdMostPop, DemographicPop, ItemKNNFromK
from graphrec.models.sage_inference import demographic_group, group_popularity
from graphrec.catalogue import shipped_path

#: The grid. A first pass (weights 0.1-100, decays 0-0.9, no floor, smoothing 0-3) found, per k on its own, the best
#: weight >= 50 at k = 0, 10-15 at k = 1 and 3-5 at k = 3 and 5, and smoothing above 0.1 worse at every k:
#: a geometric decay alone cannot follow that, hence the floor.
WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 50.0, 100.0, 1000.0)
DECAYS = (0.05, 0.1, 0.2, 0.3, 0.5)
FLOORS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
SMOOTHING = (0.0, 0.03, 0.1)


class FullRanks:
    """Full HR@10 / NDCG@10 of one cold-user protocol for any score matrix, as
    :func:`graphrec.coldstart.evaluate_cold_users` counts them (ties against the target), but sorting each
    user's candidates once instead of comparing every target with every movie: fast enough for a grid."""

    def __init__(self, cold, k: int) -> None:
        users = cold.cold_users
        row_of = torch.full((cold.num_users,), -1, dtype=torch.long)
        row_of[users] = torch.arange(len(users))
        cand = torch.ones(len(users), cold.num_items, dtype=torch.bool)
        cand[:, cold.cold_items] = False
        cand[row_of[cold.user_known_user], cold.user_known_item] = False
        cand[row_of[cold.user_test_user], cold.user_test_item] = False
        self.cand, self.rows, self.targets = cand, row_of[cold.user_test_user], cold.user_test_item
        self.per_row = [torch.nonzero(self.rows == r).flatten() for r in range(len(users))]

    def __call__(self, scores: torch.Tensor, at: int = 10) -> tuple[float, float]:
        masked = torch.where(self.cand, scores, torch.tensor(-float("inf"))).sort(1).values
        t = scores[self.rows, self.targets]
        rank = torch.empty(len(t), dtype=torch.long)
        for r, idx in enumerate(self.per_row):
            # candidates scoring >= the target: all minus those strictly below (the -inf non-candidates among them)
            rank[idx] = scores.shape[1] - torch.searchsorted(masked[r], t[idx], side="left")
        hit = (rank < at).double()
        gain = torch.where(rank < at, 1.0 / torch.log2(rank.double() + 2.0), torch.zeros_like(hit))
        count = torch.bincount(self.rows, minlength=len(self.per_row)).double()
        hr = torch.zeros(len(count), dtype=torch.float64).index_add_(0, self.rows, hit) / count
        nd = torch.zeros(len(count), dtype=torch.float64).index_add_(0, self.rows, gain) / count
        return float(hr.mean()), float(nd.mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    p.add_argument("--out", help="write the cold config with the chosen term here")
    p.add_argument("--scores", help="keep the trained models' cold-user scores in this file (reused when it exists)")
    args = p.parse_args()
    if set(args.seeds) & {0, 1, 2}:
        raise SystemExit("the reported seeds 0-2 choose nothing")
    torch.set_num_threads(1)
    ml = load_movielens("ml-100k", args.data_dir, download_ok=False)
    table = FeatureTable.from_movielens(ml)
    cfg = setting("hetero-sage", None)
    group = demographic_group(table.user_gender, table.user_age, len(table.age_names))
    num_groups = len(table.gender_names) * len(table.age_names)
    results: dict = {}  # (s, k) -> per split: (full-rank evaluator, base scores, pop term) to blend
    floors: dict = {}
    kept = torch.load(args.scores, weights_only=True) if args.scores and Path(args.scores).is_file() else {}
    for seed in args.seeds:
        cold = build_cold_split(DataConfig(split_seed=seed), ml)
        model = None
        if not all(f"{seed}/{k}" in kept for k in COLD_KS):
            t = time.perf_counter()
            model, _, best = train_model(ml, cold.warm_split(), cfg, seed)
            model.eval()
            print(f"split {seed}: best epoch {best}, {time.perf_counter() - t:.0f} s", flush=True)
        users = cold.cold_users
        scorers = {"MostPop": ColdMostPop(table), "DemographicPop": DemographicPop(table),
                   "ItemKNN-from-k": ItemKNNFromK(table, cold.train_user, cold.train_item)}
        for k in COLD_KS:
            vu, vi = cold.visible(k)
            ranks = FullRanks(cold, k)
            if model is not None:
                model.set_graph(vu, vi)
                with torch.no_grad():
                    base = kept[f"{seed}/{k}"] = model.score_all(users).float()
                check = evaluate_cold_users(model, cold, k)
                assert np.allclose(ranks(base), (check["full_HR@10"], check["full_NDCG@10"]))  # the fast count is exact
            base = kept[f"{seed}/{k}"]
            for s in SMOOTHING:
                pop = group_popularity(vu, vi, group, num_groups, table.num_items, s)[:, group[users]].T
                results.setdefault((s, k), []).append((ranks, base, pop))
            for name, scorer in scorers.items():
                scorer.set_graph(vu, vi)
                floors.setdefault((name, k), []).append(ranks(scorer.score_all(users).float()))
    if args.scores:
        torch.save(kept, args.scores)
    cache: dict = {}

    def score(s: float, k: int, lam: float) -> tuple[float, float]:
        key = (s, k, lam)
        if key not in cache:
            both = [ranks(base + lam * pop) for ranks, base, pop in results[(s, k)]]
            cache[key] = (float(np.mean([a for a, _ in both])), float(np.mean([b for _, b in both])))
        return cache[key]

    print("\nvalidation floors (mean over splits), full HR@10 / full NDCG@10:")
    for (name, k), v in sorted(floors.items(), key=lambda x: (x[0][1], x[0][0])):
        print(f"  k={k} {name}: {np.mean([a for a, _ in v]):.4f} / {np.mean([b for _, b in v]):.4f}")
    print("\nper k, the best weight at each smoothing (full HR@10 / full NDCG@10; weight 0 = the model alone):")
    for k in COLD_KS:
        for s in SMOOTHING:
            best = max(WEIGHTS, key=lambda lam: score(s, k, lam))
            print(f"  k={k} s={s}: model {score(s, k, 0.0)[0]:.4f}; lambda={best} {score(s, k, best)[0]:.4f} / "
                  f"{score(s, k, best)[1]:.4f}; lambda=100 {score(s, k, 100.0)[0]:.4f}", flush=True)
    grid = []
    for lam0, decay, floor, s in itertools.product((20.0, 50.0, 100.0, 1000.0), DECAYS, FLOORS, SMOOTHING):
        per = {k: score(s, k, floor + (lam0 - floor) * decay ** k) for k in COLD_KS}
        grid.append((float(np.mean([v[0] for v in per.values()])), lam0, decay, floor, s, per))
    grid.sort(key=lambda g: -g[0])
    none = float(np.mean([score(0.0, k, 0.0)[0] for k in COLD_KS]))
    print(f"\nwithout the term: mean full HR@10 over k {none:.4f}; top 10 points:")
    for value, lam0, decay, floor, s, per in grid[:10]:
        print(f"  {value:.4f} lambda_0={lam0} decay={decay} floor={floor} s={s}: " +
              ", ".join(f"k={k} {hr:.4f}/{nd:.4f}" for k, (hr, nd) in per.items()))
    value, lam0, decay, floor, s, per = grid[0]
    if args.out:
        tuned = json.loads(shipped_path("hetero-sage", "ml-100k").read_text())
        tuned["hparams"].update({"demo_prior": lam0, "demo_decay": decay, "demo_floor": floor, "demo_smoothing": s})
        tuned["tuning"]["new_user_term"] = {
            "command": "python scripts/tune_new_user_prior.py --out graphrec/configs/ml-100k/hetero-sage.json",
            "split": f"cold splits seeds {args.seeds}", "metric": "mean full_HR@10 over the cold-user protocols",
            "grid": {"demo_prior": [20.0, 50.0, 100.0, 1000.0], "demo_decay": list(DECAYS), "demo_floor": list(FLOORS),
                     "demo_smoothing": list(SMOOTHING)},
            "without": round(none, 4), "best_value": round(value, 4),
            "protocols": {f"users@{k}": round(v[0], 4) for k, v in per.items()}}
        write_json(args.out, tuned)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
