"""A trained :class:`~graphrec.models.HeteroSAGE` (SAGE encoder) as plain tensors, for new users and movies
without torch_geometric.

The maths is the model's own (:mod:`graphrec.models.hetero_sage`), written once here and used there:

* inputs: ``h_v^0 = x_v + E_degree[floor(log2(1 + deg_v))] (+ w log2(1 + deg_v) / 16)``, with ``x_v``
  the node's feature (and id) embedding sum and ``deg_v`` its degree in the message-passing graph;
* layer ``l`` (SAGE, mean aggregation, root weight, :func:`sage_step`):
  ``h_v^{l+1} = W_1^r h_v^l + b^r + W_2^r mean_{w in N(v)} h_w^l``, ReLU between layers, the mean as a
  product with the row-normalised adjacency (:func:`mean_graphs`);
* score: ``h_u^L . h_m^L + w . h_m^L`` or ``MLP([h_u^L, h_m^L, h_u^L * h_m^L])``; with a popularity
  prior the dot product also holds ``beta_u . p_m`` (:func:`prior_columns`, :func:`popularity_columns`):
  ``beta_1(u) log2(1 + deg_m) / 16 (+ beta_2(u) log2(1 + deg_m^{g(u)}) / 16)``, ``beta = A E_degree[bucket(deg_u)] + c``
  learned per user activity bucket and ``deg_m^g`` the movie's degree among users of the user's
  demographic group ``g`` (gender x age bucket, :func:`demographic_group`);
* the new-user term (``demo_prior``), also two sets of extra coordinates:
  ``lambda(n_u) log(1 + c_g(u)(m) + s c(m) n_g / n)`` with ``lambda(n) = lambda_inf + (lambda_0 - lambda_inf) decay^n``
  (:func:`group_weights`, :func:`group_popularity`): popularity among people like the user, at full
  weight for a user without ratings, fading as they rate; fixed, not trained.

:meth:`HeteroSAGE.export <graphrec.models.HeteroSAGE.export>` copies the trained weights into a
:class:`SAGEInference`, together with what does not change for a new node: the known nodes'
feature embeddings ``x_v``, the message-passing edges and the feature vocabularies.
:meth:`SAGEInference.score_with_nodes` appends new users (demographics), new movies (genres, year)
and new edges and runs the full message passing over the extended graph, exactly as
``model.with_nodes(...).score_all(...)`` does through PyG (tested equal). :meth:`SAGEInference.save`
writes it as one ``.npz`` (no pickle), so a warm ``graphrec recommend --new-user`` imports only torch.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.graph import RATED_BY, RATES

#: Release years are embedded in buckets of this many years since 1900 (bucket 0: unknown or <= 1900).
YEAR_BUCKET = 5
NUM_YEAR_BUCKETS = 31  # up to 2055
#: Node degrees are embedded in buckets ``floor(log2(1 + degree))`` (0: no edge), the last one open-ended.
NUM_DEGREE_BUCKETS = 16
#: Bump when the stored layout of :meth:`SAGEInference.save` changes: older files are then rebuilt.
FORMAT = 1


def degree_bucket(degree: Tensor) -> Tensor:
    """``floor(log2(1 + degree))``, capped at the last bucket."""
    return torch.clamp(torch.floor(torch.log2(1.0 + degree.float())), 0, NUM_DEGREE_BUCKETS - 1).long()


def log_degree(degree: Tensor) -> Tensor:
    """``log2(1 + degree) / NUM_DEGREE_BUCKETS`` as a ``[N, 1]`` feature (0 for a node without edges)."""
    return (torch.log2(1.0 + degree.float()) / NUM_DEGREE_BUCKETS)[:, None]


def year_bucket(year: Tensor) -> Tensor:
    """Bucket index of a ``(year - 1900) / 100`` feature (0 = unknown)."""
    return torch.clamp(torch.floor(year * 100.0 / YEAR_BUCKET), 0, NUM_YEAR_BUCKETS - 1).long()


class Adjacency(NamedTuple):
    """Row-normalised adjacency of one relation as CSR (``a``: targets x sources) and its transpose."""

    a: Tensor
    a_t: Tensor


def _csr(rows: Tensor, cols: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    """CSR matrix from entries already sorted by row."""
    crow = torch.zeros(shape[0] + 1, dtype=torch.long, device=rows.device)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=shape[0]), 0)
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the product is all we use
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, cols, values, shape, check_invariants=False)


def mean_graphs(u_rows: Tensor, m_cols: Tensor, m_rows: Tensor, u_cols: Tensor, num_users: int,
                num_items: int) -> dict:
    """Mean-aggregation adjacencies of both relations and the node degrees, from the edges sorted by user
    (``u_rows, m_cols``) and the same edges sorted by movie (``m_rows, u_cols``); a repeated edge counts twice."""
    deg_u = torch.bincount(u_rows, minlength=num_users)
    deg_m = torch.bincount(m_rows, minlength=num_items)
    inv_u, inv_m = 1.0 / deg_u.clamp_min(1).float(), 1.0 / deg_m.clamp_min(1).float()
    U, M = num_users, num_items  # noqa: N806
    into_movies = Adjacency(_csr(m_rows, u_cols, inv_m[m_rows], (M, U)), _csr(u_rows, m_cols, inv_m[m_cols], (U, M)))
    into_users = Adjacency(_csr(u_rows, m_cols, inv_u[u_rows], (U, M)), _csr(m_rows, u_cols, inv_u[u_cols], (M, U)))
    return {RATES: into_movies, RATED_BY: into_users, "user_degree": deg_u, "movie_degree": deg_m}


def degree_features(degree: Tensor, table: Tensor, lin: Tensor | None = None) -> Tensor:
    """``E_degree[floor(log2(1 + deg))]`` (``table``), plus ``lin . log2(1 + deg) / 16`` when ``lin`` is given."""
    out = F.embedding(degree_bucket(degree), table)
    return out + F.linear(log_degree(degree), lin) if lin is not None else out


def demographic_group(gender: Tensor, age: Tensor, num_ages: int) -> Tensor:
    """Gender x age-bucket group of each user (as :class:`~graphrec.models.cold_baselines.DemographicPop`)."""
    return gender.long() * num_ages + age.long()


def popularity_columns(users: Tensor, items: Tensor, num_items: int, group: Tensor | None = None,
                       num_groups: int = 0) -> Tensor:
    """``[M, 1 (+ G)]``: ``log2(1 + deg_m) / 16`` of each movie over the edges ``(users[e], items[e])``, then
    (with ``group``, the users' :func:`demographic_group`) the same over the edges of each group's users."""
    cols = [log_degree(torch.bincount(items, minlength=num_items))]
    if group is not None:
        deg = torch.bincount(items * num_groups + group[users], minlength=num_items * num_groups)
        cols.append(torch.log2(1.0 + deg.view(num_items, num_groups).float()) / NUM_DEGREE_BUCKETS)
    return torch.cat(cols, 1)


def prior_columns(beta: Tensor, group: Tensor | None = None, num_groups: int = 0) -> Tensor:
    """The users' side of the prior, ``[U, 1 (+ G)]``: ``beta[:, 0]``, then ``beta[:, 1]`` in the column of the
    user's group (with ``group``), so that its dot product with :func:`popularity_columns` is the prior."""
    if group is None:
        return beta[:, :1]
    return torch.cat([beta[:, :1], F.one_hot(group, num_groups).to(beta.dtype) * beta[:, 1:2]], 1)


def group_popularity(users: Tensor, items: Tensor, group: Tensor, num_groups: int, num_items: int,
                     smoothing: float) -> Tensor:
    """``[M, G]``: ``log(1 + c_g(m) + s c(m) n_g / n)``, the popularity of each movie among the users of each
    demographic group over the edges ``(users[e], items[e])`` (``group``: every user's :func:`demographic_group`),
    minus the group's largest: 0 for the group's favourite, negative below it. The shift is the same for every
    movie, so it ranks as the plain counts do, but the term lowers the logits of less popular movies instead of
    raising every rated movie's, and scores keep the model's scale.

    ``c_g(m)`` counts movie ``m``'s edges from group ``g``, ``c(m)`` all its edges, ``n_g`` group ``g``'s
    edges and ``n`` all edges; ``s`` (``smoothing``) adds ``s`` times the count ``m`` would have in the group
    under the overall popularity. ``s = 0`` ranks as demographic popularity (its counts) and ``s -> inf`` as
    MostPop, so both are special cases of the new-user term :func:`group_weights` ``.`` this.
    """
    counts = torch.bincount(items * num_groups + group[users], minlength=num_items * num_groups)
    c = counts.view(num_items, num_groups).float()
    total = c.sum(1, keepdim=True)
    per_group = c.sum(0, keepdim=True)
    pop = torch.log1p(c + smoothing * total * per_group / total.sum().clamp_min(1.0))
    return pop - pop.max(0, keepdim=True).values if len(pop) else pop


def group_weights(degree: Tensor, group: Tensor, num_groups: int, weight: float, decay: float,
                  floor: float = 0.0) -> Tensor:
    """``[U, G]``: ``lambda(n_u) = floor + (weight - floor) * decay ** n_u`` in the column of each user's group,
    ``n_u`` the user's ratings in the graph (``degree``); its dot product with :func:`group_popularity` is the
    new-user term ``lambda(n_u) log(1 + c_g(u)(m) + ...)``, strongest for a user without ratings and fading to
    ``floor`` as they rate."""
    lam = floor + (weight - floor) * torch.pow(torch.as_tensor(decay, dtype=torch.float32), degree.float())
    return F.one_hot(group.long(), num_groups).float() * lam[:, None]


def sage_step(agg: Tensor, h: Tensor, w_l: Tensor, b_l: Tensor | None, w_r: Tensor) -> Tensor:
    """One SAGE update ``W_l mean_N(v) + b_l + W_r h_v`` from the neighbour mean ``agg`` and the node's ``h``."""
    return F.linear(agg, w_l, b_l) + F.linear(h, w_r)


@dataclass
class Vocabulary:
    """The feature codes' names (code 0 = ``"unknown"``), as in :class:`~graphrec.data.FeatureTable`."""

    gender_names: list[str]
    age_names: list[str]
    occupation_names: list[str]
    genre_names: list[str]


_VOCAB = ("gender_names", "age_names", "occupation_names", "genre_names")


@dataclass
class SAGEInference:
    """A trained SAGE ``hetero-sage`` model as tensors; see the module docstring.

    Args:
        table: the feature vocabularies.
        user_gender, user_age: the known users' gender and age-bucket codes.
        user_x, movie_x: ``x_v`` of the known users ``[U, H]`` and movies ``[M, H]`` (features, + ids).
        edge_user, edge_item: the message-passing edges.
        weights: the trained tensors by name (:meth:`HeteroSAGE.export <graphrec.models.HeteroSAGE.export>`).
        num_layers: message-passing layers.
        num_groups: demographic groups of the prior (0: none, or a popularity prior without groups).
    """

    table: Vocabulary
    user_gender: Tensor
    user_age: Tensor
    user_x: Tensor
    movie_x: Tensor
    edge_user: Tensor
    edge_item: Tensor
    weights: dict[str, Tensor]
    num_layers: int
    num_groups: int = 0

    @property
    def num_users(self) -> int:
        return len(self.user_x)

    @property
    def num_items(self) -> int:
        return len(self.movie_x)

    # -- inputs ------------------------------------------------------------------------------------
    def user_inputs(self, gender: Tensor, age: Tensor, occupation: Tensor) -> Tensor:
        """``x`` of new users from their feature codes (no id embedding)."""
        w = self.weights
        return w["gender"][gender.long()] + w["age"][age.long()] + w["occupation"][occupation.long()]

    def movie_inputs(self, genres: Tensor, year: Tensor) -> Tensor:
        """``x`` of new movies from genres multi-hot ``[N, G]`` and ``(year - 1900) / 100`` (0 = unknown)."""
        w = self.weights
        return F.linear(genres.float(), w["genre.weight"], w["genre.bias"]) + w["year"][year_bucket(year.float())]

    def degree_inputs(self, graphs: dict) -> tuple[Tensor, Tensor]:
        w = self.weights
        if "user_degree" not in w:
            h = self.user_x.shape[1]
            return (torch.zeros(len(graphs["user_degree"]), h), torch.zeros(len(graphs["movie_degree"]), h))
        return (degree_features(graphs["user_degree"], w["user_degree"], w.get("user_degree_lin")),
                degree_features(graphs["movie_degree"], w["movie_degree"], w.get("movie_degree_lin")))

    # -- message passing and scores ----------------------------------------------------------------
    def layer(self, layer: int, hu: Tensor, hm: Tensor, agg_u: Tensor, agg_m: Tensor) -> tuple[Tensor, Tensor]:
        w = self.weights
        p = f"layers.{layer}."
        hu = sage_step(agg_u, hu, w[p + "to_user.w_l"], w.get(p + "to_user.b_l"), w[p + "to_user.w_r"])
        hm = sage_step(agg_m, hm, w[p + "to_movie.w_l"], w.get(p + "to_movie.b_l"), w[p + "to_movie.w_r"])
        return (hu.relu(), hm.relu()) if layer < self.num_layers - 1 else (hu, hm)

    def encode(self, x_user: Tensor, x_movie: Tensor, users: Tensor, items: Tensor, user_gender: Tensor,
               user_age: Tensor) -> tuple[Tensor, Tensor]:
        """Final representations of every node over the edges ``(users[e], items[e])`` (the users' gender and
        age codes: for the demographic prior)."""
        num_users, num_items = len(x_user), len(x_movie)
        by_user = torch.argsort(users * num_items + items)
        by_movie = torch.argsort(items * num_users + users)
        graphs = mean_graphs(users[by_user], items[by_user], items[by_movie], users[by_movie], num_users, num_items)
        du, dm = self.degree_inputs(graphs)
        hu, hm = x_user + du, x_movie + dm
        for layer in range(self.num_layers):
            hu, hm = self.layer(layer, hu, hm, graphs[RATED_BY].a @ hm, graphs[RATES].a @ hu)
        w = self.weights
        if "prior.weight" in w:
            g = self.num_groups
            group = demographic_group(user_gender, user_age, len(self.table.age_names)) if g else None
            hu = torch.cat([hu, prior_columns(F.linear(du, w["prior.weight"], w["prior.bias"]), group, g)], -1)
            hm = torch.cat([hm, popularity_columns(users, items, num_items, group, g)], -1)
        if "demo" in w:  # the new-user term: popularity among the user's demographic group
            weight, decay, smoothing, floor = (float(x) for x in w["demo"])
            g = len(self.table.gender_names) * len(self.table.age_names)
            group = demographic_group(user_gender, user_age, len(self.table.age_names))
            hu = torch.cat([hu, group_weights(graphs["user_degree"], group, g, weight, decay, floor)], -1)
            hm = torch.cat([hm, group_popularity(users, items, group, g, num_items, smoothing)], -1)
        return hu, hm

    def decode_all(self, hu: Tensor, hm: Tensor) -> Tensor:
        """Logits ``[N, M]`` of every user row against every movie row."""
        w = self.weights
        if "mlp.0.weight" not in w:
            out = hu @ hm.T
            if "movie_bias" not in w:
                return out
            return out + F.linear(hm[:, :w["movie_bias"].shape[1]], w["movie_bias"]).squeeze(-1)[None]
        a, b = torch.broadcast_tensors(hu[:, None, :], hm[None])
        z = F.linear(torch.cat([a, b, a * b], -1), w["mlp.0.weight"], w["mlp.0.bias"]).relu()
        return F.linear(z, w["mlp.2.weight"], w["mlp.2.bias"]).squeeze(-1)

    @torch.no_grad()
    def score_with_nodes(self, users: Tensor, new_users: tuple[Tensor, Tensor, Tensor] | None = None,
                         new_movies: tuple[Tensor, Tensor] | None = None,
                         new_edges: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """Logits ``[len(users), M + new movies]`` over the graph extended by new users (gender, age bucket,
        occupation codes), new movies (genres multi-hot, year) and new ``(user, movie)`` edges, indices in
        the extended numbering (new nodes after the known ones)."""
        xu, xm, eu, em = self.user_x, self.movie_x, self.edge_user, self.edge_item
        gender, age = self.user_gender, self.user_age
        if new_users is not None:
            codes = [torch.as_tensor(t).long() for t in new_users]
            xu = torch.cat([xu, self.user_inputs(*codes)])
            gender, age = torch.cat([gender, codes[0]]), torch.cat([age, codes[1]])
        if new_movies is not None:
            xm = torch.cat([xm, self.movie_inputs(*(torch.as_tensor(t) for t in new_movies))])
        if new_edges is not None:
            eu = torch.cat([eu, torch.as_tensor(new_edges[0]).long()])
            em = torch.cat([em, torch.as_tensor(new_edges[1]).long()])
            if len(eu) and (int(eu.max()) >= len(xu) or int(em.max()) >= len(xm)):
                raise ValueError("graph edges refer to users or movies outside the model")
        hu, hm = self.encode(xu, xm, eu, em, gender, age)
        return self.decode_all(hu[torch.as_tensor(users).long()], hm)

    def without_new_user_term(self) -> "SAGEInference":
        """The same model without the new-user term (for ranking new movies, for which it is one constant)."""
        return SAGEInference(self.table, self.user_gender, self.user_age, self.user_x, self.movie_x, self.edge_user,
                             self.edge_item, {k: v for k, v in self.weights.items() if k != "demo"}, self.num_layers,
                             self.num_groups)

    # -- storage ----------------------------------------------------------------------------------
    def save(self, path: str | Path, source: tuple[int, ...] = ()) -> None:
        """One ``.npz`` (written atomically, read back without pickle); ``source`` is a stamp of what it was
        exported from (e.g. the weights file's size and mtime), returned by :meth:`load`."""
        from ..data.processed import put_strings, save_arrays

        arrays = {"user_gender": self.user_gender, "user_age": self.user_age, "user_x": self.user_x, "movie_x": self.movie_x, "edge_user": self.edge_user,
                  "edge_item": self.edge_item, **{f"w.{k}": v for k, v in self.weights.items()}}
        out = {k: v.detach().cpu().numpy() for k, v in arrays.items()}
        out["meta"] = np.array([FORMAT, self.num_layers, self.num_groups], np.int64)
        out["source"] = np.array(source, np.int64)
        for k in _VOCAB:
            put_strings(out, f"vocab.{k}", getattr(self.table, k))
        save_arrays(Path(path), out)

    @classmethod
    def load(cls, path: str | Path) -> tuple["SAGEInference", tuple[int, ...]]:
        """``(model, source stamp)`` of a :meth:`save` file; :class:`~graphrec.data.processed.CacheError` if it is
        not one (corrupt, pickled, or of another format)."""
        from ..data.processed import CacheError, unpack_strings, load_arrays

        a = load_arrays(Path(path))
        try:
            fmt, num_layers, num_groups = (int(x) for x in a["meta"])
            if fmt != FORMAT:
                raise CacheError(f"{path}: format {fmt}, expected {FORMAT}")
            t = {k: torch.from_numpy(v) for k, v in a.items() if not k.startswith(("vocab.", "meta", "source"))}
            model = cls(Vocabulary(*(unpack_strings(a, f"vocab.{k}") for k in _VOCAB)), t["user_gender"], t["user_age"],
                        t["user_x"], t["movie_x"],
                        t["edge_user"], t["edge_item"], {k[2:]: v for k, v in t.items() if k.startswith("w.")},
                        num_layers, num_groups)
        except (KeyError, ValueError) as e:
            raise CacheError(f"{path}: not a hetero-sage export ({e})") from None
        return model, tuple(int(x) for x in a["source"])
