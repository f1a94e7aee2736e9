"""Graph embeddings: node2vec walks, a from-scratch skip-gram, similar movies and their quality."""
from .node2vec import TOKENS, TRAINERS, EmbeddingConfig, NodeEmbeddings, fit_embeddings
from .quality import (SEQUELS, collapse_warning, item_cosine, item_to_item, mean_pairwise_cosine, neighbour_quality,
                      popularity, popularity_bias, sequel_check)
from .similarity import EmbeddingScorer, genre_coherence, match_title, nearest, nearest_all
from .walks import GRAPHS, WEIGHTINGS, WalkGraph, bipartite_graph, build_graph, comovie_graph, random_walks
from .word2vec import SkipGram, UnigramNegatives, compact_walks, train_skipgram, walk_step

__all__ = [
    "TOKENS", "TRAINERS", "EmbeddingConfig", "NodeEmbeddings", "fit_embeddings", "SEQUELS", "collapse_warning",
    "item_cosine", "item_to_item", "mean_pairwise_cosine", "neighbour_quality", "popularity", "popularity_bias",
    "sequel_check", "EmbeddingScorer", "genre_coherence", "match_title", "nearest", "nearest_all", "GRAPHS",
    "WEIGHTINGS", "WalkGraph", "bipartite_graph", "build_graph", "comovie_graph", "random_walks", "SkipGram",
    "UnigramNegatives", "compact_walks", "train_skipgram", "walk_step",
]
