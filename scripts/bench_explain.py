"""Explanations: time of one local explanation and of a 200-pair global summary per engine,
and the quality of the FeatureMLP being explained (next to FeatureNeuMF, and NeuMF when it exists).

    python scripts/bench_explain.py [--data-dir DIR] [--epochs 8] [--pairs 200] [--threads N]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from graphrec.data import load_movielens
from graphrec.pipeline import prepare
from graphrec.config import DataConfig
from graphrec.evaluation import evaluate, paired_difference, with_intervals
from graphrec.explain import ENGINES, make_explainer, sample_pairs
from graphrec.defaults import feature_config
from graphrec.benchmark import markdown_table
from graphrec.models import MODELS
from graphrec.config import TrainConfig
from graphrec.training import select_and_refit


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


METRICS = ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")


def quality(name: str, model, split, seconds: float) -> tuple[dict, dict]:
    res = evaluate(model, split, 10, "test", full=True, per_user=True)
    ci = with_intervals(res)
    row = {"model": name, "train s": f"{seconds:.0f}"}
    for m in METRICS:
        mean, lo, hi = ci[m]
        row[m] = f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"
    return row, res


def table(rows: list[dict]) -> None:
    print(markdown_table(rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--epochs", type=int, default=8, help="training epochs of each model (default 8, as the default model)")
    p.add_argument("--pairs", type=int, default=200, help="test pairs of the global summary (default 200)")
    p.add_argument("--repeat", type=int, default=5, help="local explanations timed per engine (default 5)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir), ml).split

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = feature_config(ml, epochs=args.epochs)
        seconds, model = timed(lambda: select_and_refit(config, (ml, split), f"{tmp}/fmlp", progress=False).model)
        row, ours = quality("feature-mlp", model, split, seconds)
        rows.append(row)
        fneumf = feature_config(ml, epochs=args.epochs, model="feature-neumf")
        s, m2 = timed(lambda: select_and_refit(fneumf, (ml, split), None, progress=False).model)
        rows.append(quality("feature-neumf", m2, split, s)[0])
        if "neumf" in MODELS:
            ncf = TrainConfig(model="neumf", hparams={"factors": 8, "layers": [64, 32, 16, 8]},
                              **{k: v for k, v in config.to_dict().items() if k not in ("model", "hparams", "data")})
            s, neumf = timed(lambda: select_and_refit(ncf, (ml, split), None, progress=False).model)
            row, theirs = quality("neumf", neumf, split, s)
            rows.append(row)
            diff = paired_difference(ours, theirs)
            rows.append({"model": "feature-mlp - neumf (paired)", "train s": "",
                         **{m: "{:+.3f} [{:+.3f}, {:+.3f}]".format(*diff[m]) for m in METRICS}})
    print(f"Quality on {ml.name} (split seed 0, {args.epochs} epochs, batch {config.batch_size}, "
          f"lr {config.lr}, {config.num_ng} negatives; 95 % bootstrap intervals over users)\n")
    table(rows)

    users, items = sample_pairs(split, args.pairs, seed=0)
    timing = []
    for method in ENGINES:
        build, explainer = timed(lambda: make_explainer(method, model, split))
        first, _ = timed(lambda: explainer.attribute(users[:1], items[:1]))
        local = [timed(lambda j=j: explainer.attribute(users[j:j + 1], items[j:j + 1]))[0]
                 for j in range(1, args.repeat + 1)]
        glob, attr = timed(lambda: explainer.attribute(users, items))
        imp = attr.mean_abs()
        timing.append({"method": method, "set-up s": f"{build:.2f}", "first local s": f"{first:.2f}",
                       "local s (median)": f"{statistics.median(local):.3f}",
                       f"global {len(users)} pairs s": f"{glob:.1f}",
                       "mean abs(delta)": f"{float(attr.delta.abs().mean()):.2g}",
                       "top groups": ", ".join(sorted(imp, key=lambda g: -imp[g])[:3])})
    print(f"\nExplanation time ({ml.name}, FeatureMLP; torch threads: {torch.get_num_threads()}; set-up = "
          f"background and baselines; global = one attribute call over {len(users)} seeded test pairs)\n")
    table(timing)


if __name__ == "__main__":
    main()
