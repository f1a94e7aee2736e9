"""Graph embeddings: node2vec walks, a from-scratch skip-gram, similar movies and their quality (exported lazily)."""
from .._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("TOKENS", "TRAINERS", "EmbeddingConfig", "GRAPHS", "WEIGHTINGS"), "config"),
    "NodeEmbeddings": "node2vec", "fit_embeddings": "node2vec",
    **dict.fromkeys(("SEQUELS", "collapse_warning", "franchise_recall", "item_cosine", "item_to_item",
                     "mean_pairwise_cosine",
                     "neighbour_quality", "popularity", "popularity_bias", "sequel_check"), "quality"),
    **dict.fromkeys(("franchise_groups", "franchise_key", "franchise_keys", "sibling_pairs", "split_franchises",
                     "title_stem"), "franchise"),
    **dict.fromkeys(("EmbeddingScorer", "genre_coherence", "match_title", "nearest", "nearest_all"), "similarity"),
    **dict.fromkeys(("WalkGraph", "bipartite_graph", "build_graph", "comovie_graph", "history_graph",
                     "metapath_graph", "random_walks"), "walks"),
    **dict.fromkeys(("SkipGram", "UnigramNegatives", "compact_walks", "train_skipgram", "walk_step"), "word2vec"),
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
