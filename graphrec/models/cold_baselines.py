"""Floors for the cold-start protocols (:mod:`graphrec.coldstart`).

Each is fitted once on the warm ratings and then told, through ``set_graph(users, items)``, which
interactions it may read at inference (the warm ratings plus the cold users' visible ones), as
:class:`~graphrec.models.HeteroSAGE` is.

* :class:`ColdMostPop` -- number of visible ratings of each movie;
* :class:`DemographicPop` -- the same, counted within the user's gender x age bucket (global counts
  break ties);
* :class:`ContentKNN` -- sum of cosine similarities between a movie's content vector (genres
  multi-hot, decade one-hot) and the movies the user rated (Lops et al., "Content-based
  Recommender Systems: State of the Art and Trends", 2011);
* :class:`ItemKNNFromK` -- :class:`~graphrec.models.ItemKNN` with item similarities from the warm
  ratings and each user's visible ratings as the profile.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.preprocessing import normalize
from torch import Tensor

from ..data.features import FeatureTable
from .baselines import ItemKNN
from .sage_inference import demographic_group


class _Visible:
    """The visible interactions as a binary users x items CSR matrix."""

    num_users: int
    num_items: int

    def set_graph(self, users: Tensor, items: Tensor) -> None:
        u, i = torch.as_tensor(users).numpy(), torch.as_tensor(items).numpy()
        x = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(self.num_users, self.num_items))
        x.data[:] = 1.0
        self.user_items = x
        self.refresh()

    def refresh(self) -> None:
        """Recompute what depends on the visible graph."""

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return torch.gather(self.score_all(users), 1, items)


class ColdMostPop(_Visible):
    """``score(u, m) = #visible ratings of m``."""

    def __init__(self, table: FeatureTable) -> None:
        self.num_users, self.num_items = table.num_users, table.num_items

    def refresh(self) -> None:
        self.counts = torch.from_numpy(np.asarray(self.user_items.sum(0), np.float32).ravel())

    def score_all(self, users: Tensor) -> Tensor:
        return self.counts.expand(len(users), -1).clone()


class DemographicPop(_Visible):
    """``score(u, m) = #visible ratings of m by users of u's gender x age bucket + global / (1 + total)``."""

    def __init__(self, table: FeatureTable) -> None:
        self.num_users, self.num_items = table.num_users, table.num_items
        self.group = demographic_group(table.user_gender, table.user_age, len(table.age_names)).numpy()

    def refresh(self) -> None:
        n_groups = int(self.group.max()) + 1
        member = sp.csr_matrix((np.ones(self.num_users, np.float32), (self.group, np.arange(self.num_users))),
                               shape=(n_groups, self.num_users))
        self.group_counts = np.asarray((member @ self.user_items).todense(), np.float32)
        total = np.asarray(self.user_items.sum(0), np.float32).ravel()
        self.tie_break = total / (1.0 + total.sum())

    def score_all(self, users: Tensor) -> Tensor:
        return torch.from_numpy(self.group_counts[self.group[users.numpy()]] + self.tie_break)


class ContentKNN(_Visible):
    """``score(u, m) = sum_{j rated by u} cos(c_m, c_j)`` with ``c`` = [genres, decade one-hot]."""

    def __init__(self, table: FeatureTable) -> None:
        self.num_users, self.num_items = table.num_users, table.num_items
        year = table.item_year.numpy()
        decade = np.where(year > 0, np.floor(year * 10).astype(np.int64), -1)  # decades since 1900
        known = decade >= 0
        width = int(decade.max()) + 1 if known.any() else 1
        dec = np.zeros((self.num_items, width), np.float32)
        dec[np.flatnonzero(known), decade[known]] = 1.0
        content = normalize(np.concatenate([table.item_genres.numpy(), dec], axis=1))
        self.sim = content @ content.T  # [I, I], small for MovieLens catalogues

    def score_all(self, users: Tensor) -> Tensor:
        return torch.from_numpy(np.asarray(self.user_items[users.numpy()] @ self.sim, np.float32))


class ItemKNNFromK(_Visible):
    """Item-item cosine from the warm ratings; a user's profile is their visible ratings."""

    def __init__(self, table: FeatureTable, train_user: Tensor, train_item: Tensor, k: int = 50) -> None:
        self.num_users, self.num_items = table.num_users, table.num_items
        fake = SimpleNamespace(num_users=self.num_users, num_items=self.num_items,
                               train_user=torch.as_tensor(train_user), train_item=torch.as_tensor(train_item))
        self.knn = ItemKNN(k).fit(fake)

    def refresh(self) -> None:
        self.knn.user_items = self.user_items

    def score_all(self, users: Tensor) -> Tensor:
        return self.knn.score_all(users)
