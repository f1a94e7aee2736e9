"""Run directories: ``config.json``, weights, checkpoints, metrics and plots.

Weights are plain state dicts loaded with ``torch.load(weights_only=True)``:
a file that would unpickle arbitrary objects is refused.
"""
from __future__ import annotations

import json
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import CheckpointError, DataError
from ..io import atomic_path
from ..models import MODELS
from .config import TrainConfig

CONFIG, WEIGHTS, CHECKPOINT, METRICS, HISTORY = "config.json", "model.pt", "checkpoint.pt", "metrics.json", "history.csv"


def save_tensors(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_tensors(path: str | Path):
    """``torch.load(weights_only=True)`` with a clear error for anything else."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():  # a legacy pickle makes torch warn before it refuses
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: refused to load (not a plain tensor checkpoint: {first[:200]})") from None


def build_data(config: TrainConfig):
    """(MovieLens or None, Split) exactly as the run was trained on."""
    ml, split = _build_data(config)
    if config.data.validation_in_train:
        from .refit import with_validation_in_train

        split = with_validation_in_train(split)
    return ml, split


def _build_data(config: TrainConfig):
    from ..data import load_movielens, load_ncf, split_movielens

    d = config.data
    data_dir = d.data_dir if d.data_dir and Path(d.data_dir).is_dir() else None
    if d.split_dir:
        split = load_ncf(d.split_dir, seed=d.split_seed)
        try:
            ml = load_movielens(d.dataset, data_dir) if (d.dataset or data_dir) else None
        except DataError:
            ml = None
        return ml, split
    ml = load_movielens(d.dataset, data_dir)
    return ml, split_movielens(ml, seed=d.split_seed)


def build_model(config: TrainConfig, ml, split):
    if config.model not in MODELS:
        raise CheckpointError(f"unknown model {config.model!r}; known: {', '.join(sorted(MODELS))}")
    torch.manual_seed(config.seed)
    try:
        return MODELS[config.model].build(ml, split, **config.hparams)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"model {config.model!r} cannot be built with {config.hparams}: {e}") from None


@dataclass
class Run:
    path: Path
    config: TrainConfig
    model: torch.nn.Module
    ml: object
    split_: object

    def split(self):
        return self.split_

    @property
    def metrics(self) -> dict:
        p = self.path / METRICS
        return json.loads(p.read_text()) if p.is_file() else {}


def read_config(run_dir: str | Path) -> TrainConfig:
    p = Path(run_dir) / CONFIG
    if not Path(run_dir).is_dir():
        raise CheckpointError(f"{run_dir}: no such run directory")
    if not p.is_file():
        raise CheckpointError(f"{run_dir}: not a run directory (no {CONFIG})")
    try:
        return TrainConfig.from_dict(json.loads(p.read_text()))
    except (json.JSONDecodeError, ValueError, TypeError) as e:
        raise CheckpointError(f"{p}: invalid run config ({e})") from None


def load_run(run_dir: str | Path, ml=None, split=None) -> Run:
    """Rebuild a run's data and model and load its best weights."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    if split is None:
        ml, split = build_data(config)
    model = build_model(config, ml, split)
    state = load_tensors(run_dir / WEIGHTS)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as e:
        raise CheckpointError(f"{run_dir / WEIGHTS}: weights do not fit the model in {CONFIG} ({str(e)[:200]})") from None
    model.eval()
    return Run(run_dir, config, model, ml, split)
