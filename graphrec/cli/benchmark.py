"""``graphrec benchmark``: every model on one split, over seeds, with intervals, a table and charts."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from ..errors import GraphrecError
from .common import (MAX_THREADS, add_data_args, add_device_arg, add_progress_args, data_config, int_at_least,
                     load_split, neg_int, positive_int, show_bars)


def add_parser(sub) -> None:
    from ..catalogue import CATALOGUE, QUICK_EPOCHS, Settings

    p = sub.add_parser("benchmark", help="train and compare every model over seeds: table, CSV and charts",
                       description="Trains and evaluates each model over the seeds on the same split and epoch "
                                   "budget; a small learning-rate grid per family is searched on the validation "
                                   "item. Writes results.csv, seeds.csv, results.md, comparison.png, curves.png "
                                   "and one run directory per training run.")
    p.add_argument("--models", default=None,
                   help="comma-separated subset (default: every available one of "
                        + ", ".join(e.name for e in CATALOGUE) + ")")
    d = Settings  # every default is the benchmark settings'
    p.add_argument("--seeds", type=positive_int, default=d.seeds, help="training seeds per model (default %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help=f"epochs per run (default {d.epochs}; --quick: {QUICK_EPOCHS})")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="batch size (default %(default)s)")
    p.add_argument("--neg", type=neg_int, default=d.num_ng, help="negatives per positive (default %(default)s)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--quick", action="store_true",
                   help=f"tiny setting for CI: {QUICK_EPOCHS} epochs, first grid point only, small widths")
    p.add_argument("--threads", type=int_at_least(1, MAX_THREADS), default=None,
                   help="torch CPU threads (1 is fastest on a busy machine)")
    p.add_argument("--no-refit", action="store_true",
                   help="evaluate each seed's selected run (default: retrain the chosen setting on train + "
                        "validation for the chosen number of epochs, per seed, and evaluate that)")
    p.add_argument("--no-tuned", action="store_true",
                   help="ignore the tuned configs (graphrec/configs/<dataset>/) and search each family's small grid")
    p.add_argument("--retune", action="store_true",
                   help="re-run graphrec tune for every tunable model first (--trials each), writing OUT/configs/")
    p.add_argument("--trials", type=positive_int, default=20, help="trials per family with --retune (default 20)")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="models trained at once, in separate processes of --threads threads each (default 1; "
                        "2 on a 2-core machine halves the wall time); results do not depend on it")
    p.add_argument("--readme", metavar="FILE", default=None,
                   help="also write the results table into FILE (e.g. README.md), between the lines "
                        "'<!-- graphrec benchmark: begin -->' and '<!-- graphrec benchmark: end -->'")
    add_progress_args(p)
    add_device_arg(p, "every model trains and is evaluated")
    add_data_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..benchmark import Benchmark
    from ..catalogue import QUICK_EPOCHS, Settings, select
    from ..device import num_threads

    names = [n.strip() for n in args.models.split(",") if n.strip()] if args.models else None
    entries = select(names)
    if not entries:
        raise GraphrecError("no models to benchmark")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise GraphrecError(f"--out {out} exists and is not a folder")
    readme = None
    if args.readme:
        from ..benchmark.report import readme_block

        readme = Path(args.readme)
        if not readme.is_file():
            raise GraphrecError(f"--readme {readme}: no such file")
        readme_block(readme.read_text(encoding="utf-8"))  # fail before hours of training, not after
    ml, split = load_split(args)
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else Settings.epochs)
    data = data_config(args, absolute=True)
    settings = Settings(seeds=args.seeds, epochs=epochs, batch_size=args.batch_size, num_ng=args.neg,
                        **({"device": args.device} if args.device else {}),
                        quick=args.quick, data=data, refit=not args.no_refit, tuned=not args.no_tuned)
    bench = Benchmark(ml, split, entries, settings, out, progress=show_bars(args.progress))
    if args.retune:
        from ..config import TrainConfig
        from ..catalogue import save_tuned
        from ..tuning import tune

        for e in entries:
            if e.space is not None:
                print(f"tuning {e.name}: {args.trials} trials on the validation item", file=sys.stderr)
                tuned = tune(e.name, ml, split, args.trials, base=TrainConfig(model=e.model, data=data, full_eval_every=0))
                bench.configs[e.name] = tuned
                save_tuned(tuned, out / "configs" / f"{e.name}.json")
    with num_threads(args.threads or 0):
        bench.run(jobs=args.jobs, threads=args.threads or 1)
    paths = bench.write(command="graphrec " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    table = (out / "results.md").read_text()
    if readme is not None:
        from ..benchmark.report import replace_readme_block
        from ..io import write_text

        write_text(readme, replace_readme_block(readme.read_text(encoding="utf-8"), table))
        paths.append(readme)
    print(table)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
