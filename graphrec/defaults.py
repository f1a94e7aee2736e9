"""The embedded defaults: models and embeddings trained on first use and cached under ``$GRAPHREC_HOME``.

- ``models/sasrec-ml-100k-<hash>``: the recommender that ``graphrec recommend`` (and
  ``graphrec.load_run()``) uses without ``--run``: the shipped config with the best validation score
  (:data:`RECOMMENDER`, :func:`recommender_config`), refit included;
- ``models/hetero-sage-ml-100k-<hash>``: the hetero-sage that scores new users and new movies without
  ``--run`` (``recommend --new-user``, ``--include-new-movies``, ``load_run().recommend_new_user``): the
  shipped cold config, features only (:func:`hetero_sage_config`);
- ``models/feature-mlp-<dataset>-<hash>``: the feature model that ``graphrec explain`` uses without
  ``--run`` (:func:`feature_config`);
- ``embeddings/<dataset>-default-<hash>``: the movie embedding of ``graphrec similar``
  (:data:`graphrec.embeddings.node2vec.DEFAULT_SIMILAR`).

Each folder's name carries a hash of its settings (:func:`fingerprint`), so a release that changes a
default trains the new one instead of reusing the old folder. Each entry is built in a temporary
folder and moved into place only when complete (:func:`graphrec.io.atomic_dir`), so an interrupted
first use leaves nothing behind and later calls reuse the finished entry.

A warm default costs a folder check. This module imports what a warm call needs anyway (configs, the
pipeline's data types, run-directory names); the trainer is imported only when a default is trained,
inside :func:`_trained`, so that a warm ``graphrec recommend`` stays as fast as ``import torch``.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .catalogue import config_from_tuned, load_tuned
from .config import DataConfig, TrainConfig
from .data.movielens import locate
from .embeddings.node2vec import DEFAULT_SIMILAR, META, EmbeddingConfig, export_embeddings
from .io import atomic_dir, clean_stale_temps, file_lock
from .paths import cache_dir
from .pipeline import Prepared, adopt, load_dataset, prepare
from .training.runs import METRICS


#: The default feature model of ``graphrec explain``: short but converged enough to explain
#: (docs/explanations.md).
FEATURE_HPARAMS = {"factors": 32, "side_dim": 8, "layers": [64, 32, 16]}
FEATURE_TRAINING = {"epochs": 8, "batch_size": 1024, "lr": 2e-3, "num_ng": 4, "patience": 3, "full_eval_every": 0}


def cached(target: Path, build: Callable[[Path], object], done: str, message: str | None = None) -> Path:
    """``target``, built now by ``build(folder)`` unless a finished one (holding ``done``) is there already."""
    if (target / done).is_file():
        clean_stale_temps(target.parent, target.name)  # what an interrupted first use left behind
        return target
    with file_lock(target, waiting=f"waiting for another process building {target}"):  # one builds, others wait
        if (target / done).is_file():  # built by the process this one waited for
            return target
        if message:
            print(f"graphrec: {message} (first use; cached in {target})", file=sys.stderr, flush=True)
        with atomic_dir(target, replace=True) as tmp:  # an older unfinished folder is replaced whole
            build(tmp)
    return target


def fingerprint(settings: dict, ignore: tuple[str, ...] = ("device", "data_dir")) -> str:
    """Eight hex digits naming ``settings`` (keys in ``ignore`` left out, at any depth)."""
    def strip(v):
        return {k: strip(x) for k, x in v.items() if k not in ignore} if isinstance(v, dict) else v

    text = json.dumps(strip(settings), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


# -- the recommender of graphrec recommend ------------------------------------------------------
#: The model ``graphrec recommend`` serves without ``--run``: of the shipped configs of trained models,
#: the one with the best validation score (full-ranking NDCG@10 of the validation item, the score that
#: chose every config): ``sasrec`` 0.1092, then NeuMF 0.0682, LightGCN 0.0680, hetero-sage-ids 0.0673
#: (EASE with recency, 0.1068, is fitted on a split rather than trained into a run). ``sasrec-long`` (history
#: length 200, 0.1152) is marked ``"default": false``: it would train about 20 CPU-minutes on first use instead
#: of 3. docs/sequential.md.
RECOMMENDER = "sasrec"


def recommender_config() -> TrainConfig:
    """The shipped tuned config of :data:`RECOMMENDER` for ML-100K (``graphrec/configs/ml-100k/``), refit
    on train + validation: the recipe ``graphrec train`` also uses, written once."""
    base = TrainConfig(model=RECOMMENDER, full_eval_every=0, data=DataConfig(dataset="ml-100k"))
    return config_from_tuned(load_tuned(RECOMMENDER, "ml-100k"), base)


def default_recommender_dir() -> Path:
    """Where :func:`default_recommender` keeps its run (trained or not yet)."""
    config = recommender_config()
    return cache_dir("models", f"{config.model}-ml-100k-{fingerprint(config.to_dict())}")


def default_recommender(data_dir: str | None = None, progress: bool = True, data=None,
                        device: str | None = None) -> Path:
    """The run directory of the default recommender on ML-100K (:func:`recommender_config`), trained on
    first use (on ``data``, a :class:`graphrec.pipeline.Prepared`, when given; on ``device``)."""
    return _trained(_on(recommender_config(), data_dir, device), default_recommender_dir(), data, progress,
                    f"the default recommender ({recommender_config().model}) on ML-100K")


# -- the hetero-sage for new users and new movies ------------------------------------------------
def hetero_sage_config() -> TrainConfig:
    """The shipped cold hetero-sage for ML-100K (``graphrec/configs/ml-100k/hetero-sage.json``: features
    only, chosen on the validation cold splits), refit on train + validation: what ``graphrec train
    hetero-sage`` runs."""
    base = TrainConfig(model="hetero-sage", full_eval_every=0, data=DataConfig(dataset="ml-100k"))
    return config_from_tuned(load_tuned("hetero-sage", "ml-100k"), base)


def default_hetero_sage_dir() -> Path:
    """Where :func:`default_hetero_sage` keeps its run (trained or not yet)."""
    return cache_dir("models", f"hetero-sage-ml-100k-{fingerprint(hetero_sage_config().to_dict())}")


def default_hetero_sage(data_dir: str | None = None, progress: bool = True, data=None,
                        device: str | None = None) -> Path:
    """The run directory of the default hetero-sage on ML-100K (:func:`hetero_sage_config`), trained on
    first use (on ``data``, a :class:`graphrec.pipeline.Prepared`, when given; on ``device``)."""
    return _trained(_on(hetero_sage_config(), data_dir, device), default_hetero_sage_dir(), data, progress,
                    "the default hetero-sage for new users and movies on ML-100K")


# -- the feature model of graphrec explain -------------------------------------------------------
def feature_config(ml, **overrides) -> TrainConfig:
    """The default feature model's configuration on ``ml``; ``overrides`` replace any :class:`TrainConfig` field."""
    data = DataConfig(dataset=ml.name, data_dir=str(ml.root) if ml.root else None)
    return TrainConfig(**{"model": "feature-mlp", "hparams": dict(FEATURE_HPARAMS), "data": data,
                          **FEATURE_TRAINING, **overrides})


def default_feature_dir(dataset: str) -> Path:
    """Where :func:`default_feature_model` keeps the run for ``dataset`` (trained or not yet)."""
    tag = fingerprint({"hparams": FEATURE_HPARAMS, "training": FEATURE_TRAINING})
    return cache_dir("models", f"feature-mlp-{dataset}-{tag}")


def default_feature_model(ml, data=None, progress: bool = True, device: str | None = None) -> Path:
    """``models/feature-mlp-<dataset>``: the default feature model of ``graphrec explain`` on ``ml`` (a
    :class:`~graphrec.data.MovieLens`), trained on first use; ``data`` a prepared split or ``None``."""
    config = feature_config(ml, **({"device": device} if device else {}))
    if not isinstance(data, (Prepared, tuple)):
        data = (ml, data)  # a split, or None: split here
    return _trained(config, default_feature_dir(ml.name), data, progress, f"the default feature model on {ml.name}")


# -- the embedding of graphrec similar ------------------------------------------------------------
def default_embeddings(dataset: str | None = None, data_dir: str | None = None, progress: bool = True) -> Path:
    """``embeddings/<dataset>-default``: the embedding ``graphrec similar`` uses
    (:data:`graphrec.embeddings.node2vec.DEFAULT_SIMILAR`, on every rating), trained on first use."""
    config = DataConfig(dataset, data_dir)
    name = locate(dataset, data_dir)[0]  # the dataset is loaded only to train

    def build(tmp: Path) -> None:
        ml = load_dataset(config)
        export_embeddings(ml, prepare(config, ml).split, EmbeddingConfig(**asdict(DEFAULT_SIMILAR)), tmp, progress)

    return cached(cache_dir("embeddings", f"{name}-default-{fingerprint(asdict(DEFAULT_SIMILAR))}"), build,
                  META, f"training the default {name} embedding once")


def _on(config: TrainConfig, data_dir: str | None, device: str | None) -> TrainConfig:
    """``config`` reading its data from ``data_dir`` and training on ``device`` (neither is in its fingerprint)."""
    base = config.to_dict()
    return TrainConfig.from_dict({**base, **({"device": device} if device else {}),
                                  "data": {**base["data"], "data_dir": data_dir}})


def _trained(config: TrainConfig, target: Path, data, progress: bool, what: str) -> Path:
    """``config`` trained into ``target`` once: selection, then the refit when ``config.refit``."""
    def build(tmp: Path) -> None:
        from .training.protocol import select_and_refit  # the trainer: only when a default is trained

        select_and_refit(config, adopt(data, config), tmp, progress=progress)

    return cached(target, build, METRICS, f"training {what}" if progress is not False else None)
