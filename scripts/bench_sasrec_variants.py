"""SASRec variants against plain ``sasrec`` on the validation item, with paired intervals.

    python scripts/bench_sasrec_variants.py --split-dir ../shared/peers/split --name plain --set '{}'
    python scripts/bench_sasrec_variants.py --split-dir ../shared/peers/split --name graph --set '{"graph": true}'
    python scripts/bench_sasrec_variants.py --compare plain graph

Each run is the shipped config (``graphrec/configs/ml-100k/sasrec.json``) with ``--set`` added to its
hyper-parameters, trained with validation-only epoch selection (no refit, seed ``--seed``); it saves the
validation item's per-user values at the chosen epoch in ``OUT/<name>.npz``. ``--compare A B`` prints the
paired difference B - A on the same users (95 % bootstrap interval).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from graphrec.evaluation import evaluate, paired_difference
from graphrec.catalogue import config_from_tuned, load_tuned
from graphrec.config import DataConfig, TrainConfig
from graphrec.pipeline import Prepared, build_split
from graphrec.training.protocol import select


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split-dir")
    p.add_argument("--name")
    p.add_argument("--set", default="{}", help="JSON hyper-parameters added to the shipped config's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/sasrec-variants")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"))
    args = p.parse_args()
    out = Path(args.out)
    if args.compare:
        runs = []
        for n in args.compare:
            with np.load(out / f"{n}.npz") as z:
                runs.append({"users": z["users"], "per_user": {k: z[k] for k in z.files if k != "users"}})
        meta = [json.loads((out / f"{n}.json").read_text()) for n in args.compare]
        for n, m in zip(args.compare, meta):
            print(f"{n}: valid full NDCG@10 {m['full_NDCG@10']:.4f}, full HR@10 {m['full_HR@10']:.4f}, "
                  f"best epoch {m['best_epoch']}, {m['seconds']:.0f} s")
        diff = paired_difference(runs[1], runs[0])
        for key in ("full_HR@10", "full_NDCG@10", "HR@10", "NDCG@10"):
            d, lo, hi = diff[key]
            print(f"{args.compare[1]} - {args.compare[0]} validation {key}: {d:+.4f} [{lo:+.4f}, {hi:+.4f}]")
        return
    torch.set_num_threads(1)
    split = build_split(DataConfig(split_dir=args.split_dir)).split
    cfg = config_from_tuned(load_tuned("sasrec"), TrainConfig(model="sasrec"), seed=args.seed, refit=False,
                            full_eval_every=0, threads=1, hparams=json.loads(args.set))
    trainer = select(cfg, Prepared(None, split), progress=False)
    model = trainer.model
    res = evaluate(model, split, 10, "valid", per_user=True)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{args.name}.npz", users=res["users"], **res["per_user"])
    meta = {k: v for k, v in res.items() if isinstance(v, float)}
    meta.update(best_epoch=trainer.best_epoch, seconds=sum(r["seconds"] for r in trainer.history),
                hparams=cfg.hparams)
    (out / f"{args.name}.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{args.name}: valid full NDCG@10 {meta['full_NDCG@10']:.4f} at epoch {trainer.best_epoch}", flush=True)


if __name__ == "__main__":
    main()
