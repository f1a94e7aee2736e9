"""Run directories: ``config.json``, weights, checkpoints, metrics and plots.

Weights are plain state dicts loaded with ``torch.load(weights_only=True)``:
a file that would unpickle arbitrary objects is refused.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from ..config import TrainConfig
from ..data.movielens import data_provenance
from ..errors import CheckpointError
from ..io import load_tensors, write_json
from ..pipeline import build_model

CONFIG, WEIGHTS, CHECKPOINT, METRICS, HISTORY = "config.json", "model.pt", "checkpoint.pt", "metrics.json", "history.csv"
#: Sub-folder of a run directory holding the selection run (the refit is the run itself).
SELECTION = "selection"
#: The data a run was trained on: release, folder (resolved, also when it came from $GRAPHREC_DATA), fingerprint.
DATA = "data.json"


#: What a run directory holds before its first checkpoint; such a run can be restarted under its name.
_STARTING = (CONFIG, WEIGHTS, DATA, "events.out.tfevents.", ".")


def finished_epochs(run_dir: str | Path) -> bool:
    """Whether the run has a checkpoint (written after every epoch) or its final metrics."""
    return any((Path(run_dir) / f).exists() for f in (CHECKPOINT, METRICS))


def restartable(run_dir: str | Path) -> bool:
    """A run killed before its first checkpoint: only its config, first weights, TensorBoard events, temp files."""
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


def provenance(ml, split_files: dict | None) -> dict:
    """What ``data.json`` holds: :func:`data_provenance` of the dataset ``ml`` (``None`` fields without one)
    and, under ``"split"``, the NCF split files (:attr:`graphrec.data.split.Split.files`; ``None``: the
    dataset's own leave-one-out split)."""
    info = data_provenance(ml) or {"dataset": None, "data_dir": None, "fingerprint": None}
    return {**info, "split": split_files}


def data_record(data) -> dict:
    """:func:`provenance` of ``data`` (a :class:`graphrec.pipeline.Prepared`): its dataset, and the NCF split
    files its split was read from (:attr:`graphrec.data.split.Split.files`)."""
    return provenance(data.ml, getattr(data.split, "files", None))


def record_data(run_dir: str | Path, data) -> None:
    """Write ``data.json`` (:func:`data_record` of the run's training data) into ``run_dir``."""
    write_json(Path(run_dir) / DATA, data_record(data))


def check_data(run_dir: str | Path, info: dict | None, force: bool = False) -> None:
    """:class:`CheckpointError` when ``info`` (:func:`provenance` of the data a command reads) is not the data
    the run in ``run_dir`` was trained on (its ``data.json``): another dataset fingerprint, or other split
    files; ``force`` lets it through (with a note). A run without ``data.json`` (an older graphrec), data
    without a fingerprint, and split files on either side without a record of them are not checked."""
    p = Path(run_dir) / DATA
    if info is None or not p.is_file():
        return
    try:
        was = json.loads(p.read_text())
        fp = was["fingerprint"]
        was_split = was.get("split") and was["split"]["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(f"{p}: invalid (a run's record of its training data); train the run again") from None
    other, flags = [], []
    if fp and info.get("fingerprint") and fp != info["fingerprint"]:
        other.append(f"other data ({was.get('dataset')} in {was.get('data_dir')}, fingerprint {fp}) than this reads "
                     f"({info['dataset']} in {info['data_dir']}, fingerprint {info['fingerprint']})")
        flags.append("--data-dir")
    if "split" in was and "split" in info and was_split != (info["split"] and info["split"]["fingerprint"]):
        other.append(f"other split files ({_split_text(was['split'])}) than this reads ({_split_text(info['split'])})")
        flags.append("--split-dir")
    if not other:
        return
    text = f"{run_dir}: trained on {'; and on '.join(other)}"
    if not force:
        raise CheckpointError(f"{text}: pass the data it was trained on ({', '.join(flags)}), or --force to use these")
    logging.getLogger("graphrec").warning("%s: --force: going on", text)


def _split_text(split: dict | None) -> str:
    return "the dataset's own leave-one-out split" if not split else \
        f"{split['split_dir']}, fingerprint {split['fingerprint']}"


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


def load_model(run_dir: str | Path, data, force: bool = False) -> torch.nn.Module:
    """The model of a finished run, rebuilt from its config on ``data`` (a
    :class:`graphrec.pipeline.Prepared`) with its best weights, in eval mode. Data other than the run was
    trained on is refused unless ``force`` (:func:`check_data`). ``graphrec.load_run`` wraps it with data and
    titles (:class:`graphrec.api.TrainedRun`)."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    check_finished(run_dir, config)
    check_data(run_dir, data_record(data), force)
    return load_weights(build_model(config, data), run_dir)


def check_finished(run_dir: Path, config: TrainConfig) -> None:
    """:class:`CheckpointError` naming the way out for a run that stopped before its first epoch ended."""
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
