"""Graph embeddings: node2vec walks, a from-scratch skip-gram, similar movies (exported lazily)."""
from .._lazy import lazy_exports

_EXPORTS = {
    "TRAINERS": "config", "EmbeddingConfig": "config", "GRAPHS": "config",
    "NodeEmbeddings": "node2vec", "fit_embeddings": "node2vec",
    "EmbeddingScorer": "similarity", "genre_coherence": "similarity", "match_title": "similarity",
    "nearest": "similarity", "nearest_all": "similarity",
    "WalkGraph": "walks", "bipartite_graph": "walks", "build_graph": "walks", "comovie_graph": "walks",
    "random_walks": "walks",
    "SkipGram": "word2vec", "UnigramNegatives": "word2vec", "context_windows": "word2vec",
    "train_skipgram": "word2vec",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
