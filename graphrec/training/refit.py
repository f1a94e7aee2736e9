"""Selection, then refit: the protocol every library comparison uses.

1. Train on the training pairs, evaluating the *validation* item (each user's
   second-latest interaction) every ``eval_every`` epochs; keep the epoch with the best
   ``config.select`` score (full-ranking NDCG@10 by default).
2. Retrain from scratch, same seed, on train + validation for exactly that many epochs,
   and evaluate the test item once.

The test item steers nothing: neither the epoch nor any setting is chosen on it. The
selected run's test metrics are kept next to the refit's, so the refit's effect shows.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..data.split import Split
from ..io import write_json
from .config import TrainConfig

#: Sub-folder of a run directory holding the selection run (the refit is the run itself).
SELECTION = "selection"


def with_validation_in_train(split: Split) -> Split:
    """``split`` with each user's validation item added to the training pairs (no validation left).

    Held-out items keep no rating or time, so the added pairs get rating 0 and one second after
    the user's latest training time (they came last; only their order matters to the models)."""
    if not split.has_validation:
        return split
    last = torch.zeros(split.num_users, dtype=split.train_time.dtype)
    last.scatter_reduce_(0, split.train_user.long(), split.train_time, "amax")
    empty = split.valid_user[:0]
    merged = replace(split, train_user=torch.cat([split.train_user, split.valid_user]),
                   train_item=torch.cat([split.train_item, split.valid_item]),
                   train_rating=torch.cat([split.train_rating, torch.zeros(len(split.valid_user))]),
                   train_time=torch.cat([split.train_time, last[split.valid_user.long()] + 1]),
                   valid_user=empty, valid_item=split.valid_item[:0], valid_negatives=split.valid_negatives[:0])
    return merged.with_dataset(split._dataset)  # the training graph keeps the dataset's node features


def refit_config(config: TrainConfig, epochs: int) -> TrainConfig:
    """The config of the refit: ``epochs`` epochs on train + validation, no early stopping, no refit."""
    return replace(config, epochs=max(int(epochs), 1), patience=0, refit=False, eval_every=max(int(epochs), 1),
                   data=replace(config.data, validation_in_train=True))


@dataclass
class Outcome:
    """What :func:`select_then_refit` trained: the selection run and, if any, the refit."""

    selected: object  # Trainer
    refit: object | None  # Trainer

    @property
    def final(self):
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


def select_then_refit(config: TrainConfig, data=None, run_dir: str | Path | None = None, resume: bool = False,
                      progress: bool = True, write: bool = True, **trainer_kwargs) -> Outcome:
    """Train ``config`` with validation-only selection, then refit if ``config.refit``, both through
    :func:`graphrec.pipeline.train`. ``data``: prepared data (else built from ``config.data``).

    With a refit, ``run_dir`` holds the refit model and the selection run is in
    ``run_dir/selection``; ``metrics.json`` has both runs' test metrics. ``write=False`` leaves the
    run directory's own files to another process (the ranks other than 0 of a distributed run)."""
    from ..pipeline import Prepared, adopt, train

    data = adopt(data, config, saved=resume)
    split = data.split
    refit = config.refit and split.has_validation and not config.data.validation_in_train
    sel_dir = Path(run_dir) / SELECTION if (refit and run_dir is not None) else run_dir
    if write and refit and run_dir is not None and not resume:  # until the refit starts, the run is its selection
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(run_dir) / "config.json", config.to_dict())
    *_, selected = train(config, sel_dir, data, resume=resume, progress=progress, **trainer_kwargs)
    if not refit:
        return Outcome(selected, None)
    merged = Prepared(data.ml, with_validation_in_train(split))
    *_, final = train(refit_config(config, selected.best_epoch), run_dir, merged, progress=progress, **trainer_kwargs)
    outcome = Outcome(selected, final)
    if write and run_dir is not None:
        write_json(Path(run_dir) / "metrics.json", outcome.metrics())
    return outcome
