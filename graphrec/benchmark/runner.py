"""The benchmark's runner: every catalogue entry through :mod:`graphrec.pipeline`, over seeds, with the
grid searched on the validation item."""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from ..config import TrainConfig
from ..evaluation import evaluate
from ..models import MODELS, capabilities
from ..pipeline import adopt
from ..training.protocol import fit_refit, fit_select, refit, select
from ..catalogue import CATALOGUE, COVERAGE, QUICK_HPARAMS, Entry, Settings
from .report import Report, setting_tag
from .workers import exit_with_parent

@dataclass
class RunResult:
    entry: str
    seed: int
    setting: dict
    per_user: dict  # metric -> [users] numpy: the final model's (the refit's, unless --no-refit)
    valid: float  # the validation score that chose the setting (config.select, full NDCG@10 by default)
    seconds: float
    parameters: int | None
    best_epoch: int | None
    history: list[dict] = field(default_factory=list)
    run_dir: Path | None = None
    towers: list[float] | None = None  # average (GMF, MLP) fusion weights on the test pairs
    selected: dict | None = None  # per-user test values of the selected run before its refit
    coverage: float | None = None  # share of the catalogue in some test user's full-ranking top 10


class Benchmark(Report):
    """Trains and evaluates ``entries`` on ``split`` as ``settings`` say, writing under ``out``."""

    def __init__(self, ml, split, entries: list[Entry], settings: Settings, out: str | Path,
                 progress: bool = True) -> None:
        self.data = adopt((ml, split), TrainConfig(data=settings.data))
        self.ml, self.split, self.entries, self.settings = self.data.ml, self.data.split, entries, settings
        self.out, self.progress = Path(out), progress
        self.results: dict[str, list[RunResult]] = {}
        self.configs: dict[str, dict] = {}  # entry name -> tuned config (graphrec.tuning), when used
        self._pretrain_runs: dict[tuple[str, int], Path] = {}  # (gmf|mlp, seed) -> run dir when not benchmarked
        self.wall_seconds: float | None = None  # the whole run's wall time, and in how many processes
        self.jobs = 1

    # -- running -------------------------------------------------------------------------------
    def run(self, jobs: int = 1, threads: int = 1) -> dict[str, list[RunResult]]:
        """Run every entry; with ``jobs > 1``, entries run in that many worker processes at once
        (``threads`` torch threads each), NeuMF-with-pretraining after the GMF and MLP it starts from.
        The results are the same as a sequential run's: every run is seeded and single-process."""
        start = time.perf_counter()
        self.bar = tqdm(total=sum(self._runs(e) for e in self.entries), desc="benchmark", unit="run",
                        disable=not self.progress)
        if jobs > 1 and len(self.entries) > 1:
            self._run_parallel(jobs, threads)
        else:
            for e in self.entries:
                self.results[e.name] = self._run_entry(e)
        self.bar.close()
        self.wall_seconds, self.jobs = time.perf_counter() - start, jobs
        return self.results

    def _runs(self, e: Entry) -> int:
        """How many training or fitting runs ``e`` takes (the progress bar's unit)."""
        refit = self.settings.refit and self.split.has_validation
        return len(self._grid(self.tuned_entry(e))) + (int(refit) if e.baseline else self.settings.seeds - 1 + refit)

    def _run_parallel(self, jobs: int, threads: int) -> None:
        import multiprocessing as mp
        import os
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        feeds = {"gmf", "mlp"} & {e.name for e in self.entries}  # what NeuMF-pre starts from, when benchmarked
        later = [e for e in self.entries if e.pretrain and feeds]
        pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"),  # fork after torch's threads can hang
                                   initializer=exit_with_parent, initargs=(os.getpid(),))
        pending = {pool.submit(_run_entry_in_worker, self, e, threads): e for e in self.entries if e not in later}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    e = pending.pop(f)
                    self.results[e.name], tuned = f.result()
                    if tuned is not None:
                        self.configs[e.name] = tuned
                    self.bar.update(self._runs(e))
                if later and feeds <= set(self.results):
                    pending.update({pool.submit(_run_entry_in_worker, self, e, threads): e for e in later})
                    later = []
        finally:
            pool.shutdown(cancel_futures=True)
        self.results = {e.name: self.results[e.name] for e in self.entries}  # the catalogue's order

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "bar"}

    def _grid(self, e: Entry) -> tuple[dict, ...]:
        return e.grid[:1] if self.settings.quick else e.grid

    def _run_entry(self, e: Entry) -> list[RunResult]:
        """Seed 0 tries the grid (or the tuned setting) and the best validation score wins; every seed
        then refits that setting on train + validation for seed 0's chosen epoch count (the peers'
        protocol), or, with ``refit=False``, trains with its own early stopping."""
        e = self.tuned_entry(e)
        tried = [self._run_one(e, point, seed=0) for point in self._grid(e)]
        best = max(tried, key=lambda r: r.valid)  # validation only
        out = []
        for seed in range(self.settings.seeds):
            if e.baseline and seed > 0:
                out.append(replace(out[0], seed=seed))
            elif self.settings.refit and self.split.has_validation:
                out.append(self._refit(e, best, seed))
            else:
                out.append(best if seed == 0 else self._run_one(e, best.setting, seed))
        return out

    def tuned_entry(self, e: Entry) -> Entry:
        """``e`` with its tuned config as the only grid point, if one exists and ``settings.tuned``."""
        from ..catalogue import load_tuned

        tuned = self.configs.get(e.name)
        if tuned is None and self.settings.tuned and not self.settings.quick:
            tuned = load_tuned(e.name, self.settings.data.dataset or "ml-100k", model=e.model)
        if tuned is None:
            return e
        self.configs[e.name] = tuned
        if "params" in tuned:
            return replace(e, grid=(dict(tuned["params"]),))
        return replace(e, hparams={**e.hparams, **tuned.get("hparams", {})}, grid=(dict(tuned.get("train", {})),))

    def _refit(self, e: Entry, best: RunResult, seed: int) -> RunResult:
        """``best``'s setting on train + validation (learned: for ``best.best_epoch`` epochs), as ``seed``."""
        self.bar.set_postfix_str(f"{e.name} refit seed {seed}")
        try:
            return self._refit_one(e, best, seed)
        finally:
            self.bar.update(1)

    def _refit_one(self, e: Entry, best: RunResult, seed: int) -> RunResult:
        if e.fitted:
            start = time.perf_counter()
            scorer = fit_refit(e.model, self.hparams(e, best.setting, seed), self.split)
            test = evaluate(scorer, self.split, on="test", per_user=True)
            return replace(best, seed=seed, per_user=test["per_user"], seconds=time.perf_counter() - start,
                           selected=best.per_user if seed == 0 else None, coverage=test.get(COVERAGE))
        cfg = self._with_pretrain(e, self.config(e, best.setting, seed), seed)
        run_dir = self.out / "runs" / e.name / f"{setting_tag(best.setting)}seed{seed}-refit"
        trainer = refit(cfg, best.best_epoch, self.data, run_dir, progress=self.progress and not self.settings.quick)
        return replace(best, seed=seed, per_user=trainer.test_result["per_user"],
                       seconds=trainer.result["train_seconds"], history=list(trainer.history), run_dir=run_dir,
                       selected=best.per_user if seed == 0 else None, coverage=trainer.test_result.get(COVERAGE))

    def _run_one(self, e: Entry, point: dict, seed: int) -> RunResult:
        self.bar.set_postfix_str(f"{e.name} {point or ''} seed {seed}")
        try:
            return self._fit(e, point, seed) if e.fitted else self._train(e, point, seed)
        finally:
            self.bar.update(1)

    def _fit(self, e: Entry, point: dict, seed: int) -> RunResult:
        start = time.perf_counter()
        scorer, valid = fit_select(e.model, self.hparams(e, point, seed), self.split)
        seconds = time.perf_counter() - start
        test = evaluate(scorer, self.split, on="test", per_user=True)
        return RunResult(e.name, seed, dict(point), test["per_user"], valid, seconds,
                         getattr(scorer, "parameters", None), None, coverage=test.get(COVERAGE))

    def hparams(self, e: Entry, point: dict | None = None, seed: int | None = None) -> dict:
        """The entry's settings (``--quick``: small widths), keeping only what this version's constructor takes;
        for fitted models also the grid ``point`` and the ``seed``."""
        quick = QUICK_HPARAMS.get(e.model, {}) if self.settings.quick else {}
        takes = inspect.signature(MODELS[e.model].__init__).parameters
        extra = {**(point or {}), **({"seed": seed} if seed is not None and "seed" in takes else {})}
        return {**e.hparams, **{k: v for k, v in quick.items() if k in takes}, **extra}

    def config(self, e: Entry, point: dict, seed: int) -> TrainConfig:
        s = self.settings
        hp = self.hparams(e)
        cfg = TrainConfig(model=e.model, hparams=hp, epochs=s.epochs, batch_size=s.batch_size, num_ng=s.num_ng,
                          seed=seed, patience=s.patience, full_eval_every=0, data=s.data, device=s.device)
        return replace(cfg, **{**e.train, **point})

    def _with_pretrain(self, e: Entry, cfg: TrainConfig, seed: int) -> TrainConfig:
        """``cfg`` starting from this seed's GMF and MLP runs, for an entry that pretrains."""
        if not e.pretrain:
            return cfg
        return replace(cfg, pretrain=[str(self._pretrained("gmf", seed)), str(self._pretrained("mlp", seed))])

    def _train(self, e: Entry, point: dict, seed: int) -> RunResult:
        cfg = self._with_pretrain(e, self.config(e, point, seed), seed)
        run_dir = self.out / "runs" / e.name / f"{setting_tag(point)}seed{seed}"
        trainer = select(cfg, self.data, run_dir, progress=self.progress and not self.settings.quick)
        metrics = trainer.result
        valid = trainer.best_score if self.split.has_validation else 0.0
        towers = None
        if capabilities(e.model).attention_map:
            towers = trainer.model.attention(self.split.test_user, self.split.test_item)["towers"].mean(0).tolist()
        return RunResult(e.name, seed, dict(point), trainer.test_result["per_user"], valid, metrics["train_seconds"],
                         metrics["parameters"], metrics["best_epoch"], list(trainer.history), run_dir, towers,
                         coverage=trainer.test_result.get(COVERAGE))

    def _pretrained(self, name: str, seed: int) -> Path:
        """Run directory of this seed's GMF or MLP at its chosen setting (trained here if not benchmarked)."""
        if name in self.results:
            return self.results[name][seed].run_dir
        if (name, seed) not in self._pretrain_runs:
            e = next(x for x in CATALOGUE if x.name == name)
            self._pretrain_runs[(name, seed)] = self._train(e, e.grid[0], seed).run_dir
        return self._pretrain_runs[(name, seed)]


def _run_entry_in_worker(bench: Benchmark, e: Entry, threads: int) -> tuple[list[RunResult], dict | None]:
    """One entry of a parallel benchmark, in a worker process: its runs and its tuned config (if any)."""
    import torch

    torch.set_num_threads(threads)
    bench.progress = False
    bench.bar = tqdm(disable=True)
    return bench._run_entry(e), bench.configs.get(e.name)
