"""``graphrec benchmark``: every model on one split, over seeds, with intervals, a table and charts; or, with
``--suite NAME``, one of the other measurements (:mod:`graphrec.benchmark.suites`)."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..errors import GraphrecError
from .common import (MAX_THREADS, add_data_args, add_device_arg, add_progress_args, data_config, int_at_least,
                     load_split, neg_int, positive_float, positive_int, show_bars)


def at_most(high: float, kind=positive_float):
    """``kind``, and at most ``high`` (the load test's bounds)."""
    def parse(text: str):
        v = kind(text)
        if v > high:
            raise argparse.ArgumentTypeError(f"must be <= {high:g}, got {text}")
        return v
    return parse


def add_suite_args(p) -> None:
    """The suites' own flags (:mod:`graphrec.benchmark.suites`); each is refused by a suite that does not take it."""
    g = p.add_argument_group("suites", "flags of one suite each (the suites named in brackets take them)")
    a = g.add_argument
    a("--warm-config", metavar="FILE", help="[coldstart] hetero-sage's warm tuned config (default: shipped hetero-sage-ids.json)")
    a("--cold-config", metavar="FILE", help="[coldstart] its cold tuned config (default: shipped hetero-sage.json)")
    a("--tune", type=positive_int, metavar="TRIALS",
      help="[coldstart] tune hetero-sage's cold config on validation cold splits (seeds 100, 101, ...: --seeds "
           "of them) instead of benchmarking; writes OUT/hetero-sage.json")
    a("--tune-term", action="store_true",
      help="[coldstart] choose the new-user term (demo_prior, ...) on the validation cold splits from the catalogue's "
           "grid; writes OUT/hetero-sage.json")
    a("--liked-order", action="store_true",
      help="[coldstart] a new user's most recent liked titles counted more, on the validation cold splits")
    a("--skip-warm", action="store_true", help="[coldstart] no warm leave-one-out table")
    a("--skip-cold", action="store_true", help="[coldstart] no cold-start tables")
    a("--rows", default=None, help="[embeddings] comma-separated rows among word2vec, gensim, pyg, cosine, popularity")
    a("--pyg-epochs", type=positive_int, default=None, help="[embeddings] epochs of the pyg row (default: the config's)")
    a("--pyg-budget", type=positive_float, default=None, metavar="SECONDS",
      help="[embeddings] pyg row: validation i2i HR@10 after every epoch, stop past this many training seconds")
    a("--vary", action="append", default=[], metavar="FIELD=V1,V2",
      help="[embeddings] tuning sweep: word2vec with one embedding field changed at a time (repeatable); "
           "validation figures only")
    a("--set", action="append", default=[], metavar="FIELD=VALUE",
      help="[embeddings] an embedding setting changed from the default (repeatable), e.g. --set graph=comovie")
    a("--only", default=None, help="[similar] comma-separated option names (prefixes) to run")
    a("--extra", action="append", default=[], metavar="NAME=JSON",
      help='[similar] another option, e.g. \'lift+c0.75={"weight": "lift", "content": 0.75}\'')
    a("--skip-test", action="store_true", help="[similar] validation rows only (to --merge later)")
    a("--merge", default=None, metavar="A.json,B.json",
      help="[similar] choose among the validation rows of earlier similar.json files, then run the test rows")
    a("--max-len", type=positive_int, nargs="+", default=None, help="[speed] sasrec sequence lengths (default 50 200)")
    a("--repeat", type=positive_int, default=None, help="[speed, explain, data] timed repeats (default 3, 5, 3)")
    a("--runs", type=positive_int, default=None, help="[cli] timed runs per command (default 5)")
    a("--home", default=None, help="[cli] GRAPHREC_HOME of the timed commands (default: $GRAPHREC_HOME)")
    a("--hetero-run", default=None, help="[cli] a hetero-sage run for the new-user rows (default: trained for 2 epochs)")
    a("--pairs", type=positive_int, default=None, help="[explain] test pairs of the global summary (default 200)")
    a("--sizes", nargs="+", default=None, help="[scale] numbers of ratings, e.g. 1M 5M 25M (the default)")
    a("--eval-users", type=positive_int, default=None, help="[scale] users ranked in full (default 10000)")
    a("--run", action="append", default=[], metavar="DIR",
      help="[serve] a run directory to serve (repeatable; the first answers recommend, similar and batching)")
    a("--swap-with", default=None, metavar="DIR", help="[serve] the run whose model.pt the reload scenario swaps in")
    a("--scenarios", default=None,
      help="[serve] comma-separated among recommend, similar, new-user, reload, batching (default recommend,similar)")
    a("--clients", type=at_most(256, positive_int), default=None, help="[serve] concurrent clients (default 16, at most 256)")
    a("--seconds", type=at_most(600.0), default=None, help="[serve] seconds per scenario (default 60, at most 600)")
    a("--max-requests", type=at_most(1_000_000, positive_int), default=None,
      help="[serve] requests per scenario at most (default 500000)")
    a("--reload-every", type=positive_float, default=None, help="[serve] seconds between reloads (default 5)")
    a("--server-args", default=None, help="[serve] more flags for graphrec serve, e.g. '--threads 1'")


def add_parser(sub) -> None:
    from ..benchmark.suites import SUITES
    from ..catalogue import CATALOGUE, QUICK_EPOCHS, Settings

    p = sub.add_parser("benchmark", help="train and compare every model over seeds: table, CSV and charts",
                       description="Trains and evaluates each model over the seeds on the same split and epoch "
                                   "budget; a small learning-rate grid per family is searched on the validation "
                                   "item. Writes results.csv, seeds.csv, results.md, comparison.png, curves.png "
                                   "and one run directory per training run. --suite NAME runs another "
                                   "measurement instead (" + ", ".join(SUITES) + ") and writes it under --out.")
    p.add_argument("--suite", choices=list(SUITES), default="models",
                   help="what to measure (default models): " + "; ".join(f"{s.name}: {s.help}" for s in SUITES.values()))
    p.add_argument("--models", default=None,
                   help="comma-separated subset (default: every available one of "
                        + ", ".join(e.name for e in CATALOGUE) + ")")
    d = Settings  # every default is the benchmark settings'
    p.add_argument("--seeds", type=positive_int, default=d.seeds, help="training seeds per model (default %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help=f"epochs per run (default {d.epochs}; --quick: {QUICK_EPOCHS})")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="batch size (default %(default)s)")
    p.add_argument("--neg", type=neg_int, default=d.num_ng, help="negatives per positive (default %(default)s)")
    p.add_argument("--out", default=None, help="output folder (default results/; a suite: results/NAME/)")
    p.add_argument("--quick", action="store_true",
                   help=f"tiny setting for CI: {QUICK_EPOCHS} epochs, first grid point only, small widths")
    p.add_argument("--threads", type=int_at_least(1, MAX_THREADS), default=None,
                   help="torch CPU threads (1 is fastest on a busy machine; a suite's default)")
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
    add_suite_args(p)
    p.set_defaults(func=run)
    p.set_defaults(defaults=vars(p.parse_args([])))  # what was not given: a suite refuses a flag only when given


def check_suite(args) -> set[str]:
    """The flags given on the command line that differ from their defaults; one clear line if the suite does not
    take one of them."""
    from ..benchmark.suites import SUITES, refused

    given = {k for k, v in vars(args).items() if k in args.defaults and v != args.defaults[k]}
    bad = refused(args.suite, given)
    if bad:
        flags = ", ".join("--" + d.replace("_", "-") for d in bad)
        takes = ", ".join(sorted("--" + d.replace("_", "-") for d in SUITES[args.suite].takes)) or "none"
        raise GraphrecError(f"--suite {args.suite} does not take {flags} (its own flags: {takes})")
    return given


def run(args) -> int:
    args.given = check_suite(args)
    if args.suite != "models":
        return run_suite(args)
    from ..benchmark import Benchmark
    from ..catalogue import QUICK_EPOCHS, Settings, select
    from ..device import num_threads

    names = [n.strip() for n in args.models.split(",") if n.strip()] if args.models else None
    entries = select(names)
    if not entries:
        raise GraphrecError("no models to benchmark")
    out = Path(args.out or "results")
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


def run_suite(args) -> int:
    """A suite reads the flags from ``args``; ``args.given`` names those given (not left at the models' default)."""
    from ..benchmark.suites import SUITES
    from ..device import num_threads

    out = Path(args.out or Path("results") / args.suite)
    if out.exists() and not out.is_dir():
        raise GraphrecError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    with num_threads(args.threads or 1):
        paths = SUITES[args.suite].run(args, out)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
