"""Models: baselines and learned recommenders, registered by name."""
from .base import MODELS, Recommender, register
from .baselines import ItemKNN, MostPop
from .gmf import GMF
from .lightgcn import LightGCN
from .mlp import MLP
from .neumf import NeuMF

BASELINES = {"mostpop": MostPop, "itemknn": ItemKNN}

__all__ = ["MODELS", "Recommender", "register", "MostPop", "ItemKNN", "BASELINES", "GMF", "MLP", "NeuMF", "LightGCN"]
