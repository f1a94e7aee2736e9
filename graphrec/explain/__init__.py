"""Explanations: why a model scores a (user, movie) pair as it does, per feature group.

Every engine has one Captum-style call,
``explainer.attribute(users, items) -> Attribution``, giving each pair's
signed per-group contributions to the logit, the logit itself, the baseline
it is measured from and the unexplained remainder (``delta``):

* ``ig``   -- :class:`IntegratedGradientsExplainer`, Captum layer integrated
  gradients over the group layers; baseline = the average training pair.
* ``shap`` -- :class:`ShapExplainer`, exact interventional SHAP over the groups,
  swapping in the values of a seeded sample of training rows.
* ``lime`` -- :class:`LimeExplainer`, Captum LIME on the same group coalitions.

The model interface (:class:`graphrec.models.GroupRecommender` implements it;
any model exposing it can be explained, e.g. attention models over the same
groups):

* ``groups``: tuple of group names (a subset of :data:`graphrec.data.GROUPS`, in order);
* ``group_inputs(users, items) -> tuple[Tensor, ...]``: one input per group,
  ``long [N]`` codes for categorical groups, ``float [N, ...]`` for dense ones;
* ``forward_groups(*inputs) -> Tensor [N]``: the logits;
* ``group_layers() -> list[nn.Module]``: per group, the module whose output is
  that group's representation (IG attributes there and sums over its last
  dimensions). Categorical groups must map index ``-1`` to their baseline
  representation: use :class:`graphrec.models.groups.GroupEmbedding`.

Explaining never changes the model: it runs in eval mode under a private
seeded RNG and restores the previous mode; no parameter or buffer is written.
"""
from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {"Attribution": "base", "GroupExplainer": "base", "check_group_model": "base", "sample_pairs": "base",
            "seeded_sample": "base", "IntegratedGradientsExplainer": "gradients", "LimeExplainer": "lime",
            "ShapExplainer": "shapley"}
#: Engines by the name ``graphrec explain --method`` takes, and the class (module, name) behind each:
#: only the chosen engine's library (Captum or SHAP) is imported.
ENGINES: dict[str, str] = {"ig": "IntegratedGradientsExplainer", "shap": "ShapExplainer", "lime": "LimeExplainer"}


def make_explainer(method: str, model, split, **kwargs):
    """The ``method`` engine for ``model``, its background drawn from ``split``'s training pairs."""
    if method not in ENGINES:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(ENGINES)}")
    return __getattr__(ENGINES[method]).from_split(model, split, **kwargs)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = [*_EXPORTS, "ENGINES", "make_explainer"]
