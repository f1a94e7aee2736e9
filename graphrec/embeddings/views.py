"""Views of an embedding: the 2-D map of the movies (PCA or t-SNE) and the TensorBoard projector files."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from torch import Tensor

from ..io import figure, save_figure, write_csv
from .config import MAP_METHODS

#: Columns of ``movies.tsv`` and of the projector's metadata.
MOVIE_COLUMNS = ["title", "year", "main_genre", "genres", "ratings"]


def movie_table(ml) -> pd.DataFrame:
    """One row per movie: title, year, main genre, all genres (``|``-joined), number of ratings.

    The main genre is the movie's first listed genre (the dataset's genre order);
    titles are :func:`tsv_field` s (tabs and newlines become spaces), as the projector shows them.
    """
    counts = np.bincount(ml.ratings["item"].to_numpy(), minlength=ml.num_items)
    year = ml.movies["year"]
    return pd.DataFrame({
        "title": [tsv_field(t) for t in ml.movies["title"]],
        "year": ["" if pd.isna(y) else str(int(y)) for y in year],
        "main_genre": [gs[0] if gs else "(none)" for gs in ml.movies["genres"]],
        "genres": ["|".join(gs) if gs else "(none)" for gs in ml.movies["genres"]],
        "ratings": counts.astype(int),
    })


def write_movies_tsv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    write_csv(path, table[MOVIE_COLUMNS].itertuples(index=False), MOVIE_COLUMNS, delimiter="\t")


def tsv_field(value) -> str:
    """``value`` as one field of the projector's ``metadata.tsv``, which has no quoting or escapes: every run
    of whitespace (tab, newline, carriage return, ...) becomes one space and the ends are stripped, so a
    field can neither split its row nor start a new one."""
    return " ".join(str(value).split())


def projector_metadata(table: pd.DataFrame, columns: list[str] | None = None) -> tuple[list, list[str] | None]:
    """(metadata, header) for ``SummaryWriter.add_embedding``: one row per row of ``table``, in order.

    TensorBoard writes them as TSV without escaping and its projector skips blank lines, so every field
    (and column name) goes through :func:`tsv_field`, and a row that would be blank is labelled ``(none)``.
    The projector reads a header row only when there are several columns; a single column must be
    written without one, or its name becomes a point label.
    """
    columns = columns or MOVIE_COLUMNS

    def row(values) -> list[str]:
        fields = [tsv_field(v) for v in values]
        return fields if any(fields) else ["(none)", *fields[1:]]

    if len(columns) == 1:
        return [row([v])[0] for v in table[columns[0]]], None
    return [row(r) for r in table[columns].itertuples(index=False)], row(columns)


def add_projector(writer, emb: Tensor, table: pd.DataFrame, tag: str = "movies", columns: list[str] | None = None) -> None:
    """Log ``emb`` with movie metadata for TensorBoard's projector tab (``tensorboard --logdir``)."""
    metadata, header = projector_metadata(table, columns)
    writer.add_embedding(emb.detach().float(), metadata=metadata, metadata_header=header, tag=tag)




def label_choice(table: pd.DataFrame, franchises: int = 6, per_genre: int = 1, limit: int = 30) -> list[int]:
    """Rows worth a label: the first ``franchises`` franchises of
    :data:`~graphrec.embeddings.quality.SEQUELS`, then the ``per_genre`` most-rated
    movies of each main genre, ``limit`` rows at most.

    Sequels that land together show that the map keeps franchises; one famous
    title per genre shows where the genres lie.
    """
    from .quality import SEQUELS

    index = {t: i for i, t in enumerate(table["title"])}
    chosen: list[int] = []
    for query, sequels in SEQUELS[:franchises]:
        for t in (query, *sequels):
            if t in index and index[t] not in chosen:
                chosen.append(index[t])
    ranked = table.assign(_row=range(len(table))).sort_values("ratings", ascending=False)
    for _, group in ranked.groupby("main_genre", sort=False):
        chosen.extend(r for r in group["_row"].head(per_genre) if r not in chosen)
    return chosen[:limit]


def project_2d(emb: Tensor, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, tuple[str, str]]:
    """``[M, 2]`` coordinates by scikit-learn's PCA or t-SNE (cosine distances), and the two axis names."""
    x = emb.detach().float().numpy()
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed)
        xy = pca.fit_transform(x)
        ev = pca.explained_variance_ratio_
        return xy, (f"PC1 ({ev[0]:.1%} of variance)", f"PC2 ({ev[1]:.1%} of variance)")
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
        xy = TSNE(n_components=2, metric="cosine", init="pca", perplexity=perplexity,
                  random_state=seed).fit_transform(x)
        return xy, ("t-SNE 1", "t-SNE 2")
    raise ValueError(f"unknown map method {method!r}: choose one of {', '.join(MAP_METHODS)}")


def map_plot(emb: Tensor, table: pd.DataFrame, path: str | os.PathLike, method: str = "pca",
             title: str = "Movie embeddings", labels: list[int] | None = None) -> Path:
    """Scatter a 2-D map of the movies (PCA or t-SNE), coloured by main genre and sized by ratings.

    ``labels`` (default :func:`label_choice`) are the rows named on the map; the
    names are moved apart with adjustText when it is installed (otherwise only
    half of them are drawn, to keep them legible).
    """
    import matplotlib

    xy, (xlabel, ylabel) = project_2d(emb, method)
    fig, ax = figure(figsize=(12, 10))
    genres = table["main_genre"].to_numpy()
    order = pd.Series(genres).value_counts().index.tolist()
    cmap = matplotlib.colormaps["tab20"]
    counts = table["ratings"].to_numpy()
    size = 6 + 40 * np.sqrt(counts / max(counts.max(), 1))
    for j, g in enumerate(order):
        m = genres == g
        ax.scatter(xy[m, 0], xy[m, 1], s=size[m], color=cmap(j % 20), alpha=0.5, label=f"{g} ({m.sum()})",
                   linewidths=0)
    labels = label_choice(table) if labels is None else labels
    try:
        from adjustText import adjust_text
    except ImportError:  # no label mover: fewer labels overlap less
        adjust_text, labels = None, labels[: max(1, len(labels) // 2)]
    texts = []
    for i in labels:
        ax.scatter(xy[i, 0], xy[i, 1], s=size[i], facecolors="none", edgecolors="black", linewidths=0.6)
        texts.append(ax.text(xy[i, 0], xy[i, 1], table["title"].iloc[i], fontsize=7))
    if adjust_text is not None and texts:
        adjust_text(texts, ax=ax, arrowprops=dict(arrowstyle="-", color="0.4", lw=0.5))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} ({method.upper() if method == 'pca' else 't-SNE'}); colour = main genre, "
                 f"size = number of ratings; circled: franchises and each genre's most-rated movie", fontsize=9)
    ax.legend(fontsize=7, markerscale=0.8, loc="best", title="main genre", title_fontsize=8, ncol=2)
    path = Path(path)
    save_figure(fig, path, dpi=120)
    return path
