"""``graphrec recommend``: top-k unseen movies for one user, several, or all at once (one vectorized pass).

With a ``hetero-sage`` run (default: the shipped one, trained on first use) also ``--new-user``
(demographics and liked titles) and ``--include-new-movies FILE.csv`` (new titles ranked for ``--user``):
:mod:`graphrec.inductive`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import GraphrecError
from .common import add_data_args, add_device_arg, add_progress_args, positive_int, print_json, print_table

#: File formats ``--out`` writes, by suffix.
OUT_FORMATS = (".csv", ".jsonl")


def _user_list(text: str) -> list[int]:
    try:
        users = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of user ids") from None
    if not users:
        raise argparse.ArgumentTypeError("give at least one user id")
    return users


def add_parser(sub) -> None:
    p = sub.add_parser("recommend", help="top-k movies a user (or every user) has not rated")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, help="the dataset's user id (ML-100K: 1..943)")
    who.add_argument("--users", type=_user_list, metavar="ID,ID,...", help="several users, e.g. 1,5,9")
    who.add_argument("--all-users", action="store_true", help="every user of the dataset")
    who.add_argument("--new-user", action="store_true",
                     help="a user the model never saw, from --gender, --age, --occupation and --liked "
                          "(a hetero-sage --run; default: the shipped hetero-sage on ML-100K, trained on first use)")
    new = p.add_argument_group("new users and movies (hetero-sage runs)")
    new.add_argument("--gender", help="--new-user's gender: F or M")
    new.add_argument("--age", type=int, help="--new-user's age in years")
    new.add_argument("--occupation", help="--new-user's occupation, e.g. student (an invalid one lists them all)")
    new.add_argument("--liked", action="append", default=[], metavar="TITLE",
                     help='a title --new-user liked; repeat it for several (--liked "Usual Suspects, The" --liked '
                          'Fargo) or separate titles by ";" (or by commas, where the whole text is no title); an '
                          'ambiguous or unknown title is refused with candidates')
    new.add_argument("--include-new-movies", metavar="FILE.csv",
                     help="rank the new movies of this CSV (columns title, year, genres with | between genres) "
                          "for --user")
    p.add_argument("-k", type=positive_int, default=10, help="how many movies (default 10)")
    p.add_argument("--run", help="a run directory (default: the shipped sasrec on ML-100K, and for --new-user and "
                                 "--include-new-movies a hetero-sage, trained on first use and cached under "
                                 "$GRAPHREC_HOME)")
    p.add_argument("--out", metavar="FILE", help="write the lists to FILE (.csv: one row per user and rank; "
                                                 ".jsonl: one line per user) instead of printing them")
    p.add_argument("--explain", action="store_true",
                   help="per movie: its top contributing feature groups and the user's most similar movie rated >= 4 "
                        "(one --user or --new-user; without --run this uses the default feature model, as sasrec has no "
                        "feature groups)")
    p.add_argument("--method", choices=["ig", "shap", "lime"], default="ig", help="attribution engine for --explain")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_device_arg(p, "the model scores (and the default model trains); explanations run on the CPU")
    add_progress_args(p)
    add_data_args(p, split=False)
    p.set_defaults(func=run)


def liked_titles(values: list[str]) -> list[str]:
    """The titles of the ``--liked`` flags: each flag one title, or several separated by ``;``; commas are
    part of titles (``["Usual Suspects, The; Fargo"]`` -> ``["Usual Suspects, The", "Fargo"]``)."""
    return [t.strip() for v in values for t in v.split(";") if t.strip()]


def run_new(args) -> int:
    """``--new-user`` and ``--include-new-movies``: recommendations from a hetero-sage run's features.

    Warm, this reads the run's exported twin (``inference.npz``) and the cached catalog: no
    torch_geometric, pandas or scikit-learn (:func:`graphrec.inductive.newcomer_model`)."""
    from ..api import open_run
    from ..device import num_threads

    if args.new_user:
        missing = [f"--{f}" for f in ("gender", "age", "occupation") if getattr(args, f) is None]
        if missing:
            raise GraphrecError(f"--new-user needs {', '.join(missing)}")
    if args.explain and not args.new_user:
        raise GraphrecError("--explain explains a user's list (--user, or --new-user), not --include-new-movies")
    if not args.new_user and args.user is None:
        raise GraphrecError("--include-new-movies ranks the new movies for one --user, not --users or --all-users")
    if args.out:
        raise GraphrecError("--out writes the lists of --user, --users or --all-users; for --new-user and "
                            "--include-new-movies print them (--json) instead")
    path = args.run
    if not path:  # the embedded default: the shipped cold hetero-sage, trained on first use
        from ..defaults import default_hetero_sage

        path = default_hetero_sage(args.data_dir, progress=args.progress, device=args.device)
    r = open_run(path, data_dir=args.data_dir, cache=not args.no_cache, progress=args.progress, force=args.force,
                 on_bad_rows=args.on_bad_rows)
    with num_threads(1):
        if args.new_user:
            recs = r.recommend_new_user(args.gender, args.age, args.occupation, liked_titles(args.liked), args.k)
            if args.explain:
                recs = r.explain_new_user(recs, args.gender, args.age, args.occupation, liked_titles(args.liked),
                                          args.method)
            liked = "; ".join(liked_titles(args.liked)) or "nothing yet"
            who = f"a new user ({args.gender}, {args.age}, {args.occupation}; liked: {liked})"
        else:
            recs = r.recommend_new_movies(args.user, args.include_new_movies, args.k)
            who = f"user {args.user}, among the new movies of {args.include_new_movies}"
    if args.json:
        key = {"new_user": {"gender": args.gender, "age": args.age, "occupation": args.occupation,
                            "liked": liked_titles(args.liked)}} if args.new_user else {"user": args.user}
        print_json({**key, "run": str(r.path), "recommendations": recs})
        return 0
    print(f"top {len(recs)} movies for {who} ({r.config.model}, {r.path})")
    print_table([{"rank": x["rank"], **({"movie": x["movie_id"]} if "movie_id" in x else {}), "title": x["title"],
                  "year": x["year"] or "", "genres": ", ".join(x["genres"]), "score": x["score"]} for x in recs],
                floatfmt=".3f")
    if args.explain:
        print_explanations(recs, args)
    return 0


def run(args) -> int:
    if args.new_user or args.include_new_movies:
        return run_new(args)
    from ..api import load_run
    from ..device import num_threads

    if args.out and Path(args.out).suffix not in OUT_FORMATS:
        raise GraphrecError(f"--out {args.out}: choose a .csv or .jsonl file")
    if args.out:
        from ..io import check_output

        check_output(args.out)  # before the model loads
    if args.explain and args.user is None:
        raise GraphrecError("--explain explains one user's list: give --user")
    path = args.run
    if args.explain and not path:
        path = _default_feature_run(args)
    elif not path:
        from ..defaults import default_recommender, default_recommender_dir, recommender_config
        from ..training.runs import METRICS

        if not (default_recommender_dir() / METRICS).is_file():  # first use: check the user, then train
            from ..data import load_movielens
            from ..pipeline import prepare

            ml = load_movielens("ml-100k", args.data_dir, on_bad_rows=args.on_bad_rows, cache=not args.no_cache)
            for user in [args.user] if args.user is not None else (args.users or []):
                ml.user_index(user)
            default_recommender(args.data_dir, progress=args.progress, data=prepare(recommender_config(), ml, cache=not args.no_cache),
                          device=args.device)
    r = load_run(path, data_dir=args.data_dir, cache=not args.no_cache, progress=args.progress, device=args.device,
                 force=args.force,
                 on_bad_rows=args.on_bad_rows)
    with num_threads(1):
        if args.user is not None:
            users = [args.user]
            lists = [r.listing(*r.recommend(args.user, args.k))]
            if args.explain:
                add_explanations(lists[0], r, args)
        else:
            users, items, scores = r.recommend_all(args.k, users=None if args.all_users else args.users)
            users = users.tolist()
            lists = [r.listing(i, s) for i, s in zip(items, scores)]
    if args.out:
        write_lists(args.out, users, lists)
        if args.json:
            print_json({"run": str(r.path), "out": args.out, "users": len(users)})
        else:
            print(f"wrote top {args.k} for {len(users)} users ({r.config.model}, {r.path}) to {args.out}")
        return 0
    if args.json:
        if args.user is not None:
            print_json({"user": args.user, "run": str(r.path), "recommendations": lists[0]})
        else:
            print_json({"run": str(r.path), "users": [{"user": u, "recommendations": x}
                                                      for u, x in zip(users, lists)]})
        return 0
    for n, (user, recs) in enumerate(zip(users, lists)):
        if n:
            print()
        print_list(user, recs, r)
    if args.explain:
        print_explanations(lists[0], args)
    return 0


def print_list(user: int, recs: list[dict], r) -> None:
    print(f"top {len(recs)} unseen movies for user {user} ({r.config.model}, {r.path})")
    print_table([{"rank": x["rank"], "movie": x["movie_id"], "title": x["title"], "year": x["year"] or "",
                  "genres": ", ".join(x["genres"]), "score": x["score"]} for x in recs], floatfmt=".3f")


def write_lists(path: str, users: list[int], lists: list[list[dict]]) -> None:
    """``--out``: CSV (``user_id, rank, movie_id, title, year, genres, score``) or JSON lines, atomically."""
    import json

    from ..io import write_csv, write_text

    if path.endswith(".jsonl"):
        write_text(path, "".join(json.dumps({"user": u, "recommendations": recs}) + "\n"
                                 for u, recs in zip(users, lists)))
        return
    write_csv(path, ([u, x["rank"], x["movie_id"], x["title"], "" if x["year"] is None else x["year"],
                      "|".join(x["genres"]), f"{x['score']:.6f}"] for u, recs in zip(users, lists) for x in recs),
              ["user_id", "rank", "movie_id", "title", "year", "genres", "score"])


def _default_feature_run(args) -> Path:
    from ..data import load_movielens
    from ..defaults import default_feature_model, feature_config
    from ..pipeline import prepare

    ml = load_movielens("ml-100k", args.data_dir, on_bad_rows=args.on_bad_rows, cache=not args.no_cache)
    ml.user_index(args.user)  # refuse an unknown user before training anything
    return default_feature_model(ml, prepare(feature_config(ml), ml, cache=not args.no_cache), progress=args.progress,
                                 device=args.device)


def add_explanations(recs: list[dict], r, args) -> None:
    """Add ``why`` (top groups, feature models only) and ``because_you_liked`` to each recommendation."""
    r.explain_recommendations(args.user, recs, args.method)


def print_explanations(recs: list[dict], args) -> None:
    if not recs:
        return
    liked = ("; 'because you liked' = closest item embedding among the user's movies rated >= 4"
             if any("because_you_liked" in x for x in recs) else "")
    print(f"\nwhy ({args.method} contributions to the logit{liked}):" if "why" in recs[0] else "")
    for x in recs:
        why = ", ".join(f"{g['value']} {g['contribution']:+.2f}" for g in x.get("why", []))
        liked = f"because you liked {x['because_you_liked']['title']}" if "because_you_liked" in x else ""
        recent = ", ".join(f"{m['title']} ({m['contribution']:+.2f})" for m in x.get("because_you_recently_watched", []))
        recent = f"because you recently watched {recent}" if recent else ""
        print(f"{x['rank']:>3}. {x['title']}: " + "; ".join(t for t in (why, liked, recent) if t))
