"""Data: loading MovieLens, the bipartite graph, the split and negative sampling."""
from .features import GROUPS, FeatureTable
from .graph import HomogeneousView, homogeneous, to_hetero
from .movielens import DATASETS, MovieLens, load_movielens, locate
from .sampling import NegativeSampler, pairwise_epoch, pointwise_epoch
from .split import Split, leave_one_out, load_ncf, save_ncf, split_movielens

__all__ = [
    "DATASETS", "FeatureTable", "GROUPS", "MovieLens", "load_movielens", "locate", "to_hetero", "homogeneous", "HomogeneousView",
    "Split", "leave_one_out", "split_movielens", "save_ncf", "load_ncf", "NegativeSampler",
    "pointwise_epoch", "pairwise_epoch",
]
