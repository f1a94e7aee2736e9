"""``graphrec recommend --user ID``: a user's top-k unseen movies from a run or the embedded default."""
from __future__ import annotations

from .common import add_data_args, add_device_arg, positive_int, print_json, print_table


def add_parser(sub) -> None:
    p = sub.add_parser("recommend", help="top-k movies a user has not rated")
    p.add_argument("--user", type=int, required=True, help="the dataset's user id (ML-100K: 1..943)")
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


def run(args) -> int:
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
