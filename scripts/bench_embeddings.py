"""node2vec embedding quality and speed: graphrec's word2vec, PyG's Node2Vec and gensim on the same walks.

    python scripts/bench_embeddings.py [--data-dir DIR] [--epochs 1] [--window 10] [--trainers word2vec,pyg,gensim]

For each trainer: HR@10/NDCG@10 (sampled among 99 negatives, and full) of
scoring (user, movie) by the dot product of their embeddings on the project's
leave-one-out split (embeddings from training edges only), genre coherence@10
against the random-pair rate, wall time of the walks and of one epoch, and the
10 nearest movies of Star Wars (1977). gensim (``Word2Vec(sg=1)``, benchmark-only
dependency) trains on exactly the walks graphrec's word2vec gets; PyG's
Node2Vec draws its own walks every epoch, so its epoch time includes walking.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from graphrec.data import load_movielens
from graphrec.pipeline import prepare
from graphrec.training import DataConfig
from graphrec.embeddings import (EmbeddingConfig, EmbeddingScorer, bipartite_graph, fit_embeddings, genre_coherence,
                                 match_title, nearest, random_walks)
from graphrec.evaluation import evaluate

SEQUELS = ("Return of the Jedi (1983)", "Empire Strikes Back, The (1980)")


def gensim_vectors(walks: torch.Tensor, num_nodes: int, c: EmbeddingConfig, threads: int) -> tuple[torch.Tensor, dict]:
    from gensim.models import Word2Vec

    sentences = [[str(x) for x in row] for row in walks.tolist()]
    t0 = time.perf_counter()
    m = Word2Vec(vector_size=c.dim, window=c.window, negative=c.negatives,
                 sg=1, hs=0, min_count=1, sample=c.subsample, workers=threads, seed=c.seed, alpha=c.lr or 0.025)
    m.build_vocab(sentences)
    t_vocab = time.perf_counter() - t0
    t0 = time.perf_counter()
    m.train(sentences, total_examples=len(sentences), epochs=c.epochs)
    per_epoch = (time.perf_counter() - t0) / c.epochs
    out = torch.zeros(num_nodes, c.dim)  # nodes no walk visits (movies without training edges) stay 0
    for i in range(num_nodes):
        if str(i) in m.wv.key_to_index:
            out[i] = torch.from_numpy(m.wv[str(i)])
    return out, {"epoch_seconds": [per_epoch] * c.epochs, "vocab_seconds": t_vocab}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--trainers", default="word2vec,pyg,gensim")
    p.add_argument("--threads", type=int, default=1, help="torch threads and gensim workers (default 1: a fair single-core race on a shared machine)")
    d = EmbeddingConfig()
    for name in ("dim", "walk_length", "walks_per_node", "window", "negatives", "epochs", "seed"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name))
    p.add_argument("--row-negatives", type=int, default=None, help="graphrec word2vec: negatives per row (default 2k)")
    p.add_argument("--p", type=float, default=1.0)
    p.add_argument("--q", type=float, default=1.0)
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    split = prepare(DataConfig(args.dataset, args.data_dir), ml).split
    titles = list(ml.movies["title"])
    star_wars = match_title(titles, "Star Wars (1977)")
    genres = ml.genre_matrix()
    cfg = EmbeddingConfig(dim=args.dim, walk_length=args.walk_length, walks_per_node=args.walks_per_node,
                          window=args.window, negatives=args.negatives, epochs=args.epochs, p=args.p, q=args.q,
                          seed=args.seed, row_negatives=args.row_negatives)
    graph = bipartite_graph(split)
    t0 = time.perf_counter()
    walks = random_walks(graph, cfg.walk_length, cfg.walks_per_node, cfg.p, cfg.q, cfg.seed)
    t_walks = time.perf_counter() - t0
    rows, neighbours = [], {}
    for trainer in args.trainers.split(","):
        if trainer == "gensim":
            vectors, info = gensim_vectors(walks, graph.num_nodes, cfg, args.threads)
            movie, user, walk_s = vectors[split.num_users:], vectors[:split.num_users], t_walks
        else:
            c = EmbeddingConfig(**{**cfg.__dict__, "trainer": trainer})
            emb = fit_embeddings(split, c, progress=False, walks=walks if trainer == "word2vec" else None, graph=graph)
            movie, user, info = emb.movie, emb.user, emb.info
            walk_s = t_walks if trainer == "word2vec" else float("nan")
        res = evaluate(EmbeddingScorer(movie, user, "dot"), split)
        coh, rand = genre_coherence(movie, genres, k=10)
        idx, _ = nearest(movie, star_wars, 10)
        near = [titles[i] for i in idx.tolist()]
        neighbours[trainer] = near
        compile_s = sum(h.get("compile_seconds", 0.0) for h in info.get("history", []))
        rows.append({"trainer": trainer, "HR@10": res["HR@10"], "NDCG@10": res["NDCG@10"],
                     "full_HR@10": res["full_HR@10"], "full_NDCG@10": res["full_NDCG@10"],
                     "coherence@10": coh, "random": rand, "walks_s": walk_s,
                     "epoch_s": float(np.mean(info["epoch_seconds"])), "setup_s": compile_s + info.get("vocab_seconds", 0.0),
                     "sequels": sum(s in near for s in SEQUELS)})
        print(f"# {trainer} done", flush=True)
    cols = list(rows[0])
    print("  ".join(f"{c:>12}" for c in cols))
    for r in rows:
        print("  ".join(f"{v:>12.4f}" if isinstance(v, float) else f"{v!s:>12}" for v in r.values()))
    print(f"\nml-100k split seed 0, training edges only; dim {cfg.dim}, walk length {cfg.walk_length}, "
          f"{cfg.walks_per_node} walks/node, window {cfg.window}, {cfg.negatives} negatives, {cfg.epochs} epoch(s), "
          f"p {cfg.p:g}, q {cfg.q:g}; {args.threads} torch threads / gensim workers; walks {tuple(walks.shape)}")
    print("setup_s: torch.compile (word2vec) or vocabulary build (gensim), outside the epoch time")
    print("sequels: how many of Return of the Jedi and Empire Strikes Back are among Star Wars' 10 nearest (cosine)")
    for t, near in neighbours.items():
        print(f"\nStar Wars (1977), nearest by {t}: " + "; ".join(near))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "neighbours": neighbours, "config": cfg.__dict__}, f, indent=2)


if __name__ == "__main__":
    main()
