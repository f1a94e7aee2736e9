"""The shared interface of graphrec's learned recommenders, and the model registry."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


class Recommender(torch.nn.Module):
    """Base class: ``forward(user, item) -> logit`` on 1-D index tensors of equal length.

    Subclasses get :meth:`score` and :meth:`score_all` for evaluation and may
    override :meth:`score_all` with something faster than scoring every pair.
    """

    num_users: int
    num_items: int
    #: Training objective: ``"bce"`` (pointwise, logits vs 0/1 labels) or ``"bpr"`` (pairwise).
    loss: str = "bce"
    #: True when the model regularises inside the loss (:meth:`regularization`, scaled by
    #: ``config.l2``) instead of through the optimizer's weight decay.
    l2_in_loss: bool = False

    @classmethod
    def build(cls, ml, split, **hparams) -> "Recommender":
        """Construct from the dataset (``None`` when only split files exist) and split.

        Models that need side features or the training graph override this.
        """
        return cls(split.num_users, split.num_items, **hparams)

    def pair_logits(self, users: Tensor, pos: Tensor, neg: Tensor) -> tuple[Tensor, Tensor]:
        """Logits of positive and negative items for BPR; graph models override to propagate once."""
        return self(users, pos), self(users, neg)

    def regularization(self, users: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
        """Per-batch penalty for ``l2_in_loss`` models (e.g. L2 on the batch's ego embeddings)."""
        raise NotImplementedError

    def reset_parameters(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @torch.no_grad()
    def score(self, users: Tensor, items: Tensor) -> Tensor:
        """Logits of ``users[N]`` against ``items[N, C]``, shape ``[N, C]``."""
        n, c = items.shape
        return self(users[:, None].expand(n, c).reshape(-1), items.reshape(-1)).reshape(n, c)

    @torch.no_grad()
    def score_all(self, users: Tensor, chunk: int = 1 << 20) -> Tensor:
        """Logits of ``users[N]`` against every item, shape ``[N, num_items]``."""
        items = torch.arange(self.num_items)
        rows = max(1, chunk // self.num_items)
        return torch.cat([self.score(users[s:s + rows], items.expand(len(users[s:s + rows]), -1))
                          for s in range(0, len(users), rows)])


MODELS: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make a model buildable by name from a run's ``config.json``."""

    def wrap(cls: type) -> type:
        if name in MODELS:
            raise ValueError(f"model {name!r} registered twice")
        MODELS[name] = cls
        cls.registry_name = name
        return cls

    return wrap
