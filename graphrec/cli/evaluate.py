"""``graphrec evaluate``: HR@k and NDCG@k of a run or a baseline on the split."""
from __future__ import annotations

from ..errors import GraphrecError
from ..evaluation import evaluate, with_intervals
from ..models import BASELINES
from .common import add_data_args, load_split, positive_int, print_json, print_table


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a trained run or a baseline (mostpop, itemknn)")
    p.add_argument("run", help="a run directory, or a baseline name: " + ", ".join(BASELINES))
    p.add_argument("--k", type=positive_int, default=10, help="cut-off (default 10)")
    p.add_argument("--full", action="store_true", help="also rank among all unseen items")
    p.add_argument("--neighbours", type=positive_int, default=50, help="ItemKNN neighbours (default 50)")
    p.add_argument("--json", action="store_true")
    add_data_args(p)
    p.set_defaults(func=run)


def load_scorer(args):
    """(scorer, split) for a baseline name or a run directory."""
    if args.run in BASELINES:
        _, split = load_split(args)
        cls = BASELINES[args.run]
        scorer = cls(k=args.neighbours) if args.run == "itemknn" else cls()  # ease: its default penalty
        return scorer.fit(split), split
    from pathlib import Path

    from ..training.runs import load_run  # noqa: PLC0415 - heavy, only for runs

    if not Path(args.run).is_dir():
        raise GraphrecError(f"{args.run}: no such run directory (nor a baseline: {', '.join(BASELINES)})")

    run = load_run(args.run)
    _, split = load_split(args) if (args.split_dir or args.data_dir or args.dataset) else (None, run.split())
    return run.model, split


def run(args) -> int:
    from ..training.trainer import num_threads  # noqa: PLC0415

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
