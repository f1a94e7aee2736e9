"""Pictures of movie embeddings: a PCA scatter PNG and TensorBoard's embedding projector."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from torch import Tensor

from ..io import pyplot, save_figure, write_text

#: Columns of ``movies.tsv`` and of the projector's metadata.
MOVIE_COLUMNS = ["title", "year", "main_genre", "genres", "ratings"]


def movie_table(ml) -> pd.DataFrame:
    """One row per movie: title, year, main genre, all genres (``|``-joined), number of ratings.

    The main genre is the movie's first listed genre (the dataset's genre order);
    tabs and newlines in titles become spaces so the TSV stays one row per movie.
    """
    counts = np.bincount(ml.ratings["item"].to_numpy(), minlength=ml.num_items)
    year = ml.movies["year"]
    return pd.DataFrame({
        "title": [" ".join(str(t).split()) for t in ml.movies["title"]],
        "year": ["" if pd.isna(y) else str(int(y)) for y in year],
        "main_genre": [gs[0] if gs else "(none)" for gs in ml.movies["genres"]],
        "genres": ["|".join(gs) if gs else "(none)" for gs in ml.movies["genres"]],
        "ratings": counts.astype(int),
    })


def write_movies_tsv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    write_text(path, table[MOVIE_COLUMNS].to_csv(sep="\t", index=False, lineterminator="\n"))


def projector_metadata(table: pd.DataFrame, columns: list[str] | None = None) -> tuple[list, list[str] | None]:
    """(metadata, header) for ``SummaryWriter.add_embedding``.

    The projector reads a header row only when there are several columns; a
    single column must be written without one, or its name becomes a point label.
    """
    columns = columns or MOVIE_COLUMNS
    if len(columns) == 1:
        return [str(v) for v in table[columns[0]]], None
    return [[str(v) for v in row] for row in table[columns].itertuples(index=False)], list(columns)


def add_projector(writer, emb: Tensor, table: pd.DataFrame, tag: str = "movies", columns: list[str] | None = None) -> None:
    """Log ``emb`` with movie metadata for TensorBoard's projector tab (``tensorboard --logdir``)."""
    metadata, header = projector_metadata(table, columns)
    writer.add_embedding(emb.detach().float(), metadata=metadata, metadata_header=header, tag=tag)


def pca_plot(emb: Tensor, table: pd.DataFrame, path: str | os.PathLike, label_top: int = 25,
             title: str = "Movie embeddings (PCA)") -> Path:
    """Scatter the first two principal components, coloured by main genre; label the most-rated titles."""
    from sklearn.decomposition import PCA

    plt = pyplot()
    x = emb.detach().float().numpy()
    pca = PCA(n_components=2, random_state=0)
    xy = pca.fit_transform(x)
    fig, ax = plt.subplots(figsize=(11, 9))
    genres = table["main_genre"].to_numpy()
    order = pd.Series(genres).value_counts().index.tolist()
    cmap = plt.get_cmap("tab20")
    counts = table["ratings"].to_numpy()
    size = 6 + 40 * np.sqrt(counts / max(counts.max(), 1))
    for j, g in enumerate(order):
        m = genres == g
        ax.scatter(xy[m, 0], xy[m, 1], s=size[m], color=cmap(j % 20), alpha=0.6, label=f"{g} ({m.sum()})",
                   linewidths=0)
    for i in np.argsort(-counts)[:label_top]:
        ax.annotate(table["title"].iloc[i], xy[i], fontsize=7, alpha=0.9, xytext=(3, 3), textcoords="offset points")
    ev = pca.explained_variance_ratio_
    ax.set_xlabel(f"PC1 ({ev[0]:.1%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.1%} of variance)")
    ax.set_title(f"{title}; colour = main genre, size = number of ratings")
    ax.legend(fontsize=7, markerscale=0.8, loc="best", title="main genre", title_fontsize=8, ncol=2)
    path = Path(path)
    save_figure(fig, path, dpi=120)
    return path
