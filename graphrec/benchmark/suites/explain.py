"""``graphrec benchmark --suite explain``: the time of one local explanation and of a global summary per
engine, and the quality of the FeatureMLP being explained (next to FeatureNeuMF and NeuMF).

The models are the default feature model's settings (:func:`graphrec.defaults.feature_config`; NeuMF with the
catalogue's NCF widths), ``--epochs`` each (default 8, as the default model), trained with
:func:`graphrec.training.select_and_refit` on split seed 0; quality is on the test item with 95 % bootstrap
intervals over users, and FeatureMLP - NeuMF is paired. Timing: ``--repeat`` local explanations (default 5)
and one global ``attribute`` call over ``--pairs`` seeded test pairs (default 200). ``--quick``: 1 epoch, the
catalogue's ``--quick`` widths, 8 pairs, 1 repeat. Writes ``explain.md`` and ``explain.json``.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from ...catalogue import NCF, QUICK_HPARAMS
from ...config import DataConfig
from ...data import load_movielens
from ...defaults import feature_config
from ...evaluation import evaluate, paired_difference, with_intervals
from ...explain import ENGINES, make_explainer, sample_pairs
from ...models import MODELS
from ...pipeline import prepare
from ...training import select_and_refit
from ..report import markdown_table
from . import save

METRICS = ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def quality(name: str, model, split, seconds: float) -> tuple[dict, dict]:
    res = evaluate(model, split, 10, "test", full=True, per_user=True)
    ci = with_intervals(res)
    row = {"model": name, "train s": f"{seconds:.0f}"}
    for m in METRICS:
        mean, lo, hi = ci[m]
        row[m] = f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"
    return row, res


def run(args, out: Path) -> list[Path]:
    epochs = args.epochs or (1 if args.quick else 8)
    pairs = args.pairs or (8 if args.quick else 200)
    repeat = args.repeat or (1 if args.quick else 5)
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir, args.split_dir, args.split_seed), ml).split

    def config(model: str, **extra):
        quick = {"hparams": QUICK_HPARAMS[model]} if args.quick else {}
        return feature_config(ml, epochs=epochs, model=model, **{**extra, **quick})

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fmlp = config("feature-mlp")
        seconds, model = timed(lambda: select_and_refit(fmlp, (ml, split), f"{tmp}/fmlp", progress=False).model)
        row, ours = quality("feature-mlp", model, split, seconds)
        rows.append(row)
        s, m2 = timed(lambda: select_and_refit(config("feature-neumf"), (ml, split), None, progress=False).model)
        rows.append(quality("feature-neumf", m2, split, s)[0])
        if "neumf" in MODELS:
            s, neumf = timed(lambda: select_and_refit(config("neumf", hparams=NCF), (ml, split), None,
                                                      progress=False).model)
            row, theirs = quality("neumf", neumf, split, s)
            rows.append(row)
            diff = paired_difference(ours, theirs)
            rows.append({"model": "feature-mlp - neumf (paired)", "train s": "",
                         **{m: "{:+.3f} [{:+.3f}, {:+.3f}]".format(*diff[m]) for m in METRICS}})
    users, items = sample_pairs(split, pairs, seed=0)
    timing = []
    for method in ENGINES:
        build, explainer = timed(lambda: make_explainer(method, model, split))
        first, _ = timed(lambda: explainer.attribute(users[:1], items[:1]))
        local = [timed(lambda j=j: explainer.attribute(users[j:j + 1], items[j:j + 1]))[0]
                 for j in range(1, repeat + 1)]
        glob, attr = timed(lambda: explainer.attribute(users, items))
        imp = attr.mean_abs()
        timing.append({"method": method, "set-up s": f"{build:.2f}", "first local s": f"{first:.2f}",
                       "local s (median)": f"{statistics.median(local):.3f}",
                       f"global {len(users)} pairs s": f"{glob:.1f}",
                       "mean abs(delta)": f"{float(attr.delta.abs().mean()):.2g}",
                       "top groups": ", ".join(sorted(imp, key=lambda g: -imp[g])[:3])})
    text = (f"Quality on {ml.name} (split seed 0, {epochs} epochs, batch {fmlp.batch_size}, lr {fmlp.lr}, "
            f"{fmlp.num_ng} negatives; 95 % bootstrap intervals over users)\n\n{markdown_table(rows)}\n\n"
            f"Explanation time ({ml.name}, FeatureMLP; torch threads: {torch.get_num_threads()}; set-up = "
            f"background and baselines; global = one attribute call over {len(users)} seeded test pairs)\n\n"
            f"{markdown_table(timing)}\n")
    print(text)
    return [save(out / "explain.md", text),
            save(out / "explain.json", {"epochs": epochs, "pairs": pairs, "repeat": repeat, "quality": rows,
                                        "timing": timing})]
