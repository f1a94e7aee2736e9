"""Neighbour quality and speed of movie embeddings: graphrec's word2vec, gensim, PyG's Node2Vec and two baselines.

    python scripts/bench_embeddings.py [--data-dir DIR] [--rows word2vec,gensim,pyg,cosine,popularity]
                                       [--threads 1[,2]] [embedding flags of `graphrec embed node2vec`]

Rows:

* ``word2vec``: graphrec's from-scratch skip-gram on node2vec walks (``graphrec embed node2vec``'s settings);
* ``gensim``: ``gensim.models.Word2Vec(sg=1)`` on exactly the same walks and settings (benchmark-only dependency);
* ``pyg``: :class:`torch_geometric.nn.Node2Vec`, which draws its own walks (``--pyg-epochs``);
* ``cosine``: item-item cosine of the binary training matrix (the baseline to beat);
* ``popularity``: every movie's neighbours are the most-rated movies.

Quality (embeddings from the leave-one-out split's training edges only; see
:mod:`graphrec.embeddings.quality`): item-to-item HR@10/NDCG@10 on validation
(query = latest training movie, target = validation movie; what tuning may look
at) and on test (query = validation movie, target = test movie), genre
coherence@10 (``random``: the same share over all movie pairs), popularity bias
of the 10 nearest (mean log(1 + ratings) minus the query's), the sequel check
and the mean pairwise cosine (collapse: near 1).

Time, in seconds of wall clock: ``walks_s`` (torch-cluster walks, shared by
word2vec and gensim), ``setup_s`` (gensim's vocabulary build), ``train_s`` (all
epochs) and ``total_s``: walks + training for graphrec's word2vec, vocabulary +
training for gensim (its walks are not counted), training for PyG (it walks
inside its epochs). ``x_gensim`` is ``total_s`` over gensim's in the same run, at the same number of
threads (``--threads 1,2`` runs the trained rows once per count, alternating, labelled ``row/Nt``).
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, fields, replace

import numpy as np
import torch

from graphrec.cli.embed import add_node2vec_args, config_from_args
from graphrec.data import load_movielens
from graphrec.embeddings import EmbeddingConfig, fit_embeddings
from graphrec.embeddings.node2vec import movie_vectors, movie_walks
from graphrec.embeddings.quality import item_cosine, item_to_item, neighbour_quality, popularity, top_k
from graphrec.embeddings.walks import graph_for
from graphrec.pipeline import prepare
from graphrec.config import DataConfig

ROWS = ("word2vec", "gensim", "pyg", "cosine", "popularity")
COLUMNS = ("row", "valid_i2i_HR@10", "test_i2i_HR@10", "test_i2i_NDCG@10", "coherence@10", "pop_bias", "top100",
           "sequels@10", "franchise@10",
           "mean_cosine", "walks_s", "setup_s", "train_s", "total_s", "x_gensim")


def gensim_vectors(walks: torch.Tensor, num_nodes: int, c: EmbeddingConfig, threads: int) -> tuple[torch.Tensor, dict]:
    """gensim's skip-gram on ``walks`` (-1 = no token) with ``c``'s settings; nodes it never saw stay 0.

    Its target vectors (``wv``), with its context vectors (``syn1neg``) beside them when ``c.vectors``
    is ``concat``, as graphrec's word2vec row uses them."""
    from gensim.models import Word2Vec

    sentences = [[str(x) for x in row if x >= 0] for row in walks.tolist()]
    t0 = time.perf_counter()
    m = Word2Vec(vector_size=c.dim, window=c.window, negative=c.negatives, ns_exponent=c.ns_exponent, sg=1, hs=0,
                 min_count=1, sample=c.subsample, workers=threads, seed=c.seed, alpha=c.lr or 0.025)
    m.build_vocab(sentences)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    m.train(sentences, total_examples=len(sentences), epochs=c.epochs)
    train = time.perf_counter() - t0
    tables = [m.wv.vectors] + ([m.syn1neg] if c.vectors == "concat" else [])
    out = torch.zeros(num_nodes, c.dim * len(tables))
    for i in range(num_nodes):
        if str(i) in m.wv.key_to_index:
            j = m.wv.key_to_index[str(i)]
            out[i] = torch.cat([torch.from_numpy(t[j]) for t in tables])
    return out, {"setup_s": setup, "train_s": train}


class OverBudget(Exception):
    """Raised by :class:`PygCurve` to end the pyg row once its training time passed the budget."""


class PygCurve:
    """``on_epoch`` hook: validation i2i HR@10 after each epoch against training seconds (evaluation excluded)."""

    def __init__(self, split, budget: float) -> None:
        self.split, self.budget, self.t0, self.eval_s, self.points, self.last = split, budget, time.perf_counter(), 0.0, [], None

    def __call__(self, epoch: int, movie: torch.Tensor) -> None:
        t = time.perf_counter()
        trained = t - self.t0 - self.eval_s
        hr = item_to_item(movie, self.split, "valid")["i2i_HR@10"]
        self.points.append({"epoch": epoch, "train_s": trained, "valid_i2i_HR@10": hr})
        print(f"# pyg epoch {epoch}: {trained:.1f} s of training, valid i2i HR@10 {hr:.4f}", flush=True)
        self.last = movie.clone()
        self.eval_s += time.perf_counter() - t
        if trained > self.budget:
            raise OverBudget


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated rows among {', '.join(ROWS)}")
    p.add_argument("--threads", default="1",
                   help="torch threads, word2vec Hogwild workers and gensim workers; a comma list runs the trained "
                        "rows once per count (default 1)")
    p.add_argument("--pyg-epochs", type=int, default=None, help="epochs of the pyg row (default: --epochs)")
    p.add_argument("--pyg-budget", type=float, default=None, metavar="SECONDS",
                   help="pyg row: print validation i2i HR@10 after every epoch and stop after the epoch that "
                        "passes this many training seconds (the quality/time curve)")
    p.add_argument("--vary", action="append", default=[], metavar="FIELD=V1,V2",
                   help="tuning sweep: word2vec rows with one config field changed at a time (repeatable), "
                        "e.g. --vary subsample=0,1e-3 --vary window=5,20; select on valid_i2i_HR@10 only")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    add_node2vec_args(p)
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    torch.set_num_threads(threads[0])
    cfg = replace(config_from_args(args), workers=threads[0])
    if args.vary:
        return sweep(args, cfg)
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir), ml).split
    titles = list(ml.movies["title"])
    genres = ml.genre_matrix()
    graph = graph_for(cfg, split, genres)
    walks, t_walks = None, float("nan")
    rows, neighbours = [], {}
    trained = ("word2vec", "gensim", "pyg")
    plan = [(row, t) for t in threads for row in args.rows.split(",") if row in trained or t == threads[0]]
    for row, t in plan:
        label = row if len(threads) == 1 or row not in trained else f"{row}/{t}t"
        torch.set_num_threads(t)
        cfg = replace(cfg, workers=t)
        times = {"walks_s": float("nan"), "setup_s": 0.0, "threads": t}
        if row in ("word2vec", "gensim") and walks is None:
            t0 = time.perf_counter()
            walks = movie_walks(graph, cfg)
            t_walks = time.perf_counter() - t0
        if row == "word2vec":
            t0 = time.perf_counter()
            emb = fit_embeddings(split, cfg, progress=False, walks=walks, graph=graph)
            times.update(walks_s=t_walks, train_s=time.perf_counter() - t0)
            times["total_s"] = t_walks + times["train_s"]
            sim = emb.movie
        elif row == "gensim":
            vectors, info = gensim_vectors(walks, graph.num_nodes, cfg, t)
            times.update(walks_s=t_walks, **info)
            times["total_s"] = info["setup_s"] + info["train_s"]
            sim = movie_vectors(vectors, graph, cfg)  # the same movie rows and centring as graphrec's
        elif row == "pyg":
            c = replace(cfg, trainer="pyg", epochs=args.pyg_epochs or cfg.epochs)
            curve = PygCurve(split, args.pyg_budget) if args.pyg_budget else None
            t0 = time.perf_counter()
            try:
                sim = fit_embeddings(split, c, progress=False, graph=graph, on_epoch=curve).movie
            except OverBudget:
                sim = curve.last
            times["train_s"] = times["total_s"] = time.perf_counter() - t0 - (curve.eval_s if curve else 0.0)
            if curve:
                times["curve"] = curve.points
        elif row == "cosine":
            sim, times = item_cosine(split), {}
        elif row == "popularity":
            sim, times = popularity(split), {}
        else:
            raise SystemExit(f"unknown row {row!r}: choose among {', '.join(ROWS)}")
        q = neighbour_quality(sim, split, titles, genres)
        near = top_k(sim, torch.tensor([titles.index("Star Wars (1977)")]), 10)[0].tolist()
        neighbours[label] = [titles[i] for i in near]
        rows.append({"row": label, **q, **times})
        print(f"# {label} done", flush=True)
    for r in rows:
        base = next((g["total_s"] for g in rows if g["row"].split("/")[0] == "gensim"
                     and g.get("threads") == r.get("threads")), float("nan"))
        r["x_gensim"] = r.get("total_s", float("nan")) / base
    print("  ".join(f"{c:>16}" for c in COLUMNS))
    for r in rows:
        vals = [r.get(c, float("nan")) for c in COLUMNS]
        print("  ".join(f"{v:>16.4f}" if isinstance(v, float) else f"{v!s:>16}" for v in vals))
    print(f"\n{ml.name} split seed 0, training edges only; {args.threads} thread(s)/worker(s); random genre coherence "
          f"{rows[0].get('random_coherence', float('nan')):.4f}; config: "
          + ", ".join(f"{k}={v}" for k, v in asdict(cfg).items() if k not in ("trainer", "all_edges")))
    for r, near in neighbours.items():
        print(f"\nStar Wars (1977), 10 nearest by {r}: " + "; ".join(near))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "neighbours": neighbours, "config": asdict(cfg), "threads": threads},
                      f, indent=2, default=float)


def sweep(args, base: EmbeddingConfig) -> None:
    """Print one row per varied setting: validation item-to-item quality, collapse and time (no test figures)."""
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir), ml).split
    titles, genres = list(ml.movies["title"]), ml.genre_matrix()
    kinds = {f.name: f.type for f in fields(EmbeddingConfig)}
    settings = [("base", base)]
    for spec in args.vary:
        key, _, values = spec.partition("=")
        if key not in kinds:
            raise SystemExit(f"--vary: unknown field {key!r}")
        default = getattr(EmbeddingConfig(), key)
        for v in values.split(","):
            conv = (type(default) if default is not None else (float if "." in v or "e" in v else int))(v)
            c = replace(base, **{key: conv})
            c.check()
            settings.append((f"{key}={v}", c))
    cols = ("setting", "valid_i2i_HR@10", "valid_i2i_NDCG@10", "coherence@10", "pop_bias", "sequels@10", "mean_cosine",
            "star_wars@5", "seconds")
    star_wars = titles.index("Star Wars (1977)")
    sequels = {titles.index(t) for t in ("Empire Strikes Back, The (1980)", "Return of the Jedi (1983)")}
    print("  ".join(f"{c:>18}" for c in cols), flush=True)
    out = []
    for name, c in settings:
        t0 = time.perf_counter()
        emb = fit_embeddings(split, c, progress=False)
        q = neighbour_quality(emb.movie, split, titles, genres, on=("valid",))
        q.update(setting=name, seconds=time.perf_counter() - t0,
                 star_wars=len(sequels & set(top_k(emb.movie, torch.tensor([star_wars]), 5)[0].tolist())))
        q["star_wars@5"] = q.pop("star_wars")
        out.append({**q, "config": asdict(c)})
        print("  ".join(f"{q[k]:>18.4f}" if isinstance(q[k], float) else f"{q[k]!s:>18}" for k in cols), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2, default=float)


if __name__ == "__main__":
    main()
