"""``graphrec tune MODEL --trials N``: Optuna search on the validation item, written as a tuned config."""
from __future__ import annotations

from pathlib import Path

from ..errors import GraphrecError
from .common import add_data_args, data_config, load_split, positive_int, seed_int, threads_int


def add_parser(sub) -> None:
    from ..catalogue import tunable

    p = sub.add_parser("tune", help="search a model's hyper-parameters on the validation item (Optuna)",
                       description="Optuna's TPE sampler (seeded, median pruning) over the model family's search "
                                   "space, scored by the validation item's full-ranking NDCG@10 only. Writes a "
                                   "config file that graphrec train --config and graphrec benchmark read.")
    p.add_argument("model", choices=sorted(tunable()), help="model family (or variant, e.g. ease-recency) to tune")
    p.add_argument("--trials", type=positive_int, default=20, help="trials (default %(default)s; the same for every "
                                                                    "family in a fair comparison)")
    p.add_argument("--seed", type=seed_int, default=0, help="sampler and training seed (default 0)")
    p.add_argument("--out", help="config file to write (default configs/<dataset>/<model>.json)")
    p.add_argument("--threads", type=threads_int, default=1, help="torch threads (default 1)")
    add_data_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..device import num_threads
    from ..catalogue import entry, save_tuned
    from ..config import TrainConfig
    from ..io import check_output
    from ..tuning import tune

    try:
        import optuna  # noqa: F401
    except ImportError:
        raise GraphrecError("graphrec tune needs optuna: pip install optuna") from None
    ml, split = load_split(args)
    if not split.has_validation:
        raise GraphrecError("tuning needs a validation item per user; this split has none")
    out = Path(args.out or Path("configs") / (args.dataset or "ml-100k") / f"{args.model}.json")
    check_output(out)  # refuse a device, folder, ... before the trials, not after
    base = TrainConfig(model=entry(args.model).model, full_eval_every=0, threads=args.threads, data=data_config(args, absolute=True))
    with num_threads(args.threads):
        tuned = tune(args.model, ml, split, args.trials, seed=args.seed, base=base, progress=True)
    save_tuned(tuned, out)
    t = tuned["tuning"]
    print(f"best validation {t['metric']} {t['best_value']:.4f} after {args.trials} trials ({t['pruned']} pruned): "
          f"{t['params']}")
    print(f"wrote {out}")
    return 0
