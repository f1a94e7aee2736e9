"""Node2Vec scoring (Grover & Leskovec, KDD 2016) as a recommender: user and movie vectors learned
from biased random walks on the training graph, a (user, movie) pair scored by the dot product
(or cosine) of its vectors. Fitted on a split (:mod:`graphrec.embeddings`), not trained by the Trainer.
"""
from __future__ import annotations

from torch import Tensor

from .base import register


@register("node2vec", trainable=False, fit=True, uses_graph=True)
class Node2VecScorer:
    """``score(u, i) = <e_u, e_i>`` (``metric="dot"``) or their cosine, from node2vec embeddings.

    Args:
        metric: ``"dot"`` or ``"cosine"``.
        seed: seeds the walks and the skip-gram.
        **config: :class:`graphrec.embeddings.EmbeddingConfig` fields; the defaults here are the
            benchmark's budget (the user-movie graph, which gives users their own vectors; walk length 40,
            5 walks per node, window 5, 64 dimensions, 1 epoch, target vectors).
    """

    def __init__(self, metric: str = "dot", seed: int = 0, graph: str = "bipartite", walk_length: int = 40,
                 walks_per_node: int = 5, window: int = 5, dim: int = 64, epochs: int = 1,
                 vectors: str = "target", **config) -> None:
        self.metric, self.seed = metric, seed
        self.config = {"graph": graph, "walk_length": walk_length, "walks_per_node": walks_per_node,
                       "window": window, "dim": dim, "epochs": epochs, "vectors": vectors, **config}
        self.scorer = None

    @staticmethod
    def available() -> bool:
        """Whether torch-cluster (the walks) is installed."""
        import importlib.util

        return importlib.util.find_spec("torch_cluster") is not None

    def fit(self, split, progress: bool = False) -> "Node2VecScorer":
        from ..embeddings import EmbeddingConfig, EmbeddingScorer, fit_embeddings

        emb = fit_embeddings(split, EmbeddingConfig(seed=self.seed, **self.config), progress=progress)
        self.parameters = emb.movie.numel() + (emb.user.numel() if emb.user is not None else 0)
        self.scorer = EmbeddingScorer(emb.movie, emb.user, self.metric, split)
        self.num_items = split.num_items
        return self

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return self.scorer.score(users, items)

    def score_all(self, users: Tensor) -> Tensor:
        return self.scorer.score_all(users)
