"""Side features as index tensors, built once per dataset for feature-aware models."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .graph import age_bucket
from .movielens import AGE_LABELS, MovieLens

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
        n = ml.num_users
        genders, ages, occs = ["unknown", "M", "F"], ["unknown", *AGE_LABELS], ["unknown", *ml.occupations]
        if ml.has_demographics:
            g = ml.users["gender"].map({"M": 1, "F": 2}).fillna(0).to_numpy(np.int64)
            a = age_bucket(ml.users["age"].to_numpy()) + 1
            occ_code = {o: j + 1 for j, o in enumerate(ml.occupations)}
            o = np.array([occ_code.get(x, 0) for x in ml.users["occupation"]], dtype=np.int64)
        else:
            g = a = o = np.zeros(n, np.int64)
        year = ml.movies["year"].to_numpy(dtype=np.float32)
        year = np.where(np.isnan(year), 0.0, (year - 1900.0) / 100.0).astype(np.float32)
        return cls(torch.tensor(g), torch.tensor(np.asarray(a, np.int64)), torch.tensor(o),  # copies: pandas may give read-only arrays
                   torch.from_numpy(ml.genre_matrix()), torch.from_numpy(year),
                   genders, ages, occs, list(ml.genres))

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
        return f"{group} id"
