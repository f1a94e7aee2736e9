"""``graphrec recommend --user ID``: a user's top-k unseen movies from a run or the embedded default.

With a ``hetero-sage`` run also ``--new-user`` (demographics and liked titles) and
``--include-new-movies FILE.csv`` (new titles ranked for ``--user``): :mod:`graphrec.inductive`.
"""
from __future__ import annotations

from .common import add_data_args, add_device_arg, positive_int, print_json, print_table


def add_parser(sub) -> None:
    p = sub.add_parser("recommend", help="top-k movies a user has not rated")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, help="the dataset's user id (ML-100K: 1..943)")
    who.add_argument("--new-user", action="store_true",
                     help="a user the model never saw, from --gender, --age, --occupation and --liked "
                          "(needs --run of a hetero-sage run)")
    new = p.add_argument_group("new users and movies (hetero-sage runs)")
    new.add_argument("--gender", help="--new-user's gender: F or M")
    new.add_argument("--age", type=int, help="--new-user's age in years")
    new.add_argument("--occupation", help="--new-user's occupation, e.g. student (an invalid one lists them all)")
    new.add_argument("--liked", default="", help='titles --new-user liked, comma-separated: "Star Wars,Fargo"')
    new.add_argument("--include-new-movies", metavar="FILE.csv",
                     help="rank the new movies of this CSV (columns title, year, genres with | between genres) "
                          "for --user")
    p.add_argument("-k", type=positive_int, default=10, help="how many movies (default 10)")
    p.add_argument("--run", help="a run directory (default: a NeuMF on ML-100K, trained on first use "
                                 "and cached under $GRAPHREC_HOME)")
    p.add_argument("--explain", action="store_true",
                   help="per movie: its top contributing feature groups and the user's most similar movie rated >= 4 "
                        "(without --run this uses the default feature model, as NeuMF has no feature groups)")
    p.add_argument("--method", choices=["ig", "shap", "lime"], default="ig", help="attribution engine for --explain")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_device_arg(p, "the model scores (and the default model trains); explanations run on the CPU")
    add_data_args(p, split=False)
    p.set_defaults(func=run)


def liked_titles(text: str) -> list[str]:
    """``"Star Wars,Usual Suspects, The"`` -> ``["Star Wars", "Usual Suspects, The"]``: a piece that is
    only a trailing article (MovieLens writes "Title, The") belongs to the title before it."""
    out: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        head = piece.split(" (")[0].strip().lower()
        if out and head in ("the", "a", "an", "la", "le", "les", "l'", "il", "el", "das", "der", "die"):
            out[-1] = f"{out[-1]}, {piece}"
        elif piece:
            out.append(piece)
    return out


def run_new(args) -> int:
    """``--new-user`` and ``--include-new-movies``: recommendations from a hetero-sage run's features."""
    from ..errors import GraphrecError
    from ..training.runs import load_run
    from ..training.trainer import num_threads

    if not args.run:
        raise GraphrecError("--new-user and --include-new-movies need --run: a hetero-sage run "
                            "(graphrec train hetero-sage)")
    if args.new_user:
        missing = [f"--{f}" for f in ("gender", "age", "occupation") if getattr(args, f) is None]
        if missing:
            raise GraphrecError(f"--new-user needs {', '.join(missing)}")
    r = load_run(args.run)
    if r.ml is None:
        raise GraphrecError(f"{args.run}: the run's MovieLens files are needed for titles and features")
    with num_threads(1):
        if args.new_user:
            recs = r.recommend_new_user(args.gender, args.age, args.occupation, liked_titles(args.liked), args.k)
            who = f"a new user ({args.gender}, {args.age}, {args.occupation}; liked: {args.liked or 'nothing yet'})"
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
    return 0


def run(args) -> int:
    if args.new_user or args.include_new_movies:
        return run_new(args)
    from ..data import load_movielens
    from ..cache import default_feature_model, default_neumf
    from ..recommend import recommend
    from ..training.runs import load_run

    if args.run:
        r = load_run(args.run)
    elif args.explain:
        ml = load_movielens("ml-100k", args.data_dir, on_bad_rows=args.on_bad_rows)
        ml.user_index(args.user)
        data = _split(ml)
        r = load_run(default_feature_model(ml, data, progress=not args.quiet, device=args.device), data)
    else:
        ml = load_movielens("ml-100k", args.data_dir, on_bad_rows=args.on_bad_rows)
        ml.user_index(args.user)  # refuse an unknown user before training anything
        data = _split(ml)
        r = load_run(default_neumf(args.data_dir, progress=not args.quiet, data=data, device=args.device), data)
    ml = r.ml if r.ml is not None else (load_movielens(args.dataset, args.data_dir, on_bad_rows=args.on_bad_rows)
                                      if args.data_dir else None)
    from ..training.trainer import num_threads

    from ..device import on_device, resolve_device

    with num_threads(1):
        recs = recommend(on_device(r.model, resolve_device(args.device)), r.split(), ml, args.user, args.k)
        r.model.cpu()
        if args.explain:
            add_explanations(recs, r.model, r.split(), ml, args)
    if args.json:
        print_json({"user": args.user, "run": str(r.path), "recommendations": recs})
        return 0
    print(f"top {len(recs)} unseen movies for user {args.user} ({r.config.model}, {r.path})")
    print_table([{"rank": x["rank"], "movie": x["movie_id"], "title": x["title"], "year": x["year"] or "",
                  "genres": ", ".join(x["genres"]), "score": x["score"]} for x in recs], floatfmt=".3f")
    if args.explain:
        print(f"\nwhy ({args.method} contributions to the logit; 'because you liked' = closest item embedding "
              "among the user's movies rated >= 4):" if "why" in recs[0] else "")
        for x in recs:
            why = ", ".join(f"{g['value']} {g['contribution']:+.2f}" for g in x.get("why", []))
            liked = f"because you liked {x['because_you_liked']['title']}" if "because_you_liked" in x else ""
            print(f"{x['rank']:>3}. {x['title']}: " + "; ".join(t for t in (why, liked) if t))
    return 0


def add_explanations(recs: list[dict], model, split, ml, args) -> None:
    """Add ``why`` (top groups, feature models only) and ``because_you_liked`` to each recommendation."""
    from ..data import FeatureTable
    from ..explain import make_explainer
    from ..explain.recommend import explain_recommendations

    if not recs:
        return
    from ..models import capabilities

    features = capabilities(model).explainable
    explainer = make_explainer(args.method, model, split) if features else None
    items = [ml.movie_index(x["movie_id"]) for x in recs]
    for x, e in zip(recs, explain_recommendations(model, split, ml.user_index(args.user), items, explainer,
                                                  FeatureTable.from_movielens(ml) if features else None)):
        if "top_groups" in e:
            x["why"] = e["top_groups"]
        if "because_you_liked" in e:
            row = ml.movies.iloc[e["because_you_liked"]]
            x["because_you_liked"] = {"movie_id": int(row["raw_id"]), "title": str(row["title"]),
                                      "similarity": e["similarity"]}


def _split(ml):
    from ..pipeline import prepare
    from ..recommend import DEFAULT_CONFIG

    return prepare(DEFAULT_CONFIG, ml)
