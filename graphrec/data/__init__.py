"""Data: loading MovieLens, the bipartite graph, the split and negative sampling.

Names are exported lazily: ``from graphrec.data import Split`` imports only
:mod:`graphrec.data.split` (the graph module would pull in torch_geometric).
"""
from .._lazy import lazy_exports

_EXPORTS = {
    "GROUPS": "features", "FeatureTable": "features",
    "HomogeneousView": "graph", "homogeneous": "graph", "to_hetero": "graph",
    "DATASETS": "movielens", "MovieLens": "movielens", "load_movielens": "movielens", "locate": "movielens",
    "NegativeSampler": "sampling", "pairwise_epoch": "sampling", "pointwise_epoch": "sampling",
    "Split": "split", "leave_one_out": "split", "load_ncf": "split", "save_ncf": "split",
    "split_movielens": "split",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
