"""Integrated gradients over the feature groups, with Captum.

One ``captum.attr.LayerIntegratedGradients`` run over every group's
representation layer (``model.group_layers()``): the embedding layers of the
categorical groups and the identity layers on the dense inputs (genres
multi-hot, year), where layer IG *is* plain ``IntegratedGradients`` on the
input. All groups travel one straight path together, so completeness holds
across groups: ``sum(values) = f(x) - f(baseline)`` up to Captum's reported
convergence delta (``Attribution.delta`` is its negative, the unexplained rest). Attributions are summed over each layer's dimensions.

Baseline: the average training pair in representation space -- each group
layer's output averaged over all training pairs (for an id or category: its
embedding rows weighted by their training frequency; for genres: the genre
frequencies; for year: the mean year). Categorical inputs of the baseline are
the index ``-1``; while explaining, temporary hooks on the group layers map it
to that mean (and are removed afterwards), so models need nothing extra.
"""
from __future__ import annotations

import contextlib
import warnings

import torch
from captum.attr import LayerIntegratedGradients
from torch import Tensor

from .base import GroupExplainer

#: Categorical baseline input: the hooks replace its representation by the training mean.
MEAN_INDEX = -1


class IntegratedGradientsExplainer(GroupExplainer):
    """Captum layer integrated gradients, ``n_steps`` Gauss-Legendre points."""

    method = "ig"

    def __init__(self, model, train, background: int = 64, seed: int = 0, n_steps: int = 64,
                 internal_batch_size: int = 4096) -> None:
        super().__init__(model, train, background, seed)
        self.n_steps, self.internal_batch_size = n_steps, internal_batch_size
        with torch.no_grad():
            inputs = self.model.group_inputs(self.train_users, self.train_items)
            #: Per group the mean representation over the training pairs (categorical groups) or the mean input.
            self.means = [x.float().mean(0) if x.is_floating_point() else layer(x).mean(0)
                          for x, layer in zip(inputs, self.model.group_layers())]

    def baselines(self, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        return tuple(m.expand_as(x).contiguous() if x.is_floating_point() else torch.full_like(x, MEAN_INDEX)
                     for x, m in zip(inputs, self.means))

    @contextlib.contextmanager
    def mean_hooks(self):
        """While active, a categorical group layer maps index -1 to its training-mean representation."""
        handles = []
        for layer, mean, x in zip(self.model.group_layers(), self.means,
                                  self.model.group_inputs(self.train_users[:1], self.train_items[:1])):
            if x.is_floating_point():
                continue
            masks = []

            def pre(module, args, masks=masks):
                masks.append(args[0] == MEAN_INDEX)
                return (args[0].clamp(min=0), *args[1:])

            def post(module, args, out, masks=masks, mean=mean):
                mask = masks.pop()
                return torch.where(mask.reshape(*mask.shape, *[1] * (out.dim() - mask.dim())), mean.expand_as(out), out)

            handles += [layer.register_forward_pre_hook(pre), layer.register_forward_hook(post)]
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    def _attribute(self, users: Tensor, items: Tensor):
        model = self.model
        inputs = model.group_inputs(users, items)
        base = self.baselines(inputs)
        with self.mean_hooks(), warnings.catch_warnings():
            # the group layers are parallel (none feeds another), which is what Captum's warning asks
            warnings.filterwarnings("ignore", message="Multiple layers provided")
            lig = LayerIntegratedGradients(model.forward_groups, model.group_layers())
            attrs, delta = lig.attribute(inputs, baselines=base, n_steps=self.n_steps, method="gausslegendre",
                                         internal_batch_size=max(self.internal_batch_size, len(users)),
                                         return_convergence_delta=True)
            with torch.no_grad():
                logits, baseline = model.forward_groups(*inputs), model.forward_groups(*base)
        values = torch.stack([a.reshape(len(users), -1).sum(1) for a in attrs], dim=1)
        return values, logits, baseline, -delta  # Captum's delta is sum(values) - (f(x) - f(baseline))
