"""``graphrec train MODEL``: train a registered model into a run directory."""
from __future__ import annotations

from ..models import TRAINABLE
from ..config import SELECT_METRICS, TrainConfig
from .common import (add_data_args, add_device_arg, add_progress_args, data_config, factors_int, float_where,
                     neg_int, nonnegative_int, positive_float, positive_int, print_table, seed_int, threads_int)

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


#: TrainConfig's defaults, shown in --help (flags left out keep them: each default is written once).
_D = TrainConfig()

_unit_float = float_where(lambda v: 0.0 <= v < 1.0, "in [0, 1)")
_nonneg_float = float_where(lambda v: v >= 0.0, ">= 0")


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
    t.add_argument("--lr", type=positive_float, help=f"Adam learning rate, finite and > 0 (default {_D.lr:g})")
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


#: TrainConfig field of each training flag; a flag left out keeps TrainConfig's default (or, with --resume, the run's).
TRAIN_FLAGS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "neg": "num_ng", "l2": "l2", "seed": "seed",
               "patience": "patience", "threads": "threads", "loss": "loss", "l2_scope": "l2_scope",
               "eval_every": "eval_every", "select": "select"}


def request_of(args):
    """The :class:`~graphrec.training.request.TrainRequest` of the flags: only those given explicitly."""
    from ..training.request import TrainRequest

    settings = {field: getattr(args, flag) for flag, field in TRAIN_FLAGS.items() if getattr(args, flag) is not None}
    if args.no_refit:
        settings["refit"] = False
    if args.device:
        settings["device"] = args.device
    return TrainRequest(
        model=args.model, settings=settings,
        hparams={key: getattr(args, flag) for flag, key in MODEL_FLAGS.items() if getattr(args, flag) is not None},
        data=data_config(args, absolute=True), config=args.config, tuned=not args.no_tuned,
        pretrain=tuple(args.pretrain.split(",")) if args.pretrain else (), out=args.out, name=args.name,
        resume=args.resume, distributed=args.distributed, cache=not args.no_cache, progress=args.progress)


def run(args) -> int:
    from ..training.request import train

    request = request_of(args)
    started = train(request)
    if started is None:  # a distributed rank other than 0
        return 0
    metrics, config = started.metrics, started.config
    rows = [{"metric": k, "value": metrics[k], "95% CI": "[{:.4f}, {:.4f}]".format(*metrics[k + "_ci95"])}
            for k in metrics if k + "_ci95" in metrics]
    print_table(rows)
    refit = f"; refit on train + validation for {metrics['refit_epochs']} epochs" if "refit_epochs" in metrics else ""
    print(f"best epoch {metrics['best_epoch']} (validation {config.select}@{config.k}){refit}; "
          f"{metrics['train_seconds']:.1f} s training; run saved in {started.run_dir}")
    return 0
