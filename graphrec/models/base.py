"""The shared interface of graphrec's learned recommenders, and the model registry."""
from __future__ import annotations

from dataclasses import dataclass, replace
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

    def embedding_tables(self) -> tuple[list[torch.nn.Embedding], list[torch.nn.Embedding]]:
        """(user tables, item tables) whose rows :meth:`regularization` penalises."""
        raise NotImplementedError(f"{type(self).__name__} does not support L2 on the batch's embeddings")

    def regularization(self, users: Tensor, *items: Tensor) -> Tensor:
        """L2 on the batch's embeddings: ``sum of squared rows / (2 B)`` over the user tables at
        ``users`` and the item tables at each of ``items`` (BCE: the items; BPR: positives and negatives)."""
        user_tables, item_tables = self.embedding_tables()
        total = sum(t(users).pow(2).sum() for t in user_tables)
        total = total + sum(t(i).pow(2).sum() for t in item_tables for i in items)
        return total / (2 * len(users))

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


class Biases(torch.nn.Module):
    """User and item biases ``b_u + b_i`` added to a model's logit (zero-initialised)."""

    def __init__(self, num_users: int, num_items: int, sparse: bool = False) -> None:
        super().__init__()
        self.user = torch.nn.Embedding(num_users, 1, sparse=sparse)
        self.item = torch.nn.Embedding(num_items, 1, sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.zeros_(self.user.weight)
        torch.nn.init.zeros_(self.item.weight)

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        return (self.user(user) + self.item(item)).squeeze(-1)

    def all_pairs(self, users: Tensor) -> Tensor:
        """``[N, num_items]`` biases of ``users[N]`` against every item."""
        return self.user.weight[users] + self.item.weight[:, 0][None, :]


@dataclass(frozen=True)
class Capabilities:
    """What a registered recommender can do. The CLI, the benchmark and ``explain`` ask these
    (:func:`capabilities`) instead of checking names or attributes."""

    #: Trained by :class:`graphrec.training.Trainer` from a ``TrainConfig`` (``graphrec train``).
    trainable: bool = True
    #: Fitted on a split instead: ``cls(**settings).fit(split)`` (baselines, node2vec scoring).
    fit: bool = False
    #: A non-learned floor: the same for every seed (fitted once by the benchmark).
    baseline: bool = False
    #: Has ``score_all(users)`` (full ranking).
    score_all: bool = True
    #: Named feature groups (``groups``, ``group_inputs``, ``forward_groups``, ``group_layers``):
    #: ``graphrec explain`` attributes its logits.
    explainable: bool = False
    #: Reads the training graph's edges (``split.graph``), not only (user, item) ids.
    uses_graph: bool = False
    #: Field attention maps and tower fusion weights via ``attention(users, items)``.
    attention_map: bool = False


#: Every recommender by name: learned models, baselines and node2vec scoring (see :class:`Capabilities`).
MODELS: dict[str, type] = {}


def declare(**capabilities) -> Callable[[type], type]:
    """Class decorator: declare a model's :class:`Capabilities` (unset flags are inherited from its
    parent; ``trainable``/``fit`` come from its :data:`graphrec.models.REGISTRY` entry)."""

    def wrap(cls: type) -> type:
        from . import REGISTRY

        spec = REGISTRY.get(_builtin_name(cls) or "")
        learns = {} if spec is None else {"trainable": spec.trainable, "fit": not spec.trainable}
        cls.capabilities = replace(getattr(cls, "capabilities", Capabilities()), **{**learns, **capabilities})
        cls.registry_name = _builtin_name(cls) or cls.__name__
        return cls

    return wrap


def _builtin_name(cls: type) -> str | None:
    """``cls``'s name in :data:`graphrec.models.REGISTRY`, if it is a built-in model."""
    from . import REGISTRY

    target = f"{cls.__module__.rpartition('.')[2]}:{cls.__qualname__}"
    return next((n for n, s in REGISTRY.items() if s.target == target and cls.__module__.startswith(__package__)),
                None)


def register(name: str, **capabilities) -> Callable[[type], type]:
    """Class decorator: make a model buildable by name (from a run's ``config.json``, the CLI or the
    benchmark). Built-in models are registered from :data:`graphrec.models.REGISTRY` when first asked
    for; tests and plugins register theirs with this, declaring their :class:`Capabilities` too."""

    def wrap(cls: type) -> type:
        if name in MODELS:
            raise ValueError(f"model {name!r} registered twice")
        if capabilities or not hasattr(cls, "registry_name"):
            declare(**capabilities)(cls)
        MODELS[name] = cls
        cls.registry_name = name
        return cls

    return wrap


def unregister(name: str) -> None:
    """Remove a model from the registry (tests that register a throw-away model)."""
    MODELS.pop(name, None)


def capabilities(model) -> Capabilities:
    """The capabilities of a registered name, class or model instance (a plain default for anything else)."""
    if isinstance(model, str):
        from . import REGISTRY, model_class

        try:
            model = model_class(model)
        except KeyError:
            raise KeyError(f"unknown model {model!r}; known: {', '.join(sorted({*MODELS, *REGISTRY}))}") from None
    return getattr(model, "capabilities", Capabilities(trainable=False))


def names(**required: bool) -> list[str]:
    """Registered names whose capabilities match ``required`` (e.g. ``names(trainable=True)``), sorted."""
    from . import import_all

    return sorted(n for n, cls in import_all().items()
                  if all(getattr(cls.capabilities, k) == v for k, v in required.items()))
