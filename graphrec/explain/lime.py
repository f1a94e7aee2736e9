"""LIME over the feature groups, with Captum's ``Lime`` (no extra package needed).

The interpretable representation is one bit per group. A sampled coalition
keeps the pair's own value of the groups whose bit is 1 and swaps the others
for the background rows' values (averaging the logit over the background, as
SHAP does); a weighted linear regression on those samples gives each group's
coefficient. LIME's tabular kernel weighs the samples: ``sqrt(exp(-d^2 / w^2))``
with ``d`` the Euclidean distance of the bit vector to all-ones and
``w = 0.75 * sqrt(G)``. LIME is not additive, so ``delta`` is the
surrogate's gap to the prediction.
"""
from __future__ import annotations

import math

import torch
from captum._utils.models.linear_model import SkLearnLinearRegression  # captum exports its surrogates only here
from captum.attr import Lime
from torch import Tensor

from .base import GroupExplainer


def tabular_kernel(width: float):
    """LIME's tabular kernel as a Captum similarity function: ``sqrt(exp(-d^2 / width^2))`` of the
    Euclidean distance ``d`` between the original and the perturbed interpretable input."""
    def similarity(original: Tensor, perturbed: Tensor, _, **kwargs) -> Tensor:
        d = torch.linalg.vector_norm(original.flatten().float() - perturbed.flatten().float())
        return torch.exp(-(d ** 2) / (2 * width ** 2))

    return similarity


class LimeExplainer(GroupExplainer):
    """Captum LIME with ``n_samples`` coalitions per pair, each averaged over ``background`` rows."""

    method = "lime"

    def __init__(self, model, train, background: int = 32, seed: int = 0, n_samples: int = 256) -> None:
        super().__init__(model, train, background, seed)
        self.n_samples = n_samples

    def _attribute(self, users: Tensor, items: Tensor):
        g = len(self.groups)
        similarity = tabular_kernel(0.75 * math.sqrt(g))
        values = []
        for u, i in zip(users, items):
            def coalition(masks: Tensor, u=u, i=i) -> Tensor:
                return self.coalition_logits(u[None], i[None], masks[None].float())[0]

            lime = Lime(coalition, interpretable_model=SkLearnLinearRegression(), similarity_func=similarity)
            ones = torch.ones(1, g)
            values.append(lime.attribute(ones, baselines=torch.zeros(1, g), n_samples=self.n_samples,
                                         perturbations_per_eval=self.n_samples)[0])
        values = torch.stack(values).double()
        full = torch.ones(len(users), 1, g)
        logits = self.coalition_logits(users, items, full)[:, 0].double()
        baseline = self.coalition_logits(users, items, torch.zeros_like(full))[:, 0].double()
        return values, logits, baseline, logits - baseline - values.sum(1)
