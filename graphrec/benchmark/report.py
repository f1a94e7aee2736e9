"""The benchmark's report: per-model summary with intervals and paired differences, CSV and markdown
tables, and the charts."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import csv_text, figure, save_figure, write_text
from ..metrics import bootstrap_seeds_users
from ..catalogue import ATTENTION_PAIRS, COVERAGE, EXTRA_METRICS, METRICS


class Report:
    """Summaries and output of a finished :class:`~graphrec.benchmark.runner.Benchmark` (its ``results``,
    ``entries``, ``settings``, ``split`` and ``out``)."""

    # -- summarising ---------------------------------------------------------------------------
    def best_baseline(self) -> str | None:
        base = [n for n, rs in self.results.items() if rs and next(e for e in self.entries if e.name == n).baseline]
        return max(base, key=lambda n: self.results[n][0].valid) if base else None

    def matrix(self, name: str, metric: str) -> np.ndarray:
        """``[seeds, users]`` per-user test values."""
        return np.stack([r.per_user[metric] for r in self.results[name]])

    def summary(self) -> list[dict]:
        """One row per model: mean, seed std, 95 % CI, paired difference to the best baseline."""
        base = self.best_baseline()
        rows = []
        for name, runs in self.results.items():
            row: dict = {"model": name, "seeds": len(runs), "setting": setting_tag(runs[0].setting).rstrip("_") or "-"}
            for m in METRICS:
                v = self.matrix(name, m)
                mean, lo, hi = bootstrap_seeds_users(v)
                row[m] = mean
                row[f"{m}_std"] = float(np.std(v.mean(1), ddof=1)) if len(v) > 1 else 0.0
                row[f"{m}_lo"], row[f"{m}_hi"] = lo, hi
                if base is not None and name != base:
                    d, dlo, dhi = bootstrap_seeds_users(v - self.matrix(base, m)[:1])
                    row[f"{m}_diff"], row[f"{m}_diff_lo"], row[f"{m}_diff_hi"] = d, dlo, dhi
            for m in EXTRA_METRICS:
                row[m] = float(self.matrix(name, m).mean()) if all(m in r.per_user for r in runs) else None
            cover = [r.coverage for r in runs if r.coverage is not None]
            row[COVERAGE] = float(np.mean(cover)) if cover else None
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
        write_text(paths[1], _csv([{"model": r.entry, "seed": r.seed, "setting": setting_tag(r.setting).rstrip("_"),
                                     **{m: float(r.per_user[m].mean()) for m in METRICS},
                                     **{m: float(r.per_user[m].mean()) if m in r.per_user else None
                                        for m in EXTRA_METRICS}, COVERAGE: r.coverage,
                                     "valid_score": r.valid, "train_seconds": r.seconds,
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
        tuned = ", ".join(sorted(getattr(self, "configs", {}))) or "none"
        refit = ("each seed refits the chosen setting on train + validation for seed 0's chosen epochs"
                 if s.refit else "each seed's selected run (no refit)")
        lines += [f"{len(self.split.test_user)} test users; {s.seeds} seed(s); tuned configs: {tuned}; the others: "
                  f"{s.epochs} epochs, batch {s.batch_size}, {s.num_ng} negatives per positive and their family's "
                  f"grid; settings and epochs chosen on the validation item (full-ranking NDCG@10); {refit}. "
                  f"Mean ± seed std [95 % CI over users and seeds]. Δ = paired difference to the best baseline "
                  f"({base}); **real** when its 95 % interval excludes 0." + self._wall(), ""]
        head = ["model", "setting"] + [m for m in METRICS] + ["full_MRR@10", "coverage@10", "top-10 popularity"] + \
            [f"Δ{m}" for m in ("HR@10", "full_HR@10")] + ["train s", "params", "best epoch"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            cells = [r["model"], r["setting"]]
            cells += [f"{r[m]:.4f} ± {r[m + '_std']:.4f} [{r[m + '_lo']:.3f}, {r[m + '_hi']:.3f}]" for m in METRICS]
            cells += ["-" if r[m] is None else fmt.format(r[m])
                      for m, fmt in (("full_MRR@10", "{:.4f}"), (COVERAGE, "{:.3f}"), ("full_popularity@10", "{:.0f}"))]
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

    def _wall(self) -> str:
        if self.wall_seconds is None:
            return ""
        procs = f"{self.jobs} processes" if self.jobs > 1 else "one process"
        return f" Wall time {self.wall_seconds / 60:.1f} min ({procs}, tuning not included)."

    # -- plots ---------------------------------------------------------------------------------
    def plot_comparison(self, rows: list[dict]) -> Path:
        """2 x 2 grouped bars: (2 features, all features) x (without, with attention), per metric."""
        by = {r["model"]: r for r in rows}
        cells = {e.cell: e.name for e in self.entries if e.cell}
        fig, axes = figure(1, len(METRICS), figsize=(4 * len(METRICS), 3.6))
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
        fig, axes = figure(1, 2, figsize=(11, 4))
        for ax, m in zip(axes, ("HR@10", "NDCG@10")):
            for name, runs in learned.items():
                curve: dict[int, list[float]] = {}
                for r in runs:
                    for row in r.history:
                        if f"test_{m}" in row:  # evaluated epochs only
                            curve.setdefault(row["epoch"], []).append(row[f"test_{m}"])
                ep = sorted(curve)
                ax.plot(ep, [np.mean(curve[x]) for x in ep], marker=".", label=name)
            ax.set_xlabel("epoch")
            ax.set_title(f"test {m} (sampled) per epoch")
        axes[1].legend(fontsize=7)
        path = self.out / "curves.png"
        save_figure(fig, path, dpi=110)
        return path


def markdown_table(rows: list[dict]) -> str:
    """Rows as an aligned markdown table (columns: every key, in first-seen order): the one table
    printer of the benchmark report and its suites (``graphrec.benchmark.suites``)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    w = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    lines = ["| " + " | ".join(c.ljust(x) for c, x in zip(cols, w)) + " |",
             "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    lines += ["| " + " | ".join(str(r.get(c, "")).ljust(x) for c, x in zip(cols, w)) + " |" for r in rows]
    return "\n".join(lines)


def setting_tag(point: dict) -> str:
    return "".join(f"{k}{v:.3g}_" if isinstance(v, float) else f"{k}{v}_" for k, v in sorted(point.items()))


def _csv(rows: list[dict]) -> str:
    return csv_text(rows)


#: The markers around the block that ``graphrec benchmark --readme FILE`` rewrites.
README_BEGIN, README_END = "<!-- graphrec benchmark: begin -->", "<!-- graphrec benchmark: end -->"


def readme_block(text: str) -> tuple[int, int]:
    """Start and end offsets of the text between the benchmark markers of ``text``; a clear error
    when they are missing, repeated or out of order."""
    from ..errors import GraphrecError

    if text.count(README_BEGIN) != 1 or text.count(README_END) != 1:
        raise GraphrecError(f"--readme needs one line {README_BEGIN!r} and one line {README_END!r} around the table")
    start, end = text.index(README_BEGIN) + len(README_BEGIN), text.index(README_END)
    if end < start:
        raise GraphrecError(f"--readme: {README_END!r} comes before {README_BEGIN!r}")
    return start, end


def replace_readme_block(text: str, block: str) -> str:
    """``text`` with the part between the benchmark markers replaced by ``block``; the rest unchanged."""
    start, end = readme_block(text)
    return text[:start] + "\n" + block.strip("\n") + "\n" + text[end:]
