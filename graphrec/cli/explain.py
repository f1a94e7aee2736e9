"""``graphrec explain``: why a feature model scores a user-movie pair as it does, or which groups matter overall."""
from __future__ import annotations

from pathlib import Path

from ..errors import GraphrecError
from .common import (add_data_args, add_device_arg, add_progress_args, load_data, positive_int, print_json,
                     print_table, seed_int)


def add_parser(sub) -> None:
    p = sub.add_parser("explain", help="per-feature-group contributions to one prediction (or globally)",
                       description="Signed contributions of each feature group (user id, movie id, gender, age, "
                                   "occupation, genres, year) to a feature model's logit for one user-movie "
                                   "pair, or, with --global, their mean |contribution| over a sample of test pairs.")
    p.add_argument("--user", type=int, help="the dataset's user id (required unless --global)")
    p.add_argument("--movie", type=int, help="the dataset's movie id (required unless --global)")
    p.add_argument("--method", choices=["ig", "shap", "lime"], default="ig",
                   help="ig: Captum integrated gradients (default); shap: exact SHAP over the groups; lime: Captum LIME")
    p.add_argument("--run", help="run directory of a feature model (default: a feature-mlp trained on first use)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--plot", help="write a waterfall (or, with --global, bar) chart PNG here")
    p.add_argument("--attention-map", metavar="PNG",
                   help="attention models (att-neumf, att-neumf-all): also write the attention across feature "
                        "fields for this pair as a heat-map PNG")
    p.add_argument("--global", dest="global_", action="store_true",
                   help="mean |contribution| per group over a seeded sample of test pairs")
    p.add_argument("--pairs", type=positive_int, default=200, help="test pairs for --global (default 200)")
    p.add_argument("--out", default="explanations", help="folder for --global's PNGs (default ./explanations)")
    p.add_argument("--background", type=positive_int, default=64, help="training rows in the SHAP/LIME background (default 64)")
    p.add_argument("--seed", type=seed_int, default=0, help="seeds the background and the sampled pairs (default 0)")
    add_device_arg(p, "the default feature model trains on first use; attributions run on the CPU")
    add_data_args(p, split=False)
    add_progress_args(p)
    p.set_defaults(func=run)


def load_feature_model(args):
    """The feature model to explain as a :class:`graphrec.api.TrainedRun`: ``--run``, or the default
    feature model (trained on first use)."""
    from ..api import load_run
    from ..explain import check_group_model

    cache = not args.no_cache
    path = args.run
    if not path:
        from ..defaults import default_feature_dir, default_feature_model, feature_config
        from ..data.movielens import locate
        from ..training.runs import METRICS

        path = default_feature_dir(locate(args.dataset, args.data_dir)[0])
        if not (path / METRICS).is_file():  # first use: train it
            from ..pipeline import prepare

            ml = load_data(args)
            if args.user is not None and args.movie is not None:  # refuse unknown ids before training anything
                ml.user_index(args.user), ml.movie_index(args.movie)
            default_feature_model(ml, prepare(feature_config(ml), ml, cache=cache), progress=args.progress,
                                  device=args.device)
    run = load_run(path, data_dir=args.data_dir, cache=cache, force=args.force)
    check_group_model(run.model)
    return run


def run(args) -> int:
    from ..device import num_threads

    with num_threads(1):  # small models: one intra-op thread is fastest
        return explain(args)


def explain(args) -> int:
    if not args.global_ and (args.user is None or args.movie is None):
        raise GraphrecError("give --user and --movie (dataset ids), or --global")
    if args.global_ and args.attention_map:
        raise GraphrecError("--attention-map shows one prediction: give --user and --movie instead of --global")
    r = load_feature_model(args)
    import torch

    from ..explain import make_explainer

    model, split, catalog, table = r.model, r.split, r.catalog, r.features
    explainer = make_explainer(args.method, model, split, background=args.background, seed=args.seed)
    if args.global_:
        return explain_global(args, model, split, explainer)
    u, i = catalog.user_index(args.user), catalog.movie_index(args.movie)
    if u >= model.num_users or i >= model.num_items:
        raise GraphrecError(f"the model scores {model.num_users} users x {model.num_items} movies; "
                            f"user {args.user} or movie {args.movie} lies outside them")
    title = catalog.titles[i]
    if args.attention_map:
        from ..explain.attention_map import attention_map, plot_attention_map

        maps = attention_map(model, u, i)
        plot_attention_map(maps, args.attention_map, [table.describe(g, u, i) for g in maps["groups"]],
                           title=f"user {args.user} x {title}")
    attr = explainer.attribute(torch.tensor([u]), torch.tensor([i]))
    if args.plot:
        from ..explain.plots import plot_local

        plot_local(attr, args.plot, table, title=f"user {args.user} x {title}: {args.method}")
    if args.json:
        print_json({"user": args.user, "movie": args.movie, "title": title, **attr.to_dict(table)})
        return 0
    d = attr.to_dict(table)
    print(f"user {args.user} ({', '.join(table.describe(g, u, i) for g in ('gender', 'age', 'occupation'))}) "
          f"x movie {args.movie} {title!r}")
    print(f"predicted score {d['score']:.4f} (logit {d['logit']:+.4f}); {args.method} baseline logit "
          f"{d['baseline']:+.4f}; unexplained {d['delta']:+.4f}")
    print(", ".join(f"{r['value']} {r['contribution']:+.2f}" for r in d["contributions"]))
    print_table([{"group": r["group"], "value": r["value"], "contribution": f"{r['contribution']:+.4f}"}
                 for r in d["contributions"]])
    for path in (args.plot, args.attention_map):
        if path:
            print(f"wrote {path}")
    return 0


def explain_global(args, model, split, explainer) -> int:
    from ..explain import sample_pairs
    from ..explain.plots import plot_beeswarm, plot_importance

    users, items = sample_pairs(split, args.pairs, args.seed)
    attr = explainer.attribute(users, items)
    imp, signed = attr.mean_abs(), dict(zip(attr.groups, attr.values.mean(0).tolist()))
    out = Path(args.out)
    bar = Path(args.plot) if args.plot else out / f"importance-{args.method}.png"
    swarm = out / f"beeswarm-{args.method}.png"
    plot_importance(attr, bar)
    plot_beeswarm(attr, swarm, attr.colour(model))
    rows = [{"group": g, "mean_abs": imp[g], "mean": signed[g]} for g in sorted(imp, key=lambda g: -imp[g])]
    if args.json:
        print_json({"method": args.method, "pairs": len(attr), "seed": args.seed, "groups": rows,
                    "mean_abs_delta": float(attr.delta.abs().mean()), "plots": [str(bar), str(swarm)]})
        return 0
    print(f"{args.method}: mean |contribution to the logit| over {len(attr)} test pairs (seed {args.seed})")
    print_table([{"group": r["group"], "mean |contribution|": r["mean_abs"], "mean contribution": r["mean"]}
                 for r in rows])
    print(f"wrote {bar} and {swarm}")
    return 0
