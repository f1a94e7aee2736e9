"""Models: baselines and learned recommenders, registered by name with their capabilities.

:data:`REGISTRY` is the one list of model names: each name, the class that implements it and
whether :class:`~graphrec.training.Trainer` trains it or it is fitted on a split. The CLI's
choices, the benchmark's catalogue, the tuning spaces and the exports below all read it. Each
model's module is imported when the model is first asked for, so naming one (``graphrec train
--help``, loading a NeuMF run) does not import the others' dependencies (LightGCN pulls in
torch_geometric, the baselines scikit-learn).
"""
from __future__ import annotations

import inspect
from importlib import import_module
from typing import NamedTuple

from ..errors import GraphrecError


class Spec(NamedTuple):
    """Where a registered model lives (``module:Class`` under :mod:`graphrec.models`) and how it learns."""

    target: str
    trainable: bool  # True: trained by the Trainer from a TrainConfig; False: fitted on a split

    @property
    def module(self) -> str:
        return self.target.split(":")[0]

    @property
    def cls(self) -> str:
        return self.target.split(":")[1]


#: Every built-in model by name (tests and plugins add theirs with :func:`graphrec.models.base.register`).
REGISTRY: dict[str, Spec] = {
    "gmf": Spec("gmf:GMF", True),
    "mlp": Spec("mlp:MLP", True),
    "neumf": Spec("neumf:NeuMF", True),
    "feature-mlp": Spec("feature_mlp:FeatureMLP", True),
    "feature-neumf": Spec("feature_neumf:FeatureNeuMF", True),
    "att-neumf": Spec("att_neumf:AttentionNeuMF", True),
    "att-neumf-all": Spec("att_neumf:AttentionNeuMFAll", True),
    "att-neumf-seed": Spec("att_neumf:SeedAttentionNeuMF", True),
    "lightgcn": Spec("lightgcn:LightGCN", True),
    "hetero-sage": Spec("hetero_sage:HeteroSAGE", True),
    "mostpop": Spec("baselines:MostPop", False),
    "itemknn": Spec("baselines:ItemKNN", False),
    "node2vec": Spec("node2vec:Node2VecScorer", False),
    "ease": Spec("ease:EASE", False),
    "als": Spec("implicit_mf:ImplicitALS", False),
    "bpr-implicit": Spec("implicit_mf:ImplicitBPR", False),
    "sasrec": Spec("sasrec:SASRec", True),
}
#: The names ``graphrec train`` accepts, and those fitted on a split (``graphrec evaluate NAME``).
TRAINABLE = tuple(sorted(n for n, s in REGISTRY.items() if s.trainable))
FITTED = tuple(sorted(n for n, s in REGISTRY.items() if not s.trainable))

_EXPORTS = {
    **dict.fromkeys(("Capabilities", "Recommender", "register", "unregister", "capabilities", "names"), "base"),
    "GroupRecommender": "groups", **{s.cls: s.module for s in REGISTRY.values()},
}


def model_class(name: str) -> type:
    """The class registered as ``name``, importing only its module; ``KeyError`` if unknown."""
    from .base import MODELS, register

    if name not in MODELS and name in REGISTRY:
        spec = REGISTRY[name]
        register(name)(getattr(import_module(f"{__name__}.{spec.module}"), spec.cls))
    return MODELS[name]


def hparam_names(name: str) -> tuple[str, ...] | None:
    """The hyper-parameters of the model registered as ``name``: its constructor's parameters that have
    defaults (what a config's ``hparams`` may set; the others are built from the data). ``None`` for a
    model whose constructor takes any keyword (node2vec's walk settings)."""
    init = inspect.signature(model_class(name).__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in init.values()):
        return None
    return tuple(n for n, p in init.items() if p.default is not p.empty)


def check_hparams(name: str, hparams: dict) -> None:
    """:class:`GraphrecError` naming the keys of ``hparams`` that model ``name`` does not take, and those it
    takes; an unknown model is refused the same way."""
    try:
        takes = hparam_names(name)
    except KeyError:
        raise GraphrecError(f"unknown model {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    if not hparams or takes is None:
        return
    bad = sorted(k for k in hparams if k not in takes)
    if bad:
        raise GraphrecError(f"model {name!r} does not take {', '.join(bad)} (it takes: {', '.join(takes) or 'none'})")


def import_all() -> dict[str, type]:
    """Every built-in model loaded; the complete registry."""
    from .base import MODELS

    for name in REGISTRY:
        model_class(name)
    return MODELS


def __getattr__(name: str):
    if name == "MODELS":
        return import_all()
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MODELS", "REGISTRY", "TRAINABLE", "FITTED", "Spec", "model_class", "import_all", *_EXPORTS]
