"""Models: baselines and learned recommenders, registered by name."""
from .base import MODELS, Recommender, register
from .att_neumf import AttentionNeuMF, AttentionNeuMFAll, SeedAttentionNeuMF
from .baselines import ItemKNN, MostPop

BASELINES = {"mostpop": MostPop, "itemknn": ItemKNN}

__all__ = ["MODELS", "Recommender", "register", "MostPop", "ItemKNN", "BASELINES",
           "AttentionNeuMF", "AttentionNeuMFAll", "SeedAttentionNeuMF"]
