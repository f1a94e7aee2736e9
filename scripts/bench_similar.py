"""Neighbour quality of graph and walk options for ``graphrec similar``: choose on validation, report on test.

    python scripts/bench_similar.py [--data-dir DIR] [--seeds 0,1,2] [--only NAME,...] [--json FILE]

Every option is an :class:`~graphrec.embeddings.EmbeddingConfig` (the current defaults with a few
fields changed, :data:`OPTIONS`), trained on the leave-one-out split's **training edges** (so the
held-out items are unseen), one torch thread, for each seed. Per option, on validation:

* ``valid HR``: item-to-item HR@10 on the validation items (query = the user's latest training movie);
* ``fr choose``: franchise recall@10 on the *choosing* half of the franchises found from titles
  (:func:`graphrec.embeddings.franchise.split_franchises`, seed 0, Star Wars forced into it);
* ``coh``: genre coherence@10; ``top100``: share of neighbours among the 100 most-rated movies;
  ``pop``: popularity bias (mean log(1 + ratings) of the 10 nearest minus the movie's own);
* ``sw@5``: how many of The Empire Strikes Back and Return of the Jedi are among Star Wars' 5 nearest.

**Rule** (:func:`choose`): among the options whose seed-mean ``valid HR`` is at least the item-item
cosine's and whose ``top100`` is at most the cosine's (the issue's floors, checked on validation),
the highest ``J = (fr choose + coh) / 2``. Then, for the chosen option, the current default and the
cosine: test item-to-item HR@10 (query = validation movie, target = test movie) with a paired
bootstrap against the cosine, and franchise recall on the *reporting* half of the franchises, which
no choice looked at.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace

import numpy as np
import torch

from graphrec.data import load_movielens
from graphrec.embeddings import EmbeddingConfig, fit_embeddings
from graphrec.embeddings.franchise import franchise_groups, split_franchises
from graphrec.embeddings.quality import franchise_recall, item_cosine, item_to_item, popularity_bias, top_k
from graphrec.embeddings.similarity import neighbour_coherence
from graphrec.metrics import paired_bootstrap
from graphrec.pipeline import prepare
from graphrec.config import DataConfig

OLD = dict(graph="comovie", weight="jaccard", neighbours=10, window=5, epochs=2, content=0.0, liked=0.0, span=0)
#: (name, fields changed from the issue-13 default OLD).
OPTIONS: list[tuple[str, dict]] = [
    ("old default (jaccard, K=10, window 5)", {}),
    ("weight cosine", {"weight": "cosine"}),
    ("weight pmi", {"weight": "pmi"}),
    ("weight lift (PMI, shrink 10)", {"weight": "lift"}),
    ("weight lift, shrink 100", {"weight": "lift", "shrink": 100.0}),
    ("weight jaclift (sqrt jaccard x lift)", {"weight": "jaclift"}),
    ("liked: both >= 4 stars", {"liked": 4.0}),
    ("span 10 (rated <= 10 apart)", {"span": 10}),
    ("span 50", {"span": 50}),
    ("history walks, 10 epochs, window 10", {"graph": "history", "epochs": 10, "window": 10}),
    ("window 2", {"window": 2}),
    ("window 1, p 0.25 (BFS-like)", {"window": 1, "p": 0.25}),
    ("p 0.25, q 4 (local walks)", {"p": 0.25, "q": 4.0}),
    ("neighbours 5", {"neighbours": 5}),
    ("content 0.25", {"content": 0.25}),
    ("content 0.5", {"content": 0.5}),
    ("content 1", {"content": 1.0}),
    ("metapath, genre steps 0.1", {"graph": "metapath", "content": 0.1}),
    ("metapath, genre steps 0.3", {"graph": "metapath", "content": 0.3}),
    ("period 10 (same-era discount)", {"period": 10.0}),
    ("jaclift, K=5", {"weight": "jaclift", "neighbours": 5}),
    ("jaclift, K=5, metapath 0.1", {"weight": "jaclift", "neighbours": 5, "graph": "metapath", "content": 0.1}),
    ("jaclift, K=5, metapath 0.3", {"weight": "jaclift", "neighbours": 5, "graph": "metapath", "content": 0.3}),
    ("jaclift, K=5, content 0.25", {"weight": "jaclift", "neighbours": 5, "content": 0.25}),
]


def star_wars_at5(sim, titles: list[str]) -> int:
    near = set(top_k(sim, torch.tensor([titles.index("Star Wars (1977)")]), 5)[0].tolist())
    return len(near & {titles.index("Empire Strikes Back, The (1980)"), titles.index("Return of the Jedi (1983)")})


def measure(sim, split, titles, genres, choose, report=None, on=("valid",)) -> dict:
    out = {}
    for o in on:
        r = item_to_item(sim, split, o, per_user=o == "test")
        out[f"{o}_HR"] = r["i2i_HR@10"]
        if o == "test":
            out["test_per_user"] = r["per_user"]["i2i_HR@10"]
    out["fr_choose"] = franchise_recall(sim, titles, 10, choose)["franchise@10"]
    if report is not None:
        out["fr_report"] = franchise_recall(sim, titles, 10, report)["franchise@10"]
        out["fr_all"] = franchise_recall(sim, titles, 10)["franchise@10"]
    has = torch.nonzero(torch.as_tensor(genres).sum(1) > 0).flatten()
    out["coh"] = neighbour_coherence(genres, has, top_k(sim, has, 10))[0]
    p = popularity_bias(sim, torch.bincount(split.train_item, minlength=split.num_items))
    out["top100"], out["pop"] = p["top100"], p["pop_bias"]
    out["sw@5"] = star_wars_at5(sim, titles)
    out["J"] = (out["fr_choose"] + out["coh"]) / 2
    return out


def mean_rows(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if not k.endswith("per_user")]
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


def choose(results: dict[str, dict], cosine: dict) -> str | None:
    ok = {n: r for n, r in results.items() if r["valid_HR"] >= cosine["valid_HR"] and r["top100"] <= cosine["top100"]}
    return max(ok, key=lambda n: ok[n]["J"]) if ok else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--only", default=None, help="comma-separated option names (prefixes) to run")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=JSON",
                   help='another option, e.g. \'lift+c0.75={"weight": "lift", "content": 0.75}\'')
    p.add_argument("--json", default=None)
    p.add_argument("--skip-test", action="store_true", help="validation rows only (to --merge later)")
    p.add_argument("--merge", default=None, metavar="A.json,B.json",
                   help="choose among the validation rows of earlier --json files, then run the test rows")
    args = p.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir), ml).split
    titles, genres = list(ml.movies["title"]), ml.genre_matrix()
    groups = franchise_groups(titles)
    pick, report = split_franchises(groups)
    print(f"# franchises from titles: {len(groups)} ({sum(map(len, groups.values()))} movies); choosing half: "
          f"{', '.join(pick)}; reporting half: {', '.join(report)}", flush=True)
    options = OPTIONS + [(n, json.loads(v)) for n, _, v in (e.partition("=") for e in args.extra)]
    if args.only:
        wanted = args.only.split(",")
        options = [(n, o) for n, o in options if any(n.startswith(w) for w in wanted)]
    base = replace(EmbeddingConfig(), **OLD)
    cos = measure(item_cosine(split), split, titles, genres, pick)
    cols = ("valid_HR", "fr_choose", "coh", "top100", "pop", "sw@5", "J", "seconds")
    print(f"{'option':<40}" + "".join(f"{c:>10}" for c in cols), flush=True)
    print(f"{'item-item cosine (training matrix)':<40}" + "".join(
        f"{cos.get(c, float('nan')):>10.4f}" for c in cols), flush=True)
    results, configs = {}, {}
    if args.merge:
        options = []
        for path in args.merge.split(","):
            with open(path) as f:
                d = json.load(f)
            results.update(d["valid"])
            configs.update(d["configs"])
        for name, r in results.items():
            print(f"{name:<40}" + "".join(f"{r[c]:>10.4f}" for c in cols), flush=True)
    for name, change in options:
        rows = []
        for s in seeds:
            c = replace(base, **change, seed=s, workers=1)
            t0 = time.perf_counter()
            emb = fit_embeddings(split, c, progress=False, genres=genres)
            took = time.perf_counter() - t0
            rows.append({**measure(emb.movie, split, titles, genres, pick), "seconds": took})
        results[name], configs[name] = mean_rows(rows), asdict(replace(base, **change))
        print(f"{name:<40}" + "".join(f"{results[name][c]:>10.4f}" for c in cols), flush=True)
    best = choose(results, cos)
    print(f"\n# rule: valid_HR >= cosine's {cos['valid_HR']:.4f} and top100 <= cosine's {cos['top100']:.4f}, "
          f"then the highest J = (fr_choose + coh) / 2: {best}")
    final = {}
    if best is not None and not args.skip_test:
        tcols = ("test_HR", "fr_report", "fr_all", "coh", "top100", "pop", "sw@5")
        cos_t = measure(item_cosine(split), split, titles, genres, pick, report, on=("test",))
        print(f"\n{'on test':<40}" + "".join(f"{c:>10}" for c in tcols) + "   test HR - cosine [95% CI]")
        print(f"{'item-item cosine':<40}" + "".join(f"{cos_t[c]:>10.4f}" for c in tcols))
        configs.setdefault(OPTIONS[0][0], asdict(base))
        for name in dict.fromkeys([best, OPTIONS[0][0]]):
            rows = []
            for s in seeds:
                emb = fit_embeddings(split, EmbeddingConfig(**{**configs[name], "seed": s}), progress=False,
                                     genres=genres)
                rows.append(measure(emb.movie, split, titles, genres, pick, report, on=("test",)))
            m = mean_rows(rows)
            d, lo, hi = paired_bootstrap(np.mean([r["test_per_user"] for r in rows], 0), cos_t["test_per_user"])
            final[name] = {**m, "test_HR_minus_cosine": [d, lo, hi]}
            print(f"{name:<40}" + "".join(f"{m[c]:>10.4f}" for c in tcols) + f"   {d:+.4f} [{lo:+.4f}, {hi:+.4f}]")
        final["cosine"] = {k: v for k, v in cos_t.items() if not k.endswith("per_user")}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seeds": seeds, "choose": pick, "report": report, "cosine_valid": cos, "valid": results,
                       "configs": configs, "chosen": best, "test": final}, f, indent=2, default=float)


if __name__ == "__main__":
    main()
