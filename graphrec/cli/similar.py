"""``graphrec similar TITLE [TITLE ...]``: the movies nearest one or more movies in an embedding."""
from __future__ import annotations

from ..embeddings.config import METRICS
from ..errors import CheckpointError, GraphrecError
from .common import add_data_args, add_progress_args, positive_int, print_json, print_table, show_bars


def add_parser(sub) -> None:
    p = sub.add_parser("similar", help="movies most similar to one or more titles in a node2vec embedding, "
                                       "with what each shares with the title (common raters, genres, franchise, year)")
    p.add_argument("title", nargs="+",
                   help='movie titles, case-insensitive, year optional: "Star Wars", "star wars (1977)"')
    p.add_argument("-k", type=positive_int, default=5, help="number of neighbours per title (default 5)")
    p.add_argument("--metric", choices=METRICS, default="cosine", help="cosine similarity or euclidean distance")
    p.add_argument("--embeddings", default=None,
                   help="an embedding folder from 'graphrec embed node2vec' (default: one trained and cached on first use)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_data_args(p, split=False, bad_rows=False)
    add_progress_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    import torch

    from ..defaults import default_embeddings
    from ..embeddings.node2vec import NodeEmbeddings, genre_list, movie_rows
    from ..embeddings.quality import collapse_warning
    from ..embeddings.similarity import match_title, nearest_all
    from ..embeddings.why import Reasons, load_raters

    if not all(t.strip() for t in args.title):  # refuse before training the default embedding (a while)
        raise GraphrecError("empty title: name a movie, e.g. \"Star Wars\"")
    folder = args.embeddings or default_embeddings(args.dataset, args.data_dir, progress=show_bars(args.progress))
    emb = NodeEmbeddings.load(folder)
    movies = movie_rows(folder)
    if len(movies) != len(emb.movie):
        raise CheckpointError(f"{folder}: movies.tsv has {len(movies)} rows but the embedding {len(emb.movie)}")
    warning = collapse_warning(emb.movie)
    if warning:
        print(f"graphrec: warning: {warning}", file=sys.stderr)
    titles = [m["title"] for m in movies]
    counts = [int(m["ratings"]) for m in movies]
    queries = [match_title(titles, t, counts=counts) for t in args.title]  # every title resolves before any output
    idx, val = nearest_all(emb.movie, torch.tensor(queries), args.k, args.metric)
    key = "similarity" if args.metric == "cosine" else "distance"
    why = Reasons(movies, load_raters(folder))
    results = [{"query": titles[q], "query_raters": why.raters_of(q), "neighbours": [
        {"rank": r + 1, "title": titles[i], key: float(v), "genres": genre_list(movies[i]["genres"]),
         "ratings": int(movies[i]["ratings"]), "why": why(q, i)} for r, (i, v) in enumerate(zip(row_i, row_v))]}
        for q, row_i, row_v in zip(queries, idx.tolist(), val.tolist())]
    if args.json:
        head = {"metric": args.metric, "embeddings": str(folder)}
        print_json({**results[0], **head} if len(results) == 1 else {**head, "results": results})
        return 0
    for n, res in enumerate(results):
        if n:
            print()
        print(f"most similar to {res['query']} ({args.metric}, {folder}):")
        print_table([_row(n, key, res["query_raters"]) for n in res["neighbours"]])
    return 0


def _row(n: dict, key: str, query_raters: int | None) -> dict:
    """A table row: the neighbour, its score, and what it shares with the query."""
    w = n["why"]
    common = "" if w["common_raters"] is None else f"{w['common_raters']} of {query_raters}"
    gap = "" if w["year_gap"] is None else f" ({w['year_gap']:+d})" if w["year_gap"] else " (same)"
    return {"rank": n["rank"], "title": n["title"], key: n[key], "common raters": common,
            "shared genres": ", ".join(w["shared_genres"]) or "-", "franchise": w["franchise"] or "",
            "year": "" if w["year"] is None else f"{w['year']}{gap}"}
