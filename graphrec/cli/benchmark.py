"""``graphrec benchmark``: every model on one split, over seeds, with intervals, a table and charts."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from ..errors import GraphrecError
from .common import add_data_args, load_split, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("benchmark", help="train and compare every model over seeds: table, CSV and charts",
                       description="Trains and evaluates each model over the seeds on the same split and epoch "
                                   "budget; a small learning-rate grid per family is searched on the validation "
                                   "item. Writes results.csv, seeds.csv, results.md, comparison.png, curves.png "
                                   "and one run directory per training run.")
    p.add_argument("--models", default=None,
                   help="comma-separated subset of the catalogue (default: every available model; "
                        "an unknown name lists them)")
    p.add_argument("--seeds", type=positive_int, default=3, help="training seeds per model (default 3)")
    p.add_argument("--epochs", type=positive_int, default=None, help="epochs per run (default 10; --quick: 2)")
    p.add_argument("--batch-size", type=positive_int, default=4096, help="batch size (default 4096)")
    p.add_argument("--neg", type=positive_int, default=4, help="negatives per positive (default 4)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--quick", action="store_true",
                   help="tiny setting for CI: 2 epochs, first grid point only, small widths")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="torch CPU threads (1 is fastest on a busy machine)")
    add_data_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from ..benchmark import Benchmark, Settings, select
    from ..training import DataConfig

    names = [n.strip() for n in args.models.split(",") if n.strip()] if args.models else None
    entries = select(names)
    if not entries:
        raise GraphrecError("no models to benchmark")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise GraphrecError(f"--out {out} exists and is not a folder")
    if args.threads:
        torch.set_num_threads(args.threads)
    ml, split = load_split(args)
    epochs = args.epochs or (2 if args.quick else 10)
    data = DataConfig(dataset=args.dataset, data_dir=str(Path(args.data_dir).resolve()) if args.data_dir else None,
                      split_dir=args.split_dir, split_seed=args.split_seed)
    settings = Settings(seeds=args.seeds, epochs=epochs, batch_size=args.batch_size, num_ng=args.neg,
                        quick=args.quick, data=data)
    bench = Benchmark(ml, split, entries, settings, out)
    bench.run()
    paths = bench.write(command="graphrec " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    print((out / "results.md").read_text())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
