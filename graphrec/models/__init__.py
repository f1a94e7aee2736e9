"""Models: baselines and learned recommenders, registered by name."""
from .base import MODELS, Capabilities, Recommender, capabilities, names, register, unregister
from .att_neumf import AttentionNeuMF, AttentionNeuMFAll, SeedAttentionNeuMF
from .baselines import ItemKNN, MostPop
from .ease import EASE
from .feature_mlp import FeatureMLP
from .feature_neumf import FeatureNeuMF
from .gmf import GMF
from .implicit_mf import ImplicitALS, ImplicitBPR
from .groups import GroupRecommender
from .hetero_sage import HeteroSAGE
from .lightgcn import LightGCN
from .mlp import MLP
from .neumf import NeuMF
from .node2vec import Node2VecScorer

__all__ = ["MODELS", "Capabilities", "Recommender", "capabilities", "names", "register", "unregister", "MostPop",
           "ItemKNN", "EASE", "ImplicitALS", "ImplicitBPR", "Node2VecScorer", "GMF", "MLP", "NeuMF",
           "LightGCN", "FeatureMLP", "FeatureNeuMF", "GroupRecommender", "AttentionNeuMF", "AttentionNeuMFAll",
           "SeedAttentionNeuMF", "HeteroSAGE"]
