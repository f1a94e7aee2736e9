"""``graphrec embed node2vec``: train movie (and user) embeddings from node2vec walks."""
from __future__ import annotations

import argparse
import sys

from ..embeddings.config import GRAPHS, KNN, MAP_METHODS, TOKENS, TRAINERS, VECTORS, WEIGHTINGS, EmbeddingConfig
from ..errors import GraphrecError
from .common import (MAX_NEG, MAX_THREADS, MAX_WALK, MAX_WALKS_PER_NODE, add_data_args, add_device_arg,
                     add_progress_args, factors_int, int_at_least, load_split, positive_int, seed_int, show_bars)

_D = EmbeddingConfig()
# Bounds of the flags whose absurd values would allocate without limit or loop for ever (docs/reliability.md);
# --epochs is not bounded: each epoch uses the same memory, and a long run is stopped with Ctrl-C like train's.
_walk_int = int_at_least(2, MAX_WALK, " (nodes per walk; node2vec used 80)")
_walks_int = int_at_least(1, MAX_WALKS_PER_NODE, " (walks per node; node2vec used 10)")
_window_int = int_at_least(1, MAX_WALK, " (a window wider than a walk adds nothing)")
_span_int = int_at_least(0, MAX_WALK, " (ratings apart; more than a history's length adds nothing)")
_negatives_int = int_at_least(1, MAX_NEG, " (negatives per pair)")
_shared_int = int_at_least(1, 16 * MAX_NEG, " (16 positions x the --negatives bound)")
_workers_int = int_at_least(1, MAX_THREADS, " (training threads)")


def add_node2vec_args(p: argparse.ArgumentParser) -> None:
    """The node2vec flags (shared with ``scripts/node2vec.py``, which calls this command)."""
    g = p.add_argument_group("walks")
    g.add_argument("--graph", choices=GRAPHS, default=_D.graph,
                   help="bipartite user-movie graph; the movie-movie co-rating projection (comovie); comovie plus "
                        "movie-genre-movie steps (metapath, with --content); or each user's ratings in time order "
                        f"as walks (history) (default {_D.graph})")
    g.add_argument("--all-edges", action="store_true",
                   help="walk on every rating, held-out test/validation items included (default: training edges only)")
    g.add_argument("--min-weight", type=int, default=_D.min_weight,
                   help=f"comovie: keep movie pairs rated by at least this many common users (default {_D.min_weight})")
    g.add_argument("--weight", choices=WEIGHTINGS, default=_D.weight,
                   help="comovie edge weight: raw co-rating count, or cosine/jaccard/pmi/lift (PMI shrunk)/jaclift "
                        "(geometric mean of jaccard and lift) of the raters "
                        f"(default {_D.weight})")
    g.add_argument("--neighbours", type=int, default=_D.neighbours, metavar="K",
                   help=f"comovie: keep each movie's K heaviest edges, 0 = all (default {_D.neighbours}; "
                        "the near-complete graph of all edges collapses)")
    g.add_argument("--knn", choices=KNN, default=_D.knn,
                   help="comovie: keep a movie's K nearest with the edges naming it among theirs (union), only "
                        f"pairs naming each other (mutual), or one-way (directed) (default {_D.knn})")
    g.add_argument("--hub", type=float, default=_D.hub, metavar="A",
                   help="comovie: divide each edge weight by (s_i s_j)^A, s = a movie's summed edge weight, so walks "
                        f"enter popular hubs less often (default {_D.hub:g})")
    g.add_argument("--content", type=float, default=_D.content, metavar="C",
                   help="audience vs content, 0..1: how much shared genres weigh against shared raters in a "
                        "movie's neighbourhood: comovie multiplies each edge by 1 - C + C x the genre overlap, "
                        "metapath takes a movie-genre-movie step with probability C "
                        f"(0 = who rated it only; default {_D.content:g})")
    g.add_argument("--years", type=int, default=_D.years, metavar="W",
                   help="with --content: a movie's content is its genres and its release period, in buckets of W "
                        f"years (default {_D.years}: genres only)")
    g.add_argument("--liked", type=float, default=_D.liked, metavar="STARS",
                   help="comovie: count only ratings of at least this many stars, so common raters liked both "
                        f"(default {_D.liked:g}: every rating)")
    g.add_argument("--span", type=_span_int, default=_D.span, metavar="N",
                   help="comovie: count a common rater only when they rated the two movies at most N ratings "
                        f"apart in time (default {_D.span}: any time)")
    g.add_argument("--shrink", type=float, default=_D.shrink,
                   help=f"--weight lift: shrink the PMI of pairs with few common raters, c / (c + this) "
                        f"(default {_D.shrink:g})")
    g.add_argument("--p", type=float, default=_D.p, help="return parameter; low p = walks return often (default 1)")
    g.add_argument("--q", type=float, default=_D.q, help="in-out parameter; low q = outward, DFS-like (default 1)")
    g.add_argument("--walk-length", type=_walk_int, default=_D.walk_length, help=f"nodes per walk (default {_D.walk_length})")
    g.add_argument("--walks-per-node", type=_walks_int, default=_D.walks_per_node,
                   help=f"walks started at each node (default {_D.walks_per_node})")
    t = p.add_argument_group("skip-gram")
    t.add_argument("--trainer", choices=TRAINERS, default=_D.trainer,
                   help="word2vec: graphrec's skip-gram on torch-cluster walks; pyg: torch_geometric.nn.Node2Vec "
                        "(on ML-100K pyg needs --epochs 4, ~200x word2vec's time, to reach the validation "
                        "item-to-item HR@10 of word2vec's single epoch, 0.16; 1 epoch gives 0.12)")
    t.add_argument("--dim", type=factors_int, default=_D.dim, help=f"embedding size (default {_D.dim})")
    t.add_argument("--window", type=_window_int, default=_D.window,
                   help=f"context window; the original slides used 2 (default {_D.window})")
    t.add_argument("--negatives", type=_negatives_int, default=_D.negatives,
                   help=f"negatives per pair; the slides used 4 (default {_D.negatives})")
    t.add_argument("--epochs", type=positive_int, default=_D.epochs, help=f"passes over the walks (default {_D.epochs})")
    t.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: word2vec 0.025 decaying linearly; pyg SparseAdam 0.05)")
    t.add_argument("--batch-size", type=positive_int, default=None,
                   help="walks per step for word2vec (default 32), start nodes per step for pyg (default 16)")
    t.add_argument("--subsample", type=float, default=_D.subsample,
                   help=f"word2vec: frequent-node subsampling threshold, 0 = off (default {_D.subsample:g})")
    t.add_argument("--ns-exponent", type=float, default=_D.ns_exponent,
                   help=f"word2vec: negatives drawn from counts ** this (default {_D.ns_exponent:g}; word2vec 0.75)")
    t.add_argument("--shared-negatives", type=_shared_int, default=None,
                   help="word2vec: negatives drawn per 16 walk positions, shared by them "
                        "(default 2 x --negatives, more for windows over 5)")
    t.add_argument("--tokens", choices=TOKENS, default=_D.tokens,
                   help=f"word2vec: train on every walk token or only the movies (default {_D.tokens})")
    t.add_argument("--vectors", choices=VECTORS, default=_D.vectors,
                   help="word2vec: a node's vector is its target vector, or target and context side by side "
                        f"(twice --dim wide; pyg has one table) (default {_D.vectors})")
    t.add_argument("--no-center", dest="center", action="store_false",
                   help="keep the raw movie vectors (default: subtract their mean, which removes the direction "
                        "all skip-gram vectors share and the blockbusters' pull on every neighbour list)")
    t.add_argument("--workers", type=_workers_int, default=_D.workers,
                   help=f"word2vec: training threads, Hogwild like gensim's workers "
                        f"(default {_D.workers}: reproducible)")
    t.add_argument("--seed", type=seed_int, default=0)


def config_from_args(args) -> EmbeddingConfig:
    c = EmbeddingConfig(trainer=args.trainer, graph=args.graph, all_edges=args.all_edges, min_weight=args.min_weight,
                        dim=args.dim, walk_length=args.walk_length, walks_per_node=args.walks_per_node,
                        window=args.window, negatives=args.negatives, epochs=args.epochs, p=args.p, q=args.q,
                        lr=args.lr, batch_size=args.batch_size, subsample=args.subsample,
                        ns_exponent=args.ns_exponent, shared_negatives=args.shared_negatives, tokens=args.tokens,
                        weight=args.weight, neighbours=args.neighbours or None, knn=args.knn, hub=args.hub,
                        content=args.content, years=args.years, liked=args.liked, span=args.span, shrink=args.shrink,
                        vectors=args.vectors, center=args.center,
                        workers=args.workers, seed=args.seed,
                        **({"device": args.device} if getattr(args, "device", None) else {}))
    c.check()
    return c


def add_parser(sub) -> None:
    p = sub.add_parser("embed", help="graph embeddings of movies (node2vec)")
    esub = p.add_subparsers(dest="embed_command", metavar="<node2vec>", required=True)
    n = esub.add_parser("node2vec", help="node2vec walks + skip-gram; writes embeddings, movies.tsv, PCA PNG, projector")
    add_node2vec_args(n)
    n.add_argument("--out", default="runs/node2vec", help="output folder (default runs/node2vec)")
    n.add_argument("--map", choices=MAP_METHODS, default="pca",
                   help="2-D map of the movies written as <map>.png: pca or tsne (scikit-learn; default pca)")
    add_progress_args(n)
    add_device_arg(n, "the skip-gram trains")
    add_data_args(n)
    n.set_defaults(func=run_node2vec)


def run_node2vec(args) -> int:
    from ..embeddings.node2vec import export_embeddings
    from ..embeddings.quality import collapse_warning

    config = config_from_args(args)  # validate before loading anything
    ml, split = load_split(args)
    if ml is None:
        raise GraphrecError("embed node2vec needs the MovieLens files for titles: add --data-dir")
    emb, out = export_embeddings(ml, split, config, args.out, progress=show_bars(args.progress), method=args.map)
    info = emb.info
    warning = collapse_warning(emb.movie)
    if warning:
        print(f"graphrec: warning: {warning}", file=sys.stderr)
    epochs = ", ".join(f"{s:.1f}" for s in info["epoch_seconds"])
    walks = f"walks {info['walk_seconds']:.1f} s, " if "walk_seconds" in info else ""
    print(f"{config.trainer} on the {config.graph} graph ({info['graph_nodes']} nodes, {info['graph_edges']} "
          f"directed edges, {'all ratings' if config.all_edges else 'training edges only'}): "
          f"{walks}epochs {epochs} s, final loss {info['history'][-1]['loss']:.4f}")
    q = info["quality"]
    held = (f"item-to-item HR@10 {q['valid_i2i_HR@10']:.3f} (validation), {q['test_i2i_HR@10']:.3f} (test); "
            if "test_i2i_HR@10" in q else "")
    print(f"neighbours: {held}genre coherence@10 {q['coherence@10']:.3f} (random {q['random_coherence']:.3f}), "
          f"popularity bias {q['pop_bias']:+.2f} ({q['top100']:.0%} of neighbours in the top 100), "
          f"franchise siblings found {q['franchise@10']:.2f}, "
          f"mean pairwise cosine {q['mean_cosine']:.2f}")
    print(f"wrote {out}/embeddings.pt, embeddings.json, movies.tsv, {args.map}.png")
    print(f"projector: tensorboard --logdir {out}/tensorboard  (then open the PROJECTOR tab)")
    return 0


