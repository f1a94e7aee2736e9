"""``graphrec recommend --user ID``: a user's top-k unseen movies from a run or the embedded default."""
from __future__ import annotations

from .common import add_data_args, positive_int, print_json, print_table


def add_parser(sub) -> None:
    p = sub.add_parser("recommend", help="top-k movies a user has not rated")
    p.add_argument("--user", type=int, required=True, help="the dataset's user id (ML-100K: 1..943)")
    p.add_argument("-k", type=positive_int, default=10, help="how many movies (default 10)")
    p.add_argument("--run", help="a run directory (default: a NeuMF on ML-100K, trained on first use "
                                 "and cached under $GRAPHREC_HOME)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_args(p, split=False)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..data import load_movielens
    from ..recommend import default_run, recommend
    from ..training.runs import load_run

    if args.run:
        r = load_run(args.run)
    else:
        ml = load_movielens("ml-100k", args.data_dir)
        ml.user_index(args.user)  # refuse an unknown user before training anything
        r = load_run(default_run(args.data_dir, progress=not args.quiet, ml=ml), ml=ml,
                     split=_split(ml))
    ml = r.ml if r.ml is not None else (load_movielens(args.dataset, args.data_dir) if args.data_dir else None)
    recs = recommend(r.model, r.split(), ml, args.user, args.k)
    if args.json:
        print_json({"user": args.user, "run": str(r.path), "recommendations": recs})
        return 0
    print(f"top {len(recs)} unseen movies for user {args.user} ({r.config.model}, {r.path})")
    print_table([{"rank": x["rank"], "movie": x["movie_id"], "title": x["title"],
                  "genres": ", ".join(x["genres"]), "score": x["score"]} for x in recs], floatfmt=".3f")
    return 0


def _split(ml):
    from ..data import split_movielens

    from ..recommend import DEFAULT_CONFIG

    return split_movielens(ml, seed=DEFAULT_CONFIG.data.split_seed)
