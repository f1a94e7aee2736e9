"""Shapley values of the feature groups, with SHAP's model-agnostic explainers.

SHAP sees each pair as ``G`` columns, one per group, whose values are *row
numbers* into a table of group inputs: rows ``0..B-1`` are the background
(a seeded sample of training pairs), rows ``B..`` the pairs to explain. A
masked group therefore takes a real background row's value -- an id, a genre
set, a year -- swapped in whole, never an interpolated id.

The default ``shap.KernelExplainer`` enumerates all ``2^G`` coalitions (G = 7),
which makes its values the exact interventional Shapley values:
``sum(values) = f(x) - E_background[f]``. ``algorithm="exact"`` gives the same
numbers through ``shap.explainers.Exact`` (whose numba kernels take ~15 s to
compile in every new process, hence not the default); ``"permutation"`` uses
``shap.PermutationExplainer``.
"""
from __future__ import annotations

import numpy as np
import shap
import torch
from torch import Tensor

from .base import GroupExplainer

ALGORITHMS = ("kernel", "exact", "permutation")


class ShapExplainer(GroupExplainer):
    """Exact (or permutation) SHAP over the groups, ``background`` training rows swapped in."""

    method = "shap"

    def __init__(self, model, train, background: int = 64, seed: int = 0, algorithm: str = "kernel") -> None:
        super().__init__(model, train, background, seed)
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
        self.algorithm = algorithm

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
        state = np.random.get_state()  # shap samples from numpy's global RNG: seed it, then restore it
        np.random.seed(self.seed)
        try:
            if self.algorithm == "kernel":
                explainer = shap.KernelExplainer(f, background)
                values = explainer.shap_values(x, nsamples=2 ** g, l1_reg=False, silent=True)
                base = np.full(len(users), explainer.expected_value)
            else:
                cls = shap.explainers.Exact if self.algorithm == "exact" else shap.explainers.Permutation
                masker = shap.maskers.Independent(background, max_samples=b)
                ex = cls(f, masker)(x, silent=True, max_evals=2 ** g + 1 if self.algorithm == "exact" else 10 * g + 1)
                values, base = ex.values, np.broadcast_to(ex.base_values, (len(users),))
        finally:
            np.random.set_state(state)
        values = torch.as_tensor(np.asarray(values), dtype=torch.float64)
        base = torch.as_tensor(np.array(base, dtype=np.float64))
        logits = torch.as_tensor(f(x), dtype=torch.float64)
        return values, logits, base, logits - base - values.sum(1)
