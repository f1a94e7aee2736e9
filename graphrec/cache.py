"""graphrec's cache, in one place.

``$GRAPHREC_HOME`` (default: the platform's user cache folder, ``~/.cache/graphrec`` on Linux) holds
the downloaded datasets (``datasets/``), the parsed datasets and splits (``processed/``,
:mod:`graphrec.data.cache`),
the default models trained on first use (``models/``: the NeuMF of ``graphrec recommend``, the
feature model of ``graphrec explain``) and the default movie embeddings of ``graphrec similar``
(``embeddings/``). Each entry is built in a temporary folder and moved into place only when
complete (:func:`graphrec.io.atomic_dir`), so an interrupted first use leaves nothing behind and
later calls reuse the finished entry.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable


def graphrec_home() -> Path:
    """``$GRAPHREC_HOME``, else the platform's user cache folder (``~/.cache/graphrec`` on Linux)."""
    from .errors import DataError

    if os.environ.get("GRAPHREC_HOME"):
        home = Path(os.environ["GRAPHREC_HOME"])
    else:
        import platformdirs

        home = Path(platformdirs.user_cache_dir("graphrec", appauthor=False))
    if home.exists() and not home.is_dir():
        raise DataError(f"GRAPHREC_HOME={home} is a file, not a folder: point it at a folder")
    return home


def cache_dir(kind: str, name: str = "") -> Path:
    """``graphrec_home() / kind / name`` with ``kind`` one of ``datasets``, ``processed``, ``models``, ``embeddings``."""
    if kind not in ("datasets", "processed", "models", "embeddings"):
        raise ValueError(f"unknown cache kind {kind!r}")
    return graphrec_home() / kind / name if name else graphrec_home() / kind


def cached(target: Path, build: Callable[[Path], object], done: str, message: str | None = None) -> Path:
    """``target``, built now by ``build(folder)`` unless a finished one (holding ``done``) is there already."""
    from .io import atomic_dir, clean_stale_temps, file_lock

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


def default_neumf(data_dir: str | None = None, progress: bool = True, data=None, device: str | None = None) -> Path:
    """The run directory of ``graphrec recommend``'s default NeuMF on ML-100K (:data:`graphrec.recommend.DEFAULT_CONFIG`),
    trained on first use (on ``data``, a :class:`graphrec.pipeline.Prepared`, when given; on ``device``)."""
    from .recommend import DEFAULT_CONFIG
    from .training.config import TrainConfig

    base = DEFAULT_CONFIG.to_dict()
    config = TrainConfig.from_dict({**base, **({"device": device} if device else {}),
                                    "data": {**base["data"], "data_dir": data_dir}})
    return _trained(config, default_neumf_dir(), data, progress, "the default NeuMF on ML-100K")


def fingerprint(settings: dict, ignore: tuple[str, ...] = ("device", "data_dir")) -> str:
    """Eight hex digits naming ``settings`` (keys in ``ignore`` left out, at any depth): a default's
    folder carries them, so a release that changes a default trains the new one instead of reusing
    the old folder."""
    import hashlib
    import json

    def strip(v):
        return {k: strip(x) for k, x in v.items() if k not in ignore} if isinstance(v, dict) else v

    text = json.dumps(strip(settings), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def default_neumf_dir() -> Path:
    """Where :func:`default_neumf` keeps its run (trained or not yet)."""
    from .recommend import DEFAULT_CONFIG

    return cache_dir("models", f"neumf-ml-100k-{fingerprint(DEFAULT_CONFIG.to_dict())}")


def default_feature_dir(dataset: str) -> Path:
    """Where :func:`default_feature_model` keeps the run for ``dataset`` (trained or not yet)."""
    from .explain.default import DEFAULT_HPARAMS, DEFAULT_TRAINING

    tag = fingerprint({"hparams": DEFAULT_HPARAMS, "training": DEFAULT_TRAINING})
    return cache_dir("models", f"feature-mlp-{dataset}-{tag}")


def default_feature_model(ml, data=None, progress: bool = True, device: str | None = None) -> Path:
    """``models/feature-mlp-<dataset>``: the default feature model of ``graphrec explain``
    (:func:`graphrec.explain.default.default_config`), trained on first use."""
    from .explain.default import default_config
    from .pipeline import Prepared

    config = default_config(ml, **({"device": device} if device else {}))
    if not isinstance(data, (Prepared, tuple)):
        data = (ml, data)  # a split, or None: split here
    return _trained(config, default_feature_dir(ml.name), data, progress,
                    f"the default feature model on {ml.name}")


def default_embeddings(dataset: str | None = None, data_dir: str | None = None, progress: bool = True) -> Path:
    """``embeddings/<dataset>-default``: the embedding ``graphrec similar`` uses
    (:data:`graphrec.embeddings.node2vec.DEFAULT_SIMILAR`, on every rating), trained on first use."""
    from dataclasses import asdict

    from .data.movielens import locate
    from .embeddings.node2vec import DEFAULT_SIMILAR, META, EmbeddingConfig, export_embeddings
    from .pipeline import load_dataset, prepare
    from .training.config import DataConfig

    config = DataConfig(dataset, data_dir)
    name = locate(dataset, data_dir)[0]  # the dataset is loaded only to train

    def build(tmp: Path) -> None:
        ml = load_dataset(config)
        export_embeddings(ml, prepare(config, ml).split, EmbeddingConfig(**asdict(DEFAULT_SIMILAR)), tmp, progress)

    return cached(cache_dir("embeddings", f"{name}-default-{fingerprint(asdict(DEFAULT_SIMILAR))}"), build, META,
                  f"training the default {name} embedding once")


def _trained(config, target: Path, data, progress: bool, what: str) -> Path:
    """``config`` trained into ``target`` once: selection, then the refit when ``config.refit``."""
    from .pipeline import adopt
    from .training.refit import select_then_refit
    from .training.runs import METRICS

    return cached(target, lambda tmp: select_then_refit(config, adopt(data, config), tmp, progress=progress),
                  METRICS, f"training {what}" if progress is not False else None)
