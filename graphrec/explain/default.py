"""The embedded default feature model: trained on first use, cached under ``GRAPHREC_HOME``."""
from __future__ import annotations

from pathlib import Path

from ..data.movielens import MovieLens, graphrec_home
from ..training import DataConfig, TrainConfig

#: Short but converged enough to explain (see docs/benchmarks.md, "Explanations").
DEFAULT_HPARAMS = {"factors": 32, "side_dim": 8, "layers": [64, 32, 16]}
DEFAULT_TRAINING = {"epochs": 8, "batch_size": 1024, "lr": 2e-3, "num_ng": 4, "patience": 3, "full_eval_every": 0}


def default_config(ml: MovieLens, **overrides) -> TrainConfig:
    """The default model's configuration on ``ml``; ``overrides`` replace any :class:`TrainConfig` field."""
    data = DataConfig(dataset=ml.name, data_dir=str(ml.root) if ml.root else None)
    return TrainConfig(**{"model": "feature-mlp", "hparams": dict(DEFAULT_HPARAMS), "data": data,
                          **DEFAULT_TRAINING, **overrides})


def default_feature_run(ml: MovieLens, data=None, progress: bool = True, device: str | None = None) -> Path:
    """``GRAPHREC_HOME/models/feature-mlp-<dataset>``, trained there on first use (on ``data``, a prepared
    :class:`graphrec.pipeline.Prepared` or an ``(ml, split)`` pair, when given)."""
    from ..pipeline import Prepared
    from ..recommend import train_once

    config = default_config(ml, **({"device": device} if device else {}))
    if not isinstance(data, (Prepared, tuple)):
        data = (ml, data)  # a split, or None: split here
    return train_once(config, graphrec_home() / "models" / f"feature-mlp-{ml.name}", data, progress,
                      message=f"the default feature model on {ml.name}")
