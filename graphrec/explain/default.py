"""Settings of the embedded default feature model (trained on first use and cached by
:func:`graphrec.cache.default_feature_model`)."""
from __future__ import annotations

from ..data.movielens import MovieLens
from ..training import DataConfig, TrainConfig

#: Short but converged enough to explain (see docs/benchmarks.md, "Explanations").
DEFAULT_HPARAMS = {"factors": 32, "side_dim": 8, "layers": [64, 32, 16]}
DEFAULT_TRAINING = {"epochs": 8, "batch_size": 1024, "lr": 2e-3, "num_ng": 4, "patience": 3, "full_eval_every": 0}


def default_config(ml: MovieLens, **overrides) -> TrainConfig:
    """The default model's configuration on ``ml``; ``overrides`` replace any :class:`TrainConfig` field."""
    data = DataConfig(dataset=ml.name, data_dir=str(ml.root) if ml.root else None)
    return TrainConfig(**{"model": "feature-mlp", "hparams": dict(DEFAULT_HPARAMS), "data": data,
                          **DEFAULT_TRAINING, **overrides})
