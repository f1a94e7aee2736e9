"""Models: baselines and learned recommenders, registered by name.

Each model's module is imported when the model is first asked for, so naming
one (``graphrec train --help``, loading a NeuMF run) does not import the
others' dependencies (LightGCN pulls in torch_geometric, the baselines scikit-learn).
"""
from __future__ import annotations

from importlib import import_module

#: Every registered model's name and the module that defines (and registers) it.
MODEL_MODULES: dict[str, str] = {
    "gmf": "gmf", "mlp": "mlp", "neumf": "neumf", "lightgcn": "lightgcn", "feature-mlp": "feature_mlp",
    "feature-neumf": "feature_neumf", "att-neumf": "att_neumf", "att-neumf-all": "att_neumf",
    "att-neumf-seed": "att_neumf",
}
#: Fitted (not trained) baselines by name.
BASELINE_NAMES = ("mostpop", "itemknn")

_EXPORTS = {
    "Recommender": "base", "register": "base", "MostPop": "baselines", "ItemKNN": "baselines", "GMF": "gmf",
    "MLP": "mlp", "NeuMF": "neumf", "LightGCN": "lightgcn", "FeatureMLP": "feature_mlp",
    "FeatureNeuMF": "feature_neumf", "GroupRecommender": "groups", "AttentionNeuMF": "att_neumf",
    "AttentionNeuMFAll": "att_neumf", "SeedAttentionNeuMF": "att_neumf",
}


def model_class(name: str) -> type:
    """The registered model class called ``name``, importing only its module; ``KeyError`` if unknown."""
    from .base import MODELS

    if name not in MODELS and name in MODEL_MODULES:
        import_module(f"{__name__}.{MODEL_MODULES[name]}")
    return MODELS[name]


def baseline_class(name: str) -> type:
    from .baselines import ItemKNN, MostPop

    return {"mostpop": MostPop, "itemknn": ItemKNN}[name]


def __getattr__(name: str):
    if name == "MODELS":  # the full registry: import every model
        for module in sorted(set(MODEL_MODULES.values())):
            import_module(f"{__name__}.{module}")
        from .base import MODELS

        return MODELS
    if name == "BASELINES":
        return {n: baseline_class(n) for n in BASELINE_NAMES}
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MODELS", "MODEL_MODULES", "BASELINES", "BASELINE_NAMES", "model_class", "baseline_class", *_EXPORTS]
