"""Side features as index tensors, built once per dataset for feature-aware models."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .graph import add_feature_codes
from .movielens import MovieLens
from .processed import cached_arrays, put_strings, unpack_strings

#: Feature groups in a fixed order: the units that models embed and explanations report.
GROUPS = ("user", "movie", "gender", "age", "occupation", "genres", "year")


@dataclass
class FeatureTable:
    """Per-user categorical codes and per-movie genres/year.

    Code 0 of each categorical vocabulary is ``"unknown"``, used for releases
    without demographics (the CSV family), so models degrade gracefully.
    """

    user_gender: Tensor  # [U] long
    user_age: Tensor  # [U] long, age bucket
    user_occupation: Tensor  # [U] long
    item_genres: Tensor  # [I, G] float multi-hot
    item_year: Tensor  # [I] float, (year - 1900) / 100, 0 if unknown
    gender_names: list[str]
    age_names: list[str]
    occupation_names: list[str]
    genre_names: list[str]

    @property
    def num_users(self) -> int:
        return len(self.user_gender)

    @property
    def num_items(self) -> int:
        return len(self.item_year)

    @property
    def vocab_sizes(self) -> dict[str, int]:
        return {"gender": len(self.gender_names), "age": len(self.age_names),
                "occupation": len(self.occupation_names), "genres": len(self.genre_names)}

    @classmethod
    def from_movielens(cls, ml: MovieLens) -> "FeatureTable":
        """The codes :func:`~graphrec.data.graph.add_feature_codes` puts on the graph's node stores; kept
        beside the dataset's parse in the processed-data cache, so a warm load builds no graph."""
        return cached_features(getattr(ml, "cache_entry", None), lambda: cls._codes_of(ml))

    @classmethod
    def _codes_of(cls, ml: MovieLens) -> "FeatureTable":
        from torch_geometric.data import HeteroData

        data = HeteroData()
        data["user"].num_nodes, data["movie"].num_nodes = ml.num_users, ml.num_items
        add_feature_codes(data, ml)
        return cls.from_graph(data)

    @classmethod
    def from_graph(cls, data) -> "FeatureTable":
        """Read the codes from a bipartite ``HeteroData``'s node stores (:func:`~graphrec.data.graph.add_feature_codes`)."""
        user, movie = data["user"], data["movie"]
        return cls(user.gender, user.age, user.occupation, movie.genres.float(), movie.year.float(),
                   list(user.vocab["gender"]), list(user.vocab["age"]), list(user.vocab["occupation"]),
                   list(movie.vocab["genres"]))

    def lookup(self, users: Tensor, items: Tensor) -> dict[str, Tensor]:
        """Every group's input for (user, item) pairs: index tensors, genres multi-hot, year."""
        return {"user": users, "movie": items, "gender": self.user_gender[users], "age": self.user_age[users],
                "occupation": self.user_occupation[users], "genres": self.item_genres[items],
                "year": self.item_year[items]}

    def describe(self, group: str, users: Tensor | int, items: Tensor | int) -> str:
        """Human-readable value of one group for one pair, e.g. ``age=25-34``."""
        u, i = int(users), int(items)
        if group == "gender":
            return f"gender={self.gender_names[int(self.user_gender[u])]}"
        if group == "age":
            return f"age={self.age_names[int(self.user_age[u])]}"
        if group == "occupation":
            return f"occupation={self.occupation_names[int(self.user_occupation[u])]}"
        if group == "genres":
            gs = [self.genre_names[j] for j in torch.nonzero(self.item_genres[i]).flatten().tolist()]
            return "genre=" + "|".join(gs) if gs else "genre=none"
        if group == "year":
            y = float(self.item_year[i])
            return f"year={int(round(1900 + 100 * y))}" if y else "year=unknown"
        if group == "popularity":  # a graph model's new-user term: popularity among the user's gender x age group
            g, a = self.gender_names[int(self.user_gender[u])], self.age_names[int(self.user_age[u])]
            return f"popularity among {g} {a}"
        if group.endswith("_ratings"):  # what a graph model's node reads from its neighbours
            return f"the {group.split('_')[0]}'s ratings"
        return f"{group} id"


def split_features(ml: MovieLens | None, split) -> FeatureTable | None:
    """The feature codes on the node stores of ``split.graph`` (the pipeline's HeteroData), or ``None``
    when the graph has none (split files without the dataset). For a split built outside the pipeline,
    ``ml``'s training graph is built here (the split is left as it is). A graph not built yet is not built
    just to read the codes: with the dataset known, they come from :meth:`FeatureTable.from_movielens`
    (the same codes, cached), which is how loading a run stays quick."""
    from .graph import has_features, split_graph

    matches = ml is not None and (ml.num_users, ml.num_items) == (split.num_users, split.num_items)
    if matches and not split.graph_built:
        return FeatureTable.from_movielens(ml)
    graph = split.graph
    if not has_features(graph) and matches:
        graph = split_graph(split, ml)
    return FeatureTable.from_graph(graph) if has_features(graph) else None


# --------------------------------------------------------------------------- the processed-data cache

_FEATURE_TENSORS = ("user_gender", "user_age", "user_occupation", "item_genres", "item_year")
_FEATURE_NAMES = ("gender_names", "age_names", "occupation_names", "genre_names")


def cached_features(entry: Path | None, build: Callable[[], FeatureTable]) -> FeatureTable:
    """A dataset's :class:`~graphrec.data.FeatureTable`, kept as ``features.npz`` in its cache ``entry``
    (built by ``build()`` on first use; always, without an entry)."""
    if entry is None:
        return build()

    def arrays() -> dict[str, np.ndarray]:
        table = build()
        out = {k: getattr(table, k).numpy() for k in _FEATURE_TENSORS}
        for k in _FEATURE_NAMES:
            put_strings(out, k, getattr(table, k))
        return out

    a = cached_arrays(entry / "features.npz", arrays)
    return FeatureTable(*(torch.from_numpy(a[k]) for k in _FEATURE_TENSORS), *(unpack_strings(a, k) for k in _FEATURE_NAMES))
