"""graphrec's models on the reference split the other libraries were run on, with their protocol:
settings and epoch count chosen on the validation item only, then a refit on train + validation
for that many epochs, and the test item evaluated once.

    python scripts/bench_peers.py --split-dir SPLIT --models itemknn,ease,neumf --seeds 0,1,2 --out results/peers
    python scripts/bench_peers.py --out results/peers --report          # the table from the saved runs

Each model writes ``OUT/<name>.npz`` (per-user test values of the selected run and of the refit, for
every seed) and ``OUT/<name>.json`` (settings, chosen epochs, seconds), so models can run in separate
processes; ``--report`` reads them all and prints one table with paired 95 % intervals against the
reference model (``--reference``, default ItemKNN) on the same users. Means are over seeds; the
intervals are a two-level bootstrap over users and seeds.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from graphrec.evaluation import evaluate
from graphrec.metrics import bootstrap_seeds_users
from graphrec.models import MODELS
from graphrec.models import implicit_mf
from graphrec.training import TrainConfig
from graphrec.training.refit import refit_config, with_validation_in_train
from graphrec.pipeline import Prepared, build_split, train
from graphrec.training.config import DataConfig
from graphrec.tuning import TRAIN_FIELDS

K = 10
#: Fitted models: the grid searched on the validation item (full-ranking NDCG@10).
FITTED = {
    "mostpop": ("mostpop", [{}]),
    "itemknn": ("itemknn", [{"k": k} for k in (20, 50, 100, 200, 400)]),
    "ease": ("ease", [{"l2": v} for v in (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)]),
    # EASE whose query weighs each user's latest interactions most (graphrec.models.EASE, ``recency``)
    "ease-recency": ("ease", [{"l2": v, "recency": r, "floor": f} for v in (100.0, 200.0, 300.0, 500.0, 800.0)
                              for r in (2.0, 3.0, 5.0, 10.0, 20.0) for f in (0.0, 0.1, 0.2)]),
}
#: implicit's models at the settings the peers tuned (README of the reference split); one fit per seed.
IMPLICIT = {"als": (implicit_mf.ImplicitALS, {"factors": 64, "regularization": 0.01, "iterations": 15, "bm25": True}),
            "bpr-implicit": (implicit_mf.ImplicitBPR, {"factors": 128, "learning_rate": 0.01,
                                                       "regularization": 0.001, "iterations": 100})}
#: Learned models: one setting each (the libraries' recipes; tuned ones come from ``graphrec tune``).
LEARNED = {
    # RecBole's NeuMF: MF 64 + MLP 64 -> [128, 64], dropout 0.1, Adam 1e-3, batch 1024, 4 negatives
    "neumf": dict(model="neumf", hparams={"factors": 64, "layers": [128, 64], "dropout": 0.1}, lr=1e-3,
                  batch_size=1024, num_ng=4, epochs=60, eval_every=1, patience=5),
    # RecBole / PyG LightGCN: dim 64, 3 layers, BPR with 1 negative, Adam 5e-3, L2 1e-4 on the batch, batch 2048
    "lightgcn": dict(model="lightgcn", hparams={"factors": 64, "num_layers": 3}, lr=5e-3, l2=1e-4,
                     batch_size=2048, num_ng=1, epochs=300, eval_every=5, patience=5),
    # the peers' plain MF: dim 64 + biases, BPR with 4 negatives, Adam 5e-3, L2 1e-2 on the batch, batch 1024
    "mf-bpr": dict(model="gmf", hparams={"factors": 64, "bias": True}, loss="bpr", l2=1e-2, l2_scope="batch",
                   lr=5e-3, batch_size=1024, num_ng=4, epochs=100, eval_every=2, patience=5),
    # SASRec.pytorch's recipe (the reference split's README): hidden 50, 2 blocks, 1 head, dropout 0.2, BCE with one
    # negative per position, Adam 1e-3, batch 128 users; max length 50 here ("sasrec-200": --set max_len 200)
    "sasrec": dict(model="sasrec", hparams={"factors": 50, "num_layers": 2, "heads": 1, "dropout": 0.2, "max_len": 50,
                                            "loss": "bce"}, lr=1e-3, batch_size=128, num_ng=1, epochs=200,
                   eval_every=5, patience=4),
}
COLUMNS = ("HR@10", "NDCG@10", "MRR@10", "full_HR@10", "full_NDCG@10", "full_MRR@10", "full_popularity@10")


def run_fitted(name: str, split, seeds: list[int], refit: bool, tuned: dict | None = None) -> dict:
    model, grid = FITTED[name]
    if tuned is not None:  # a tuned config: its one setting instead of the grid
        if tuned["model"] != model:
            raise SystemExit(f"--config is for {tuned['model']!r}, not {name!r}")
        grid = [dict(tuned["params"])]
    t = time.perf_counter()
    scored = []
    for point in grid:  # validation only
        v = evaluate(MODELS[model](**point).fit(split), split, K, "valid", sampled=False)[f"full_NDCG@{K}"]
        scored.append((v, point))
    best_v, point = max(scored, key=lambda x: x[0])
    selected = evaluate(MODELS[model](**point).fit(split), split, K, "test", per_user=True)
    final = evaluate(MODELS[model](**point).fit(with_validation_in_train(split)), split, K, "test",
                     per_user=True) if refit else selected
    n = len(seeds)  # deterministic: the same values for every seed
    return {"setting": point, "valid": best_v, "grid": [[v, p] for v, p in scored],
            "selected": [selected] * n, "final": [final] * n, "best_epoch": None,
            "seconds": time.perf_counter() - t, "coverage": final[f"full_coverage@{K}"]}


def run_implicit(name: str, split, seeds: list[int], refit: bool) -> dict:
    cls, point = IMPLICIT[name]
    t = time.perf_counter()
    out: dict = {"setting": point, "selected": [], "final": [], "best_epoch": None}
    for seed in seeds:
        out["selected"].append(evaluate(cls(**point, seed=seed).fit(split), split, K, "test", per_user=True))
        out["final"].append(evaluate(cls(**point, seed=seed).fit(with_validation_in_train(split)), split, K,
                                     "test", per_user=True) if refit else out["selected"][-1])
    out["seconds"] = (time.perf_counter() - t) / len(seeds)
    out["coverage"] = float(np.mean([r[f"full_coverage@{K}"] for r in out["final"]]))
    return out


def run_learned(name: str, split, seeds: list[int], refit: bool, override: dict, saved=None,
                epochs: int | None = None) -> dict:
    """The peers' protocol: the epoch count is chosen once, on the validation item with the first seed;
    then every seed retrains on train + validation for that many epochs (``--no-refit``: every seed
    runs its own selection and is evaluated as selected)."""
    override = dict(override)
    base = LEARNED[name]
    if override.get("model", base["model"]) != base["model"]:
        raise SystemExit(f"--config is for {override['model']!r}, not {name!r}")
    if "hparams" in override and "model" in override:  # a tuned config replaces the recipe as a whole
        base = {"model": base["model"], "hparams": {}}
    hp = {**base["hparams"], **override.pop("hparams", {})}  # "hparams" in --set add to the model's
    spec = {k: v for k, v in {**base, **override}.items() if k != "hparams"}
    out: dict = {"setting": {**spec, "hparams": hp}, "selected": [], "final": [], "best_epoch": [], "seconds": 0.0,
                 "valid": []}
    for seed in seeds:
        cfg = TrainConfig(**spec, hparams=hp, seed=seed, full_eval_every=0, refit=False)
        t = time.perf_counter()
        if epochs is None or not refit:
            *_, sel = train(cfg, None, Prepared(None, split), progress=False)
            epochs = sel.best_epoch
            out["selected"].append(sel.test_result)
            out["best_epoch"].append(sel.best_epoch)
            out["valid"].append(sel.best_score)
            print(f"  {name} seed {seed}: best epoch {sel.best_epoch} of {len(sel.history)} (valid "
                  f"{cfg.select_key} {sel.best_score:.4f}), selected run's test HR@10 {sel.test_result['HR@10']:.4f} "
                  f"full {sel.test_result['full_HR@10']:.4f}, {time.perf_counter() - t:.0f} s", flush=True)
        final = sel if out["selected"] else None
        if refit:
            t = time.perf_counter()
            *_, final = train(refit_config(cfg, epochs), None, Prepared(None, with_validation_in_train(split)),
                              progress=False)
            print(f"  {name} seed {seed}: refit {epochs} epochs, test HR@10 {final.test_result['HR@10']:.4f} full "
                  f"{final.test_result['full_HR@10']:.4f}, {time.perf_counter() - t:.0f} s", flush=True)
        out["seconds"] += time.perf_counter() - t
        out["final"].append(final.test_result)
        if saved is not None:  # after every seed: a long run that is cut short keeps what it finished
            saved(_finish(dict(out)))
    return _finish(out)


def merge(out_dir: Path, parts: list[str], name: str) -> None:
    """Join runs of one model saved separately (e.g. refits of different seeds run in parallel): the
    refits' seeds in order, the selected run(s) and the settings of the first part."""
    zs = [dict(np.load(out_dir / f"{p}.npz")) for p in parts]
    metas = [json.loads((out_dir / f"{p}.json").read_text()) for p in parts]
    joined = {k: np.concatenate([z[k] for z in zs if k in z]) for k in zs[0] if k.startswith("final/")}
    joined.update({k: v for k, v in zs[0].items() if not k.startswith("final/")})
    np.savez_compressed(out_dir / f"{name}.npz", **joined)
    meta = dict(metas[0])
    meta["seconds"] = float(np.mean([m["seconds"] for m in metas]))
    meta["coverage"] = float(np.mean([m["coverage"] for m in metas]))
    meta["parts"] = parts
    (out_dir / f"{name}.json").write_text(json.dumps(meta, indent=1, default=float) + "\n")


def _finish(out: dict) -> dict:
    out["seconds"] = out["seconds"] / len(out["final"])  # the refit's training time per seed (selection excluded)
    out["coverage"] = float(np.mean([r[f"full_coverage@{K}"] for r in out["final"]]))
    return out


def save(out_dir: Path, name: str, res: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for which in ("selected", "final"):
        for m in (res[which][0]["per_user"] if res[which] else ()):
            arrays[f"{which}/{m}"] = np.stack([r["per_user"][m] for r in res[which]])
    arrays["users"] = res["final"][0]["users"]
    np.savez_compressed(out_dir / f"{name}.npz", **arrays)
    meta = {k: v for k, v in res.items() if k not in ("selected", "final")}
    if res["selected"]:
        meta["selected_coverage"] = float(np.mean([r[f"full_coverage@{K}"] for r in res["selected"]]))
    (out_dir / f"{name}.json").write_text(json.dumps(meta, indent=1, default=float) + "\n")


def report(out_dir: Path, reference: str, names: list[str] | None = None) -> str:
    runs = {}
    for p in sorted(out_dir.glob("*.npz")):
        if names and p.stem not in names:
            continue
        with np.load(p) as z:
            runs[p.stem] = ({k: z[k] for k in z.files}, json.loads(p.with_suffix(".json").read_text()))
    if reference not in runs:
        raise SystemExit(f"no saved run of the reference model {reference!r} in {out_dir}")
    ref = runs[reference][0]
    lines = [f"Test item, mean over seeds; refit on train + validation unless noted. Δ = paired difference to "
             f"{reference} [95 % CI over users and seeds]; **bold** where the interval excludes 0.", "",
             "| model | seeds | sampled HR@10 | sampled NDCG@10 | sampled MRR@10 | full HR@10 | full NDCG@10 | "
             "full MRR@10 | coverage@10 | popularity@10 | Δ sampled HR@10 | Δ full HR@10 | selected run(s) before "
             "the refit: sampled HR / NDCG, full HR / NDCG | chosen epochs | train s |", "|" + "---|" * 16]
    for name, (z, meta) in runs.items():
        cells = [name, str(len(z["final/HR@10"]))]
        cells += [f"{z[f'final/{m}'].mean():.4f}" if m != "full_popularity@10" else f"{z[f'final/{m}'].mean():.0f}"
                  for m in COLUMNS[:6]]
        cells += [f"{meta['coverage']:.3f}", f"{z['final/full_popularity@10'].mean():.0f}"]
        for m in ("HR@10", "full_HR@10"):
            if name == reference:
                cells.append("-")
                continue
            d, lo, hi = bootstrap_seeds_users(z[f"final/{m}"] - ref[f"final/{m}"][:1])
            txt = f"{d:+.4f} [{lo:+.3f}, {hi:+.3f}]"
            cells.append(f"**{txt}**" if lo > 0 or hi < 0 else txt)
        cells.append(" / ".join(f"{z[f'selected/{m}'].mean():.3f}" if f"selected/{m}" in z else "-"
                                for m in ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")))
        be = meta.get("best_epoch")
        cells.append(",".join(map(str, be)) if be else "-")
        cells.append(f"{meta['seconds']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    settings = [f"* {n}: {json.dumps(meta['setting'])}" for n, (_, meta) in runs.items()]
    return "\n".join(lines + ["", "Settings:", *settings]) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split-dir", help="NCF-format split files (the reference split)")
    p.add_argument("--models", default="itemknn,ease", help=f"comma-separated: {', '.join([*FITTED, *IMPLICIT, *LEARNED])}")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", default="results/peers", help="folder of the saved runs")
    p.add_argument("--name", help="save under this name (default: the model)")
    p.add_argument("--set", default="{}", help="JSON overrides of a learned model's setting, e.g. '{\"lr\": 2e-3}'")
    p.add_argument("--config", help="the setting of a tuned config (graphrec tune's JSON, e.g. "
                                    "graphrec/configs/ml-100k/neumf.json) instead of the library recipe or the grid")
    p.add_argument("--no-refit", action="store_true", help="evaluate the selected run (no retraining)")
    p.add_argument("--report", action="store_true", help="print the table of the saved runs and exit")
    p.add_argument("--reference", default="itemknn")
    p.add_argument("--refit-epochs", type=int,
                   help="skip the selection: refit for this many epochs (chosen on validation by an earlier run)")
    p.add_argument("--merge", help="comma-separated saved names to join into --name (seeds run in parallel)")
    args = p.parse_args()
    out = Path(args.out)
    if args.merge:
        merge(out, args.merge.split(","), args.name)
        return
    if args.report:
        print(report(out, args.reference))
        return
    if not args.split_dir:
        sys.exit("--split-dir is required (or --report)")
    torch.set_num_threads(1)
    split = build_split(DataConfig(split_dir=args.split_dir)).split
    seeds = [int(s) for s in args.seeds.split(",")]
    override = json.loads(args.set)
    tuned = json.loads(Path(args.config).read_text()) if args.config else None
    if tuned is not None and "params" not in tuned:  # a learned model's tuned setting; --set still applies on top
        override = {"model": tuned["model"], "hparams": tuned.get("hparams", {}),
                    **{k: v for k, v in tuned.get("train", {}).items() if k in TRAIN_FIELDS}, **override}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if name in FITTED:
            res = run_fitted(name, split, seeds, not args.no_refit, tuned)
        elif name in IMPLICIT:
            if not implicit_mf.available():
                print(f"{name}: skipped (implicit is not installed: pip install 'graphrec[baselines]')")
                continue
            res = run_implicit(name, split, seeds, not args.no_refit)
        elif name in LEARNED:
            res = run_learned(name, split, seeds, not args.no_refit, override,
                              saved=lambda r, n=args.name or name: save(out, n, r), epochs=args.refit_epochs)
        else:
            sys.exit(f"unknown model {name!r}")
        save(out, args.name or name, res)
        print(f"{args.name or name}: setting {res['setting']}, {res['seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
