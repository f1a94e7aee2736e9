"""node2vec (Grover & Leskovec, 2016) on MovieLens: walks, then one of two skip-gram trainers.

* ``trainer="word2vec"``: walks from :func:`~graphrec.embeddings.walks.random_walks`,
  then the from-scratch :func:`~graphrec.embeddings.word2vec.train_skipgram`.
* ``trainer="pyg"``: :class:`torch_geometric.nn.Node2Vec`, which draws its own
  walks with torch-cluster every epoch and trains with ``SparseAdam``. Its
  context is one-directional (a sub-walk's first node predicts the next
  ``window`` nodes) and its negatives are uniform random walks.

:func:`fit_embeddings` returns :class:`NodeEmbeddings` (movie and, for the
bipartite graph, user vectors); ``save``/``load`` keep them as a plain tensor file
(``torch.load(weights_only=True)``) plus JSON metadata.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch
from torch import Tensor

from ..errors import CheckpointError
from ..io import load_tensors, save_tensors, write_json
from .config import TOKENS, TRAINERS, EmbeddingConfig  # noqa: F401 - re-exported

if TYPE_CHECKING:  # walks and word2vec import torch-cluster and scipy: loading embeddings needs neither
    from ..data import Split
    from .walks import WalkGraph

WEIGHTS, META = "embeddings.pt", "embeddings.json"


@dataclass
class NodeEmbeddings:
    """Movie vectors ``[M, E]``, user vectors ``[U, E]`` (``None`` on the co-movie graph) and how they were made."""

    movie: Tensor
    user: Tensor | None
    config: EmbeddingConfig
    info: dict = field(default_factory=dict)

    def save(self, folder: str | Path, **meta) -> None:
        folder = Path(folder)
        tensors = {"movie": self.movie.contiguous()}
        if self.user is not None:
            tensors["user"] = self.user.contiguous()
        save_tensors(tensors, folder / WEIGHTS)
        write_json(folder / META, {"config": asdict(self.config), "info": self.info, **meta})

    @classmethod
    def load(cls, folder: str | Path) -> "NodeEmbeddings":
        folder = Path(folder)
        if not (folder / META).is_file():
            raise CheckpointError(f"{folder}: not an embedding folder (no {META}; make one with graphrec embed node2vec)")
        try:
            meta = json.loads((folder / META).read_text())
            config = EmbeddingConfig.from_dict(meta["config"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise CheckpointError(f"{folder / META}: invalid embedding metadata ({e})") from None
        t = load_tensors(folder / WEIGHTS)
        if not isinstance(t, dict) or not isinstance(t.get("movie"), Tensor):
            raise CheckpointError(f"{folder / WEIGHTS}: no movie embedding tensor")
        info = {k: v for k, v in meta.items() if k != "config"}
        return cls(t["movie"], t.get("user"), config, info)


def fit_embeddings(split: Split, config: EmbeddingConfig | None = None, progress: bool = True,
                   log: Callable[[str, float, int], None] | None = None, walks: Tensor | None = None,
                   graph: WalkGraph | None = None,
                   on_epoch: Callable[[int, Tensor], None] | None = None, genres=None) -> NodeEmbeddings:
    """Build the graph from ``split`` (training edges unless ``config.all_edges``), walk, and train.

    ``walks`` (word2vec trainer) reuses precomputed walks; ``log(tag, value, step)``
    receives losses (e.g. a ``SummaryWriter``'s ``add_scalar``); ``on_epoch(epoch, movie)``
    receives the movie vectors (as :class:`NodeEmbeddings` would hold them) after every epoch;
    ``genres`` (``[M, G]`` multi-hot) for ``config.content``, else the split's dataset's.
    """
    from .walks import graph_for
    from .word2vec import train_skipgram

    config = config or EmbeddingConfig()
    config.check()
    t0 = time.perf_counter()
    hook = None
    graph = graph or graph_for(config, split, genres)
    info = {"graph_nodes": graph.num_nodes, "graph_edges": int(graph.edge_index.shape[1]),
            "graph_seconds": time.perf_counter() - t0}
    if on_epoch is not None:
        def hook(epoch: int, trained: Tensor | torch.nn.Module) -> None:
            vectors = trained if isinstance(trained, Tensor) else skipgram_vectors(trained, config)
            on_epoch(epoch, movie_vectors(vectors.cpu(), graph, config))
    if config.trainer == "word2vec":
        t0 = time.perf_counter()
        if walks is None:
            walks = movie_walks(graph, config)
        info["walk_seconds"] = time.perf_counter() - t0
        info["walks"] = list(walks.shape)
        model, history = train_skipgram(
            walks, graph.num_nodes, config.dim, config.window, config.negatives, config.epochs, lr=config.lr,
            batch_size=config.batch_size or 32, subsample=config.subsample, ns_exponent=config.ns_exponent,
            shared_negatives=config.shared_negatives, seed=config.seed, threads=config.workers, progress=progress,
            log=log, device=config.device, on_epoch=hook)
        vectors = skipgram_vectors(model, config)
    else:
        vectors, history = _train_pyg(graph, config, progress, log, hook)
    info["history"] = history
    info["epoch_seconds"] = [h["seconds"] for h in history]
    user = vectors[:graph.num_users] if graph.user_offset and config.tokens == "all" else None
    return NodeEmbeddings(movie_vectors(vectors, graph, config), user, config, info)


def skipgram_vectors(model: torch.nn.Module, config: EmbeddingConfig) -> Tensor:
    """Every node's vector from a trained :class:`~graphrec.embeddings.word2vec.SkipGram`: its target
    vector (``vectors="target"``) or ``[target, context]`` (``"concat"``, twice ``dim`` wide).

    The target vectors of two movies agree when their walks have the same contexts (second-order
    proximity); side by side with the context vectors, the cosine adds how alike the two are as
    contexts, which was the better neighbour list on validation (docs/embeddings.md). A user's
    dot product with a movie becomes ``T_u . T_m + C_u . C_m``.
    """
    parts = [model.target.weight] + ([model.context.weight] if config.vectors == "concat" else [])
    return torch.cat([p.detach() for p in parts], 1).cpu()


def movie_vectors(vectors: Tensor, graph: WalkGraph, config: EmbeddingConfig) -> Tensor:
    """The movie rows of every node's ``vectors``, centred unless ``config.center`` is off (a copy)."""
    movie = vectors[graph.user_offset:graph.user_offset + graph.num_items]
    return center_movies(movie, graph.degree()[graph.movie_nodes] > 0) if config.center else movie.clone()


def center_movies(movie: Tensor, walked: Tensor) -> Tensor:
    """Movie vectors minus the mean of the ``walked`` ones (movies without edges stay at the origin).

    Skip-gram vectors share a common direction (every target is pulled towards
    the same frequent contexts), so cosines between them are all positive and
    the most frequent movies are near everything. Removing the mean removes
    that direction; a user's dot-product ranking of movies is unchanged (every
    score moves by the same ``user . mean``).
    """
    out = movie - movie[walked].mean(0)
    out[~walked] = 0.0
    return out


def movie_walks(graph: WalkGraph, config: EmbeddingConfig) -> Tensor:
    """The walks the word2vec trainer sees: node2vec walks, kept to their movie tokens with ``tokens="movies"``."""
    from .walks import history_walks, random_walks
    from .word2vec import compact_walks

    if graph.kind == "history":
        return history_walks(graph, config.walk_length)
    walks = random_walks(graph, config.walk_length, config.walks_per_node, config.p, config.q, config.seed)
    if config.tokens == "movies" and graph.user_offset:
        walks = compact_walks(walks, walks >= graph.user_offset)
    return walks


#: PyG trainer: start nodes per step and SparseAdam rate. Node2Vec starts from N(0, 1) vectors, which
#: Adam moves by about ``lr`` per step: PyG's example settings (128 nodes, lr 0.01) make 14-21 steps
#: per epoch on ML-100K and leave the vectors random (item-to-item HR@10 0.005); these make ~105.
PYG_BATCH, PYG_LR = 16, 0.05


def _train_pyg(graph: WalkGraph, config: EmbeddingConfig, progress: bool,
               log: Callable[[str, float, int], None] | None,
               on_epoch: Callable[[int, Tensor], None] | None = None) -> tuple[Tensor, list[dict]]:
    from torch_geometric.nn import Node2Vec
    from tqdm.auto import tqdm

    from ..device import resolve_device

    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model = Node2Vec(graph.edge_index, embedding_dim=config.dim, walk_length=config.walk_length - 1,
                     context_size=config.window + 1, walks_per_node=config.walks_per_node, p=config.p, q=config.q,
                     num_negative_samples=config.negatives, num_nodes=graph.num_nodes, sparse=True).to(device)
    loader = model.loader(batch_size=config.batch_size or PYG_BATCH, shuffle=True, num_workers=0)
    opt = torch.optim.SparseAdam(list(model.parameters()), lr=config.lr or PYG_LR)
    history, step = [], 0
    for epoch in range(config.epochs):
        t0, total, n = time.perf_counter(), 0.0, 0
        model.train()
        for pos, neg in tqdm(loader, desc=f"node2vec (pyg) epoch {epoch + 1}", disable=not progress, leave=False):
            opt.zero_grad()
            loss = model.loss(pos.to(device), neg.to(device))
            loss.backward()
            opt.step()
            total, n, step = total + float(loss.detach()), n + 1, step + 1
            if log is not None and step % 20 == 0:
                log("loss/batch", float(loss.detach()), step)
        mean = total / max(n, 1)
        history.append({"epoch": epoch + 1, "loss": mean, "batches": n, "seconds": time.perf_counter() - t0})
        if log is not None:
            log("loss/epoch", mean, epoch + 1)
        if on_epoch is not None:
            on_epoch(epoch + 1, model.embedding.weight.detach().cpu())
    return model.embedding.weight.detach().cpu().clone(), history


# --------------------------------------------------------------------------- embedding folders

MOVIES, TENSORBOARD = "movies.tsv", "tensorboard"


def export_embeddings(ml, split: Split, config: EmbeddingConfig, out: str | Path, progress: bool = True,
                      walks: Tensor | None = None, method: str = "pca") -> tuple[NodeEmbeddings, Path]:
    """Train and write an embedding folder; everything appears at once or not at all.

    ``out`` gets ``embeddings.pt`` (``{"movie", "user"}`` tensors), ``raters.pt`` (each movie's raters
    among the ratings walked on, for ``graphrec similar``'s reasons), ``embeddings.json``
    (config, timings, losses, :func:`~graphrec.embeddings.quality.neighbour_quality`
    under ``"quality"``), ``movies.tsv`` (title, year, main genre, genres,
    ratings), ``<method>.png`` (the PCA or t-SNE map) and ``tensorboard/`` (loss
    scalars and the projector).
    """
    from torch.utils.tensorboard import SummaryWriter

    from ..data.movielens import data_provenance
    from ..io import atomic_dir
    from .views import add_projector, map_plot, movie_table, write_movies_tsv
    from .walks import interactions
    from .why import save_raters

    config.check()
    out = Path(out)
    with atomic_dir(out) as stage:
        writer = SummaryWriter(str(stage / TENSORBOARD))
        try:
            emb = fit_embeddings(split, config, progress=progress, log=writer.add_scalar, walks=walks,
                                 genres=ml.genre_matrix())
            table = movie_table(ml)
            add_projector(writer, emb.movie, table)
        finally:
            writer.close()
        emb.info["quality"] = summary_quality(emb, ml, split)
        users, items, _, _ = interactions(split, config.all_edges)
        save_raters(stage, users, items, split.num_items)
        emb.save(stage, dataset=ml.name, num_users=split.num_users, num_items=split.num_items,
                 data=data_provenance(ml))  # the training data's fingerprint (docs/reliability.md)
        write_movies_tsv(table, stage / MOVIES)
        map_plot(emb.movie, table, stage / f"{method}.png", method,
                 title=f"{ml.name} movie embeddings ({config.trainer}, {config.graph}, {config.weight}, "
                       f"content={config.content:g}, window={config.window}, p={config.p:g}, q={config.q:g})")
    return emb, out


def summary_quality(emb: NodeEmbeddings, ml, split: Split) -> dict:
    """Neighbour quality for ``embeddings.json``; the held-out figures only when those ratings were not walked on."""
    from .quality import neighbour_quality

    on = () if emb.config.all_edges else ("valid", "test")
    q = neighbour_quality(emb.movie, split, list(ml.movies["title"]), ml.genre_matrix(), on=on)
    if emb.config.all_edges:
        q["note"] = "trained on every rating: no held-out item-to-item figures"
    return q


def movie_rows(folder: str | Path) -> list[dict[str, str]]:
    """The rows of an embedding folder's ``movies.tsv`` (title, year, main_genre, genres, ratings) as
    strings, read without pandas (``graphrec similar``)."""
    from ..io import read_csv

    path = Path(folder) / MOVIES
    if not path.is_file():
        raise CheckpointError(f"{folder}: no {MOVIES} beside the embeddings")
    return read_csv(path, delimiter="\t")


def genre_list(field: str) -> list[str]:
    """A ``movies.tsv`` genres field (:func:`graphrec.embeddings.views.movie_table`: ``"Action|Sci-Fi"``,
    ``"(none)"``) as a list, ``["Action", "Sci-Fi"]`` or ``[]``: what ``graphrec recommend --json`` gives."""
    return [] if field in ("", "(none)") else field.split("|")


def read_movies(folder: str | Path):
    """The ``movies.tsv`` of an embedding folder as a DataFrame (``ratings`` as integers)."""
    import pandas as pd

    return pd.DataFrame(movie_rows(folder), columns=["title", "year", "main_genre", "genres", "ratings"]).astype(
        {"ratings": "int64"})


#: Settings of the embedding ``graphrec similar`` trains on first use: the defaults, on every rating.
DEFAULT_SIMILAR = EmbeddingConfig(all_edges=True)
