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

from ..data.cache import data_provenance
from ..errors import CheckpointError
from ..io import atomic_path
from .config import TrainConfig

CONFIG, WEIGHTS, CHECKPOINT, METRICS, HISTORY = "config.json", "model.pt", "checkpoint.pt", "metrics.json", "history.csv"
#: The data a run was trained on: release, folder (resolved, also when it came from $GRAPHREC_DATA), fingerprint.
DATA = "data.json"


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
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, OSError, KeyError,
            TypeError, IndexError, UnicodeDecodeError) as e:
        # torch's own text may advise weights_only=False, which would run the file's code: never pass it on
        kind = "holds objects other than tensors" if isinstance(e, pickle.UnpicklingError) else "is truncated or corrupt"
        raise CheckpointError(f"{path}: cannot be loaded: the file {kind} ({type(e).__name__}); "
                              "train or export it again") from None


#: What a run directory holds before its first checkpoint; such a run can be restarted under its name.
_STARTING = (CONFIG, WEIGHTS, DATA, "events.out.tfevents.", ".")


def finished_epochs(run_dir: str | Path) -> bool:
    """Whether the run has a checkpoint (written after every epoch) or its final metrics."""
    return any((Path(run_dir) / f).exists() for f in (CHECKPOINT, METRICS))


def restartable(run_dir: str | Path) -> bool:
    """A run killed before its first checkpoint: only its config, first weights, TensorBoard events, temp files."""
    from .refit import SELECTION

    d = Path(run_dir)
    return d.is_dir() and not finished_epochs(d) and all(
        e.name.startswith(_STARTING) or (e.name == SELECTION and restartable(e))  # a refit's selection run
        for e in d.iterdir())


def clear_unstarted(run_dir: str | Path) -> None:
    """Remove what a run killed before its first epoch left behind (see :func:`restartable`)."""
    import shutil

    d = Path(run_dir)
    if restartable(d):
        for e in d.iterdir():
            shutil.rmtree(e) if e.is_dir() and not e.is_symlink() else e.unlink()


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
    def finished(self) -> bool:
        """Whether training ended (``metrics.json`` is written last); else the weights are the best so far."""
        return (self.path / METRICS).is_file()

    @property
    def metrics(self) -> dict:
        p = self.path / METRICS
        return json.loads(p.read_text()) if p.is_file() else {}

    def recommend_new_user(self, gender: str, age: int, occupation: str, liked: list[str] = (),
                           k: int = 10) -> list[dict]:
        """Top ``k`` movies for a user the model never saw (``hetero-sage`` runs); see :mod:`graphrec.inductive`."""
        from ..inductive import recommend_new_user

        return recommend_new_user(self.model, self.ml, gender, age, occupation, liked, k)

    def recommend_new_movies(self, user_id: int, path: str | Path, k: int = 10) -> list[dict]:
        """The new titles of a ``title,year,genres`` CSV ranked for the dataset's user ``user_id``."""
        from ..inductive import recommend_new_movies

        return recommend_new_movies(self.model, self.ml, user_id, path, k)


def record_data(run_dir: str | Path, ml) -> None:
    """Write ``data.json`` (:func:`data_provenance`) into ``run_dir``."""
    from ..io import write_json

    info = data_provenance(ml)
    if info is not None:
        write_json(Path(run_dir) / DATA, info)


def check_data(run_dir: str | Path, info: dict | None, force: bool = False) -> None:
    """:class:`CheckpointError` when ``info`` (:func:`data_provenance` of the data a command reads) is not
    the data the run in ``run_dir`` was trained on (its ``data.json``); ``force`` lets it through (with a
    note). A run without ``data.json`` (an older graphrec) or data without a fingerprint is not checked."""
    p = Path(run_dir) / DATA
    if info is None or not p.is_file():
        return
    try:
        was = json.loads(p.read_text())
        fp = was["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(f"{p}: invalid (a run's record of its training data); train the run again") from None
    if fp == info["fingerprint"]:
        return
    text = (f"{run_dir}: trained on other data ({was.get('dataset')} in {was.get('data_dir')}, fingerprint {fp}) "
            f"than this reads ({info['dataset']} in {info['data_dir']}, fingerprint {info['fingerprint']})")
    if not force:
        raise CheckpointError(f"{text}: pass the data it was trained on (--data-dir), or --force to use these")
    import logging

    logging.getLogger("graphrec").warning("%s: --force: going on", text)


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


def load_run(run_dir: str | Path, ml=None, split=None, force: bool = False) -> Run:
    """Rebuild a run's data (unless ``split`` is given; ``ml`` may also be a prepared
    :class:`graphrec.pipeline.Prepared`) and model, and load its best weights. Data other than the run was
    trained on is refused unless ``force`` (:func:`check_data`)."""
    from ..pipeline import Prepared, adopt, build_model

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    check_finished(run_dir, config)  # before any data is built
    data = ml if isinstance(ml, Prepared) else adopt((ml, split) if split is not None else None, config, saved=True)
    check_data(run_dir, data_provenance(data.ml), force)
    model = load_weights(build_model(config, data), run_dir)
    return Run(run_dir, config, model, data.ml, data.split)


def check_finished(run_dir: Path, config: TrainConfig) -> None:
    """:class:`CheckpointError` naming the way out for a run that stopped before its first epoch ended."""
    from .refit import SELECTION

    if not (run_dir / WEIGHTS).is_file() and (run_dir / SELECTION / METRICS).is_file():
        raise CheckpointError(f"{run_dir}: the run is unfinished: it stopped during its final retraining on train + "
                              f"validation (no {WEIGHTS}); its selection run finished: use {run_dir / SELECTION} "
                              "(graphrec evaluate, recommend --run), or train again under another --name")
    if not (run_dir / WEIGHTS).is_file():
        hint = (f"resume it (graphrec train {config.model} --out {run_dir.parent} --name {run_dir.name} --resume) "
                "or train it again under the same name"
                if (run_dir / CHECKPOINT).is_file() or not finished_epochs(run_dir) else "train it again")
        raise CheckpointError(f"{run_dir}: the run is unfinished (no {WEIGHTS}: it stopped before its first epoch "
                              f"ended); {hint}")


def load_weights(model: torch.nn.Module, run_dir: str | Path) -> torch.nn.Module:
    """Load a run's best weights into ``model`` (built from its config) and put it in eval mode."""
    path = Path(run_dir) / WEIGHTS
    try:
        model.load_state_dict(load_tensors(path))
    except (RuntimeError, TypeError) as e:
        raise CheckpointError(f"{path}: weights do not fit the model in {CONFIG} ({_one_line(str(e))[:300]})") from None
    return model.eval()


def _one_line(text: str) -> str:
    return " ".join(text.split())
