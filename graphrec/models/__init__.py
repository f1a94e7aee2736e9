"""Models: baselines and learned recommenders, registered by name with their capabilities.

Each model's module is imported when the model is first asked for, so naming
one (``graphrec train --help``, loading a NeuMF run) does not import the
others' dependencies (LightGCN pulls in torch_geometric, the baselines scikit-learn).
"""
from __future__ import annotations

from importlib import import_module

#: Every registered name and the module that defines (and registers) it.
MODEL_MODULES: dict[str, str] = {
    "gmf": "gmf", "mlp": "mlp", "neumf": "neumf", "lightgcn": "lightgcn", "feature-mlp": "feature_mlp",
    "feature-neumf": "feature_neumf", "att-neumf": "att_neumf", "att-neumf-all": "att_neumf",
    "att-neumf-seed": "att_neumf", "hetero-sage": "hetero_sage", "mostpop": "baselines", "itemknn": "baselines",
    "node2vec": "node2vec", "ease": "ease", "als": "implicit_mf", "bpr-implicit": "implicit_mf",
    "sasrec": "sasrec",
}
#: The names ``graphrec train`` and ``graphrec evaluate`` accept, known without importing any model
#: (``tests/models/test_lazy_registry.py`` checks them against the registered capabilities).
TRAINABLE = ("att-neumf", "att-neumf-all", "att-neumf-seed", "feature-mlp", "feature-neumf", "gmf", "hetero-sage",
             "lightgcn", "mlp", "neumf", "sasrec")
FITTED = ("als", "bpr-implicit", "ease", "itemknn", "mostpop", "node2vec")

_EXPORTS = {
    "Capabilities": "base", "Recommender": "base", "register": "base", "unregister": "base",
    "capabilities": "base", "names": "base", "MostPop": "baselines", "ItemKNN": "baselines",
    "Node2VecScorer": "node2vec", "GMF": "gmf", "MLP": "mlp", "NeuMF": "neumf", "LightGCN": "lightgcn",
    "FeatureMLP": "feature_mlp", "FeatureNeuMF": "feature_neumf", "GroupRecommender": "groups",
    "AttentionNeuMF": "att_neumf", "AttentionNeuMFAll": "att_neumf", "SeedAttentionNeuMF": "att_neumf",
    "HeteroSAGE": "hetero_sage", "EASE": "ease", "ImplicitALS": "implicit_mf", "ImplicitBPR": "implicit_mf",
    "SASRec": "sasrec",
}


def model_class(name: str) -> type:
    """The class registered as ``name``, importing only its module; ``KeyError`` if unknown."""
    from .base import MODELS

    if name not in MODELS and name in MODEL_MODULES:
        import_module(f"{__name__}.{MODEL_MODULES[name]}")
    return MODELS[name]


def import_all() -> dict[str, type]:
    """Import every model module; the complete registry."""
    for module in sorted(set(MODEL_MODULES.values())):
        import_module(f"{__name__}.{module}")
    from .base import MODELS

    return MODELS


def __getattr__(name: str):
    if name == "MODELS":
        return import_all()
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MODELS", "MODEL_MODULES", "TRAINABLE", "FITTED", "model_class", "import_all", *_EXPORTS]
