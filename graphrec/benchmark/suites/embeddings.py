"""``graphrec benchmark --suite embeddings``: neighbour quality and speed of movie embeddings: graphrec's
word2vec, gensim, PyG's Node2Vec and two baselines.

Rows (``--rows``, default all; ``--quick``: word2vec, cosine, popularity):

* ``word2vec``: graphrec's from-scratch skip-gram on node2vec walks (``graphrec embed node2vec``'s settings,
  :class:`~graphrec.embeddings.EmbeddingConfig`, changed by ``--set FIELD=VALUE`` and ``--epochs``);
* ``gensim``: ``gensim.models.Word2Vec(sg=1)`` on exactly the same walks and settings (benchmark-only dependency);
* ``pyg``: :class:`torch_geometric.nn.Node2Vec`, which draws its own walks (``--pyg-epochs``; ``--pyg-budget
  SECONDS``: validation i2i HR@10 after every epoch, stopping past that much training: the quality/time curve);
* ``cosine``: item-item cosine of the binary training matrix (the baseline to beat);
* ``popularity``: every movie's neighbours are the most-rated movies.

Quality (embeddings from the leave-one-out split's training edges only, :mod:`graphrec.embeddings.quality`):
item-to-item HR@10/NDCG@10 on validation (query = latest training movie, target = validation movie; what
tuning may look at) and on test (query = validation movie, target = test movie), genre coherence@10,
popularity bias of the 10 nearest, the sequel check and the mean pairwise cosine (collapse: near 1).
Time, in seconds of wall clock: ``walks_s`` (shared by word2vec and gensim), ``setup_s`` (gensim's vocabulary),
``train_s`` and ``total_s``: walks + training for graphrec's word2vec, vocabulary + training for gensim (its
walks are not counted), training for PyG (it walks inside its epochs); ``x_gensim`` is ``total_s`` over
gensim's in the same run, at the same ``--threads`` (torch threads, word2vec Hogwild workers, gensim workers).

``--vary FIELD=V1,V2`` (repeatable) runs a tuning sweep instead: word2vec rows with one field changed at a
time, validation figures only. Writes ``embeddings.md`` and ``embeddings.json`` (or ``sweep.md``, ``sweep.json``).
"""
from __future__ import annotations

import time
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch

from ...catalogue import QUICK_HPARAMS
from ...config import DataConfig
from ...data import load_movielens
from ...embeddings import EmbeddingConfig, fit_embeddings
from ...embeddings.node2vec import movie_vectors, movie_walks
from ...embeddings.quality import item_cosine, item_to_item, neighbour_quality, popularity, top_k
from ...embeddings.walks import graph_for
from ...errors import GraphrecError
from ...pipeline import prepare
from . import save

ROWS = ("word2vec", "gensim", "pyg", "cosine", "popularity")
QUICK_ROWS = ("word2vec", "cosine", "popularity")
COLUMNS = ("row", "valid_i2i_HR@10", "test_i2i_HR@10", "test_i2i_NDCG@10", "coherence@10", "pop_bias", "top100",
           "sequels@10", "franchise@10", "mean_cosine", "walks_s", "setup_s", "train_s", "total_s", "x_gensim")
STAR_WARS = "Star Wars (1977)"


def field_value(key: str, text: str):
    """``text`` as the type of :class:`EmbeddingConfig`'s field ``key``; one clear line if it is not one."""
    kinds = {f.name for f in fields(EmbeddingConfig)}
    if key not in kinds:
        raise GraphrecError(f"unknown embedding setting {key!r}: choose among {', '.join(sorted(kinds))}")
    default = getattr(EmbeddingConfig(), key)
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if default is None:
            return None if text.lower() == "none" else (float(text) if any(c in text for c in ".e") else int(text))
        return type(default)(text)
    except ValueError:
        raise GraphrecError(f"embedding setting {key}={text}: not a {type(default).__name__}") from None


def base_config(args) -> EmbeddingConfig:
    c = EmbeddingConfig(**(QUICK_HPARAMS["node2vec"] if args.quick else {}),
                        **({"epochs": 1} if args.quick else {}))
    for spec in args.set:
        key, eq, value = spec.partition("=")
        if not eq:
            raise GraphrecError(f"--set {spec}: expected FIELD=VALUE")
        c = replace(c, **{key: field_value(key, value)})
    if args.epochs:
        c = replace(c, epochs=args.epochs)
    c = replace(c, workers=torch.get_num_threads())
    c.check()
    return c


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


def cell(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def run(args, out: Path) -> list[Path]:
    cfg = base_config(args)
    if args.vary and args.rows:
        raise GraphrecError("--vary runs word2vec rows only: drop --rows")
    rows_wanted = args.rows.split(",") if args.rows else list(QUICK_ROWS if args.quick else ROWS)
    unknown = [r for r in rows_wanted if r not in ROWS]
    if unknown:
        raise GraphrecError(f"--rows: unknown row {unknown[0]!r}: choose among {', '.join(ROWS)}")
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir, args.split_dir, args.split_seed), ml).split
    if args.vary:
        return sweep(args, cfg, ml, split, out)
    threads = torch.get_num_threads()
    titles, genres = list(ml.movies["title"]), ml.genre_matrix()
    graph = graph_for(cfg, split, genres)
    walks, t_walks = None, float("nan")
    rows, neighbours = [], {}
    for row in rows_wanted:
        times = {"walks_s": float("nan"), "setup_s": 0.0, "threads": threads}
        if row in ("word2vec", "gensim") and walks is None:
            t0 = time.perf_counter()
            walks = movie_walks(graph, cfg)
            t_walks = time.perf_counter() - t0
        if row == "word2vec":
            t0 = time.perf_counter()
            sim = fit_embeddings(split, cfg, progress=False, walks=walks, graph=graph).movie
            times.update(walks_s=t_walks, train_s=time.perf_counter() - t0)
            times["total_s"] = t_walks + times["train_s"]
        elif row == "gensim":
            vectors, info = gensim_vectors(walks, graph.num_nodes, cfg, threads)
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
        else:
            sim, times = popularity(split), {}
        q = neighbour_quality(sim, split, titles, genres)
        if STAR_WARS in titles:
            neighbours[row] = [titles[i] for i in top_k(sim, torch.tensor([titles.index(STAR_WARS)]), 10)[0].tolist()]
        rows.append({"row": row, **q, **times})
        print(f"# {row} done", flush=True)
    base = next((g["total_s"] for g in rows if g["row"] == "gensim"), float("nan"))
    for r in rows:
        r["x_gensim"] = r.get("total_s", float("nan")) / base
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(r.get(c, float("nan"))) for c in COLUMNS) + " |" for r in rows]
    lines.append(f"\n{ml.name} split seed {args.split_seed}, training edges only; {threads} thread(s)/worker(s); random "
                 f"genre coherence {rows[0].get('random_coherence', float('nan')):.4f}; config: "
                 + ", ".join(f"{k}={v}" for k, v in asdict(cfg).items() if k not in ("trainer", "all_edges")))
    for r, near in neighbours.items():
        lines.append(f"\n{STAR_WARS}, 10 nearest by {r}: " + "; ".join(near))
    text = "\n".join(lines) + "\n"
    print(text)
    return [save(out / "embeddings.md", text),
            save(out / "embeddings.json", {"rows": rows, "neighbours": neighbours, "config": asdict(cfg),
                                           "threads": threads})]


def sweep(args, base: EmbeddingConfig, ml, split, out: Path) -> list[Path]:
    """One row per varied setting: validation item-to-item quality, collapse and time (no test figures)."""
    titles, genres = list(ml.movies["title"]), ml.genre_matrix()
    settings = [("base", base)]
    for spec in args.vary:
        key, eq, values = spec.partition("=")
        if not eq:
            raise GraphrecError(f"--vary {spec}: expected FIELD=V1,V2")
        for v in values.split(","):
            c = replace(base, **{key: field_value(key, v)})
            c.check()
            settings.append((f"{key}={v}", c))
    cols = ("setting", "valid_i2i_HR@10", "valid_i2i_NDCG@10", "coherence@10", "pop_bias", "sequels@10", "mean_cosine",
            "seconds")
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    found = []
    for name, c in settings:
        t0 = time.perf_counter()
        emb = fit_embeddings(split, c, progress=False)
        q = neighbour_quality(emb.movie, split, titles, genres, on=("valid",))
        q.update(setting=name, seconds=time.perf_counter() - t0)
        found.append({**q, "config": asdict(c)})
        lines.append("| " + " | ".join(cell(q.get(k, float("nan"))) for k in cols) + " |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    return [save(out / "sweep.md", text), save(out / "sweep.json", found)]
