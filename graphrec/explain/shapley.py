"""Shapley values of the feature groups, with SHAP's model-agnostic explainers.

SHAP sees each pair as ``G`` columns, one per group, whose values are *row
numbers* into a table of group inputs: rows ``0..B-1`` are the background
(a seeded sample of training pairs), rows ``B..`` the pairs to explain. A
masked group therefore takes a real background row's value -- an id, a genre
set, a year -- swapped in whole, never an interpolated id.

``shap.KernelExplainer`` enumerates all ``2^G`` coalitions (G = 7, 128 of
them), which makes its values the exact interventional Shapley values with
respect to the background: ``sum(values) = f(x) - E_background[f]``
(beyond 12 groups it samples 4096 coalitions, seeded).
(``shap.explainers.Exact`` and ``PermutationExplainer`` give the same numbers
but compile numba kernels for ~15 s in every new process.)
"""
from __future__ import annotations

import numpy as np
import shap
import torch
from torch import Tensor

from .base import GroupExplainer


class ShapExplainer(GroupExplainer):
    """Kernel SHAP over all coalitions of the groups, ``background`` training rows swapped in."""

    method = "shap"

    def _attribute(self, users: Tensor, items: Tensor):
        model, (bu, bi) = self.model, self.background
        b, g = len(bu), len(self.groups)
        table = model.group_inputs(torch.cat([bu, users]), torch.cat([bi, items]))

        @torch.no_grad()
        def f(rows: np.ndarray) -> np.ndarray:
            idx = torch.as_tensor(np.asarray(rows), dtype=torch.long)
            return model.forward_groups(*(t[idx[:, j]] for j, t in enumerate(table))).double().numpy()

        background = np.repeat(np.arange(b)[:, None], g, axis=1)
        x = np.repeat(np.arange(b, b + len(users))[:, None], g, axis=1)
        state = np.random.get_state()  # KernelExplainer draws from numpy's global RNG when it samples:
        np.random.seed(self.seed)  # seed it, then restore it
        try:
            explainer = shap.KernelExplainer(f, background)
            values = explainer.shap_values(x, nsamples=min(2 ** g, 4096), l1_reg=False, silent=True)
            base = np.full(len(users), explainer.expected_value)
        finally:
            np.random.set_state(state)
        values = torch.as_tensor(np.asarray(values), dtype=torch.float64)
        base = torch.as_tensor(np.array(base, dtype=np.float64))
        logits = torch.as_tensor(f(x), dtype=torch.float64)
        return values, logits, base, logits - base - values.sum(1)
