"""HeteroSAGE on ML-100K: warm leave-one-out and the two cold-start protocols, against floors.

    python scripts/bench_coldstart.py [--data-dir DIR] [--seeds 0 1 2] [--epochs 40]

For each seed: (1) warm LOO -- HeteroSAGE with id embeddings on the usual split, against ItemKNN
(k = 50) and MostPop; (2) cold start -- :func:`graphrec.coldstart.cold_split_movielens` with that
seed, HeteroSAGE without ids trained on the warm ratings (early stopping on the warm validation
item: no cold target steers anything), and the cold floors fitted on the same warm ratings.

Intervals: 95 % percentile bootstrap over users. Warm LOO pairs the same users across seeds
(per-user values averaged over seeds, as :func:`graphrec.metrics.bootstrap_seeds_users`); the cold
sets differ per seed, so their (seed, user) rows are pooled. "a - b" is the paired difference.
Timing: seconds per training epoch on one thread (sampling, the step graphs and backward included).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from graphrec.coldstart import COLD_KS, cold_split_movielens, evaluate_cold
from graphrec.data import load_movielens
from graphrec.pipeline import build_split
from graphrec.training.config import DataConfig
from graphrec.data.features import FeatureTable
from graphrec.evaluation import evaluate
from graphrec.metrics import bootstrap_ci, bootstrap_seeds_users
from graphrec.models import ItemKNN, MostPop
from graphrec.models.cold_baselines import ColdMostPop, ContentKNN, DemographicPop, ItemKNNFromK
from graphrec.training import TrainConfig, Trainer
from graphrec.pipeline import Prepared, build_model

METRICS = ("full_HR@10", "full_NDCG@10", "HR@10", "NDCG@10")


def fmt(t: tuple[float, float, float], signed: bool = False) -> str:
    m, lo, hi = t
    return f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]" if signed else f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def hparams(args, use_ids: bool) -> dict:
    return {"hidden": args.hidden, "num_layers": args.layers, "use_ids": use_ids, "node_dropout": args.node_dropout,
            "new_user_edges": args.new_user_edges, "decoder": args.decoder, "conv": args.conv,
            "bias": not args.no_bias, "degree_linear": args.degree_linear, "prior": args.prior}


def train_model(ml, split, args, seed: int, use_ids: bool) -> tuple[torch.nn.Module, float, int]:
    cfg = TrainConfig(model="hetero-sage", hparams=hparams(args, use_ids), epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, num_ng=args.neg, l2=args.l2, seed=seed,
                      patience=args.patience, full_eval_every=0)
    model = build_model(cfg, Prepared(ml, split))
    trainer = Trainer(model, split, cfg, progress=False, tensorboard=False)
    trainer.fit()
    secs = [r["seconds"] for r in trainer.history]
    return model, float(np.median(secs)), trainer.best_epoch


def epoch_seconds(ml, split, args, epochs: int = 3) -> tuple[float, float]:
    """(CPU, wall) seconds of the fastest of ``epochs`` training epochs of a fresh model, one thread.

    CPU time is what one core spends, whatever else the machine is running; wall time is on this
    machine as it is (a shared one inflates it)."""
    cfg = TrainConfig(model="hetero-sage", hparams=hparams(args, False), batch_size=args.batch_size, lr=args.lr,
                      num_ng=args.neg)
    trainer = Trainer(build_model(cfg, Prepared(ml, split)), split, cfg, progress=False, tensorboard=False)
    cpu, wall = [], []
    for epoch in range(1, epochs + 1):
        c, w = time.process_time(), time.perf_counter()
        trainer.train_epoch(epoch)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return min(cpu), min(wall)


def table(title: str, rows: dict[str, list[dict]], reference: str, others: list[str], pooled: bool) -> None:
    """``rows[name]`` = per-seed results; prints means with intervals and paired differences to ``reference``."""
    print(f"\n### {title}\n")
    head = "| scorer | " + " | ".join(METRICS) + " |"
    print(head + "\n|" + "---|" * (len(METRICS) + 1))

    def stat(values: list[np.ndarray]) -> tuple[float, float, float]:
        return bootstrap_ci(np.concatenate(values)) if pooled else bootstrap_seeds_users(np.stack(values))

    for name, res in rows.items():
        print(f"| {name} | " + " | ".join(fmt(stat([r["per_user"][m] for r in res])) for m in METRICS) + " |")
    for other in others:
        ref, oth = rows[reference], rows[other]
        cells = [fmt(stat([a["per_user"][m] - b["per_user"][m] for a, b in zip(ref, oth)]), signed=True)
                 for m in METRICS]
        print(f"| {reference} - {other} | " + " | ".join(cells) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-100k")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=4096)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--l2", type=float, default=0.0)
    p.add_argument("--neg", type=int, default=4)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--node-dropout", type=float, default=0.1)
    p.add_argument("--new-user-edges", type=int, default=5)
    p.add_argument("--decoder", default="dot")
    p.add_argument("--no-bias", action="store_true")
    p.add_argument("--degree-linear", action="store_true")
    p.add_argument("--prior", default="popularity", choices=["popularity", "group", "none"])
    p.add_argument("--conv", default="sage")
    p.add_argument("--skip-warm", action="store_true")
    p.add_argument("--skip-cold", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    table_ = FeatureTable.from_movielens(ml)
    print(f"hetero-sage: hidden {args.hidden}, {args.layers} {args.conv} layers, {args.decoder} decoder, "
          f"node dropout {args.node_dropout} (users keep <= {args.new_user_edges} edges), lr {args.lr}, "
          f"batch {args.batch_size}, {args.neg} negatives, seeds {args.seeds}")
    loo = build_split(DataConfig(ml.name, args.data_dir), ml).split  # the reference split, seed 0
    cpu, wall = epoch_seconds(ml, loo, args)
    print(f"one training epoch on ML-100K (LOO split), 1 thread: {cpu:.2f} s CPU, {wall:.2f} s wall")
    if not args.skip_warm:
        warm: dict[str, list[dict]] = {"hetero-sage (ids)": [], "hetero-sage (features only)": [],
                                       "ItemKNN (k=50)": [], "MostPop": []}
        split = loo  # the reference split: the same users and items for every seed
        knn = evaluate(ItemKNN(k=50).fit(split), split, 10, "test", per_user=True)
        pop = evaluate(MostPop().fit(split), split, 10, "test", per_user=True)
        for seed in args.seeds:
            for name, ids in (("hetero-sage (ids)", True), ("hetero-sage (features only)", False)):
                t = time.perf_counter()
                model, epoch_s, best = train_model(ml, split, args, seed, use_ids=ids)
                warm[name].append(evaluate(model, split, 10, "test", per_user=True))
                print(f"warm seed {seed} {name}: best epoch {best}, {epoch_s:.2f} s/epoch, "
                      f"{time.perf_counter() - t:.0f} s, full HR@10 {warm[name][-1]['full_HR@10']:.4f}", flush=True)
            warm["ItemKNN (k=50)"].append(knn)
            warm["MostPop"].append(pop)
        table("Warm leave-one-out (ML-100K, test item)", warm, "hetero-sage (ids)",
              ["ItemKNN (k=50)", "MostPop", "hetero-sage (features only)"], pooled=False)
    if args.skip_cold:
        return
    names = ["hetero-sage", "ContentKNN", "MostPop", "DemographicPop", "ItemKNN-from-k"]
    cold_rows: dict[str, dict[str, list[dict]]] = {}
    for seed in args.seeds:
        cold = cold_split_movielens(ml, seed=seed)
        t = time.perf_counter()
        model, epoch_s, best = train_model(ml, cold.warm_split(), args, seed, use_ids=False)
        print(f"cold seed {seed}: {cold.summary()}; best epoch {best}, {epoch_s:.2f} s/epoch, "
              f"{time.perf_counter() - t:.0f} s", flush=True)
        scorers = {"hetero-sage": model, "ContentKNN": ContentKNN(table_), "MostPop": ColdMostPop(table_),
                   "DemographicPop": DemographicPop(table_),
                   "ItemKNN-from-k": ItemKNNFromK(table_, cold.train_user, cold.train_item)}
        for name in names:
            for protocol, res in evaluate_cold(scorers[name], cold).items():
                cold_rows.setdefault(protocol, {}).setdefault(name, []).append(res)
    table("Cold movies (10 % of movies unseen; ranked among cold movies)",
          {n: cold_rows["movies"][n] for n in ("hetero-sage", "ContentKNN", "MostPop", "DemographicPop")},
          "hetero-sage", ["ContentKNN", "MostPop", "DemographicPop"], pooled=True)
    for k in COLD_KS:
        rows = {n: cold_rows[f"users@{k}"][n] for n in names if not (k == 0 and n in ("ContentKNN", "ItemKNN-from-k"))}
        table(f"Cold users, k = {k} known ratings (ranked among warm movies)", rows, "hetero-sage",
              [n for n in rows if n != "hetero-sage"], pooled=True)


if __name__ == "__main__":
    main()
