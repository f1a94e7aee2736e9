"""The shared result type and base class of every attribution engine."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import GraphrecError


@dataclass
class Attribution:
    """Per-group signed contributions to the logits of ``N`` (user, movie) pairs.

    ``values[n, g]`` is group ``g``'s contribution to pair ``n``'s logit,
    relative to ``baseline[n]``: the logit at the baseline input (integrated
    gradients) or the expected logit over the background rows (SHAP, LIME).
    ``delta = logits - baseline - values.sum(1)`` is what the contributions
    leave unexplained (IG: Captum's convergence delta; SHAP: ~0 by construction).
    """

    method: str
    groups: tuple[str, ...]
    users: Tensor  # [N] dense indices
    items: Tensor  # [N]
    values: Tensor  # [N, G]
    logits: Tensor  # [N]
    baseline: Tensor  # [N]
    delta: Tensor  # [N]

    @property
    def scores(self) -> Tensor:
        """Predicted probabilities ``sigmoid(logits)``."""
        return torch.sigmoid(self.logits)

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, idx) -> "Attribution":
        """The pairs at ``idx`` (an int keeps a batch of one)."""
        idx = slice(idx, idx + 1) if isinstance(idx, int) else idx
        return Attribution(self.method, self.groups, self.users[idx], self.items[idx], self.values[idx],
                           self.logits[idx], self.baseline[idx], self.delta[idx])

    def colour(self, model) -> np.ndarray:
        """Per pair and group a number to colour a beeswarm by: the category code, the number of
        genres, the scaled year; NaN (grey) for the user and movie ids, whose codes mean nothing."""
        with torch.no_grad():
            inputs = model.group_inputs(self.users, self.items)
        cols = [np.full(len(self), np.nan) if g in ("user", "movie") else x.reshape(len(self), -1).float().sum(1).numpy()
                for g, x in zip(self.groups, inputs)]
        return np.stack(cols, axis=1)

    def mean_abs(self) -> dict[str, float]:
        """Global importance: mean |contribution| of each group over the pairs."""
        return dict(zip(self.groups, self.values.abs().mean(0).tolist()))

    def rows(self, table=None, n: int = 0) -> list[dict]:
        """Pair ``n``'s groups as table rows sorted by |contribution|, labelled with ``table.describe``."""
        u, i = int(self.users[n]), int(self.items[n])
        rows = [{"group": g, "value": table.describe(g, u, i) if table is not None else g,
                 "contribution": float(self.values[n, j])} for j, g in enumerate(self.groups)]
        return sorted(rows, key=lambda r: -abs(r["contribution"]))

    def to_dict(self, table=None, n: int = 0) -> dict:
        return {"method": self.method, "logit": float(self.logits[n]), "score": float(self.scores[n]),
                "baseline": float(self.baseline[n]), "delta": float(self.delta[n]),
                "contributions": self.rows(table, n)}

    def to_shap(self, table=None):
        """A ``shap.Explanation`` (for waterfall and beeswarm plots), features labelled per pair if ``table``."""
        import shap

        names = list(self.groups)
        if table is not None and len(self) == 1:
            names = [table.describe(g, int(self.users[0]), int(self.items[0])) for g in self.groups]
        return shap.Explanation(values=self.values.numpy(), base_values=self.baseline.numpy(), feature_names=names)


def check_group_model(model) -> None:
    """Refuse a model without the feature-group interface of :mod:`graphrec.models.groups`."""
    from ..models import capabilities

    if not capabilities(model).explainable:
        name = getattr(model, "registry_name", type(model).__name__)
        raise GraphrecError(f"model {name!r} has no feature groups to explain; train a feature model "
                            "(e.g. feature-mlp) and pass its run with --run")


def seeded_sample(users: Tensor, items: Tensor, size: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``size`` (user, item) pairs drawn without replacement by a generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    rows = torch.randperm(len(users), generator=gen)[:min(size, len(users))]
    return users[rows], items[rows]


def sample_pairs(split, size: int = 200, seed: int = 0, on: str = "test") -> tuple[Tensor, Tensor]:
    """A seeded sample of held-out (user, item) pairs, for global summaries."""
    users, items, _ = split.held_out(on)
    return seeded_sample(users, items, size, seed)


@contextlib.contextmanager
def inference_mode(model, seed: int):
    """Eval mode and a private seeded RNG while explaining; the model's mode and global RNG are restored."""
    was_training = model.training
    model.eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            yield
        finally:
            model.train(was_training)


class GroupExplainer:
    """Base class: ``attribute(users, items) -> Attribution`` for a feature-group model.

    Args:
        model: a model with the interface of :class:`graphrec.models.GroupRecommender`.
        train: all training ``(users, items)`` pairs; SHAP and LIME draw their
            background from them, IG takes the dense groups' baseline from them.
        background: how many training rows form the background.
        seed: seeds the background sample and any sampling inside the engine.
    """

    method = "base"

    def __init__(self, model, train: tuple[Tensor, Tensor], background: int = 64, seed: int = 0) -> None:
        check_group_model(model)
        self.model, self.seed = model, seed
        self.train_users, self.train_items = train
        self.background = seeded_sample(self.train_users, self.train_items, background, seed)

    @classmethod
    def from_split(cls, model, split, **kwargs) -> "GroupExplainer":
        return cls(model, (split.train_user, split.train_item), **kwargs)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.model.groups)

    def attribute(self, users: Tensor, items: Tensor) -> Attribution:
        users, items = torch.as_tensor(users).long().reshape(-1), torch.as_tensor(items).long().reshape(-1)
        with inference_mode(self.model, self.seed):
            values, logits, baseline, delta = self._attribute(users, items)
        return Attribution(self.method, self.groups, users, items, values.detach().float(),
                           logits.detach().float(), baseline.detach().float(), delta.detach().float())

    def _attribute(self, users: Tensor, items: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def coalition_logits(self, users: Tensor, items: Tensor, masks: Tensor) -> Tensor:
        """Expected logit of each pair with only the masked-in groups kept.

        ``masks [N, K, G]`` (1 = keep the pair's value, 0 = take a background
        row's). Absent groups are *swapped* for the background rows' values, never
        interpolated; the result ``[N, K]`` averages over the background rows.
        """
        x = self.model.group_inputs(users, items)
        bg = self.model.group_inputs(*self.background)
        n, k, g = masks.shape
        b = len(self.background[0])
        out = []
        for j in range(n):
            keep = masks[j].bool()  # [K, G]
            inputs = []
            for gi, (xg, bgg) in enumerate(zip(x, bg)):
                mine = xg[j].expand(k, b, *xg.shape[1:])
                theirs = bgg.expand(k, *bgg.shape)
                cond = keep[:, gi].reshape(k, 1, *([1] * (xg.dim() - 1)))
                inputs.append(torch.where(cond, mine, theirs).reshape(k * b, *xg.shape[1:]))
            out.append(self.model.forward_groups(*inputs).reshape(k, b).mean(1))
        return torch.stack(out)
