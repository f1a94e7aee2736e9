"""Models: baselines and learned recommenders, registered by name."""
from .base import MODELS, Recommender, register
from .att_neumf import AttentionNeuMF, AttentionNeuMFAll, SeedAttentionNeuMF
from .baselines import ItemKNN, MostPop
from .ease import EASE
from .feature_mlp import FeatureMLP
from .feature_neumf import FeatureNeuMF
from .gmf import GMF
from .groups import GroupRecommender
from .lightgcn import LightGCN
from .mlp import MLP
from .neumf import NeuMF

BASELINES = {"mostpop": MostPop, "itemknn": ItemKNN, "ease": EASE}

__all__ = ["MODELS", "Recommender", "register", "MostPop", "ItemKNN", "EASE", "BASELINES", "GMF", "MLP", "NeuMF",
           "LightGCN", "FeatureMLP", "FeatureNeuMF", "GroupRecommender", "AttentionNeuMF", "AttentionNeuMFAll",
           "SeedAttentionNeuMF"]
