"""Node2Vec scoring (Grover & Leskovec, KDD 2016) as a recommender: movie vectors (and, on the
bipartite graph, user vectors) learned from biased random walks on the training graph, a (user, movie)
pair scored by the dot product (or cosine) of its vectors. Fitted on a split
(:mod:`graphrec.embeddings`), not trained by the Trainer.
"""
from __future__ import annotations

from torch import Tensor

from .base import declare


@declare(uses_graph=True)
class Node2VecScorer:
    """``score(u, i) = <e_u, e_i>`` (``metric="dot"``) or their cosine, from node2vec embeddings.

    Args:
        metric: ``"dot"`` or ``"cosine"``.
        seed: seeds the walks and the skip-gram.
        **config: :class:`graphrec.embeddings.EmbeddingConfig` fields; its defaults are the embedding
            chosen on validation for ``graphrec similar`` (the co-movie graph, so a user's vector is the
            mean of their training movies' vectors; docs/embeddings.md). ``graph="bipartite"``
            gives users their own node vectors instead.
    """

    def __init__(self, metric: str = "dot", seed: int = 0, **config) -> None:
        self.metric, self.seed, self.config = metric, seed, config
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
