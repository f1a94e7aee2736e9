"""``graphrec evaluate``: HR@k and NDCG@k of a run or a baseline on the split."""
from __future__ import annotations

from ..errors import GraphrecError
from ..models import FITTED
from .common import add_data_args, add_device_arg, load_split, positive_int, print_json, print_table


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a trained run or a baseline (mostpop, itemknn)")
    p.add_argument("run", help="a run directory, or a model fitted on the split: " + ", ".join(FITTED))
    p.add_argument("--k", type=positive_int, default=10, help="cut-off (default 10)")
    p.add_argument("--full", action="store_true", help="also rank among all unseen items")
    p.add_argument("--neighbours", type=positive_int, default=None, help="ItemKNN neighbours (default: the model's)")
    p.add_argument("--json", action="store_true")
    add_device_arg(p, "a run's model scores")
    add_data_args(p)
    p.set_defaults(func=run)


def load_scorer(args):
    """(scorer, split) for a baseline name or a run directory."""
    if args.run in FITTED:
        import inspect

        from ..models import model_class

        _, split = load_split(args)
        cls = model_class(args.run)
        takes = inspect.signature(cls.__init__).parameters
        return cls(**({"k": args.neighbours} if "k" in takes and args.neighbours else {})).fit(split), split
    from pathlib import Path

    from ..pipeline import prepare
    from ..training.runs import METRICS, load_model, read_config

    if not Path(args.run).is_dir():
        raise GraphrecError(f"{args.run}: no such run directory (nor a fitted model: {', '.join(FITTED)})")
    if args.split_dir or args.data_dir or args.dataset:  # the given data, else the run's own: built once either way
        data = load_split(args)
    else:
        data = prepare(read_config(args.run), saved=True, cache=not args.no_cache)
    model = load_model(args.run, data, force=args.force)
    if not (Path(args.run) / METRICS).is_file():
        import sys

        print(f"graphrec: note: {args.run} is an unfinished run (no metrics.json): evaluating its best weights "
              "so far; resume it with graphrec train ... --resume", file=sys.stderr)
    from ..device import on_device, resolve_device

    return on_device(model, resolve_device(args.device)), data.split


def run(args) -> int:
    from ..evaluation import evaluate, with_intervals
    from ..device import num_threads

    scorer, split = load_scorer(args)
    with num_threads(1):  # small per-op work: one thread is fastest, and robust on a busy machine
        res = evaluate(scorer, split, k=args.k, full=args.full, per_user=True)
    ci = with_intervals(res)
    catalogue = {m: v for m, v in res.items() if m.startswith("full_coverage@")}  # one figure, no interval
    if args.json:
        print_json({"run": args.run, "users": len(res["users"]),
                    **{m: {"mean": v[0], "ci95": [v[1], v[2]]} for m, v in ci.items()},
                    **{m: {"mean": v} for m, v in catalogue.items()}})
        return 0
    print_table([{"metric": m, "mean": v[0], "95% CI": f"[{v[1]:.4f}, {v[2]:.4f}]"} for m, v in ci.items()]
                + [{"metric": m, "mean": v, "95% CI": "-"} for m, v in catalogue.items()])
    print(f"{len(res['users'])} users; sampled = among {split.test_negatives.shape[1]} negatives; "
          "ties count against the test item")
    return 0
