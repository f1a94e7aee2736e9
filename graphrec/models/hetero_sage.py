"""HeteroSAGE: an inductive GNN recommender over the user-movie graph's features.

GraphSAGE of Hamilton, Ying and Leskovec, "Inductive Representation Learning on
Large Graphs" (NeurIPS 2017), made heterogeneous with
:func:`torch_geometric.nn.to_hetero` (Schlichtkrull et al.'s R-GCN scheme: one
set of weights per relation) over the bipartite graph of
:func:`graphrec.data.graph.to_hetero` (``user -rates-> movie`` and its reverse).

Node inputs are *features*, so a user or a movie never seen in training gets a
representation from what it is:

* user ``u``: ``h_u^0 = E_gender[g_u] + E_age[a_u] + E_occupation[o_u] (+ E_user[u])``;
* movie ``m``: ``h_m^0 = W_genre c_m + E_year[bucket(y_m)] (+ E_movie[m])``, with ``c_m`` the genres
  multi-hot and 5-year release buckets;
* both: ``+ E_degree[floor(log2(1 + deg_v))]`` (optionally ``+ w log2(1 + deg_v) / 16``), the node's
  degree in the message-passing graph (popularity, which a mean over neighbours cannot see; bucket 0
  for a new node);
* layer ``l`` (SAGE, mean aggregation, root weight):
  ``h_v^{l+1} = W_1^{r} h_v^l + W_2^{r} mean_{w in N_r(v)} h_w^l`` for the one relation ``r`` entering
  ``v``'s type, ReLU between layers. With ``conv="gat"`` the neighbour term is GAT's attention
  (Velickovic et al., ICLR 2018) and ``W_1 h_v^l`` a residual, so a node without edges keeps its own
  features;
* score: ``s(u, m) = h_u^L . h_m^L + w . h_m^L`` (``decoder="dot"``; the bias term is optional) or
  ``MLP([h_u^L, h_m^L, h_u^L * h_m^L])``. The dot decoder adds a popularity prior
  (``prior="popularity"``, the default) ``beta_1(u) log2(1 + deg_m) / 16`` and, with ``prior="group"``,
  ``+ beta_2(u) log2(1 + deg_m^{g(u)}) / 16``, ``deg_m^g`` the movie's degree among the users of the
  user's gender x age group: how much the movie's exact popularity, overall and among people like
  the user, counts is learned per user activity bucket, ``beta(u) = A E_degree[bucket(deg_u)] + c``
  (a user without ratings can lean on it as MostPop and demographic popularity do). Both are extra
  coordinates of the two representations (:mod:`graphrec.models.sage_inference`), so scoring stays
  one dot product.
* new users (``demo_prior = lambda_0 > 0``): ``+ lambda(n_u) (p_g(u)(m) - max_m' p_g(u)(m'))`` with
  ``p_g(m) = log(1 + c_g(m) + s c(m) n_g / n)``, the movie's popularity among the users of the user's
  gender x age group ``g(u)`` (``c_g(m)`` its ratings from the group, ``c(m)`` all of them, ``n_g`` and
  ``n`` the group's and all ratings), at weight ``lambda(n) = lambda_inf + (lambda_0 - lambda_inf)
  decay^n`` for a user with ``n`` ratings in the graph. When it dominates, for a user without
  ratings, it *is* demographic popularity (``s = 0``) or MostPop (``s -> inf``); it fades to
  ``lambda_inf`` as the user rates. It is fixed, not trained (added at inference only), with
  ``lambda_0``, ``decay``, ``lambda_inf`` and ``s`` chosen on the validation cold splits
  (docs/coldstart.md): two more sets of extra coordinates
  (:func:`~graphrec.models.sage_inference.group_weights`,
  :func:`~graphrec.models.sage_inference.group_popularity`) and its own explanation group
  (``popularity``).

Id embeddings (``use_ids``) are optional; without them every parameter is shared, which is what
cold start needs. Training (:meth:`epoch_batches`, :meth:`batch_loss`) is full-graph: each step
supervises a batch of training edges with BPR (or BCE) against sampled negatives, and runs message
passing over the training edges *minus that batch*, so the model never reads an answer from the
graph. ``node_dropout`` also hides, in each step, all edges of a random fraction of the movies and
all but a few of a random fraction of the users, so the model learns to score nodes with no or few
edges (new movies, new users). The SAGE layers and the decoder are written once, in plain torch
(:func:`~graphrec.models.sage_inference.sage_encode`, :func:`~graphrec.models.sage_inference.decode`),
and shared with the exported :class:`~graphrec.models.sage_inference.SAGEInference`; the mean
aggregation runs as a CSR product per relation (exactly ``SAGEConv``, which holds the parameters and
is the tested twin). At inference the graph is the split's training
edges, or any other edge set via :meth:`set_graph`; :meth:`with_nodes` appends new users and movies.
"""
from __future__ import annotations

import copy
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, SAGEConv, to_hetero

from ..data.features import FeatureTable, split_features
from ..data.graph import RATED_BY, RATES
from ..data.sampling import NegativeSampler
from ..errors import GraphrecError
from .base import Recommender, declare
from .sage_inference import (NUM_DEGREE_BUCKETS, NUM_YEAR_BUCKETS, Adjacency, DecoderWeights, DemoTerm,
                             MLPWeights, SAGEInference, SAGELayer, SAGERelation, SAGEWeights, Vocabulary, decode,
                             decode_all, degree_features, demographic_group, graph_means, group_popularity,
                             group_weights, mean_aggregate, mean_graphs, no_neighbours, popularity_columns,
                             prior_columns, sage_encode, year_bucket)


def _ids(emb: nn.Embedding, index: Tensor) -> Tensor:
    """Id embeddings, zero for nodes added after training (:meth:`HeteroSAGE.with_nodes`)."""
    known = index < emb.num_embeddings
    return emb(torch.where(known, index, 0)) * known[:, None]


class CSRSAGEConv(SAGEConv):
    """:class:`~torch_geometric.nn.SAGEConv` (mean aggregation) that also takes an :class:`Adjacency`.

    The mean over neighbours is then one CSR product with a precomputed transpose for the
    backward, several times faster on CPU than scattering over an edge list; with an edge
    index it is exactly ``SAGEConv``.
    """

    def forward(self, x, edge_index, size=None) -> Tensor:
        if not isinstance(edge_index, Adjacency):
            return super().forward(x, edge_index, size)
        x_src, x_dst = (x, x) if isinstance(x, Tensor) else x
        out = self.lin_l(mean_aggregate(edge_index, x_src))
        return out + self.lin_r(x_dst) if self.root_weight and x_dst is not None else out


class _Encoder(nn.Module):
    """A homogeneous message-passing stack that :func:`to_hetero` duplicates per relation.

    GAT runs through this forward. With ``conv="sage"`` the model holds its parameters here (one
    :class:`CSRSAGEConv` per relation and layer, the state-dict layout) but runs the layers through
    :func:`~graphrec.models.sage_inference.sage_encode`, the one definition it shares with the plain-torch
    :class:`SAGEInference`; this forward is then its PyG twin in the tests.
    """

    def __init__(self, hidden: int, num_layers: int, conv: str, heads: int) -> None:
        super().__init__()
        self.num_layers, self.conv = num_layers, conv
        if conv == "sage":
            self.convs = nn.ModuleList(CSRSAGEConv((hidden, hidden), hidden, aggr="mean") for _ in range(num_layers))
            self.skips = nn.ModuleList()
        else:
            self.convs = nn.ModuleList(GATConv((hidden, hidden), hidden // heads, heads=heads, add_self_loops=False)
                                       for _ in range(num_layers))
            self.skips = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(num_layers))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for layer in range(self.num_layers):
            h = self.convs[layer](x, edge_index)
            if self.conv == "gat":
                h = h + self.skips[layer](x)
            x = h.relu() if layer < self.num_layers - 1 else h
        return x


@declare(uses_graph=True, explainable=True)
class HeteroSAGE(Recommender):
    """GraphSAGE (or GAT) over the heterogeneous user-movie graph, with feature inputs.

    Args:
        table: side features of every user and movie.
        train_user, train_item: the message-passing edges at inference (the split's training pairs).
        hidden: width of every node representation.
        num_layers: message-passing layers.
        conv: ``"sage"`` or ``"gat"``.
        heads: attention heads (GAT only).
        decoder: ``"dot"`` or ``"mlp"``.
        use_ids: add user and movie id embeddings to the feature inputs (transductive; off for cold start).
        degree: add an embedding of each node's degree bucket in the message-passing graph (popularity
            and activity, which mean aggregation cannot see; 0 for a new node).
        node_dropout: fraction of users and of movies whose edges each training step hides (all of a
            movie's; all but ``U{0..new_user_edges}`` random ones of a user's).
        new_user_edges: most edges a user hidden by ``node_dropout`` keeps, as a new user who has rated
            a few movies.
        bias: with the dot decoder, add a movie bias ``w . h_m^L`` (popularity that every user shares).
        degree_linear: also feed ``log2(1 + degree)`` as a number (finer than the buckets; off: not better
            on the validation cold split, docs/coldstart.md).
        loss: ``"bpr"`` or ``"bce"`` on sampled negatives (``config.num_ng`` per positive), or ``"softmax"``:
            cross-entropy of the positive among every movie with training edges (dot decoder only; full
            softmax, as cheap as a few hundred negatives at ML-100K's size).
        prior: the dot decoder's popularity prior (module docstring): ``"popularity"`` (overall), ``"group"``
            (overall and within the user's gender x age group; no feature groups for explanations, as the
            group is read from the codes, not from the embeddings they attribute) or ``"none"``; chosen on
            the validation cold split (docs/coldstart.md).
        cold_weight: weight of a second loss on every batch, each batch user scored as a *new* user (its
            demographics, degree bucket 0, no edges) against the same positives: the path that new users
            with no ratings take, trained on every step instead of on the few users node dropout empties
            (as DropoutNet, Volkovs et al., NeurIPS 2017). It is a full softmax whatever ``loss`` is: the
            likelihood of a movie given only demographics, whose optimum for a user without ratings is
            the movies' popularity among such users (BPR's is any order that puts seen above unseen).
            0 (default): off.
        demo_prior: ``lambda_0``, the weight of the new-user term (module docstring) for a user without
            ratings; 0 (default): off. Added at inference, never in training.
        demo_decay: how its weight moves from ``demo_prior`` to ``demo_floor`` with each rating the user has in
            the graph, a factor in ``[0, 1]`` (0: straight to the floor after one rating).
        demo_floor: ``lambda_inf``, the weight left for users with many ratings (>= 0).
        demo_smoothing: ``s``, how much of the overall popularity the group counts are smoothed with.
    """

    def __init__(self, table: FeatureTable, train_user: Tensor, train_item: Tensor, hidden: int = 64,
                 num_layers: int = 2, conv: str = "sage", heads: int = 2, decoder: str = "dot",
                 use_ids: bool = False, node_dropout: float = 0.1, loss: str = "bpr", degree: bool = True,
                 new_user_edges: int = 5, bias: bool = True, degree_linear: bool = False,
                 prior: str = "popularity", cold_weight: float = 0.0, demo_prior: float = 0.0,
                 demo_decay: float = 0.5, demo_smoothing: float = 1.0, demo_floor: float = 0.0) -> None:
        super().__init__()
        if conv not in ("sage", "gat"):
            raise ValueError(f"conv must be 'sage' or 'gat', not {conv!r}")
        if decoder not in ("dot", "mlp"):
            raise ValueError(f"decoder must be 'dot' or 'mlp', not {decoder!r}")
        if loss not in ("bpr", "bce", "softmax"):
            raise ValueError(f"loss must be 'bpr', 'bce' or 'softmax', not {loss!r}")
        if loss == "softmax" and decoder != "dot":
            raise ValueError("loss='softmax' scores every movie per step: it needs decoder='dot'")
        if conv == "gat" and hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
        if prior not in ("group", "popularity", "none"):
            raise ValueError(f"prior must be 'group', 'popularity' or 'none', not {prior!r}")
        prior = prior if decoder == "dot" else "none"  # the prior is a term of the dot product
        if cold_weight < 0 or (cold_weight and conv != "sage"):
            raise ValueError(f"cold_weight must be >= 0 (and needs conv='sage'), got {cold_weight}")
        if (min(demo_prior, demo_smoothing, demo_floor) < 0 or not 0.0 <= demo_decay <= 1.0
                or (demo_prior and decoder != "dot")):
            raise ValueError(f"demo_prior ({demo_prior}), demo_floor ({demo_floor}) and demo_smoothing "
                             f"({demo_smoothing}) must be >= 0, demo_decay ({demo_decay}) in [0, 1], and the term "
                             "needs decoder='dot'")
        if new_user_edges < 0:
            raise ValueError(f"new_user_edges must be >= 0, got {new_user_edges}")
        if not 0.0 <= node_dropout < 1.0:
            raise ValueError(f"node_dropout must be in [0, 1), got {node_dropout}")
        self.num_users, self.num_items = table.num_users, table.num_items
        self.hidden, self.num_layers, self.conv, self.heads = hidden, num_layers, conv, heads
        self.decoder, self.use_ids, self.node_dropout, self.loss = decoder, use_ids, node_dropout, loss
        self.degree, self.new_user_edges, self.cold_weight = degree, new_user_edges, cold_weight
        self.table = table
        self.demo_prior, self.demo_decay = float(demo_prior), float(demo_decay)
        self.demo_smoothing, self.demo_floor = float(demo_smoothing), float(demo_floor)
        self.num_groups = len(table.gender_names) * len(table.age_names) if prior == "group" else 0
        if conv != "sage" or self.num_groups:  # GAT's attention reads the target node, the group prior the codes
            self.capabilities = replace(type(self).capabilities, explainable=False)
        self.register_buffer("user_gender", table.user_gender.long(), persistent=False)
        self.register_buffer("user_age", table.user_age.long(), persistent=False)
        self.register_buffer("user_occupation", table.user_occupation.long(), persistent=False)
        self.register_buffer("item_genres", table.item_genres.float(), persistent=False)
        self.register_buffer("item_year", table.item_year.float(), persistent=False)
        vocab = table.vocab_sizes
        self.gender_emb = nn.Embedding(vocab["gender"], hidden)
        self.age_emb = nn.Embedding(vocab["age"], hidden)
        self.occupation_emb = nn.Embedding(vocab["occupation"], hidden)
        self.genre_lin = nn.Linear(vocab["genres"], hidden)
        self.year_emb = nn.Embedding(NUM_YEAR_BUCKETS, hidden)
        self.user_degree_emb = nn.Embedding(NUM_DEGREE_BUCKETS, hidden)
        self.movie_degree_emb = nn.Embedding(NUM_DEGREE_BUCKETS, hidden)
        self.user_degree_lin = nn.Linear(1, hidden, bias=False) if degree_linear else None
        self.movie_degree_lin = nn.Linear(1, hidden, bias=False) if degree_linear else None
        self.user_emb = nn.Embedding(self.num_users, hidden) if use_ids else None
        self.movie_emb = nn.Embedding(self.num_items, hidden) if use_ids else None
        metadata = (["user", "movie"], [RATES, RATED_BY])
        self.encoder = to_hetero(_Encoder(hidden, num_layers, conv, heads), metadata, aggr="sum")
        # identity layers on the dense groups: where graphrec.explain attributes them
        self.genres_in, self.user_ratings_in, self.movie_ratings_in = nn.Identity(), nn.Identity(), nn.Identity()
        self.popularity_in = nn.Identity()
        self.prior = nn.Linear(hidden, 2 if self.num_groups else 1) if prior != "none" else None
        extra = 0 if self.prior is None else 1 + self.num_groups
        self.movie_bias = nn.Linear(hidden + extra, 1, bias=False) if bias and decoder == "dot" else None
        self.mlp = (nn.Sequential(nn.Linear(3 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
                    if decoder == "mlp" else None)
        self._cache: tuple[Tensor, Tensor] | None = None
        self.set_graph(train_user, train_item)
        # Negatives come only from movies with training edges: the rest (e.g. cold movies) are unseen.
        self.register_buffer("train_items", torch.unique(torch.as_tensor(train_item).long()), persistent=False)
        self.reset_parameters()

    @classmethod
    def build(cls, ml, split, **hparams) -> "HeteroSAGE":
        """Node features and edges from the split's training graph (``split.graph``, HeteroData)."""
        if ml is not None and (ml.num_users, ml.num_items) != (split.num_users, split.num_items):
            raise GraphrecError(f"the split has {split.num_users} users x {split.num_items} items but the data "
                                f"has {ml.num_users} x {ml.num_items}")
        table = split_features(ml, split)
        if table is None:
            raise GraphrecError("hetero-sage needs the MovieLens files for its node features "
                                "(pass --data-dir), not only split files")
        user, item = split.graph[RATES].edge_index
        return cls(table, user, item, **hparams)

    def reset_parameters(self) -> None:
        for emb in (self.gender_emb, self.age_emb, self.occupation_emb, self.year_emb, self.user_degree_emb,
                    self.movie_degree_emb):
            nn.init.normal_(emb.weight, 0.0, 0.1)
        for emb in (self.user_emb, self.movie_emb):
            if emb is not None:
                nn.init.normal_(emb.weight, 0.0, 0.1)
        self.genre_lin.reset_parameters()
        for module in self.encoder.modules():
            if module is not self.encoder and hasattr(module, "reset_parameters"):
                module.reset_parameters()
        for lin in (self.movie_bias, self.user_degree_lin, self.movie_degree_lin, self.prior):
            if lin is not None:
                lin.reset_parameters()
        if self.mlp is not None:
            for m in self.mlp:
                if isinstance(m, nn.Linear):
                    m.reset_parameters()
        self._cache = None

    # -- graph and representations ---------------------------------------------------------------
    def set_graph(self, users: Tensor, items: Tensor) -> None:
        """Use the ``(users[e], items[e])`` edges for message passing from now on (inference)."""
        edge = torch.stack([torch.as_tensor(users).long(), torch.as_tensor(items).long()])
        if edge.numel() and (int(edge[0].max()) >= self.num_users or int(edge[1].max()) >= self.num_items):
            raise ValueError("graph edges refer to users or movies outside the model")
        old = getattr(self, "edge_index", None)
        self.register_buffer("edge_index", edge.to(old.device) if old is not None else edge, persistent=False)
        u, m = self.edge_index
        # edge orders by user and by movie, and one id per (user, movie) pair: buffers, so they move along
        self.register_buffer("_by_user", torch.argsort(u * self.num_items + m), persistent=False)
        self.register_buffer("_by_movie", torch.argsort(m * self.num_users + u), persistent=False)
        self.register_buffer("_pair", torch.unique(u * self.num_items + m, return_inverse=True)[1], persistent=False)
        self._cache = None
        self._graph = None

    def graphs(self, keep: Tensor | None = None) -> dict:
        """``edge_index_dict`` for the encoder over the kept edges (all by default).

        SAGE gets each relation's mean-normalised CSR adjacency and its transpose; GAT the edge lists.
        """
        u, m = self.edge_index
        if self.conv == "gat":
            e = self.edge_index if keep is None else self.edge_index[:, keep]
            graphs = {RATES: e, RATED_BY: e.flip(0), "user_degree": torch.bincount(e[0], minlength=self.num_users),
                      "movie_degree": torch.bincount(e[1], minlength=self.num_items)}
        else:
            bu, bm = self._by_user, self._by_movie
            if keep is not None:
                bu, bm = bu[keep[bu]], bm[keep[bm]]
            e = torch.stack([u[bu], m[bu]])
            graphs = mean_graphs(u[bu], m[bu], m[bm], u[bm], self.num_users, self.num_items)
        if self.prior is not None:  # what the prior reads: the movies' popularity in this graph
            graphs["popularity"] = popularity_columns(e[0], e[1], self.num_items, self.user_group(), self.num_groups)
        if self.demo_prior:  # what the new-user term reads: the movies' popularity within each group
            graphs["group_popularity"] = group_popularity(e[0], e[1], self.demo_group(), self.num_demo_groups,
                                                          self.num_items, self.demo_smoothing)
        return graphs

    def degree_inputs(self, graphs: dict) -> tuple[Tensor, Tensor]:
        """Degree embeddings of every user and movie in ``graphs`` (zeros with ``degree=False``)."""
        if not self.degree:
            return (torch.zeros(self.num_users, self.hidden, device=self.item_year.device),
                    torch.zeros(self.num_items, self.hidden, device=self.item_year.device))
        lin_u, lin_m = ((self.user_degree_lin.weight, self.movie_degree_lin.weight) if self.user_degree_lin is not None
                        else (None, None))
        return (degree_features(graphs["user_degree"], self.user_degree_emb.weight, lin_u),
                degree_features(graphs["movie_degree"], self.movie_degree_emb.weight, lin_m))

    def encode_graph(self, graphs: dict) -> tuple[Tensor, Tensor]:
        """Final representations of every node over ``graphs``: features + degree, then message passing."""
        du, dm = self.degree_inputs(graphs)
        hu, hm = self.encode(self.user_inputs() + du, self.movie_inputs() + dm, graphs)
        hu, hm = self.with_prior(hu, hm, du, graphs.get("popularity"), self.user_group())
        if self.demo_prior and not self.training:  # the new-user term: at inference only
            hu = torch.cat([hu, self.demo_weights(graphs["user_degree"], self.demo_group())], -1)
            hm = torch.cat([hm, graphs["group_popularity"]], -1)
        return hu, hm

    @property
    def num_demo_groups(self) -> int:
        """Gender x age groups of the new-user term."""
        return len(self.table.gender_names) * len(self.table.age_names)

    def demo_group(self) -> Tensor:
        """Every user's gender x age group, as :class:`~graphrec.models.cold_baselines.DemographicPop` counts them."""
        return demographic_group(self.user_gender, self.user_age, len(self.table.age_names))

    def demo_weights(self, degree: Tensor, group: Tensor) -> Tensor:
        """The users' side of the new-user term (:func:`~graphrec.models.sage_inference.group_weights`)."""
        return group_weights(degree, group, self.num_demo_groups, self.demo_prior, self.demo_decay, self.demo_floor)

    def user_group(self) -> Tensor | None:
        """Every user's gender x age group (``None`` without the group prior)."""
        return demographic_group(self.user_gender, self.user_age, len(self.table.age_names)) if self.num_groups else None

    def with_prior(self, hu: Tensor, hm: Tensor, du: Tensor, pop: Tensor | None,
                   group: Tensor | None) -> tuple[Tensor, Tensor]:
        """``[h_u, beta_u]`` and ``[h_m, p_m]`` with a prior (``du``: the users' degree embeddings, ``pop``:
        the movies' :func:`popularity_columns`, ``group``: the users' groups; rows of the same users and
        movies), else ``(hu, hm)``."""
        if self.prior is None:
            return hu, hm
        return self.user_prior(hu, du, group), torch.cat([hm, pop], -1)

    def user_prior(self, hu: Tensor, du: Tensor, group: Tensor | None) -> Tensor:
        """``[h_u, beta_u]``: the users' side of :meth:`with_prior` (``hu`` itself without a prior)."""
        return hu if self.prior is None else torch.cat([hu, prior_columns(self.prior(du), group, self.num_groups)], -1)

    def user_inputs(self, users: Tensor | None = None, ids: bool = True) -> Tensor:
        """``h^0`` of ``users`` (default: all), from demographics (+ id unless ``ids=False``)."""
        if users is None:
            users = torch.arange(self.num_users, device=self.user_gender.device)
        h = self.gender_emb(self.user_gender[users]) + self.age_emb(self.user_age[users]) \
            + self.occupation_emb(self.user_occupation[users])
        return h + _ids(self.user_emb, users) if ids and self.user_emb is not None else h

    def movie_inputs(self, items: Tensor | None = None) -> Tensor:
        """``h^0`` of ``items`` (default: all), from genres and year (+ id)."""
        if items is None:
            items = torch.arange(self.num_items, device=self.item_year.device)
        h = self.genre_lin(self.item_genres[items]) + self.year_emb(year_bucket(self.item_year[items]))
        return h + _ids(self.movie_emb, items) if self.movie_emb is not None else h

    def encode(self, x_user: Tensor, x_movie: Tensor, graphs: dict) -> tuple[Tensor, Tensor]:
        """Message passing over ``graphs`` (from :meth:`graphs`); returns ``(h_user, h_movie)``: SAGE through
        :func:`~graphrec.models.sage_inference.sage_encode`, GAT through PyG."""
        if self.conv == "sage":
            return sage_encode(self.sage_layers(), x_user, x_movie, graph_means(graphs))
        out = self.encoder({"user": x_user, "movie": x_movie}, {RATES: graphs[RATES], RATED_BY: graphs[RATED_BY]})
        return out["user"], out["movie"]

    def propagate(self) -> tuple[Tensor, Tensor]:
        """Final user and movie representations over the current graph; cached at inference."""
        if self._graph is None:
            self._graph = self.graphs()
        if self.training or torch.is_grad_enabled():
            return self.encode_graph(self._graph)
        if self._cache is None:
            self._cache = self.encode_graph(self._graph)
        return self._cache

    def _apply(self, fn, *args, **kwargs):
        self._cache, self._graph = None, None  # rebuilt on the new device
        return super()._apply(fn, *args, **kwargs)

    def train(self, mode: bool = True) -> "HeteroSAGE":
        self._cache = None  # fused optimizers do not bump weight versions: drop the cache on every switch
        return super().train(mode)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        self._cache = None
        if self.prior is not None and strict and "prior.weight" not in state_dict and "gender_emb.weight" in state_dict:
            # weights saved before the prior existed (its runs' configs do not name it): load them as they were
            self.prior, self.num_groups = None, 0
            if self.movie_bias is not None:
                self.movie_bias = nn.Linear(self.hidden, 1, bias=False).to(self.item_year.device)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def decoder_weights(self) -> DecoderWeights:
        """The decoder's parameters (:func:`~graphrec.models.sage_inference.decode`)."""
        mlp = None if self.mlp is None else MLPWeights(self.mlp[0].weight, self.mlp[0].bias, self.mlp[2].weight,
                                                       self.mlp[2].bias)
        return DecoderWeights(None if self.movie_bias is None else self.movie_bias.weight, mlp)

    def decode(self, hu: Tensor, hm: Tensor) -> Tensor:
        """Logits of row-aligned user and movie representations (broadcasting over leading dims;
        :func:`~graphrec.models.sage_inference.decode`)."""
        return decode(hu, hm, self.decoder_weights())

    def dot_scores(self, hu: Tensor, hm: Tensor) -> Tensor:
        """``[len(hu), len(hm)]`` logits, every user row against every movie row
        (:func:`~graphrec.models.sage_inference.decode_all`)."""
        return decode_all(hu, hm, self.decoder_weights())

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        hu, hm = self.propagate()
        return self.decode(hu[user], hm[item])

    @torch.no_grad()
    def score(self, users: Tensor, items: Tensor) -> Tensor:
        hu, hm = self.propagate()
        return self.decode(hu[users][:, None, :], hm[items])

    @torch.no_grad()
    def score_all(self, users: Tensor, chunk: int = 1 << 22) -> Tensor:
        hu, hm = self.propagate()
        return decode_all(hu[users], hm, self.decoder_weights(), chunk)

    # -- training ---------------------------------------------------------------------------------
    def epoch_batches(self, split, config, generator: torch.Generator) -> tuple[Tensor, ...]:
        """One epoch of ``(edge id, user, positive, negatives[num_ng])`` over the graph's edges, shuffled.

        Negatives are drawn from the movies that have training edges, never from a user's positives.
        """
        user, item = self.edge_index.cpu()
        items = self.train_items.cpu()
        local = torch.searchsorted(items, item)  # positives in the space of movies with edges
        sampler = NegativeSampler(user, local, len(items))
        neg = items[sampler.sample(user, config.num_ng, generator)]
        perm = torch.randperm(len(user), generator=generator)
        return perm, user[perm], item[perm], neg[perm]

    def step_edges(self, edge_ids: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Mask of the message-passing edges of one step: the graph minus the supervised ``edge_ids``,
        minus every edge of ``node_dropout`` of the movies, and for ``node_dropout`` of the users all but
        ``K ~ U{0..new_user_edges}`` random ones (new users arrive with a few ratings)."""
        # by (user, movie) pair, so a duplicated rating cannot leak through a second edge
        supervised = torch.zeros(int(self._pair.max()) + 1 if len(self._pair) else 0, dtype=torch.bool,
                                 device=self._pair.device)
        supervised[self._pair[edge_ids]] = True
        keep = ~supervised[self._pair]
        if self.node_dropout:
            p = self.node_dropout
            drop_u = torch.rand(self.num_users, generator=generator) < p
            drop_m = torch.rand(self.num_items, generator=generator) < p
            user, movie = self.edge_index
            drop_u, drop_m = drop_u.to(keep.device), drop_m.to(keep.device)
            keep &= ~drop_m[movie]
            few = torch.nonzero(keep & drop_u[user]).flatten()
            if len(few):
                # random order within each user, then keep the first K of each
                order = torch.argsort(user[few].double() + torch.rand(len(few), generator=generator,
                                                                      dtype=torch.float64).to(keep.device))
                few, owner = few[order], user[few[order]]
                start = torch.searchsorted(owner, owner)  # first row of each owner (sorted)
                budget = torch.randint(self.new_user_edges + 1, (self.num_users,), generator=generator)
                keep[few[(torch.arange(len(few), device=keep.device) - start) >= budget.to(keep.device)[owner]]] = False
        return keep

    def batch_loss(self, batch: tuple[Tensor, ...], config) -> Tensor:
        """BPR (``-log sigmoid(s_pos - s_neg)``), BCE or full softmax (``-log softmax_m(s_um)[pos]`` over the movies
        with training edges) on one batch, message passing without the batch's edges."""
        edge_ids, user, pos, neg = batch
        hu, hm = self.encode_graph(self.graphs(self.step_edges(edge_ids)))
        loss = self._loss(hu[user], hm, pos, neg)
        if self.cold_weight:
            loss = loss + self.cold_weight * self._loss(self.new_user_representations(user), hm, pos, neg, "softmax")
        return loss

    def new_user_representations(self, users: Tensor) -> Tensor:
        """Final representations of ``users`` as if they were new: demographics, no id, no edges."""
        h = self.user_inputs(users, ids=False)
        du = self.user_degree_emb.weight[0].expand_as(h) if self.degree else torch.zeros_like(h)
        h, _ = sage_encode(self.sage_layers(), h + du, h[:0], no_neighbours)
        group = self.user_group()
        return self.user_prior(h, du, None if group is None else group[users])

    def _loss(self, eu: Tensor, hm: Tensor, pos: Tensor, neg: Tensor, loss: str | None = None) -> Tensor:
        """``loss`` (default: the model's) of user representations ``eu`` (rows of the batch) against all movies ``hm``."""
        loss = loss or self.loss
        if loss == "softmax":
            return F.cross_entropy(self.dot_scores(eu, hm[self.train_items]), torch.searchsorted(self.train_items, pos))
        s_pos = self.decode(eu, hm[pos])
        s_neg = self.decode(eu[:, None, :], hm[neg])
        if loss == "bpr":
            return -F.logsigmoid(s_pos[:, None] - s_neg).mean()
        logits = torch.cat([s_pos, s_neg.reshape(-1)])
        labels = torch.cat([torch.ones_like(s_pos), torch.zeros(s_neg.numel(), device=s_pos.device)])
        return F.binary_cross_entropy_with_logits(logits, labels)

    # -- new users and movies ---------------------------------------------------------------------
    def with_nodes(self, users: tuple[Tensor, Tensor, Tensor] | None = None,
                   movies: tuple[Tensor, Tensor] | None = None,
                   edges: tuple[Tensor, Tensor] | None = None) -> "HeteroSAGE":
        """A copy (parameters shared) with new nodes appended after the known ones.

        Args:
            users: ``(gender, age bucket, occupation)`` codes of new users (:class:`FeatureTable` vocabularies).
            movies: ``(genres multi-hot [N, G], year [N])`` of new movies, year as ``(year - 1900) / 100``.
            edges: extra ``(user, movie)`` message-passing edges, indices in the extended numbering.

        New nodes have no id embedding; the copy's graph is the current graph plus ``edges``.
        """
        new = copy.copy(self)  # shallow: shares parameters and submodules
        new._buffers = dict(self._buffers)
        new._cache, new._graph = None, None
        if users is not None:
            g, a, o = (torch.as_tensor(t).long().to(self.user_gender.device) for t in users)
            new.user_gender = torch.cat([self.user_gender, g])
            new.user_age = torch.cat([self.user_age, a])
            new.user_occupation = torch.cat([self.user_occupation, o])
            new.num_users = self.num_users + len(g)
        if movies is not None:
            genres, year = movies
            new.item_genres = torch.cat([self.item_genres, torch.as_tensor(genres).float().to(self.item_genres.device)])
            new.item_year = torch.cat([self.item_year, torch.as_tensor(year).float().to(self.item_year.device)])
            new.num_items = self.num_items + len(year)
        eu, em = self.edge_index
        if edges is not None:
            eu = torch.cat([eu, torch.as_tensor(edges[0]).long().to(eu.device)])
            em = torch.cat([em, torch.as_tensor(edges[1]).long().to(em.device)])
        new.set_graph(eu, em)
        return new

    @torch.no_grad()
    def score_with_nodes(self, users: Tensor, new_users: tuple[Tensor, Tensor, Tensor] | None = None,
                         new_movies: tuple[Tensor, Tensor] | None = None,
                         new_edges: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """Logits ``[len(users), M + new movies]`` over the graph with new nodes and edges (:meth:`with_nodes`)."""
        new = self.with_nodes(users=new_users, movies=new_movies, edges=new_edges)
        was_training = self.training
        new.eval()
        try:
            return new.score_all(torch.as_tensor(users).long().to(self.item_year.device)).cpu()
        finally:
            self.train(was_training)

    def without_new_user_term(self) -> "HeteroSAGE":
        """A copy (parameters shared) without the new-user term (for ranking new movies, for which it is one
        constant: they have no ratings)."""
        new = self.with_nodes()
        new.demo_prior = 0.0
        return new

    @torch.no_grad()
    def export(self) -> SAGEInference:
        """The trained weights, the known nodes' feature embeddings, the message-passing graph and the feature
        vocabularies as a :class:`~graphrec.models.sage_inference.SAGEInference` (SAGE encoder only): the same
        scores without torch_geometric."""
        if self.conv != "sage":
            raise GraphrecError("only the SAGE encoder exports to plain tensors (GAT's attention is not there)")
        # what would be stored (SAGEWeights.to_arrays), detached copies on the CPU: the export is its file
        stored = {k: v.detach().cpu().clone() for k, v in self.sage_weights().to_arrays().items()}
        t = self.table
        vocab = Vocabulary(list(t.gender_names), list(t.age_names), list(t.occupation_names), list(t.genre_names))
        user, item = self.edge_index
        return SAGEInference(vocab, *(x.detach().cpu().clone() for x in (self.user_gender, self.user_age, self.user_inputs(),
                                                                          self.movie_inputs(), user, item)),
                             SAGEWeights.from_arrays(stored, self.num_layers), self.num_layers, self.num_groups)

    def sage_weights(self) -> SAGEWeights:
        """Every trained tensor of the SAGE model by role (the parameters themselves, not copies): the contract
        with the plain-torch :class:`~graphrec.models.sage_inference.SAGEInference` (:meth:`export`)."""
        if self.conv != "sage":
            raise GraphrecError("only the SAGE encoder has SAGE weights (GAT's attention is not there)")
        lin = self.user_degree_lin is not None
        return SAGEWeights(
            gender=self.gender_emb.weight, age=self.age_emb.weight, occupation=self.occupation_emb.weight,
            genre_weight=self.genre_lin.weight, genre_bias=self.genre_lin.bias, year=self.year_emb.weight,
            layers=self.sage_layers(), decoder=self.decoder_weights(),
            user_degree=self.user_degree_emb.weight if self.degree else None,
            movie_degree=self.movie_degree_emb.weight if self.degree else None,
            user_degree_lin=self.user_degree_lin.weight if self.degree and lin else None,
            movie_degree_lin=self.movie_degree_lin.weight if self.degree and lin else None,
            prior_weight=None if self.prior is None else self.prior.weight,
            prior_bias=None if self.prior is None else self.prior.bias,
            demo=DemoTerm(self.demo_prior, self.demo_decay, self.demo_smoothing, self.demo_floor)
            if self.demo_prior else None)

    # -- feature groups, for graphrec.explain ---------------------------------------------------
    @property
    def groups(self) -> tuple[str, ...]:
        """Own features of the pair, plus what each node reads from the graph (``*_ratings``).

        GAT's attention depends on the target node, so only the SAGE encoder has groups.
        """
        if self.conv != "sage" or self.num_groups:
            raise AttributeError("groups: only the SAGE encoder without the group prior splits into feature groups")
        ids = ("user", "movie") if self.use_ids else ()
        demo = ("popularity",) if self.demo_prior else ()
        return (*ids, "gender", "age", "occupation", "genres", "year", "user_ratings", "movie_ratings", *demo)

    def _relation_convs(self, layer: int) -> tuple[CSRSAGEConv, CSRSAGEConv]:
        """(into movies, into users) convolutions of one layer."""
        convs = self.encoder.convs[layer]
        return convs["__".join(RATES)], convs["__".join(RATED_BY)]

    def sage_layers(self) -> tuple[SAGELayer, ...]:
        """The SAGE layers' parameters (:func:`~graphrec.models.sage_inference.sage_encode`), from PyG's convs."""
        return tuple(SAGELayer(*(SAGERelation(conv.lin_l.weight, conv.lin_l.bias, conv.lin_r.weight)
                                 for conv in self._relation_convs(layer)))
                     for layer in range(self.num_layers))

    @torch.no_grad()
    def neighbour_means(self) -> tuple[Tensor, Tensor]:
        """Per node what it reads from the graph: its degree embedding, then the mean of its neighbours'
        representations at every layer's input; ``[num_users, (L + 1) * hidden]`` and
        ``[num_items, (L + 1) * hidden (+ 1)]`` (with the prior, the movie's popularity last), over the
        current graph."""
        if self._graph is None:
            self._graph = self.graphs()
        du, dm = self.degree_inputs(self._graph)
        hu, hm = self.user_inputs() + du, self.movie_inputs() + dm
        agg_u, agg_m = [du], [dm]
        means = graph_means(self._graph)

        def recorded(layer: int, hu: Tensor, hm: Tensor) -> tuple[Tensor, Tensor]:
            au, am = means(layer, hu, hm)
            agg_u.append(au)
            agg_m.append(am)
            return au, am

        sage_encode(self.sage_layers(), hu, hm, recorded)
        if self.prior is not None:  # the movie's popularity, read by the prior
            agg_m.append(self._graph["popularity"])
        return torch.cat(agg_u, 1), torch.cat(agg_m, 1)

    def group_layers(self) -> list[nn.Module]:
        ids = [self.user_emb, self.movie_emb] if self.use_ids else []
        demo = [self.popularity_in] if self.demo_prior else []
        return [*ids, self.gender_emb, self.age_emb, self.occupation_emb, self.genres_in, self.year_emb,
                self.user_ratings_in, self.movie_ratings_in, *demo]

    def group_inputs(self, users: Tensor, items: Tensor) -> tuple[Tensor, ...]:
        agg_u, agg_m = self.neighbour_means()
        ids = (users, items) if self.use_ids else ()
        demo = ()
        if self.demo_prior:  # the pair's new-user term: popularity among people like the user, at its weight
            weights = self.demo_weights(self._graph["user_degree"][users], self.demo_group()[users])
            demo = ((weights * self._graph["group_popularity"][items]).sum(-1, keepdim=True),)
        return (*ids, self.user_gender[users], self.user_age[users], self.user_occupation[users],
                self.item_genres[items], year_bucket(self.item_year[items]), agg_u[users], agg_m[items], *demo)

    def forward_groups(self, *inputs: Tensor) -> Tensor:
        """The pair's logit from its groups, the rest of the graph held at its current state.

        At the pair's own inputs this is exactly :meth:`forward`; for a node without edges (a new user
        or movie) it is exact for any input, as nothing then flows back through its neighbours.
        """
        x = dict(zip(self.groups, [layer(v) for layer, v in zip(self.group_layers(), inputs)]))
        hu = x["gender"] + x["age"] + x["occupation"] + (x["user"] if self.use_ids else 0)
        hm = self.genre_lin(x["genres"]) + x["year"] + (x["movie"] if self.use_ids else 0)
        agg_u = x["user_ratings"].chunk(self.num_layers + 1, 1)
        width = (self.num_layers + 1) * self.hidden
        agg_m = x["movie_ratings"][:, :width].chunk(self.num_layers + 1, 1)
        # degree embeddings, then the layers over the neighbour means held fixed
        hu, hm = sage_encode(self.sage_layers(), hu + agg_u[0], hm + agg_m[0],
                             lambda layer, _hu, _hm: (agg_u[layer + 1], agg_m[layer + 1]))
        out = self.decode(*self.with_prior(hu, hm, agg_u[0], x["movie_ratings"][:, width:], None))
        return out + x["popularity"].sum(-1) if self.demo_prior else out
