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

from ..errors import CheckpointError
from ..io import atomic_path
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
    """Rebuild a run's data (unless ``split`` is given; ``ml`` may also be a prepared
    :class:`graphrec.pipeline.Prepared`) and model, and load its best weights."""
    from ..pipeline import Prepared, adopt, build_model

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    data = ml if isinstance(ml, Prepared) else adopt((ml, split) if split is not None else None, config, saved=True)
    model = build_model(config, data)
    state = load_tensors(run_dir / WEIGHTS)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as e:
        raise CheckpointError(f"{run_dir / WEIGHTS}: weights do not fit the model in {CONFIG} ({str(e)[:200]})") from None
    model.eval()
    return Run(run_dir, config, model, data.ml, data.split)
