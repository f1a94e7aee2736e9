"""Selection, then refit: the protocol every entry point follows, written once.

1. **Select.** Train on the training pairs, scoring the *validation* item (each user's
   second-latest interaction) every ``eval_every`` epochs; keep the epoch with the best
   ``config.select`` score (full-ranking NDCG@10 by default). Among several settings (the
   benchmark's grid, ``graphrec tune``'s trials) the best validation score wins.
2. **Refit.** Retrain the chosen setting from scratch on train + validation
   (:meth:`graphrec.data.Split.with_validation_in_train`) for exactly the selected number of
   epochs, and evaluate the test item once.

The test item steers nothing: neither the epoch nor any setting is chosen on it. The selected
run's test metrics are kept next to the refit's, so the refit's effect shows.

``graphrec train``, ``graphrec tune``, ``graphrec benchmark``, the embedded defaults, the
distributed trainer and the scripts all call :func:`select`, :func:`refit` and
:func:`select_and_refit` from here; fitted models (baselines, EASE, Node2Vec scorers) take the
same two steps through :func:`fit_select` and :func:`fit_refit`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..config import TrainConfig
from ..errors import CheckpointError
from ..evaluation import evaluate
from ..io import write_json
from ..pipeline import Prepared, adopt, build_model
from .runs import CONFIG, METRICS, SELECTION, clear_unstarted, load_model, record_data
from .trainer import Trainer

def init_from_models(model, models: list, source: str = "") -> None:
    """Initialise ``model`` from trained models via its ``load_pretrained(*models)`` (NeuMF: GMF, MLP)."""
    if not hasattr(model, "load_pretrained"):
        raise CheckpointError(f"{type(model).__name__} cannot be initialised from pretrained runs")
    try:
        model.load_pretrained(*models)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"cannot initialise {type(model).__name__} from {source}: {e}") from None


def build(config: TrainConfig, data: Prepared, resume: bool = False, pretrained: list | None = None):
    """:func:`graphrec.pipeline.build_model`, then initialised from ``pretrained`` models, or else from
    ``config.pretrain``'s runs (not when resuming: the checkpoint holds the weights)."""
    model = build_model(config, data)
    if resume:
        return model
    if pretrained:
        init_from_models(model, pretrained, "the given models")
    elif config.pretrain:
        init_from_models(model, [load_model(d, data) for d in config.pretrain], ", ".join(map(str, config.pretrain)))
    return model


def train_run(config: TrainConfig, run_dir: str | Path | None = None, data=None, resume: bool = False,
              progress: bool = True, pretrained: list | None = None, trainer_cls=None, setup=None,
              **trainer_kwargs) -> Trainer:
    """One training run: build the model (initialised from ``pretrained`` models or ``config.pretrain``'s
    runs), write ``config.json``, resume from the checkpoint if asked, fit. Returns the fitted
    :class:`~graphrec.training.Trainer` (``.model``, ``.result``: test metrics, ``.best_epoch``).

    ``trainer_cls`` (default :class:`~graphrec.training.Trainer`) gets ``trainer_kwargs``;
    ``setup(run_dir, config, data)`` replaces the default creation of the run directory (rank 0 only, in DDP).
    """
    data = adopt(data, config)
    model = build(config, data, resume=resume, pretrained=pretrained)
    trainer = (trainer_cls or Trainer)(model, data.split, config, run_dir, progress=progress, **trainer_kwargs)
    if run_dir is not None:
        if setup is None:
            if not resume:
                clear_unstarted(run_dir)  # what a run killed before its first checkpoint left under this name
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            write_json(Path(run_dir) / CONFIG, config.to_dict())
            record_data(run_dir, data)  # the training data's fingerprint (docs/reliability.md)
        else:
            setup(run_dir, config, data)
        if resume:
            trainer.resume()
    trainer.fit()
    return trainer


def refit_config(config: TrainConfig, epochs: int) -> TrainConfig:
    """The config of the refit: ``epochs`` epochs on train + validation, no early stopping, no refit."""
    return replace(config, epochs=max(int(epochs), 1), patience=0, refit=False, eval_every=max(int(epochs), 1),
                   data=replace(config.data, validation_in_train=True))


def refit_data(data: Prepared) -> Prepared:
    """The refit's data: each user's validation item moved into training."""
    return Prepared(data.ml, data.split.with_validation_in_train())


def select(config: TrainConfig, data=None, run_dir: str | Path | None = None, **kwargs) -> Trainer:
    """Step 1 for one setting: train with validation-only early stopping (``trainer.best_score`` is
    the validation score that ranks settings, ``trainer.best_epoch`` the epoch count a refit uses)."""
    return train_run(config, run_dir, data, **kwargs)


def refit(config: TrainConfig, best_epoch: int, data=None, run_dir: str | Path | None = None, **kwargs) -> Trainer:
    """Step 2: ``config`` retrained from scratch on train + validation for ``best_epoch`` epochs."""
    data = adopt(data, config)
    return train_run(refit_config(config, best_epoch), run_dir, refit_data(data), **kwargs)


def fit_select(model: str, params: dict, split, k: int = 10):
    """Step 1 for a fitted model: ``(scorer, validation score)``, the scorer fitted on the training pairs."""
    from ..models import model_class

    scorer = model_class(model)(**params).fit(split)
    valid = evaluate(scorer, split, k, "valid", sampled=False)[f"{TrainConfig.select}@{k}"] \
        if split.has_validation else 0.0
    return scorer, valid


def fit_refit(model: str, params: dict, split):
    """Step 2 for a fitted model: fitted again on train + validation."""
    from ..models import model_class

    return model_class(model)(**params).fit(split.with_validation_in_train())


@dataclass
class Outcome:
    """What :func:`select_and_refit` trained: the selection run and, if any, the refit."""

    selected: Trainer
    refit: Trainer | None

    @property
    def final(self) -> Trainer:
        return self.refit if self.refit is not None else self.selected

    @property
    def model(self) -> torch.nn.Module:
        return self.final.model

    def metrics(self) -> dict:
        """The final model's test metrics; with a refit, the selected run's under ``"selected"``."""
        out = dict(self.final.result)
        if self.refit is not None:
            out["selected"] = {k: v for k, v in self.selected.result.items()  # timing: in train_seconds
                               if not isinstance(v, list) and k != "train_seconds"}
            out["best_epoch"] = self.selected.best_epoch
            out["refit_epochs"] = self.refit.config.epochs
            out["train_seconds"] = self.selected.result["train_seconds"] + self.refit.result["train_seconds"]
        return out


def select_and_refit(config: TrainConfig, data=None, run_dir: str | Path | None = None, resume: bool = False,
                     progress: bool = True, write: bool = True, **trainer_kwargs) -> Outcome:
    """:func:`select`, then :func:`refit` if ``config.refit`` (and the split has a validation item).

    With a refit, ``run_dir`` holds the refit model and the selection run is in
    ``run_dir/selection``; ``metrics.json`` has both runs' test metrics. ``write=False`` leaves the
    run directory's own files to another process (the ranks other than 0 of a distributed run)."""
    data = adopt(data, config, saved=resume)
    do_refit = config.refit and data.split.has_validation and not config.data.validation_in_train
    sel_dir = Path(run_dir) / SELECTION if (do_refit and run_dir is not None) else run_dir
    if write and do_refit and run_dir is not None and not resume:  # until the refit starts, the run is its selection
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(run_dir) / CONFIG, config.to_dict())
    selected = select(config, data, sel_dir, resume=resume, progress=progress, **trainer_kwargs)
    if not do_refit:
        return Outcome(selected, None)
    outcome = Outcome(selected, refit(config, selected.best_epoch, data, run_dir, progress=progress, **trainer_kwargs))
    if write and run_dir is not None:
        write_json(Path(run_dir) / METRICS, outcome.metrics())
    return outcome
