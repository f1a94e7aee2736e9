"""``graphrec benchmark --suite similar``: neighbour quality of graph and walk options for ``graphrec similar``:
choose on validation, report on test.

Every option is an :class:`~graphrec.embeddings.EmbeddingConfig`: :data:`graphrec.catalogue.SIMILAR_BASE` with
the fields of one of :data:`graphrec.catalogue.SIMILAR_OPTIONS` changed (``--only`` prefixes, ``--extra
NAME=JSON`` more), trained on the leave-one-out split's **training edges** (so the held-out items are unseen),
for each seed 0, 1, ... (``--seeds``, default 3). Per option, on validation:

* ``valid_HR``: item-to-item HR@10 on the validation items (query = the user's latest training movie);
* ``fr_choose``: franchise recall@10 on the *choosing* half of the franchises found from titles
  (:func:`graphrec.embeddings.franchise.split_franchises`, seed 0, Star Wars forced into it);
* ``coh``: genre coherence@10; ``top100``: share of neighbours among the 100 most-rated movies;
  ``pop``: popularity bias (mean log(1 + ratings) of the 10 nearest minus the movie's own);
* ``sw@5``: how many of The Empire Strikes Back and Return of the Jedi are among Star Wars' 5 nearest.

**Rule** (:func:`choose`): among the options whose seed-mean ``valid_HR`` is at least the item-item cosine's
and whose ``top100`` is at most the cosine's, the highest ``J = (fr_choose + coh) / 2``. Then, for the chosen
option, the old default and the cosine: test item-to-item HR@10 (query = validation movie, target = test
movie) with a paired bootstrap against the cosine, and franchise recall on the *reporting* half, which no
choice looked at (``--skip-test``: validation only; ``--merge A.json,B.json``: choose among earlier runs'
validation rows, then the test rows). ``--quick``: one seed, the first two options, the catalogue's quick
node2vec widths and one epoch. Writes ``similar.md`` and ``similar.json``.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from ...catalogue import QUICK_HPARAMS, SIMILAR_BASE, SIMILAR_OPTIONS
from ...config import DataConfig
from ...data import load_movielens
from ...embeddings import EmbeddingConfig, fit_embeddings
from ...embeddings.franchise import franchise_groups, split_franchises
from ...embeddings.quality import franchise_recall, item_cosine, item_to_item, popularity_bias, top_k
from ...embeddings.similarity import neighbour_coherence
from ...errors import GraphrecError
from ...metrics import paired_bootstrap
from ...pipeline import prepare
from . import save

COLUMNS = ("valid_HR", "fr_choose", "coh", "top100", "pop", "sw@5", "J", "seconds")
TEST_COLUMNS = ("test_HR", "fr_report", "fr_all", "coh", "top100", "pop", "sw@5")


def star_wars_at5(sim, titles: list[str]) -> float:
    names = ("Star Wars (1977)", "Empire Strikes Back, The (1980)", "Return of the Jedi (1983)")
    if not all(n in titles for n in names):
        return math.nan
    near = set(top_k(sim, torch.tensor([titles.index(names[0])]), 5)[0].tolist())
    return float(len(near & {titles.index(names[1]), titles.index(names[2])}))


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
    ok = {n: r for n, r in ok.items() if not math.isnan(r["J"])} or ok
    return max(ok, key=lambda n: 0.0 if math.isnan(ok[n]["J"]) else ok[n]["J"]) if ok else None


def row(name: str, r: dict, columns) -> str:
    return f"| {name} | " + " | ".join(f"{r.get(c, math.nan):.4f}" for c in columns) + " |"


def run(args, out: Path) -> list[Path]:
    seeds = list(range(args.seeds if "seeds" in args.given else (1 if args.quick else 3)))
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir, args.split_dir, args.split_seed), ml).split
    titles, genres = list(ml.movies["title"]), ml.genre_matrix()
    groups = franchise_groups(titles)
    pick, report = split_franchises(groups)
    options = list(SIMILAR_OPTIONS[:2] if args.quick else SIMILAR_OPTIONS)
    for spec in args.extra:
        name, eq, value = spec.partition("=")
        try:
            change = json.loads(value) if eq else None
        except json.JSONDecodeError:
            change = None
        if not isinstance(change, dict):
            raise GraphrecError(f"--extra {spec}: expected NAME=JSON, the JSON an object of embedding settings")
        options.append((name, change))
    if args.only:
        wanted = args.only.split(",")
        options = [(n, o) for n, o in options if any(n.startswith(w) for w in wanted)]
    quick = {**QUICK_HPARAMS["node2vec"], "epochs": 1} if args.quick else {}
    cap = {**quick, **({"epochs": args.epochs} if args.epochs else {})}

    def config(change: dict, seed: int = 0) -> EmbeddingConfig:
        try:
            c = replace(EmbeddingConfig(), **{**SIMILAR_BASE, **change, **cap, "seed": seed, "workers": 1})
        except TypeError as e:
            raise GraphrecError(f"embedding option {change}: {e}") from None
        c.check()
        return c

    lines = [f"Franchises from titles: {len(groups)} ({sum(map(len, groups.values()))} movies); choosing half: "
             f"{', '.join(pick)}; reporting half: {', '.join(report)}; seeds {seeds}\n",
             "| option | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    cos = measure(item_cosine(split), split, titles, genres, pick)
    lines.append(row("item-item cosine (training matrix)", cos, COLUMNS))
    results, configs = {}, {}
    if args.merge:
        options = []
        for path in args.merge.split(","):
            try:
                d = json.loads(Path(path).read_text())
                results.update(d["valid"])
                configs.update(d["configs"])
            except (OSError, ValueError, KeyError) as e:
                raise GraphrecError(f"--merge {path}: not a similar.json of this suite ({e})") from None
        lines += [row(name, r, COLUMNS) for name, r in results.items()]
    for name, change in options:
        rows = []
        for s in seeds:
            t0 = time.perf_counter()
            emb = fit_embeddings(split, config(change, s), progress=False, genres=genres)
            took = time.perf_counter() - t0
            rows.append({**measure(emb.movie, split, titles, genres, pick), "seconds": took})
        results[name], configs[name] = mean_rows(rows), asdict(config(change))
        lines.append(row(name, results[name], COLUMNS))
        print(lines[-1], flush=True)
    best = choose(results, cos)
    lines.append(f"\nRule: valid_HR >= cosine's {cos['valid_HR']:.4f} and top100 <= cosine's {cos['top100']:.4f}, "
                 f"then the highest J = (fr_choose + coh) / 2: **{best}**")
    final = {}
    if best is not None and not args.skip_test:
        cos_t = measure(item_cosine(split), split, titles, genres, pick, report, on=("test",))
        lines += ["\n| on test | " + " | ".join(TEST_COLUMNS) + " | test HR - cosine [95% CI] |",
                  "|---|" + "---|" * (len(TEST_COLUMNS) + 1), row("item-item cosine", cos_t, TEST_COLUMNS) + " |"]
        old = SIMILAR_OPTIONS[0][0]
        configs.setdefault(old, asdict(config({})))
        for name in dict.fromkeys([best, old]):
            rows = []
            for s in seeds:
                emb = fit_embeddings(split, EmbeddingConfig(**{**configs[name], "seed": s}), progress=False,
                                     genres=genres)
                rows.append(measure(emb.movie, split, titles, genres, pick, report, on=("test",)))
            m = mean_rows(rows)
            d, lo, hi = paired_bootstrap(np.mean([r["test_per_user"] for r in rows], 0), cos_t["test_per_user"])
            final[name] = {**m, "test_HR_minus_cosine": [d, lo, hi]}
            lines.append(row(name, m, TEST_COLUMNS) + f" {d:+.4f} [{lo:+.4f}, {hi:+.4f}] |")
        final["cosine"] = {k: v for k, v in cos_t.items() if not k.endswith("per_user")}
    text = "\n".join(lines) + "\n"
    print(text)
    return [save(out / "similar.md", text),
            save(out / "similar.json", {"seeds": seeds, "choose": pick, "report": report, "cosine_valid": cos,
                                        "valid": results, "configs": configs, "chosen": best, "test": final})]
