"""Models: baselines and learned recommenders, registered by name."""
from .base import MODELS, Recommender, register
from .baselines import ItemKNN, MostPop
from .feature_mlp import FeatureMLP
from .groups import GroupRecommender

BASELINES = {"mostpop": MostPop, "itemknn": ItemKNN}

__all__ = ["MODELS", "Recommender", "register", "MostPop", "ItemKNN", "BASELINES", "FeatureMLP", "GroupRecommender"]
