"""Neural collaborative filtering on ML-100K: quality (GMF, MLP, NeuMF with and without
pretraining, next to MostPop and ItemKNN) and training/evaluation speed.

    python scripts/bench_ncf.py [--data-dir DIR] [--seeds 0,1,2] [--only quality|speed|grid]

Quality: mean over seeds of the test metrics (sampled among 99 negatives, and full ranking),
each model stopped early on the validation item's HR@10. The 95 % intervals are a bootstrap
over users of the seed-averaged per-user metrics; "vs ItemKNN" is the paired interval of the
difference. ``--only grid`` runs the small tuning grid, judged on the *validation* item only.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from graphrec.data import load_movielens
from graphrec.evaluation import evaluate, paired_difference, with_intervals
from graphrec.benchmark import markdown_table
from graphrec.models import ItemKNN, MostPop
from graphrec.pipeline import Prepared, build_model, prepare, train
from graphrec.training.refit import refit_config, with_validation_in_train
from graphrec.training import DataConfig, TrainConfig, Trainer
from graphrec.training.trainer import num_threads

#: Chosen on the validation item with ``--only grid`` (see docs/benchmarks.md).
PAPER = {"factors": 8, "layers": [64, 32, 16, 8]}  # the paper's ML-1M setting, used for the speed figures
TUNED = {"factors": 16, "layers": [64, 32, 16, 8]}  # best on validation in GRID
VARIANTS = {  # batch 4096 and lr 1e-2: best validation HR@10 in GRID, and the fastest to train
    "GMF": dict(model="gmf", hparams={"factors": 16}, lr=0.01),
    "MLP": dict(model="mlp", hparams={"layers": [64, 32, 16, 8]}, lr=0.01),
    "NeuMF": dict(model="neumf", hparams=TUNED, lr=0.01),
    "NeuMF (pretrained)": dict(model="neumf", hparams=TUNED, lr=0.0025, pretrain=("GMF", "MLP")),
}
COMMON = dict(epochs=40, batch_size=4096, num_ng=4, patience=4, full_eval_every=0)
GRID = [  # validation HR@10/NDCG@10 at the best epoch, seed 0 (batch 1024 unless noted)
    ("NeuMF f8 lr2e-3", dict(model="neumf", hparams=PAPER, lr=0.002, batch_size=1024)),
    ("NeuMF f8 lr5e-3", dict(model="neumf", hparams=PAPER, lr=0.005, batch_size=1024)),
    ("NeuMF f16 lr2e-3", dict(model="neumf", hparams=TUNED, lr=0.002, batch_size=1024)),
    ("NeuMF f8 lr2e-3 dropout0.2", dict(model="neumf", hparams={**PAPER, "dropout": 0.2}, lr=0.002, batch_size=1024)),
    ("NeuMF f8 lr1e-3 batch 256", dict(model="neumf", hparams=PAPER, lr=0.001, batch_size=256)),
    ("NeuMF f16 lr2e-3 neg 8", dict(model="neumf", hparams=TUNED, lr=0.002, num_ng=8, batch_size=1024)),
    ("NeuMF f32 lr2e-3", dict(model="neumf", hparams={"factors": 32, "layers": [64, 32, 16, 8]}, lr=0.002,
                              batch_size=1024)),
    ("NeuMF f16 lr2e-3 l2 1e-6", dict(model="neumf", hparams=TUNED, lr=0.002, l2=1e-6, batch_size=1024)),
    ("NeuMF f16 layers 128,64,32,16", dict(model="neumf", hparams={"factors": 16, "layers": [128, 64, 32, 16]},
                                           lr=0.002, batch_size=1024)),
    ("NeuMF f16 lr5e-3 batch 4096", dict(model="neumf", hparams=TUNED, lr=0.005, batch_size=4096)),
    ("NeuMF f16 lr1e-2 batch 4096", dict(model="neumf", hparams=TUNED, lr=0.01, batch_size=4096)),
]


def fit(name: str, spec: dict, data, seed: int, trained: dict, refit: bool = False) -> tuple[torch.nn.Module, Trainer]:
    """Selection on the validation item; with ``refit``, the chosen epoch count retrained on train + validation."""
    spec = dict(spec)
    pretrain = spec.pop("pretrain", None)
    cfg = TrainConfig(**{**COMMON, **spec, "seed": seed})
    model, _, trainer = train(cfg, None, data, progress=False,
                              pretrained=[trained[(p, seed)] for p in pretrain] if pretrain else None)
    trained[(name, seed)] = model  # the selected run: what a selection may start from
    if refit:  # pretrained from the GMF and MLP refits, which saw the validation pairs too
        model, _, _ = train(refit_config(cfg, trainer.best_epoch), None,
                            Prepared(data.ml, with_validation_in_train(data.split)), progress=False,
                            pretrained=[trained[(p, seed, "refit")] for p in pretrain] if pretrain else None)
    trained[(name, seed, "refit")] = model
    return model, trainer


def quality(data, seeds: list[int], refit: bool = True) -> None:
    split = data.split
    rows, results = [], {}
    for name, scorer in (("MostPop", MostPop().fit(split)), ("ItemKNN (k=50)", ItemKNN(k=50).fit(split))):
        results[name] = evaluate(scorer, split, full=True, per_user=True)
    trained: dict = {}
    for name, spec in VARIANTS.items():
        per_seed, epochs = [], []
        for seed in seeds:
            t = time.perf_counter()
            model, trainer = fit(name, spec, data, seed, trained, refit)
            per_seed.append(evaluate(model, split, full=True, per_user=True))
            epochs.append(trainer.best_epoch)
            print(f"  {name} seed {seed}: best epoch {trainer.best_epoch}, {time.perf_counter() - t:.0f} s, "
                  f"test HR@10 {per_seed[-1]['HR@10']:.4f}", flush=True)
        avg = {"users": per_seed[0]["users"],
               "per_user": {k: np.mean([r["per_user"][k] for r in per_seed], axis=0) for k in per_seed[0]["per_user"]}}
        avg["seed_sd"] = {k: float(np.std([r[k] for r in per_seed])) for k in per_seed[0]["per_user"]}
        avg["epochs"] = epochs
        results[name] = avg
    base = results["ItemKNN (k=50)"]
    metrics = ["HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10"]
    for name, res in results.items():
        ci = with_intervals(res)
        row = {"model": name}
        for m in metrics:
            mean, lo, hi = ci[m]
            row[m] = f"{mean:.4f} [{lo:.3f}, {hi:.3f}]"
        if name != "ItemKNN (k=50)":
            d = paired_difference(res, base)
            row["vs ItemKNN: HR@10"] = "{:+.3f} [{:+.3f}, {:+.3f}]".format(*d["HR@10"])
            row["vs ItemKNN: full_HR@10"] = "{:+.3f} [{:+.3f}, {:+.3f}]".format(*d["full_HR@10"])
        row["best epochs"] = ",".join(map(str, res.get("epochs", []))) or "-"
        rows.append(row)
    print(f"\nQuality on ML-100K (test item; learned models: mean of seeds {seeds}; 95 % bootstrap CI over users)")
    table(rows)


def time_epochs(data, batch_size: int, epochs: int = 3) -> float:
    cfg = TrainConfig(model="neumf", hparams=PAPER, batch_size=batch_size, epochs=epochs, **{
        k: v for k, v in COMMON.items() if k not in ("epochs", "batch_size")})
    model = build_model(cfg, data)
    trainer = Trainer(model, data.split, cfg, progress=False)
    secs = []

    with num_threads(cfg.threads):
        for e in range(1, epochs + 1):
            secs.append(trainer.train_epoch(e)[1])
    return float(np.median(secs))


def time_plain(split, steps: int = 300, batch_size: int = 256) -> float:
    """The reference loop: DataLoader over index tensors, dense Adam, torch's default threads."""
    from torch.utils.data import DataLoader, TensorDataset

    from graphrec.data.sampling import pointwise_epoch
    from graphrec.models import NeuMF

    model = NeuMF(split.num_users, split.num_items, **PAPER)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(0)
    u, i, y = pointwise_epoch(split.train_user, split.train_item, split.train_sampler, 4, gen)
    sample_s = time.perf_counter() - t0
    loader = DataLoader(TensorDataset(u, i, y), batch_size=batch_size, shuffle=True)
    t0, n = time.perf_counter(), 0
    for bu, bi, by in loader:
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(bu, bi), by).backward()
        opt.step()
        n += 1
        if n == steps:
            break
    return sample_s + (time.perf_counter() - t0) / n * len(loader)


def speed(data) -> None:
    split = data.split
    from graphrec.evaluation import KnownItems, full_ranks

    rows = []
    n = len(split.train_user) * 5
    plain = time_plain(split, steps=100)
    threads = torch.get_num_threads()
    rows.append({"what": f"NeuMF epoch, plain loop (DataLoader, dense Adam), {threads} threads, batch 256",
                 "seconds": f"{plain:.2f}", "note": f"{n:,} samples; extrapolated from 100 steps"})
    with num_threads(1):
        plain = time_plain(split)
    rows.append({"what": "NeuMF epoch, plain loop (DataLoader, dense Adam), 1 thread, batch 256",
                 "seconds": f"{plain:.2f}", "note": "extrapolated from 300 steps"})
    for bs in (256, 4096):
        s = time_epochs(data, bs)
        rows.append({"what": f"NeuMF epoch, graphrec trainer, batch {bs}", "seconds": f"{s:.2f}",
                     "note": f"median of 3 epochs; {n / s / 1e3:.0f}K samples/s"})
    for name, hp in (("gmf", {"factors": 8}), ("mlp", {"layers": [64, 32, 16, 8]}), ("neumf", PAPER)):
        model = build_model(TrainConfig(model=name, hparams=hp), data).eval()
        known = KnownItems(*split.known_items("test"), split.num_users)
        times = []
        with num_threads(1):
            full_ranks(model, split.test_user[:8], split.test_item[:8], known)  # warm-up
            for _ in range(3):
                t = time.perf_counter()
                full_ranks(model, split.test_user, split.test_item, known)
                times.append(time.perf_counter() - t)
        rows.append({"what": f"full-ranking evaluation, {name}, {len(split.test_user)} users x {split.num_items} items",
                     "seconds": f"{min(times):.3f}", "note": "best of 3, 1 thread, including masking and ranking"})
    print(f"\nSpeed (torch {torch.__version__}, {torch.get_num_threads()} threads available; "
          "the trainer uses 1; machine load average {:.1f} at the end)".format(os.getloadavg()[0]))
    table(rows)


def grid(data, start: int = 0) -> None:
    rows = []
    for name, spec in GRID[start:]:
        t = time.perf_counter()
        _, trainer = fit(name, spec, data, 0, {})
        best = trainer.history[trainer.best_epoch - 1]
        rows.append({"config": name, "valid HR@10": f"{best['valid_HR@10']:.4f}",
                     "valid NDCG@10": f"{best['valid_NDCG@10']:.4f}", "best epoch": trainer.best_epoch,
                     "seconds": f"{time.perf_counter() - t:.0f}"})
        print(rows[-1], flush=True)
    print("\nTuning grid (validation item only, seed 0)")
    table(rows)


def table(rows: list[dict]) -> None:
    print(markdown_table(rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-100k")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--only", choices=["quality", "speed", "grid"])
    p.add_argument("--grid-from", type=int, default=0, help="skip the first N grid entries")
    p.add_argument("--no-refit", action="store_true",
                   help="evaluate the selected runs (default: refit on train + validation for the chosen epochs)")
    args = p.parse_args()
    config = DataConfig(args.dataset, args.data_dir)
    data = prepare(config, load_movielens(args.dataset, args.data_dir, download_ok=False))
    if args.only == "grid":
        grid(data, args.grid_from)
    if args.only in (None, "quality"):
        quality(data, [int(s) for s in args.seeds.split(",")], refit=not args.no_refit)
    if args.only in (None, "speed"):
        speed(data)


if __name__ == "__main__":
    main()
