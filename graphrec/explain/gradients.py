"""Integrated gradients over the feature groups, with Captum.

One ``captum.attr.LayerIntegratedGradients`` run over every group's
representation layer (``model.group_layers()``): the embedding layers of the
categorical groups and the identity layers on the dense inputs (genres
multi-hot, year), where layer IG *is* plain ``IntegratedGradients`` on the
input. All groups travel one straight path together, so completeness holds
across groups: ``sum(values) = f(x) - f(baseline)`` up to Captum's reported
convergence delta (``Attribution.delta`` is its negative, the unexplained rest). Attributions are summed over each layer's dimensions.

Baseline: the average training pair. Categorical groups use index ``-1``,
which :class:`~graphrec.models.groups.GroupEmbedding` maps to its embedding
rows averaged with their training frequencies; dense groups use their mean
over the training pairs (genre frequencies, mean year).
"""
from __future__ import annotations

import torch
from captum.attr import LayerIntegratedGradients
from torch import Tensor

from ..models.groups import MEAN_INDEX
from .base import GroupExplainer


class IntegratedGradientsExplainer(GroupExplainer):
    """Captum layer integrated gradients, ``n_steps`` Gauss-Legendre points."""

    method = "ig"

    def __init__(self, model, train, background: int = 64, seed: int = 0, n_steps: int = 64,
                 internal_batch_size: int = 4096) -> None:
        super().__init__(model, train, background, seed)
        self.n_steps, self.internal_batch_size = n_steps, internal_batch_size
        with torch.no_grad():
            dense = self.model.group_inputs(self.train_users, self.train_items)
            self.dense_mean = [x.float().mean(0) if x.is_floating_point() else None for x in dense]

    def baselines(self, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        return tuple(torch.full_like(x, MEAN_INDEX) if m is None else m.expand_as(x).contiguous()
                     for x, m in zip(inputs, self.dense_mean))

    def _attribute(self, users: Tensor, items: Tensor):
        model = self.model
        inputs = model.group_inputs(users, items)
        base = self.baselines(inputs)
        lig = LayerIntegratedGradients(model.forward_groups, model.group_layers())
        attrs, delta = lig.attribute(inputs, baselines=base, n_steps=self.n_steps, method="gausslegendre",
                                     internal_batch_size=max(self.internal_batch_size, len(users)),
                                     return_convergence_delta=True)
        values = torch.stack([a.reshape(len(users), -1).sum(1) for a in attrs], dim=1)
        with torch.no_grad():
            logits, baseline = model.forward_groups(*inputs), model.forward_groups(*base)
        return values, logits, baseline, -delta  # Captum's delta is sum(values) - (f(x) - f(baseline))
