"""The benchmark's runner: every catalogue entry through :mod:`graphrec.pipeline`, over seeds, with the
grid searched on the validation item."""
from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from ..evaluation import evaluate
from ..models import MODELS, capabilities
from ..training.config import TrainConfig
from .catalogue import CATALOGUE, QUICK_HPARAMS, Entry, Settings
from .report import Report, _tag

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


class Benchmark(Report):
    """Trains and evaluates ``entries`` on ``split`` as ``settings`` say, writing under ``out``."""

    def __init__(self, ml, split, entries: list[Entry], settings: Settings, out: str | Path,
                 progress: bool = True) -> None:
        from ..pipeline import adopt

        self.data = adopt((ml, split), TrainConfig(data=settings.data))
        self.ml, self.split, self.entries, self.settings = self.data.ml, self.data.split, entries, settings
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
        scorer = MODELS[e.model](**self.hparams(e, point, seed)).fit(self.split)
        size = getattr(scorer, "parameters", None)
        seconds = time.perf_counter() - start
        valid = evaluate(scorer, self.split, on="valid", full=False)["HR@10"] if self.split.has_validation else 0.0
        test = evaluate(scorer, self.split, on="test", per_user=True)
        return RunResult(e.name, seed, dict(point), test["per_user"], valid, seconds, size, None)

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

    def _train(self, e: Entry, point: dict, seed: int) -> RunResult:
        from ..pipeline import train

        cfg = self.config(e, point, seed)
        if e.pretrain:
            cfg = replace(cfg, pretrain=[str(self._pretrained("gmf", seed)), str(self._pretrained("mlp", seed))])
        run_dir = self.out / "runs" / e.name / f"{_tag(point)}seed{seed}"
        model, metrics, trainer = train(cfg, run_dir, self.data, progress=self.progress and not self.settings.quick)
        valid = max((r.get("valid_HR@10", -math.inf) for r in trainer.history), default=0.0)
        towers = None
        if capabilities(e.model).attention_map:
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

