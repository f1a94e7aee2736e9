"""LightGCN on ML-100K: a small validation-only grid, then test metrics of the chosen setting
with bootstrap intervals and a paired comparison against ItemKNN (k = 50).

    python scripts/bench_lightgcn.py [--data-dir DIR] [--layers 1 2 3] [--lr 0.005] [--l2 1e-4 1e-3]

Model selection uses only the validation item (HR@10 at the early-stopping epoch);
the test item is evaluated once, for the selected setting.
"""
from __future__ import annotations

import argparse
import itertools
import time

from graphrec.data import load_movielens
from graphrec.evaluation import evaluate, paired_difference, with_intervals
from graphrec.benchmark import markdown_table
from graphrec.models import ItemKNN
from graphrec.pipeline import Prepared, prepare, train
from graphrec.training.refit import refit_config, with_validation_in_train
from graphrec.training import DataConfig, TrainConfig


def fmt(mean: float, lo: float, hi: float, signed: bool = False) -> str:
    return f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]" if signed else f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-100k")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--layers", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--lr", type=float, nargs="+", default=[0.005])
    p.add_argument("--l2", type=float, nargs="+", default=[1e-4, 1e-3])
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=2048)
    p.add_argument("--no-refit", action="store_true",
                   help="evaluate the selected run (default: refit on train + validation for its epoch count)")
    args = p.parse_args()
    data = prepare(DataConfig(args.dataset, args.data_dir),
                   load_movielens(args.dataset, args.data_dir, download_ok=False))
    split = data.split
    print(f"{'layers':>6} {'lr':>7} {'l2':>7} {'best ep':>7} {'valid score':>11} {'seconds':>8}")
    best = None
    for layers, lr, l2 in itertools.product(args.layers, args.lr, args.l2):
        cfg = TrainConfig(model="lightgcn", hparams={"num_layers": layers, "factors": args.dim},
                          epochs=args.epochs, batch_size=args.batch_size, lr=lr, l2=l2,
                          patience=args.patience, full_eval_every=0)
        t = time.perf_counter()
        model, _, trainer = train(cfg, None, data, progress=False)
        secs = time.perf_counter() - t
        print(f"{layers:>6} {lr:>7g} {l2:>7g} {trainer.best_epoch:>7} {trainer.best_score:>11.3f} {secs:>8.1f}",
              flush=True)
        if best is None or trainer.best_score > best[0]:
            best = (trainer.best_score, cfg, model, trainer.best_epoch)
    _, cfg, model, epochs = best
    print(f"\nselected on validation: layers={cfg.hparams['num_layers']} lr={cfg.lr:g} l2={cfg.l2:g}, {epochs} epochs")
    if not args.no_refit:  # the chosen setting and epoch count, retrained on train + validation
        model, _, _ = train(refit_config(cfg, epochs), None, Prepared(data.ml, with_validation_in_train(split)),
                            progress=False)
    res = evaluate(model, split, 10, "test", full=True, per_user=True)
    knn = evaluate(ItemKNN(k=50).fit(split), split, 10, "test", full=True, per_user=True)
    ci, diff = with_intervals(res), paired_difference(res, knn)
    print("\n" + markdown_table([{"metric": key, "LightGCN": fmt(*ci[key]),
                                   "LightGCN - ItemKNN (paired)": fmt(*diff[key], signed=True)}
                                  for key in ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")]))


if __name__ == "__main__":
    main()
