"""The SAGE ``hetero-sage`` in plain torch: its encoder and decoder, written once, and a trained
:class:`~graphrec.models.HeteroSAGE` as tensors, for new users and movies without torch_geometric.

The maths is written once here; :class:`~graphrec.models.HeteroSAGE` trains and scores through these
functions (PyG only holds its convolutions' parameters, and runs GAT), and :class:`SAGEInference` scores
through them:

* inputs: ``h_v^0 = x_v + E_degree[floor(log2(1 + deg_v))] (+ w log2(1 + deg_v) / 16)``, with ``x_v``
  the node's feature (and id) embedding sum and ``deg_v`` its degree in the message-passing graph;
* layer ``l`` (SAGE, mean aggregation, root weight; :func:`sage_encode`, the one layer loop):
  ``h_v^{l+1} = W_1^r h_v^l + b^r + W_2^r mean_{w in N(v)} h_w^l``, ReLU between layers, the mean as a
  product with the row-normalised adjacency (:func:`mean_graphs`, :func:`mean_aggregate`);
* score (:func:`decode`, :func:`decode_all`, the one decoder): ``h_u^L . h_m^L + w . h_m^L`` or
  ``MLP([h_u^L, h_m^L, h_u^L * h_m^L])``; with a popularity
  prior the dot product also holds ``beta_u . p_m`` (:func:`prior_columns`, :func:`popularity_columns`):
  ``beta_1(u) log2(1 + deg_m) / 16 (+ beta_2(u) log2(1 + deg_m^{g(u)}) / 16)``, ``beta = A E_degree[bucket(deg_u)] + c``
  learned per user activity bucket and ``deg_m^g`` the movie's degree among users of the user's
  demographic group ``g`` (gender x age bucket, :func:`demographic_group`);
* the new-user term (``demo_prior``), also two sets of extra coordinates:
  ``lambda(n_u) log(1 + c_g(u)(m) + s c(m) n_g / n)`` with ``lambda(n) = lambda_inf + (lambda_0 - lambda_inf) decay^n``
  (:func:`group_weights`, :func:`group_popularity`): popularity among people like the user, at full
  weight for a user without ratings, fading as they rate; fixed, not trained.

The trained tensors travel as a :class:`SAGEWeights`, named by role and validated (:meth:`SAGEWeights.check`:
shapes against the vocabularies, the layer count, the prior's groups; :class:`ExportMismatch`, one message,
otherwise). :meth:`HeteroSAGE.export <graphrec.models.HeteroSAGE.export>` copies them into a
:class:`SAGEInference`, together with what does not change for a new node: the known nodes'
feature embeddings ``x_v``, the message-passing edges and the feature vocabularies.
:meth:`SAGEInference.score_with_nodes` appends new users (demographics), new movies (genres, year)
and new edges and runs the full message passing over the extended graph, exactly as
``model.with_nodes(...).score_all(...)`` does through PyG (tested equal). :meth:`SAGEInference.save`
writes it as one ``.npz`` (no pickle; :meth:`SAGEInference.load` refuses a file whose tensors do not
fit, with one message), so a warm ``graphrec recommend --new-user`` imports only torch.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.graph import RATED_BY, RATES
from ..errors import CheckpointError

#: Release years are embedded in buckets of this many years since 1900 (bucket 0: unknown or <= 1900).
YEAR_BUCKET = 5
NUM_YEAR_BUCKETS = 31  # up to 2055
#: Node degrees are embedded in buckets ``floor(log2(1 + degree))`` (0: no edge), the last one open-ended.
NUM_DEGREE_BUCKETS = 16
#: Bump when the stored layout of :meth:`SAGEInference.save` changes: older files are then rebuilt.
FORMAT = 2  # 2: the names of SAGEWeights.to_arrays


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


class SAGERelation(NamedTuple):
    """One relation's SAGE convolution, ``W_l mean_{w in N(v)} h_w + b_l + W_r h_v``
    (:class:`~torch_geometric.nn.SAGEConv`'s ``lin_l`` and ``lin_r``): ``w_l``, ``w_r`` ``[H, H]``, ``b_l`` ``[H]``."""

    w_l: Tensor
    b_l: Tensor | None
    w_r: Tensor


class SAGELayer(NamedTuple):
    """One layer: the convolution into movies (``user -rates-> movie``) and the one into users (its reverse)."""

    to_movie: SAGERelation
    to_user: SAGERelation


class MLPWeights(NamedTuple):
    """The MLP decoder ``w_2 ReLU(w_1 [h_u, h_m, h_u * h_m] + b_1) + b_2``: ``w_1`` ``[H, 3H]``, ``w_2`` ``[1, H]``."""

    w_1: Tensor
    b_1: Tensor
    w_2: Tensor
    b_2: Tensor


class DecoderWeights(NamedTuple):
    """The decoder: the dot product (with the movie bias ``w``, ``[1, width of h_m]``, or none) or the MLP."""

    movie_bias: Tensor | None = None
    mlp: MLPWeights | None = None


#: ``(users' neighbour means, movies' neighbour means)`` entering layer ``l``, from ``(l, h_user^l, h_movie^l)``.
Aggregate = Callable[[int, Tensor, Tensor], "tuple[Tensor, Tensor]"]


class _SpMM(torch.autograd.Function):
    """``a @ x`` whose backward is the precomputed ``a_t @ grad`` (no CSR transpose per call)."""

    @staticmethod
    def forward(ctx, a: Tensor, a_t: Tensor, x: Tensor) -> Tensor:
        ctx.a_t = a_t
        return a @ x.contiguous()

    @staticmethod
    def backward(ctx, grad: Tensor):
        return None, None, ctx.a_t @ grad.contiguous()


def mean_aggregate(adj: Adjacency, x: Tensor) -> Tensor:
    """``mean_{w in N(v)} x_w`` of every target ``v`` (0 without neighbours): one CSR product with the
    row-normalised adjacency, its backward the product with the stored transpose."""
    return _SpMM.apply(adj.a, adj.a_t, x)


def graph_means(graphs: dict) -> Aggregate:
    """The neighbour means over the graphs of :func:`mean_graphs` (the aggregation of :func:`sage_encode`)."""
    into_users, into_movies = graphs[RATED_BY], graphs[RATES]
    return lambda layer, hu, hm: (mean_aggregate(into_users, hm), mean_aggregate(into_movies, hu))


def no_neighbours(layer: int, hu: Tensor, hm: Tensor) -> tuple[Tensor, Tensor]:
    """Neighbour means of nodes without edges: zeros (the aggregation of :func:`sage_encode` for new nodes)."""
    return torch.zeros_like(hu), torch.zeros_like(hm)


def sage_step(agg: Tensor, h: Tensor, rel: SAGERelation) -> Tensor:
    """One SAGE update ``W_l mean_N(v) + b_l + W_r h_v`` from the neighbour mean ``agg`` and the node's ``h``."""
    return F.linear(agg, rel.w_l, rel.b_l) + F.linear(h, rel.w_r)


def sage_encode(layers: Sequence[SAGELayer], hu: Tensor, hm: Tensor,
                aggregate: Aggregate) -> tuple[Tensor, Tensor]:
    """The SAGE encoder, written once: for ``l = 0 .. L - 1``,

    ``h_v^{l+1} = W_l^r mean_{w in N_r(v)} h_w^l + b_l^r + W_r^r h_v^l`` for the one relation ``r`` entering
    ``v``'s type, ReLU between layers (not after the last).

    ``hu``, ``hm``: ``h^0`` of the users and movies; ``aggregate(l, hu, hm)`` gives the neighbour means entering
    layer ``l`` (:func:`graph_means` over a graph, :func:`no_neighbours` for new nodes, or means held fixed).
    :class:`~graphrec.models.HeteroSAGE` trains and scores through this function, and
    :class:`SAGEInference` scores through it; PyG's ``to_hetero(SAGEConv)`` is its tested twin.
    """
    last = len(layers) - 1
    for index, layer in enumerate(layers):
        agg_u, agg_m = aggregate(index, hu, hm)
        hm = sage_step(agg_m, hm, layer.to_movie)
        hu = sage_step(agg_u, hu, layer.to_user)
        if index < last:
            hu, hm = hu.relu(), hm.relu()
    return hu, hm


def decode(hu: Tensor, hm: Tensor, weights: DecoderWeights) -> Tensor:
    """Logits of row-aligned user and movie representations (broadcasting over leading dims), written once:
    ``h_u . h_m + w . h_m[:width of w]`` or ``MLP([h_u, h_m, h_u * h_m])``."""
    if weights.mlp is None:
        dot = (hu * hm).sum(-1)
        return dot + movie_bias(hm, weights.movie_bias) if weights.movie_bias is not None else dot
    hu, hm = torch.broadcast_tensors(hu, hm)
    mlp = weights.mlp
    z = F.linear(torch.cat([hu, hm, hu * hm], dim=-1), mlp.w_1, mlp.b_1).relu()
    return F.linear(z, mlp.w_2, mlp.b_2).squeeze(-1)


def decode_all(hu: Tensor, hm: Tensor, weights: DecoderWeights, chunk: int = 1 << 22) -> Tensor:
    """Logits ``[N, M]`` of every user row against every movie row (:func:`decode`; the dot decoder as one
    product, the MLP in blocks of about ``chunk`` numbers)."""
    if weights.mlp is None:
        out = hu @ hm.T
        return out + movie_bias(hm, weights.movie_bias)[None] if weights.movie_bias is not None else out
    rows = max(1, chunk // max(1, hm.shape[0] * hm.shape[1]))
    return torch.cat([decode(hu[s:s + rows, None, :], hm[None], weights) for s in range(0, len(hu), rows)]) \
        if len(hu) else hu.new_zeros(0, len(hm))


def movie_bias(hm: Tensor, w: Tensor) -> Tensor:
    """The movie bias ``w . h_m`` over the first ``w.shape[1]`` coordinates (the representation and the learned
    prior's columns, not the new-user term's)."""
    return F.linear(hm[..., :w.shape[1]], w).squeeze(-1)


@dataclass
class Vocabulary:
    """The feature codes' names (code 0 = ``"unknown"``), as in :class:`~graphrec.data.FeatureTable`."""

    gender_names: list[str]
    age_names: list[str]
    occupation_names: list[str]
    genre_names: list[str]


_VOCAB = ("gender_names", "age_names", "occupation_names", "genre_names")


class ExportMismatch(CheckpointError, ValueError):
    """Exported tensors that do not fit the model they claim to be (missing, unexpected or mis-shaped)."""


class DemoTerm(NamedTuple):
    """The new-user term's settings (:func:`group_weights`, :func:`group_popularity`): ``lambda_0``, decay, ``s``,
    ``lambda_inf``."""

    weight: float
    decay: float
    smoothing: float
    floor: float


@dataclass(frozen=True, eq=False)  # tensors: compare them with torch.equal, not ==
class SAGEWeights:
    """Every trained tensor of a SAGE ``hetero-sage``, by role: the contract between
    :meth:`HeteroSAGE.sage_weights <graphrec.models.HeteroSAGE.sage_weights>` (which fills it from the
    model's modules) and everything that scores without them (:class:`SAGEInference`, its ``.npz``).
    :meth:`check` validates it against a vocabulary, a layer count and the prior's groups.

    Shapes, ``H`` the width, ``V_*`` the vocabularies: ``gender``, ``age``, ``occupation`` ``[V, H]``;
    ``genre_weight`` ``[H, V_genre]``, ``genre_bias`` ``[H]``; ``year`` ``[NUM_YEAR_BUCKETS, H]``; one
    :class:`SAGELayer` per layer; ``user_degree``/``movie_degree`` ``[NUM_DEGREE_BUCKETS, H]`` (both or
    neither), ``*_degree_lin`` ``[H, 1]``; ``prior_weight``/``prior_bias`` ``[1 (+1 with groups), H]``/``[..]``;
    the decoder's ``movie_bias`` ``[1, H (+ 1 + groups with the prior)]`` or MLP; the new-user term's settings.
    """

    gender: Tensor
    age: Tensor
    occupation: Tensor
    genre_weight: Tensor
    genre_bias: Tensor
    year: Tensor
    layers: tuple[SAGELayer, ...]
    decoder: DecoderWeights = DecoderWeights()
    user_degree: Tensor | None = None
    movie_degree: Tensor | None = None
    user_degree_lin: Tensor | None = None
    movie_degree_lin: Tensor | None = None
    prior_weight: Tensor | None = None
    prior_bias: Tensor | None = None
    demo: DemoTerm | None = None

    @property
    def hidden(self) -> int:
        return self.gender.shape[-1]

    # -- the stored names: derived from the fields, in this one place -------------------------------
    def to_arrays(self) -> dict[str, Tensor]:
        """The tensors by stored name: the field's (``layers.<l>.<relation>.<part>``, ``mlp.<part>``,
        ``movie_bias``), ``demo`` as its four numbers; absent parts left out."""
        out = {f: getattr(self, f) for f in _TENSORS if getattr(self, f) is not None}
        for index, layer in enumerate(self.layers):
            for rel, name in zip(layer, SAGELayer._fields):
                out.update({f"layers.{index}.{name}.{part}": v for part, v in zip(SAGERelation._fields, rel)
                            if v is not None})
        if self.decoder.movie_bias is not None:
            out["movie_bias"] = self.decoder.movie_bias
        if self.decoder.mlp is not None:
            out.update({f"mlp.{part}": v for part, v in zip(MLPWeights._fields, self.decoder.mlp)})
        if self.demo is not None:
            out["demo"] = torch.tensor(list(self.demo), dtype=torch.float32)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, Tensor], num_layers: int) -> "SAGEWeights":
        """The inverse of :meth:`to_arrays`; :class:`ExportMismatch` naming every missing or unexpected tensor."""
        arrays = dict(arrays)
        missing: list[str] = []

        def take(name: str, required: bool = True) -> Tensor | None:
            if name not in arrays and required:
                missing.append(name)
            return arrays.pop(name, None)

        base = {f: take(f, f in _REQUIRED) for f in _TENSORS}
        layers = tuple(SAGELayer(*(SAGERelation(take(f"layers.{i}.{r}.w_l"), take(f"layers.{i}.{r}.b_l", False),
                                                take(f"layers.{i}.{r}.w_r")) for r in SAGELayer._fields))
                       for i in range(num_layers))
        mlp = None
        if any(f"mlp.{p}" in arrays for p in MLPWeights._fields):
            mlp = MLPWeights(*(take(f"mlp.{p}") for p in MLPWeights._fields))
        decoder = DecoderWeights(take("movie_bias", False), mlp)
        demo = take("demo", False)
        problems = [f"missing {', '.join(missing)}"] if missing else []
        if arrays:
            problems.append(f"unexpected {', '.join(sorted(arrays))}")
        if demo is not None and demo.shape != (4,):
            problems.append(f"demo has shape {list(demo.shape)}, expected [4]")
        if problems:
            raise ExportMismatch(f"hetero-sage weights: {'; '.join(problems)} (for {num_layers} layers)")
        return cls(**base, layers=layers, decoder=decoder,
                   demo=None if demo is None else DemoTerm(*(float(x) for x in demo)))

    def check(self, table: Vocabulary, num_layers: int, num_groups: int) -> None:
        """Raise :class:`ExportMismatch`, one message naming every tensor whose shape or presence does not
        fit ``table``'s vocabularies, ``num_layers`` layers and a prior with ``num_groups`` groups."""
        h = self.hidden
        bad: list[str] = []

        def want(name: str, t: Tensor | None, shape: tuple[int, ...] | None) -> None:
            if shape is None:
                if t is not None:
                    bad.append(f"{name} present, expected none")
            elif t is None:
                bad.append(f"{name} missing, expected {list(shape)}")
            elif tuple(t.shape) != shape or not t.is_floating_point():
                bad.append(f"{name} {t.dtype} {list(t.shape)}, expected floating {list(shape)}")

        want("gender", self.gender, (len(table.gender_names), h))
        want("age", self.age, (len(table.age_names), h))
        want("occupation", self.occupation, (len(table.occupation_names), h))
        want("genre_weight", self.genre_weight, (h, len(table.genre_names)))
        want("genre_bias", self.genre_bias, (h,))
        want("year", self.year, (NUM_YEAR_BUCKETS, h))
        if len(self.layers) != num_layers:
            bad.append(f"{len(self.layers)} layers, expected {num_layers}")
        for index, layer in enumerate(self.layers):
            for rel, name in zip(layer, SAGELayer._fields):
                p = f"layers.{index}.{name}."
                want(p + "w_l", rel.w_l, (h, h))
                want(p + "w_r", rel.w_r, (h, h))
                if rel.b_l is not None:
                    want(p + "b_l", rel.b_l, (h,))
        degree = self.user_degree is not None or self.movie_degree is not None
        want("user_degree", self.user_degree, (NUM_DEGREE_BUCKETS, h) if degree else None)
        want("movie_degree", self.movie_degree, (NUM_DEGREE_BUCKETS, h) if degree else None)
        lin = degree and (self.user_degree_lin is not None or self.movie_degree_lin is not None)
        want("user_degree_lin", self.user_degree_lin, (h, 1) if lin else None)
        want("movie_degree_lin", self.movie_degree_lin, (h, 1) if lin else None)
        prior = self.prior_weight is not None or self.prior_bias is not None
        if num_groups and num_groups != len(table.gender_names) * len(table.age_names):
            bad.append(f"{num_groups} prior groups, expected 0 or {len(table.gender_names) * len(table.age_names)}")
        width = 2 if num_groups else 1
        want("prior_weight", self.prior_weight, (width, h) if prior else None)
        want("prior_bias", self.prior_bias, (width,) if prior else None)
        mlp = self.decoder.mlp
        if mlp is not None:
            want("movie_bias", self.decoder.movie_bias, None)
            for name, t, shape in zip(MLPWeights._fields, mlp, ((h, 3 * h), (h,), (1, h), (1,))):
                want(f"mlp.{name}", t, shape)
            if prior or self.demo is not None:
                bad.append("the MLP decoder with a prior or the new-user term (the dot decoder's terms)")
        elif self.decoder.movie_bias is not None:
            want("movie_bias", self.decoder.movie_bias, (1, h + (1 + num_groups if prior else 0)))
        if bad:
            raise ExportMismatch(f"hetero-sage weights do not fit the model: {'; '.join(bad)}")


#: The plain tensor fields of :class:`SAGEWeights` (stored under their own names) and those that must be there.
_TENSORS = ("gender", "age", "occupation", "genre_weight", "genre_bias", "year", "user_degree", "movie_degree",
            "user_degree_lin", "movie_degree_lin", "prior_weight", "prior_bias")
_REQUIRED = _TENSORS[:6]


@dataclass
class SAGEInference:
    """A trained SAGE ``hetero-sage`` model as tensors; see the module docstring.

    Args:
        table: the feature vocabularies.
        user_gender, user_age: the known users' gender and age-bucket codes ``[U]``.
        user_x, movie_x: ``x_v`` of the known users ``[U, H]`` and movies ``[M, H]`` (features, + ids).
        edge_user, edge_item: the message-passing edges ``[E]``.
        weights: the trained tensors (:meth:`HeteroSAGE.sage_weights <graphrec.models.HeteroSAGE.sage_weights>`).
        num_layers: message-passing layers.
        num_groups: demographic groups of the prior (0: none, or a popularity prior without groups).

    Raises :class:`ExportMismatch` (one message) when the tensors do not fit each other.
    """

    table: Vocabulary
    user_gender: Tensor
    user_age: Tensor
    user_x: Tensor
    movie_x: Tensor
    edge_user: Tensor
    edge_item: Tensor
    weights: SAGEWeights
    num_layers: int
    num_groups: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.weights, SAGEWeights):
            raise ExportMismatch(f"hetero-sage weights must be SAGEWeights, not {type(self.weights).__name__}")
        self.weights.check(self.table, self.num_layers, self.num_groups)
        h, u = self.weights.hidden, len(self.user_x)
        bad = [f"{name} {list(t.shape)}, expected {list(shape)}" for name, t, shape in (
            ("user_x", self.user_x, (u, h)), ("movie_x", self.movie_x, (len(self.movie_x), h)),
            ("user_gender", self.user_gender, (u,)), ("user_age", self.user_age, (u,)),
            ("edge_item", self.edge_item, tuple(self.edge_user.shape[:1]))) if tuple(t.shape) != shape]
        if self.edge_user.dim() != 1:
            bad.append(f"edge_user {list(self.edge_user.shape)}, expected one dimension")
        if bad:
            raise ExportMismatch(f"hetero-sage export does not fit its weights: {'; '.join(bad)}")

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
        return w.gender[gender.long()] + w.age[age.long()] + w.occupation[occupation.long()]

    def movie_inputs(self, genres: Tensor, year: Tensor) -> Tensor:
        """``x`` of new movies from genres multi-hot ``[N, G]`` and ``(year - 1900) / 100`` (0 = unknown)."""
        w = self.weights
        return F.linear(genres.float(), w.genre_weight, w.genre_bias) + w.year[year_bucket(year.float())]

    def degree_inputs(self, graphs: dict) -> tuple[Tensor, Tensor]:
        w = self.weights
        if w.user_degree is None:
            h = self.user_x.shape[1]
            return (torch.zeros(len(graphs["user_degree"]), h), torch.zeros(len(graphs["movie_degree"]), h))
        return (degree_features(graphs["user_degree"], w.user_degree, w.user_degree_lin),
                degree_features(graphs["movie_degree"], w.movie_degree, w.movie_degree_lin))

    # -- message passing and scores ----------------------------------------------------------------
    def encode(self, x_user: Tensor, x_movie: Tensor, users: Tensor, items: Tensor, user_gender: Tensor,
               user_age: Tensor) -> tuple[Tensor, Tensor]:
        """Final representations of every node over the edges ``(users[e], items[e])`` (the users' gender and
        age codes: for the demographic prior)."""
        num_users, num_items = len(x_user), len(x_movie)
        by_user = torch.argsort(users * num_items + items)
        by_movie = torch.argsort(items * num_users + users)
        graphs = mean_graphs(users[by_user], items[by_user], items[by_movie], users[by_movie], num_users, num_items)
        du, dm = self.degree_inputs(graphs)
        hu, hm = sage_encode(self.weights.layers, x_user + du, x_movie + dm, graph_means(graphs))
        w = self.weights
        if w.prior_weight is not None:
            g = self.num_groups
            group = demographic_group(user_gender, user_age, len(self.table.age_names)) if g else None
            hu = torch.cat([hu, prior_columns(F.linear(du, w.prior_weight, w.prior_bias), group, g)], -1)
            hm = torch.cat([hm, popularity_columns(users, items, num_items, group, g)], -1)
        if w.demo is not None:  # the new-user term: popularity among the user's demographic group
            g = len(self.table.gender_names) * len(self.table.age_names)
            group = demographic_group(user_gender, user_age, len(self.table.age_names))
            hu = torch.cat([hu, group_weights(graphs["user_degree"], group, g, w.demo.weight, w.demo.decay,
                                              w.demo.floor)], -1)
            hm = torch.cat([hm, group_popularity(users, items, group, g, num_items, w.demo.smoothing)], -1)
        return hu, hm

    def decode_all(self, hu: Tensor, hm: Tensor) -> Tensor:
        """Logits ``[N, M]`` of every user row against every movie row (:func:`decode_all`)."""
        return decode_all(hu, hm, self.weights.decoder)

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
        return replace(self, weights=replace(self.weights, demo=None))

    # -- storage ----------------------------------------------------------------------------------
    def save(self, path: str | Path, source: tuple[int, ...] = ()) -> None:
        """One ``.npz`` (written atomically, read back without pickle); ``source`` is a stamp of what it was
        exported from (e.g. the weights file's size and mtime), returned by :meth:`load`."""
        from ..data.processed import put_strings, save_arrays

        arrays = {"user_gender": self.user_gender, "user_age": self.user_age, "user_x": self.user_x, "movie_x": self.movie_x, "edge_user": self.edge_user,
                  "edge_item": self.edge_item, **{f"w.{k}": v for k, v in self.weights.to_arrays().items()}}
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
                        t["edge_user"], t["edge_item"],
                        SAGEWeights.from_arrays({k[2:]: v for k, v in t.items() if k.startswith("w.")}, num_layers),
                        num_layers, num_groups)
        except KeyError as e:
            raise CacheError(f"{path}: not a hetero-sage export (no {e.args[0]!r})") from None
        except ValueError as e:
            raise CacheError(f"{path}: not a hetero-sage export ({e})") from None
        return model, tuple(int(x) for x in a["source"])
