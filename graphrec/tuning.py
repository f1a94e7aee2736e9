"""Hyper-parameter search on the validation item, and the tuned configs that ``train`` and
``benchmark`` read.

:func:`tune` runs Optuna's TPE sampler (seeded) over a per-family search space
(each :data:`graphrec.catalogue.CATALOGUE` entry's ``space``), scoring each trial by its best validation ``full_NDCG@10`` (the epoch is
chosen by the trainer's early stopping, never on the test item); trials that trail the
median of earlier ones at the same epoch are pruned. Every family gets the same number of
trials. The result is a small JSON file::

    {"model": "neumf", "hparams": {...}, "train": {"lr": ..., ...}, "tuning": {...}}

(fitted models such as EASE keep their settings under ``"params"``). graphrec ships such
files for ML-100K in ``graphrec/configs/ml-100k/``; :func:`load_tuned` finds them.
"""
from __future__ import annotations

from typing import Callable

from .catalogue import config_for, entry, tunable
from .config import TrainConfig
from .training.protocol import fit_select, select

def tune(name: str, ml, split, trials: int, seed: int = 0, base=None, space: Callable | None = None,
         progress: bool = False) -> dict:
    """Search the space of the catalogue entry ``name`` (a model, or a variant such as ``ease-recency``)
    for ``trials`` trials on ``split``'s validation item; the tuned config.

    ``base`` (a :class:`~graphrec.config.TrainConfig`) supplies what the space leaves
    open (data, k, threads); ``space`` replaces the entry's.
    """
    import optuna

    if not split.has_validation:
        raise ValueError("tuning needs a validation item per user")
    e = entry(name)
    model, space = e.model, space or e.space
    if space is None:
        raise ValueError(f"no search space for {name!r}; tunable: {', '.join(tunable())}")
    base = base or TrainConfig(model=model)

    def objective(trial) -> float:
        point = space(trial)
        if "params" in point:  # fitted: one evaluation, no epochs
            return fit_select(model, point["params"], split, base.k)[1]
        cfg = config_for(base, model, point, seed=seed)

        def report(epoch: int, score: float) -> None:
            trial.report(score, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        trainer = select(cfg, (ml, split), progress=False, on_evaluation=report)
        trial.set_user_attr("best_epoch", trainer.best_epoch)
        return trainer.best_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10))
    study.optimize(objective, n_trials=trials, show_progress_bar=progress)
    best = study.best_trial
    point = space(optuna.trial.FixedTrial(best.params))
    out = {"model": model, **point,
           "tuning": {"trials": trials, "seed": seed, "metric": f"valid_full_NDCG@{base.k}",
                      "best_value": best.value, "best_epoch": best.user_attrs.get("best_epoch"),
                      "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
                      "split": split.name, "params": best.params}}
    return out
