"""``graphrec data``: dataset statistics and split files."""
from __future__ import annotations

from .common import add_data_args, data_config, load_data, print_json, seed_int


def add_parser(sub) -> None:
    p = sub.add_parser("data", help="dataset statistics and NCF-format split files")
    dsub = p.add_subparsers(dest="data_command", metavar="<info|split>", required=True)
    info = dsub.add_parser("info", help="counts, density and degree statistics")
    add_data_args(info, split=False)
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=run_info)
    sp = dsub.add_parser("split", help="write the leave-one-out split as NCF-format files")
    add_data_args(sp, split=False)
    sp.add_argument("--seed", type=seed_int, default=0, help="seed of the test negatives")
    sp.add_argument("--no-validation", action="store_true", help="hold out only the test item")
    sp.add_argument("--cold", action="store_true",
                    help="write the cold-start split instead: 10%% of movies and 10%% of users unseen "
                         "(graphrec.coldstart), seeded by --seed")
    sp.add_argument("--out", required=True, help="output folder")
    sp.set_defaults(func=run_split)


def _degree_stats(deg) -> dict:
    import numpy as np

    return {"min": int(deg.min()), "median": float(np.median(deg)), "mean": float(deg.mean()),
            "max": int(deg.max())}


def dataset_stats(ml) -> dict:
    import numpy as np

    r = ml.ratings
    n = len(r)
    return {
        "dataset": ml.name,
        "path": str(ml.root),
        "users": ml.num_users,
        "movies": ml.num_items,
        "ratings": n,
        "density": n / (ml.num_users * ml.num_items),
        "user_degree": _degree_stats(np.bincount(r["user"], minlength=ml.num_users)),
        "movie_degree": _degree_stats(np.bincount(r["item"], minlength=ml.num_items)),
        "rating_values": {f"{k:g}": int(v) for k, v in r["rating"].value_counts().sort_index().items()},
        "genres": len(ml.genres),
        "user_features": sorted(c for c in ("age", "gender", "occupation") if c in ml.users.columns),
    }


def run_info(args) -> int:
    s = dataset_stats(load_data(args))
    if args.json:
        print_json(s)
        return 0
    print(f"dataset   {s['dataset']}  ({s['path']})")
    print(f"users     {s['users']}")
    print(f"movies    {s['movies']}")
    print(f"ratings   {s['ratings']}")
    print(f"density   {s['density']:.4%}")
    for kind in ("user", "movie"):
        d = s[f"{kind}_degree"]
        print(f"{kind + ' degree':<13} min {d['min']}  median {d['median']:g}  mean {d['mean']:.1f}  max {d['max']}")
    print("ratings   " + "  ".join(f"{k}: {v}" for k, v in s["rating_values"].items()))
    print(f"features  {s['genres']} genres; user features: {', '.join(s['user_features']) or 'none'}")
    return 0


def run_split(args) -> int:
    from dataclasses import replace

    from ..data import save_ncf
    from ..pipeline import build_split

    ml = load_data(args)
    if args.cold:
        return _cold_split(ml, args)
    split = build_split(replace(data_config(args), split_seed=args.seed), ml, validation=not args.no_validation,
                        cache=not args.no_cache).split
    for path in save_ncf(split, args.out, ml):  # written whole: all the split's files appear together, or none does
        print(path)
    s = split.summary()
    print(f"{s['train']} train, {s['valid']} validation, {s['test']} test interactions; "
          f"{s['negatives_per_user']} negatives per held-out item")
    return 0


def _cold_split(ml, args) -> int:
    from pathlib import Path

    from ..coldstart import save_cold
    from ..config import DataConfig
    from ..pipeline import build_cold_split
    from ..io import atomic_dir

    cold = build_cold_split(DataConfig(split_seed=args.seed), ml)
    with atomic_dir(args.out) as tmp:
        written = [Path(args.out) / p.relative_to(tmp) for p in save_cold(cold, tmp)]
    for path in written:
        print(path)
    s = cold.summary()
    print(f"{s['train']} warm training ratings; {s['cold_movies']} cold movies ({s['cold_movie_targets']} targets of "
          f"{s['cold_movie_users']} users); {s['cold_users']} cold users ({s['cold_user_targets']} targets)")
    return 0
