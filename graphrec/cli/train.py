"""``graphrec train MODEL``: train a registered model into a run directory."""
from __future__ import annotations

import contextlib
import inspect
import math
from pathlib import Path

from ..errors import GraphrecError
from ..models import TRAINABLE
from ..config import SELECT_METRICS, TrainConfig
from .common import (add_data_args, add_device_arg, add_progress_args, data_config, factors_int, neg_int,
                     nonnegative_int, positive_int, print_table, seed_int, threads_int)

#: Flags that become model hyper-parameters, passed only to models whose constructor takes them.
MODEL_FLAGS = {"factors": "factors", "layers": "layers", "dropout": "dropout", "num_layers": "num_layers",
               "bias": "bias"}


def _layers(text: str) -> list[int]:
    import argparse

    from ..models.mlp import parse_layers

    try:
        return parse_layers(text, min_sizes=2)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _float(valid, requirement: str):
    """An argparse type: a float for which ``valid(v)`` holds, else one clear message."""
    import argparse

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if not valid(v):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {v}")
        return v

    return parse


#: TrainConfig's defaults, shown in --help (flags left out keep them: each default is written once).
_D = TrainConfig()

_unit_float = _float(lambda v: 0.0 <= v < 1.0, "in [0, 1)")
_nonneg_float = _float(lambda v: v >= 0.0, ">= 0")
_pos_float = _float(lambda v: v > 0.0, "> 0")


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model (gmf, mlp, neumf, ...) into runs/<name>/")
    p.add_argument("model", choices=TRAINABLE, help="registered trainable model")
    m = p.add_argument_group("model (passed only to models that take them)")
    m.add_argument("--factors", type=factors_int, help="embedding size / predictive factors (GMF, NeuMF)")
    m.add_argument("--layers", type=_layers, help="MLP tower sizes, e.g. 64,32,16,8 (MLP, NeuMF)")
    m.add_argument("--dropout", type=_unit_float, help="dropout in the MLP tower")
    m.add_argument("--num-layers", type=positive_int, help="message-passing layers (LightGCN)")
    m.add_argument("--bias", action="store_const", const=True, help="user and item biases (GMF, NeuMF)")
    t = p.add_argument_group("training (a flag left out: the tuned config graphrec/configs/<dataset>/<model>.json "
                             "when one is shipped, else the default shown; with --resume, the run's own value)")
    t.add_argument("--config", metavar="FILE", help="a tuned config written by graphrec tune, or the name of a shipped "
                                                    "one, e.g. hetero-sage-ids (default: the shipped MODEL.json)")
    t.add_argument("--no-tuned", action="store_true", help="ignore the shipped tuned config")
    t.add_argument("--no-refit", action="store_true",
                   help="keep the selected run (default: retrain on train + validation for the chosen epochs)")
    t.add_argument("--epochs", type=positive_int, help=f"maximum epochs (default {_D.epochs})")
    t.add_argument("--batch-size", type=positive_int, help=f"default {_D.batch_size}")
    t.add_argument("--lr", type=_pos_float, help=f"Adam learning rate, finite and > 0 (default {_D.lr:g})")
    t.add_argument("--neg", type=neg_int,
                   help=f"negatives per positive, resampled each epoch, with either loss (default {_D.num_ng})")
    t.add_argument("--loss", choices=["bce", "bpr"], help="pointwise BCE or pairwise BPR (default: the model's)")
    t.add_argument("--l2", type=_nonneg_float, help=f"L2 penalty (default {_D.l2:g})")
    t.add_argument("--l2-scope", choices=["batch", "weights"],
                   help="L2 on the batch's embeddings in the loss, or Adam weight decay (default: the model's)")
    t.add_argument("--eval-every", type=positive_int, help=f"validate every N epochs (default {_D.eval_every})")
    t.add_argument("--select", choices=SELECT_METRICS,
                   help=f"validation metric at k that picks the epoch (default {_D.select})")
    t.add_argument("--seed", type=seed_int, help=f"seed of initialisation, sampling and shuffling (default {_D.seed})")
    t.add_argument("--patience", type=nonnegative_int,
                   help=f"stop after this many validations without a better score (0: never; default {_D.patience})")
    t.add_argument("--pretrain", metavar="GMF_RUN,MLP_RUN",
                   help="initialise NeuMF from trained GMF and MLP runs (alpha = 0.5)")
    t.add_argument("--threads", type=threads_int,
                   help=f"torch threads while training (0: torch's default; default {_D.threads})")
    add_device_arg(t, "training and evaluation run")
    add_data_args(p)
    o = p.add_argument_group("output")
    o.add_argument("--out", default="runs", help="parent folder of run directories (default runs)")
    o.add_argument("--name", help="run directory name (default: the model, numbered if taken)")
    o.add_argument("--resume", action="store_true",
                   help="continue the interrupted run --out/--name from its checkpoint (only --epochs may change)")
    t.add_argument("--distributed", action="store_true",
                   help="data-parallel across the processes started by torchrun (gloo on CPU, nccl on GPU)")
    add_progress_args(p)
    p.set_defaults(func=run)


def model_hparams(model: str, args) -> dict:
    """The model flags the user gave, checked against the model's constructor."""
    from ..models import model_class

    cls = model_class(model)
    accepted = set(inspect.signature(cls.__init__).parameters)
    given = {key: getattr(args, flag) for flag, key in MODEL_FLAGS.items() if getattr(args, flag) is not None}
    bad = sorted(k for k in given if k not in accepted)
    if bad:
        takes = [f"--{f.replace('_', '-')}" for f, k in MODEL_FLAGS.items() if k in accepted]
        raise GraphrecError(f"model {model!r} does not take {', '.join('--' + b.replace('_', '-') for b in bad)} "
                            f"(it takes: {', '.join(takes) or 'none of the model flags'})")
    return given


#: TrainConfig field of each training flag; a flag left out keeps TrainConfig's default (or, with --resume, the run's).
TRAIN_FLAGS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "neg": "num_ng", "l2": "l2", "seed": "seed",
               "patience": "patience", "threads": "threads", "loss": "loss", "l2_scope": "l2_scope",
               "eval_every": "eval_every", "select": "select"}


def _run_dir(args, claims: contextlib.ExitStack | None = None) -> Path:
    """The run directory, claimed in ``claims`` (:func:`graphrec.io.claim_dir`) for as long as the run trains:
    a second ``train --name`` of the same run at once is refused, and two unnamed runs get different names."""
    from ..io import NameTaken, claim_dir
    from ..training.runs import restartable

    def claimed(d: Path) -> bool:
        if claims is None:
            return True
        try:
            claims.enter_context(claim_dir(d))
            return True
        except NameTaken:
            if args.name:
                raise
            return False

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise GraphrecError(f"--out {out} is a file, not a folder")
    if args.name:
        d = out / args.name
        claimed(d)  # before looking at the folder: another process may be creating it
        if d.exists() and not d.is_dir():
            raise GraphrecError(f"{d} is a file, not a run directory: choose another --name")
        if d.exists() and any(d.iterdir()) and not args.resume and not restartable(d):
            raise GraphrecError(f"{d} already exists: choose another --name, or --resume it")
        return d
    if args.resume:
        raise GraphrecError("--resume needs --name (the run to continue)")
    d, n = out / args.model, 2
    while d.exists() or not claimed(d) or d.exists():
        d, n = out / f"{args.model}-{n}", n + 1
    return d


def _resumed_config(args, run_dir: Path):
    """The run's own config; any flag given that would change it (other than --epochs, --device) is refused."""
    from ..training.runs import read_config

    config = read_config(run_dir)
    if config.model != args.model:
        raise GraphrecError(f"{run_dir} is a {config.model} run, not {args.model}")
    given = {field: getattr(args, flag) for flag, field in TRAIN_FLAGS.items() if getattr(args, flag) is not None}
    given.update(model_hparams(args.model, args))
    if args.pretrain:
        given["pretrain"] = [str(Path(p).resolve()) for p in args.pretrain.split(",")]
    for flag in ("dataset", "data_dir", "split_dir", "split_seed", "on_bad_rows"):
        v = getattr(args, flag)
        if v is not None and not (flag == "split_seed" and v == 0) and not (flag == "on_bad_rows" and v == "error"):
            given[f"data.{flag}"] = str(Path(v).resolve()) if flag in ("data_dir", "split_dir") else v
    current = {**config.to_dict(), **config.hparams, **{f"data.{k}": v for k, v in config.to_dict()["data"].items()}}
    changed = sorted(k for k, v in given.items() if k != "epochs" and current.get(k) != v)
    if changed:
        flags = ", ".join(f"--{k.split('.')[-1].replace('_', '-')} {given[k]} (run has {current.get(k)})" for k in changed)
        raise GraphrecError(f"--resume continues {run_dir} with its own settings; only --epochs may change, "
                            f"not {flags}: start a new run with another --name instead")
    if args.epochs is not None:
        config.epochs = args.epochs
    return config


def run(args) -> int:
    with contextlib.ExitStack() as claims:  # the run directory is this process's until it returns
        return _train(args, claims)


def _train(args, claims: contextlib.ExitStack) -> int:
    from ..training.protocol import select_and_refit

    if args.distributed:
        from ..training.distributed import init_process_group, on_rank0

        init_process_group(device=args.device or TrainConfig.device)
        run_dir = on_rank0(lambda: _run_dir(args, claims))  # every rank writes into rank 0's choice
    else:
        run_dir = _run_dir(args, claims)
    if args.resume:
        config = _resumed_config(args, run_dir)
        if args.device:
            config.device = args.device
    else:
        pretrain = []
        if args.pretrain:
            pretrain = [str(Path(p).resolve()) for p in args.pretrain.split(",")]
            if len(pretrain) != 2:
                raise GraphrecError("--pretrain takes two run directories: GMF_RUN,MLP_RUN")
            for p in pretrain:
                if not Path(p).is_dir():
                    raise GraphrecError(f"--pretrain: no such run directory: {p}")
        try:
            config = build_config(args, pretrain)
        except ValueError as e:
            raise GraphrecError(str(e)) from None
    if args.distributed:
        import torch.distributed as dist

        from ..training.distributed import train_distributed

        _, metrics = train_distributed(config, run_dir, resume=args.resume, progress=args.progress)
        if dist.get_rank() != 0:
            return 0
    else:
        data = None
        if args.no_cache:
            from ..pipeline import prepare

            data = prepare(config, cache=False)
        metrics = select_and_refit(config, data, run_dir, resume=args.resume, progress=args.progress).metrics()
    rows = [{"metric": k, "value": metrics[k], "95% CI": "[{:.4f}, {:.4f}]".format(*metrics[k + "_ci95"])}
            for k in metrics if k + "_ci95" in metrics]
    print_table(rows)
    refit = f"; refit on train + validation for {metrics['refit_epochs']} epochs" if "refit_epochs" in metrics else ""
    print(f"best epoch {metrics['best_epoch']} (validation {config.select}@{config.k}){refit}; "
          f"{metrics['train_seconds']:.1f} s training; run saved in {run_dir}")
    return 0


def build_config(args, pretrain: list | None = None) -> TrainConfig:
    """The run's config: TrainConfig's defaults, then the tuned config (``--config``, else the one shipped
    for the dataset, unless ``--no-tuned``), then every flag given explicitly."""
    from dataclasses import replace

    from ..catalogue import config_from_tuned, load_tuned, shipped_path

    base = TrainConfig(model=args.model, pretrain=pretrain or [], refit=not args.no_refit,
                       data=data_config(args, absolute=True), **({"device": args.device} if args.device else {}))
    tuned = None
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            path = shipped_path(args.config, args.dataset)
        if not path.is_file():
            names = ", ".join(sorted(p.stem for p in path.parent.glob("*.json"))) or "none"
            raise GraphrecError(f"--config: no such file or shipped config: {args.config} (shipped: {names})")
        tuned = load_tuned(args.model, path=path)
    elif not args.no_tuned:
        tuned = load_tuned(args.model, args.dataset or "ml-100k")
    config = config_from_tuned(tuned, base) if tuned else base
    given = {field: getattr(args, flag) for flag, field in TRAIN_FLAGS.items() if getattr(args, flag) is not None}
    return replace(config, hparams={**config.hparams, **model_hparams(args.model, args)}, **given)
