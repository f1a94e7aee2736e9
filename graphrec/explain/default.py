"""The embedded default feature model: trained on first use, cached under ``GRAPHREC_HOME``."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..data.movielens import MovieLens, graphrec_home
from ..training import DataConfig, TrainConfig, train
from ..training.runs import METRICS

#: Short but converged enough to explain (see docs/benchmarks.md, "Explanations").
DEFAULT_HPARAMS = {"factors": 32, "side_dim": 8, "layers": [64, 32, 16]}
DEFAULT_TRAINING = {"epochs": 8, "batch_size": 1024, "lr": 2e-3, "num_ng": 4, "patience": 3, "full_eval_every": 0}


def default_config(ml: MovieLens, **overrides) -> TrainConfig:
    data = DataConfig(dataset=ml.name, data_dir=str(ml.root) if ml.root else None)
    return TrainConfig(model="feature-mlp", hparams=dict(DEFAULT_HPARAMS), data=data,
                       **{**DEFAULT_TRAINING, **overrides})


def default_feature_run(ml: MovieLens, split=None, progress: bool = True, **overrides) -> Path:
    """``GRAPHREC_HOME/runs/feature-mlp-<dataset>``, trained now if it is not there yet.

    Training happens in a temporary folder renamed into place when complete, so an
    interrupted first use leaves nothing half-written behind.
    """
    path = graphrec_home() / "runs" / f"feature-mlp-{ml.name}"
    if (path / METRICS).is_file():
        return path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if progress:
        print(f"graphrec: training the default feature model into {path} (first use only)", flush=True)
    try:
        from ..data import split_movielens

        train(default_config(ml, **overrides), tmp, ml, split if split is not None else split_movielens(ml),
              progress=progress)
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
