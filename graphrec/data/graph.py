"""MovieLens as a bipartite user-movie :class:`~torch_geometric.data.HeteroData` graph."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from .movielens import AGE_BUCKETS, AGE_LABELS, MovieLens

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

RATES = ("user", "rates", "movie")
RATED_BY = ("movie", "rated_by", "user")


def age_bucket(age: np.ndarray) -> np.ndarray:
    """Index into :data:`~graphrec.data.movielens.AGE_BUCKETS` (ML-1M's age groups)."""
    return np.searchsorted(np.asarray(AGE_BUCKETS), np.asarray(age), side="right") - 1


def user_features(ml: MovieLens) -> tuple[Tensor, list[str]]:
    """``[num_users, F]`` features: scaled age, gender one-hot, occupation one-hot.

    A release without demographics gives an empty ``[num_users, 0]`` matrix.
    """
    if not ml.has_demographics:
        return torch.zeros(ml.num_users, 0), []
    age = ml.users["age"].to_numpy(dtype=np.float32)
    gender = (ml.users["gender"].to_numpy() == "F").astype(np.float32)
    occ = np.zeros((ml.num_users, len(ml.occupations)), dtype=np.float32)
    occ_col = {o: j for j, o in enumerate(ml.occupations)}
    occ[np.arange(ml.num_users), [occ_col[o] for o in ml.users["occupation"]]] = 1.0
    x = np.concatenate([(age / 100.0)[:, None], gender[:, None], occ], axis=1)
    names = ["age/100", "gender=F", *[f"occupation={o}" for o in ml.occupations]]
    return torch.from_numpy(x), names


def movie_features(ml: MovieLens) -> tuple[Tensor, list[str]]:
    """``[num_movies, G + 1]`` features: multi-hot genres and scaled release year (0 if unknown)."""
    genres = ml.genre_matrix()
    year = ml.movies["year"].to_numpy(dtype=np.float32)
    year = np.where(np.isnan(year), 0.0, (year - 1900.0) / 100.0).astype(np.float32)
    x = np.concatenate([genres, year[:, None]], axis=1)
    return torch.from_numpy(x), [*[f"genre={g}" for g in ml.genres], "(year-1900)/100"]


def to_hetero(ml: MovieLens, users: Tensor | None = None, items: Tensor | None = None,
              rating: Tensor | None = None, time: Tensor | None = None) -> HeteroData:
    """Build the bipartite graph.

    By default every rating is an edge; pass ``users``/``items`` (e.g. a
    split's training pairs) to build the graph from those edges only, with their
    ``rating``/``time`` (looked up in the dataset when not given).
    Edges carry ``rating`` and ``time``; the reverse relation has the same edges.
    Node stores hold ``x`` (dense features), ``raw_id`` (the dataset's ids) and the
    categorical codes the feature models embed (see :func:`add_feature_codes`).
    """
    from torch_geometric.data import HeteroData

    data = HeteroData()
    data["user"].x, data["user"].feature_names = user_features(ml)
    data["user"].raw_id = torch.from_numpy(ml.users["raw_id"].to_numpy().copy())
    data["user"].num_nodes = ml.num_users
    data["movie"].x, data["movie"].feature_names = movie_features(ml)
    data["movie"].raw_id = torch.from_numpy(ml.movies["raw_id"].to_numpy().copy())
    data["movie"].num_nodes = ml.num_items
    data["movie"].title = list(ml.movies["title"])
    add_feature_codes(data, ml)
    r = ml.ratings
    if users is None:
        src = torch.from_numpy(r["user"].to_numpy().copy())
        dst = torch.from_numpy(r["item"].to_numpy().copy())
        rating = torch.from_numpy(r["rating"].to_numpy().copy())
        time = torch.from_numpy(r["timestamp"].to_numpy().copy())
    else:
        src, dst = torch.as_tensor(users).long(), torch.as_tensor(items).long()
        if rating is None or time is None:
            key = r["user"].to_numpy() * ml.num_items + r["item"].to_numpy()
            order = np.argsort(key, kind="stable")
            pos = order[np.searchsorted(key[order], (src * ml.num_items + dst).numpy())]
            rating = torch.as_tensor(r["rating"].to_numpy()[pos]) if rating is None else rating
            time = torch.as_tensor(r["timestamp"].to_numpy()[pos]) if time is None else time
    set_edges(data, src, dst, rating, time)
    return data


def set_edges(data: HeteroData, src: Tensor, dst: Tensor, rating: Tensor | None = None,
              time: Tensor | None = None) -> HeteroData:
    """``user -rates-> movie`` edges and their reverse, with optional ``rating``/``time``."""
    data[RATES].edge_index = torch.stack([src, dst])
    data[RATED_BY].edge_index = torch.stack([dst, src])
    for store in (data[RATES], data[RATED_BY]):
        if rating is not None:
            store.rating = torch.as_tensor(rating)
        if time is not None:
            store.time = torch.as_tensor(time)
    return data


def add_feature_codes(data: HeteroData, ml: MovieLens) -> None:
    """Categorical codes (0 = unknown) and their vocabularies on the node stores:
    ``user.gender/age/occupation`` and ``movie.genres`` (multi-hot), ``movie.year`` ((year-1900)/100, 0 if unknown)."""
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
    user, movie = data["user"], data["movie"]
    user.gender, user.age, user.occupation = (torch.from_numpy(np.array(v, np.int64)) for v in (g, a, o))
    user.vocab = {"gender": genders, "age": ages, "occupation": occs}
    movie.genres, movie.year = torch.from_numpy(ml.genre_matrix()), torch.from_numpy(year)
    movie.vocab = {"genres": list(ml.genres)}


def split_graph(split, ml: MovieLens | None = None) -> HeteroData:
    """A split's training edges as the bipartite graph: with the dataset's node features and id maps
    when ``ml`` is given, else bare nodes (the NCF split files alone carry no features)."""
    from torch_geometric.data import HeteroData

    u, i = split.train_user.long(), split.train_item.long()
    if ml is not None:
        return to_hetero(ml, u, i, split.train_rating, split.train_time)
    data = HeteroData()
    data["user"].num_nodes, data["movie"].num_nodes = split.num_users, split.num_items
    return set_edges(data, u, i, split.train_rating, split.train_time)


def has_features(data: HeteroData) -> bool:
    """Whether the node stores hold the feature codes of :func:`add_feature_codes`."""
    return "gender" in data["user"] and "genres" in data["movie"]


@dataclass
class HomogeneousView:
    """Users and movies in one id space: users ``0..U-1``, movies ``U..U+M-1``."""

    edge_index: Tensor  # [2, 2E], both directions, sorted by source
    num_users: int
    num_items: int
    edge_weight: Tensor | None = None

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    @property
    def node_type(self) -> Tensor:
        """0 for users, 1 for movies."""
        t = torch.zeros(self.num_nodes, dtype=torch.long)
        t[self.num_users:] = 1
        return t

    def movie_node(self, item: Tensor | int) -> Tensor | int:
        return item + self.num_users

    def to_typed(self, node: Tensor) -> tuple[Tensor, Tensor]:
        """(type, index within type) for homogeneous node ids."""
        is_movie = node >= self.num_users
        return is_movie.long(), torch.where(is_movie, node - self.num_users, node)


def homogeneous(users: Tensor, items: Tensor, num_users: int, num_items: int) -> HomogeneousView:
    """Undirected homogeneous view of bipartite (user, item) edges, sorted by source node."""
    users, items = torch.as_tensor(users).long(), torch.as_tensor(items).long()
    return _sorted_view(torch.cat([users, items + num_users]), torch.cat([items + num_users, users]),
                        num_users, num_items)


def _sorted_view(src: Tensor, dst: Tensor, num_users: int, num_items: int) -> HomogeneousView:
    """The view of directed edges ``src -> dst`` (both directions already present), sorted by source."""
    order = torch.argsort(src * (int(num_users) + int(num_items)) + dst)
    return HomogeneousView(torch.stack([src[order], dst[order]]), num_users, num_items)


def homogeneous_view(data: HeteroData) -> HomogeneousView:
    """The undirected user+movie view of a bipartite graph, through PyG's ``to_homogeneous``
    (node type order user, movie: users ``0..U-1``, movies ``U..``), sorted by source node."""
    from torch_geometric.data import HeteroData

    bare = HeteroData()
    bare["user"].num_nodes, bare["movie"].num_nodes = data["user"].num_nodes, data["movie"].num_nodes
    bare[RATES].edge_index = data[RATES].edge_index
    bare[RATED_BY].edge_index = data[RATED_BY].edge_index if RATED_BY in data.edge_types \
        else data[RATES].edge_index.flip(0)
    homo = bare.to_homogeneous(node_attrs=[], edge_attrs=[], add_node_type=False, add_edge_type=False)
    return _sorted_view(*homo.edge_index, data["user"].num_nodes, data["movie"].num_nodes)
