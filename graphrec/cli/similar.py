"""``graphrec similar TITLE``: the movies nearest a movie in an embedding."""
from __future__ import annotations

import sys

from ..cache import default_embeddings
from ..embeddings.node2vec import NodeEmbeddings, read_movies
from ..embeddings.quality import collapse_warning
from ..embeddings.similarity import METRICS, match_title, nearest
from ..errors import CheckpointError, GraphrecError
from .common import add_data_args, positive_int, print_json, print_table


def add_parser(sub) -> None:
    p = sub.add_parser("similar", help="movies most similar to a title in a node2vec embedding")
    p.add_argument("title", help='a movie title, case-insensitive, year optional: "Star Wars", "star wars (1977)"')
    p.add_argument("-k", type=positive_int, default=5, help="number of neighbours (default 5)")
    p.add_argument("--metric", choices=METRICS, default="cosine", help="cosine similarity or euclidean distance")
    p.add_argument("--embeddings", default=None,
                   help="an embedding folder from 'graphrec embed node2vec' (default: one trained and cached on first use)")
    p.add_argument("--json", action="store_true")
    add_data_args(p, split=False, bad_rows=False)
    p.set_defaults(func=run)


def run(args) -> int:
    if not args.title.strip():  # refuse before training the default embedding (which takes a while)
        raise GraphrecError("empty title: name a movie, e.g. \"Star Wars\"")
    folder = args.embeddings or default_embeddings(args.dataset, args.data_dir, progress=not args.json)
    emb = NodeEmbeddings.load(folder)
    movies = read_movies(folder)
    if len(movies) != len(emb.movie):
        raise CheckpointError(f"{folder}: movies.tsv has {len(movies)} rows but the embedding {len(emb.movie)}")
    warning = collapse_warning(emb.movie)
    if warning:
        print(f"graphrec: warning: {warning}", file=sys.stderr)
    titles = list(movies["title"])
    query = match_title(titles, args.title)
    idx, val = nearest(emb.movie, query, args.k, args.metric)
    key = "similarity" if args.metric == "cosine" else "distance"
    rows = [{"rank": r + 1, "title": titles[i], key: float(v), "genres": movies["genres"].iloc[i],
             "ratings": int(movies["ratings"].iloc[i])} for r, (i, v) in enumerate(zip(idx.tolist(), val.tolist()))]
    if args.json:
        print_json({"query": titles[query], "metric": args.metric, "embeddings": str(folder), "neighbours": rows})
        return 0
    print(f"most similar to {titles[query]} ({args.metric}, {folder}):")
    print_table(rows)
    return 0
