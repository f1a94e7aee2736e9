"""A request to train (what ``graphrec train`` was asked), resolved into a run.

A :class:`TrainRequest` holds what the user gave and nothing more: the model, the settings and
hyper-parameters given explicitly, the tuned config to start from and where the run goes.
:func:`train` resolves it in three steps, each written once:

1. **The run directory** (:func:`claim_run_dir`): ``out/name``, else ``out/model`` numbered when
   taken, claimed (:func:`graphrec.io.claim_dir`) for as long as the run trains, so that a second
   ``train --name`` of the same run at once is refused and two unnamed runs get different names.
2. **The config** (:func:`resolve_config`): :class:`~graphrec.config.TrainConfig`'s defaults, then the
   tuned config (the file or shipped name in ``request.config``, else the one shipped for the dataset
   unless ``tuned=False``), then the explicit settings and hyper-parameters. With ``resume``, the run's
   own config (:func:`resumed_config`), in which only the epoch budget and the device may change.
3. **The protocol**: :func:`~graphrec.training.protocol.select_and_refit`, across torchrun's
   processes when ``distributed`` (:mod:`graphrec.training.distributed`).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch.distributed as dist

from ..catalogue import config_from_tuned, load_tuned, shipped_path
from ..config import DataConfig, TrainConfig
from ..errors import GraphrecError
from ..io import NameTaken, claim_dir
from ..models import check_hparams
from ..pipeline import prepare
from .distributed import init_process_group, on_rank0, train_distributed
from .protocol import select_and_refit
from .runs import read_config, restartable

#: Settings a resumed run may change: the epoch budget, and where it runs.
RESUMABLE = ("epochs", "device")


@dataclass(frozen=True)
class TrainRequest:
    """What to train and where; every field but ``model`` may be left out.

    ``settings`` are :class:`~graphrec.config.TrainConfig` fields given explicitly (``{"lr": 0.01}``), and
    ``hparams`` the model's hyper-parameters given explicitly; both win over the tuned config. ``config``
    names a tuned config file (``graphrec tune``'s) or a shipped one (``neumf``); ``tuned=False`` starts
    from TrainConfig's defaults instead of the shipped config. ``pretrain`` lists run directories whose
    models initialise this one (NeuMF: GMF, MLP). ``cache=False`` parses the data files again.
    """

    model: str
    settings: dict = field(default_factory=dict)
    hparams: dict = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    config: str | None = None
    tuned: bool = True
    pretrain: tuple[str, ...] = ()
    out: str | Path = "runs"
    name: str | None = None
    resume: bool = False
    distributed: bool = False
    cache: bool = True
    progress: bool | None = True  # None: bars on a terminal


@dataclass
class Trained:
    """A trained request: its config, run directory and test metrics (:meth:`Outcome.metrics`)."""

    config: TrainConfig
    run_dir: Path
    metrics: dict


def train(request: TrainRequest) -> Trained | None:
    """Train ``request`` into its run directory: claimed, configured, then selected and refitted.
    Under ``distributed``, every rank trains and only rank 0 returns the result (the others ``None``)."""
    with contextlib.ExitStack() as claims:  # the run directory is this process's until training returns
        if request.distributed:
            init_process_group(device=request.settings.get("device", TrainConfig.device))
            run_dir = on_rank0(lambda: claim_run_dir(request, claims))  # every rank writes into rank 0's choice
        else:
            run_dir = claim_run_dir(request, claims)
        config = resolve_config(request, run_dir)
        if request.distributed:
            _, metrics = train_distributed(config, run_dir, resume=request.resume, progress=request.progress)
            return Trained(config, run_dir, metrics) if dist.get_rank() == 0 else None
        data = None if request.cache else prepare(config, cache=False)
        outcome = select_and_refit(config, data, run_dir, resume=request.resume, progress=request.progress)
        return Trained(config, run_dir, outcome.metrics())


def claim_run_dir(request: TrainRequest, claims: contextlib.ExitStack | None = None) -> Path:
    """The run directory of ``request``, claimed in ``claims`` (none: only chosen)."""
    def claimed(d: Path) -> bool:
        if claims is None:
            return True
        try:
            claims.enter_context(claim_dir(d))
            return True
        except NameTaken:
            if request.name:
                raise
            return False

    out = Path(request.out)
    if out.exists() and not out.is_dir():
        raise GraphrecError(f"--out {out} is a file, not a folder")
    if request.name:
        d = out / request.name
        claimed(d)  # before looking at the folder: another process may be creating it
        if d.exists() and not d.is_dir():
            raise GraphrecError(f"{d} is a file, not a run directory: choose another --name")
        if d.exists() and any(d.iterdir()) and not request.resume and not restartable(d):
            raise GraphrecError(f"{d} already exists: choose another --name, or --resume it")
        return d
    if request.resume:
        raise GraphrecError("--resume needs --name (the run to continue)")
    d, n = out / request.model, 2
    while d.exists() or not claimed(d) or d.exists():
        d, n = out / f"{request.model}-{n}", n + 1
    return d


def resolve_config(request: TrainRequest, run_dir: Path | None = None) -> TrainConfig:
    """The run's config: :func:`resumed_config` when resuming, else TrainConfig's defaults, then the
    tuned config, then the explicit settings and hyper-parameters (checked against the model's)."""
    if request.resume:
        return resumed_config(request, run_dir)
    pretrain = _pretrain(request)
    if pretrain and len(pretrain) != 2:
        raise GraphrecError("--pretrain takes two run directories: GMF_RUN,MLP_RUN")
    missing = [p for p in pretrain if not Path(p).is_dir()]
    if missing:
        raise GraphrecError(f"--pretrain: no such run directory: {missing[0]}")
    tuned = None
    if request.config:
        path = Path(request.config)
        if not path.is_file():
            path = shipped_path(request.config, request.data.dataset)
        if not path.is_file():
            shipped = shipped_path(request.model, request.data.dataset).parent  # not path's: a path given may be absolute
            names = ", ".join(sorted(p.stem for p in shipped.glob("*.json"))) or "none"
            raise GraphrecError(f"--config: no such file or shipped config: {request.config} (shipped: {names})")
        tuned = load_tuned(request.model, path=path)
    elif request.tuned:
        tuned = load_tuned(request.model, request.data.dataset or "ml-100k")
    try:
        base = TrainConfig(model=request.model, pretrain=pretrain, data=request.data)
        config = config_from_tuned(tuned, base) if tuned else base
        config = replace(config, hparams={**config.hparams, **request.hparams}, **request.settings)
    except ValueError as e:
        raise GraphrecError(str(e)) from None
    check_hparams(config.model, config.hparams)  # those given and the tuned config's
    return config


def resumed_config(request: TrainRequest, run_dir: Path) -> TrainConfig:
    """The run's own config; a setting given that would change it (other than :data:`RESUMABLE`) is refused."""
    config = read_config(run_dir)
    if config.model != request.model:
        raise GraphrecError(f"{run_dir} is a {config.model} run, not {request.model}")
    given = {**request.settings, **request.hparams}
    if request.pretrain:
        given["pretrain"] = _pretrain(request)
    default = DataConfig()
    given.update({f"data.{k}": v for k, v in vars(request.data).items() if v != getattr(default, k)})
    current = {**config.to_dict(), **config.hparams, **{f"data.{k}": v for k, v in config.to_dict()["data"].items()}}
    changed = sorted(k for k, v in given.items() if k not in RESUMABLE and current.get(k) != v)
    if changed:
        flags = ", ".join(f"--{k.split('.')[-1].replace('_', '-')} {given[k]} (run has {current.get(k)})" for k in changed)
        raise GraphrecError(f"--resume continues {run_dir} with its own settings; only --epochs may change, "
                            f"not {flags}: start a new run with another --name instead")
    return replace(config, **{k: request.settings[k] for k in RESUMABLE if k in request.settings})


def _pretrain(request: TrainRequest) -> list[str]:
    """``request.pretrain`` as a run records it: absolute paths."""
    return [str(Path(p).resolve()) for p in request.pretrain]
