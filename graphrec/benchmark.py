"""One benchmark for every model: same split, same epoch budget, same tuning budget, seeds, intervals.

Protocol (also in the README):

* every model family gets the same small grid, searched on the **validation** item with
  seed 0 (learned models: ``lr`` in :data:`LR_GRID`; ItemKNN: neighbours in :data:`KNN_GRID`);
  the chosen point is then trained with every seed (seed 0's tuning run is reused);
* every learned model trains for the same number of epochs, keeping the epoch with the best
  validation HR@10 (early stopping never looks at the test item);
* test metrics: sampled and full HR@10/NDCG@10; each mean gets a 95 % interval from a two-level
  bootstrap over users and seeds (:func:`graphrec.metrics.bootstrap_seeds_users`), and each
  model a paired interval of its difference to the best baseline (chosen on validation);
  a difference is called real only when that interval excludes zero.
"""
from __future__ import annotations

import csv
import inspect
import io
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .evaluation import evaluate
from .io import save_figure, write_text
from .metrics import bootstrap_seeds_users
from .models import BASELINES, MODELS
from .training import DataConfig, TrainConfig, Trainer
from .training.runs import build_model
from .training.trainer import init_from_runs

METRICS = ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")
#: The validation grid every learned family gets (same budget for all).
LR_GRID = (3e-3, 1e-2)
#: ItemKNN's grid: neighbours per item (same size as the learned grid).
KNN_GRID = (20, 50)


@dataclass
class Entry:
    """One row of the benchmark: a model with fixed hyperparameters and its validation grid."""

    name: str
    model: str  # registry name, or a baseline name
    hparams: dict = field(default_factory=dict)
    grid: tuple[dict, ...] = ({},)  # each point overrides TrainConfig fields (lr, ...) or baseline kwargs
    pretrain: bool = False  # NeuMF initialised from this seed's GMF and MLP runs (alpha = 0.5)
    train: dict = field(default_factory=dict)  # fixed TrainConfig overrides (e.g. LightGCN's L2)
    cell: tuple[str, str] | None = None  # (features, attention) position in the 2x2 chart

    @property
    def baseline(self) -> bool:
        """Deterministic, non-learned floors: fitted once, the same for every seed."""
        return self.model in BASELINES

    @property
    def fitted(self) -> bool:
        """Fitted outside the trainer (baselines, Node2Vec embeddings scored by dot product)."""
        return self.model in BASELINES or self.model in FITTED


LR = tuple({"lr": lr} for lr in LR_GRID)
NCF = {"factors": 8, "layers": [64, 32, 16, 8]}
#: Every model the benchmark knows, in table order; only those registered are run.
CATALOGUE = (
    Entry("mostpop", "mostpop"),
    Entry("itemknn", "itemknn", grid=tuple({"k": k} for k in KNN_GRID)),
    Entry("gmf", "gmf", {"factors": 8}, LR),
    Entry("mlp", "mlp", {"layers": [64, 32, 16, 8]}, LR),
    Entry("neumf", "neumf", NCF, LR, cell=("2 features", "without attention")),
    Entry("neumf-pre", "neumf", NCF, LR, pretrain=True),
    Entry("feature-mlp", "feature-mlp", {}, LR, cell=("all features", "without attention")),
    Entry("feature-neumf", "feature-neumf", {}, LR),
    Entry("att-neumf", "att-neumf", {}, LR, cell=("2 features", "with attention")),
    Entry("att-neumf-all", "att-neumf-all", {}, LR, cell=("all features", "with attention")),
    Entry("att-neumf-seed", "att-neumf-seed", {}, LR),
    Entry("node2vec", "node2vec", {}, ({"metric": "dot"}, {"metric": "cosine"})),
    Entry("lightgcn", "lightgcn", {}, LR, train={"l2": 1e-4}),
)
#: Smaller models for ``--quick`` (CI): same code paths, tiny widths.
QUICK_HPARAMS = {"gmf": {"factors": 4}, "mlp": {"layers": [8, 4]}, "neumf": {"factors": 4, "layers": [8, 4]},
                 "att-neumf": {"factors": 4, "heads": 1, "layers": [8]},
                 "att-neumf-all": {"factors": 4, "heads": 1, "layers": [8]},
                 "att-neumf-seed": {"factors": 4, "layers": [8, 4], "heads": 1},
                 "feature-mlp": {"factors": 4, "side_dim": 2, "layers": [8]},
                 "feature-neumf": {"factors": 4, "side_dim": 2, "layers": [8], "gmf_factors": 4},
                 "lightgcn": {"factors": 8, "num_layers": 2}}
#: Paired comparisons that answer "does attention help?" (model, counterpart).
ATTENTION_PAIRS = (("att-neumf", "neumf"), ("att-neumf-all", "feature-mlp"), ("att-neumf-all", "feature-neumf"),
                   ("att-neumf-all", "att-neumf"),
                   ("att-neumf-seed", "neumf"), ("att-neumf", "att-neumf-seed"))


#: Node2Vec recommender (graphrec.embeddings): walks and skip-gram sized to the benchmark's budget.
NODE2VEC = {"walk_length": 40, "walks_per_node": 5, "window": 5, "dim": 64}


def _node2vec(split, seed: int, quick: bool, metric: str = "dot", **config):
    """Node2Vec on the training graph, users and movies scored by the dot product (or cosine) of their vectors."""
    from .embeddings import EmbeddingConfig, EmbeddingScorer, fit_embeddings

    config = {**NODE2VEC, **({"walk_length": 10, "walks_per_node": 2, "dim": 8} if quick else {}), **config}
    emb = fit_embeddings(split, EmbeddingConfig(seed=seed, **config), progress=False)
    size = emb.movie.numel() + (emb.user.numel() if emb.user is not None else 0)
    return EmbeddingScorer(emb.movie, emb.user, metric, split), size


def _has_embeddings() -> bool:
    try:
        from .embeddings import EmbeddingScorer, fit_embeddings  # noqa: F401
    except ImportError:
        return False
    return True


#: Models fitted outside the trainer: ``fit(split, seed, quick, **point) -> (scorer, parameters)``.
FITTED = {"node2vec": _node2vec} if _has_embeddings() else {}


def available() -> list[Entry]:
    """Catalogue entries whose model exists in this install (baselines, fitted or registered)."""
    return [e for e in CATALOGUE if e.fitted or e.model in MODELS]


def select(names: list[str] | None) -> list[Entry]:
    """The named entries (all available ones for ``None``), in catalogue order."""
    from .errors import GraphrecError

    entries = available()
    if not names:
        return entries
    known = {e.name: e for e in entries}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GraphrecError(f"unknown or unavailable model(s) {', '.join(unknown)}; available: {', '.join(known)}")
    return [e for e in entries if e.name in set(names)]


@dataclass
class RunResult:
    entry: str
    seed: int
    setting: dict
    per_user: dict  # metric -> [users] numpy
    valid_hr: float
    seconds: float
    parameters: int | None
    best_epoch: int | None
    history: list[dict] = field(default_factory=list)
    run_dir: Path | None = None
    towers: list[float] | None = None  # average (GMF, MLP) fusion weights on the test pairs


@dataclass
class Settings:
    seeds: int = 3
    epochs: int = 10
    batch_size: int = 4096
    num_ng: int = 4
    patience: int = 0  # 0: every model runs the full epoch budget (the best validation epoch is kept)
    quick: bool = False
    data: DataConfig = field(default_factory=DataConfig)


class Benchmark:
    """Trains and evaluates ``entries`` on ``split`` as ``settings`` say, writing under ``out``."""

    def __init__(self, ml, split, entries: list[Entry], settings: Settings, out: str | Path,
                 progress: bool = True) -> None:
        self.ml, self.split, self.entries, self.settings = ml, split, entries, settings
        self.out, self.progress = Path(out), progress
        self.results: dict[str, list[RunResult]] = {}
        self._pretrain_runs: dict[tuple[str, int], Path] = {}  # (gmf|mlp, seed) -> run dir when not benchmarked

    # -- running -------------------------------------------------------------------------------
    def run(self) -> dict[str, list[RunResult]]:
        jobs = sum(len(self._grid(e)) + (0 if e.baseline else self.settings.seeds - 1) for e in self.entries)
        self.bar = tqdm(total=jobs, desc="benchmark", unit="run", disable=not self.progress)
        for e in self.entries:
            self.results[e.name] = self._run_entry(e)
        self.bar.close()
        return self.results

    def _grid(self, e: Entry) -> tuple[dict, ...]:
        return e.grid[:1] if self.settings.quick else e.grid

    def _run_entry(self, e: Entry) -> list[RunResult]:
        tried = [self._run_one(e, point, seed=0) for point in self._grid(e)]
        best = max(tried, key=lambda r: r.valid_hr)  # validation only
        out = [best]
        for seed in range(1, self.settings.seeds):
            out.append(replace(best, seed=seed) if e.baseline else self._run_one(e, best.setting, seed))
        return out

    def _run_one(self, e: Entry, point: dict, seed: int) -> RunResult:
        self.bar.set_postfix_str(f"{e.name} {point or ''} seed {seed}")
        try:
            return self._fit(e, point, seed) if e.fitted else self._train(e, point, seed)
        finally:
            self.bar.update(1)

    def _fit(self, e: Entry, point: dict, seed: int) -> RunResult:
        start = time.perf_counter()
        if e.baseline:
            scorer, size = BASELINES[e.model](**point).fit(self.split), None
        else:
            scorer, size = FITTED[e.model](self.split, seed, self.settings.quick, **point)
        seconds = time.perf_counter() - start
        valid = evaluate(scorer, self.split, on="valid", full=False)["HR@10"] if self.split.has_validation else 0.0
        test = evaluate(scorer, self.split, on="test", per_user=True)
        return RunResult(e.name, seed, dict(point), test["per_user"], valid, seconds, size, None)

    def config(self, e: Entry, point: dict, seed: int) -> TrainConfig:
        s = self.settings
        quick = QUICK_HPARAMS.get(e.model, {}) if s.quick else {}
        takes = inspect.signature(MODELS[e.model].__init__).parameters  # only what this version accepts
        hp = {**e.hparams, **{k: v for k, v in quick.items() if k in takes}}
        cfg = TrainConfig(model=e.model, hparams=hp, epochs=s.epochs, batch_size=s.batch_size, num_ng=s.num_ng,
                          seed=seed, patience=s.patience, full_eval_every=0, data=s.data)
        return replace(cfg, **{**e.train, **point})

    def _train(self, e: Entry, point: dict, seed: int) -> RunResult:
        cfg = self.config(e, point, seed)
        if e.pretrain:
            cfg = replace(cfg, pretrain=[str(self._pretrained("gmf", seed)), str(self._pretrained("mlp", seed))])
        model = build_model(cfg, self.ml, self.split)
        if cfg.pretrain:
            init_from_runs(model, cfg.pretrain, self.ml, self.split)
        run_dir = self.out / "runs" / e.name / f"{_tag(point)}seed{seed}"
        trainer = Trainer(model, self.split, cfg, run_dir, progress=self.progress and not self.settings.quick)
        run_dir.mkdir(parents=True, exist_ok=True)
        metrics = trainer.fit()
        valid = max((r.get("valid_HR@10", -math.inf) for r in trainer.history), default=0.0)
        towers = None
        if hasattr(model, "attention") and e.model.startswith("att-neumf") and e.model != "att-neumf-seed":
            towers = model.attention(self.split.test_user, self.split.test_item)["towers"].mean(0).tolist()
        return RunResult(e.name, seed, dict(point), trainer.test_result["per_user"], valid, metrics["train_seconds"],
                         metrics["parameters"], metrics["best_epoch"], list(trainer.history), run_dir, towers)

    def _pretrained(self, name: str, seed: int) -> Path:
        """Run directory of this seed's GMF or MLP at its chosen setting (trained here if not benchmarked)."""
        if name in self.results:
            return self.results[name][seed].run_dir
        if (name, seed) not in self._pretrain_runs:
            e = next(x for x in CATALOGUE if x.name == name)
            self._pretrain_runs[(name, seed)] = self._train(e, e.grid[0], seed).run_dir
        return self._pretrain_runs[(name, seed)]

    # -- summarising ---------------------------------------------------------------------------
    def best_baseline(self) -> str | None:
        base = [n for n, rs in self.results.items() if rs and next(e for e in self.entries if e.name == n).baseline]
        return max(base, key=lambda n: self.results[n][0].valid_hr) if base else None

    def matrix(self, name: str, metric: str) -> np.ndarray:
        """``[seeds, users]`` per-user test values."""
        return np.stack([r.per_user[metric] for r in self.results[name]])

    def summary(self) -> list[dict]:
        """One row per model: mean, seed std, 95 % CI, paired difference to the best baseline."""
        base = self.best_baseline()
        rows = []
        for name, runs in self.results.items():
            row: dict = {"model": name, "seeds": len(runs), "setting": _tag(runs[0].setting).rstrip("_") or "-"}
            for m in METRICS:
                v = self.matrix(name, m)
                mean, lo, hi = bootstrap_seeds_users(v)
                row[m] = mean
                row[f"{m}_std"] = float(np.std(v.mean(1), ddof=1)) if len(v) > 1 else 0.0
                row[f"{m}_lo"], row[f"{m}_hi"] = lo, hi
                if base is not None and name != base:
                    d, dlo, dhi = bootstrap_seeds_users(v - self.matrix(base, m)[:1])
                    row[f"{m}_diff"], row[f"{m}_diff_lo"], row[f"{m}_diff_hi"] = d, dlo, dhi
            row["train_seconds"] = float(np.mean([r.seconds for r in runs]))
            params = [r.parameters for r in runs if r.parameters is not None]
            row["parameters"] = params[0] if params else None
            epochs = [r.best_epoch for r in runs if r.best_epoch is not None]
            row["best_epoch"] = float(np.mean(epochs)) if epochs else None
            towers = [r.towers for r in runs if r.towers]
            row["tower_weight_gmf"] = float(np.mean([t[0] for t in towers])) if towers else None
            rows.append(row)
        return rows

    def attention_pairs(self) -> list[dict]:
        """Seed-matched paired differences for the attention questions (both models run)."""
        rows = []
        for a, b in ATTENTION_PAIRS:
            if a in self.results and b in self.results and len(self.results[a]) == len(self.results[b]):
                row = {"model": a, "vs": b}
                for m in METRICS:
                    row[m] = bootstrap_seeds_users(self.matrix(a, m) - self.matrix(b, m))
                rows.append(row)
        return rows

    def write(self, command: str = "") -> list[Path]:
        """``results.csv``, ``seeds.csv``, ``results.md``, ``comparison.png``, ``curves.png``."""
        rows = self.summary()
        paths = [self.out / "results.csv", self.out / "seeds.csv", self.out / "results.md"]
        write_text(paths[0], _csv(rows))
        write_text(paths[1], _csv([{"model": r.entry, "seed": r.seed, "setting": _tag(r.setting).rstrip("_"),
                                     **{m: float(r.per_user[m].mean()) for m in METRICS},
                                     "valid_HR@10": r.valid_hr, "train_seconds": r.seconds,
                                     "parameters": r.parameters, "best_epoch": r.best_epoch}
                                    for rs in self.results.values() for r in rs]))
        write_text(paths[2], self.markdown(rows, command))
        paths += [self.plot_comparison(rows), self.plot_curves()]
        return [p for p in paths if p is not None]

    def markdown(self, rows: list[dict], command: str = "") -> str:
        s, base = self.settings, self.best_baseline()
        lines = []
        if command:
            lines += [f"Command: `{command}`", ""]
        lines += [f"{len(self.split.test_user)} test users; {s.seeds} seed(s); {s.epochs} epochs, batch "
                  f"{s.batch_size}, {s.num_ng} negatives per positive; grid per family chosen on validation HR@10. "
                  f"Mean ± seed std [95 % CI over users and seeds]. Δ = paired difference to the best baseline "
                  f"({base}); **real** when its 95 % interval excludes 0.", ""]
        head = ["model", "setting"] + [m for m in METRICS] + [f"Δ{m}" for m in ("HR@10", "full_HR@10")] + \
            ["train s", "params", "best epoch"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            cells = [r["model"], r["setting"]]
            cells += [f"{r[m]:.4f} ± {r[m + '_std']:.4f} [{r[m + '_lo']:.3f}, {r[m + '_hi']:.3f}]" for m in METRICS]
            for m in ("HR@10", "full_HR@10"):
                if f"{m}_diff" in r:
                    real = r[f"{m}_diff_lo"] > 0 or r[f"{m}_diff_hi"] < 0
                    txt = f"{r[m + '_diff']:+.4f} [{r[m + '_diff_lo']:+.3f}, {r[m + '_diff_hi']:+.3f}]"
                    cells.append(f"**{txt} real**" if real else txt)
                else:
                    cells.append("(best baseline)" if r["model"] == base else "-")
            cells += [f"{r['train_seconds']:.1f}", "-" if r["parameters"] is None else f"{r['parameters']:,}",
                      "-" if r["best_epoch"] is None else f"{r['best_epoch']:.1f}"]
            lines.append("| " + " | ".join(cells) + " |")
        pairs = self.attention_pairs()
        if pairs:
            lines += ["", "Does attention help? Seed-matched paired differences (A − B) [95 % CI]:", "",
                      "| A | B | " + " | ".join(f"Δ{m}" for m in METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
            for p in pairs:
                cells = []
                for m in METRICS:
                    d, lo, hi = p[m]
                    txt = f"{d:+.4f} [{lo:+.3f}, {hi:+.3f}]"
                    cells.append(f"**{txt} real**" if lo > 0 or hi < 0 else txt)
                lines.append(f"| {p['model']} | {p['vs']} | " + " | ".join(cells) + " |")
        towers = [r for r in rows if r["tower_weight_gmf"] is not None]
        if towers:
            lines += ["", "Average fusion weights on the test pairs (GMF tower / MLP tower): " + "; ".join(
                f"{r['model']} {r['tower_weight_gmf']:.3f} / {1 - r['tower_weight_gmf']:.3f}" for r in towers) + "."]
        lines += ["", "Charts: `comparison.png` (2 × 2: features × attention), `curves.png` (test HR@10 and "
                  "NDCG@10 per epoch, mean over seeds)."]
        return "\n".join(lines) + "\n"

    # -- plots ---------------------------------------------------------------------------------
    def plot_comparison(self, rows: list[dict]) -> Path:
        """2 x 2 grouped bars: (2 features, all features) x (without, with attention), per metric."""
        plt = _pyplot()
        by = {r["model"]: r for r in rows}
        cells = {e.cell: e.name for e in self.entries if e.cell}
        fig, axes = plt.subplots(1, len(METRICS), figsize=(4 * len(METRICS), 3.6))
        groups, hues = ("2 features", "all features"), ("without attention", "with attention")
        for ax, m in zip(axes, METRICS):
            for j, hue in enumerate(hues):
                xs, ys, errs, labels = [], [], [[], []], []
                for g_i, g in enumerate(groups):
                    name = cells.get((g, hue))
                    if name in by:
                        r = by[name]
                        xs.append(g_i + (j - 0.5) * 0.38)
                        ys.append(r[m])
                        errs[0].append(r[m] - r[m + "_lo"])
                        errs[1].append(r[m + "_hi"] - r[m])
                        labels.append(name)
                bars = ax.bar(xs, ys, width=0.36, yerr=errs, capsize=3, label=hue)
                for b, lab in zip(bars, labels):
                    ax.annotate(lab, (b.get_x() + b.get_width() / 2, 0), xytext=(0, 3), textcoords="offset points",
                                rotation=90, ha="center", va="bottom", fontsize=7, color="white")
            ax.set_xticks(range(len(groups)), groups)
            ax.set_title(m + (" (sampled)" if not m.startswith("full") else ""))
        axes[0].legend(fontsize=7, loc="lower left")
        fig.suptitle("Features × attention (bars: mean over seeds, whiskers: 95 % CI)", y=1.03)
        path = self.out / "comparison.png"
        save_figure(fig, path, dpi=110)
        return path

    def plot_curves(self) -> Path | None:
        """Test HR@10 and NDCG@10 per epoch of every learned model (mean over seeds)."""
        learned = {n: rs for n, rs in self.results.items() if rs[0].history}
        if not learned:
            return None
        plt = _pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, m in zip(axes, ("HR@10", "NDCG@10")):
            for name, runs in learned.items():
                curve: dict[int, list[float]] = {}
                for r in runs:
                    for row in r.history:
                        if f"test_{m}" in row:
                            curve.setdefault(row["epoch"], []).append(row[f"test_{m}"])
                ep = sorted(curve)
                ax.plot(ep, [np.mean(curve[x]) for x in ep], marker=".", label=name)
            ax.set_xlabel("epoch")
            ax.set_title(f"test {m} (sampled) per epoch")
        axes[1].legend(fontsize=7)
        path = self.out / "curves.png"
        save_figure(fig, path, dpi=110)
        return path


def _tag(point: dict) -> str:
    return "".join(f"{k}{v}_" for k, v in sorted(point.items()))


def _csv(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
