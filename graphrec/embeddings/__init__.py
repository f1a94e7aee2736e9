"""Graph embeddings: node2vec walks, a from-scratch skip-gram, similar movies."""
from .node2vec import TRAINERS, EmbeddingConfig, NodeEmbeddings, fit_embeddings
from .similarity import EmbeddingScorer, genre_coherence, match_title, nearest, nearest_all
from .walks import GRAPHS, WalkGraph, bipartite_graph, build_graph, comovie_graph, random_walks
from .word2vec import SkipGram, UnigramNegatives, context_windows, train_skipgram

__all__ = [
    "TRAINERS", "EmbeddingConfig", "NodeEmbeddings", "fit_embeddings", "EmbeddingScorer", "genre_coherence",
    "match_title", "nearest", "nearest_all", "GRAPHS", "WalkGraph", "bipartite_graph", "build_graph",
    "comovie_graph", "random_walks", "SkipGram", "UnigramNegatives", "context_windows", "train_skipgram",
]
