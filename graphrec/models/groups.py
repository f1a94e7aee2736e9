"""Feature-group models: the interface that :mod:`graphrec.explain` attributes over.

A :class:`GroupRecommender` sees each (user, movie) pair as a tuple of named
*feature groups* (:data:`graphrec.data.GROUPS`: user, movie, gender, age,
occupation, genres, year). Its side-feature tensors are built once per data
set (:class:`~graphrec.data.FeatureTable`) and kept as buffers, so a batch is
a few tensor gathers, never Python lists.

* ``group_inputs(users, items)`` -> one tensor per group, in ``groups`` order:
  ``long [N]`` codes for categorical groups, ``float [N, d]`` for dense ones
  (genres multi-hot ``[N, G]``, year ``[N, 1]``);
* ``forward_groups(*inputs)`` -> logits ``[N]``; ``forward(user, item)`` is
  ``forward_groups(*group_inputs(user, item))``;
* ``group_layers()`` -> one module per group whose *output* is that group's
  representation (an ``nn.Embedding`` for a categorical group, an
  ``nn.Identity`` on the dense input otherwise): Captum's
  ``LayerIntegratedGradients`` attributes there.

The integrated-gradients baseline (the average training pair) is computed by
:mod:`graphrec.explain` from these layers, so models need nothing extra for it.
"""
from __future__ import annotations

from torch import Tensor, nn

from ..data.features import GROUPS, FeatureTable, split_features
from ..errors import GraphrecError
from .base import Capabilities, Recommender


class GroupRecommender(Recommender):
    """Base class of models over the feature groups; see the module docstring.

    Subclasses define ``forward_groups(*inputs)`` and ``group_layers()``; the
    constructor receives the :class:`FeatureTable` from :meth:`build`.
    """

    groups: tuple[str, ...] = GROUPS
    capabilities = Capabilities(explainable=True)  # inherited by every registered feature model

    def __init__(self, table: FeatureTable | None, num_users: int | None = None, num_items: int | None = None) -> None:
        """``table=None``: a model over the id groups (user, movie) only, of ``num_users`` x ``num_items``."""
        super().__init__()
        if table is None:
            self.num_users, self.num_items, self.vocab = int(num_users), int(num_items), {}
            return
        self.num_users, self.num_items = table.num_users, table.num_items
        self.vocab = table.vocab_sizes
        self.register_buffer("user_gender", table.user_gender.long(), persistent=False)
        self.register_buffer("user_age", table.user_age.long(), persistent=False)
        self.register_buffer("user_occupation", table.user_occupation.long(), persistent=False)
        self.register_buffer("item_genres", table.item_genres.float(), persistent=False)
        self.register_buffer("item_year", table.item_year.float()[:, None], persistent=False)

    @classmethod
    def build(cls, ml, split, **hparams) -> "GroupRecommender":
        if ml is not None and (ml.num_users, ml.num_items) != (split.num_users, split.num_items):
            raise GraphrecError(f"the split has {split.num_users} users x {split.num_items} items but the data "
                                f"has {ml.num_users} x {ml.num_items}")
        table = split_features(ml, split)  # read from the training graph's node stores
        if table is None:
            raise GraphrecError(f"{cls.__name__} needs the MovieLens files for its side features "
                                "(pass --data-dir), not only split files")
        return cls(table, **hparams)

    def group_inputs(self, users: Tensor, items: Tensor) -> tuple[Tensor, ...]:
        """Each group's input for the pairs, in :attr:`groups` order (tensor gathers only)."""
        get = {"user": lambda: users, "movie": lambda: items, "gender": lambda: self.user_gender[users],
               "age": lambda: self.user_age[users], "occupation": lambda: self.user_occupation[users],
               "genres": lambda: self.item_genres[items], "year": lambda: self.item_year[items]}
        return tuple(get[g]() for g in self.groups)

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        return self.forward_groups(*self.group_inputs(user, item))

    def forward_groups(self, *inputs: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def group_layers(self) -> list[nn.Module]:  # pragma: no cover - abstract
        raise NotImplementedError

    def item_embedding(self) -> Tensor:
        """``[num_items, d]`` item vectors, used to find similar movies ("because you liked ...")."""
        return self.group_layers()[self.groups.index("movie")].weight.detach()
