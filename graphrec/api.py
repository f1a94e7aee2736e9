"""``graphrec.load_run``: a trained run as an object, in the style of implicit and scikit-learn.

::

    import graphrec
    run = graphrec.load_run("runs/neumf")        # no path: the default recommender, trained on first use
    movies, scores = run.recommend(1, k=10)      # the dataset's own ids, best first
    users, recs, scores = run.recommend_all(k=10)
    run.similar_items(50, k=5), run.explain(1, 50, method="ig")

Users and movies are always the dataset's own (raw) ids; dense indices stay
inside. Loading is lazy: recommending with a plain embedding model reads the
cached catalog and split (:mod:`graphrec.data.processed`) and never parses
MovieLens; the full dataset is loaded only when a model or explanation needs it.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .data.catalog import Catalog, load_catalog
from .errors import GraphrecError
from .config import DataConfig, TrainConfig
from .data.processed import split_provenance
from .training.runs import check_data, check_finished, data_provenance, load_weights, provenance, read_config


class _DatasetOnDemand:
    """Stands in for the run's :class:`~graphrec.data.MovieLens`: its name, sizes and cache entry come
    from the catalog, anything else loads the dataset on first access. Models that need no more
    (GMF, MLP, NeuMF; feature models whose codes are cached) are built without parsing it."""

    def __init__(self, catalog: Catalog, load) -> None:
        self._load, self._ml = load, None
        self.name, self.num_users, self.num_items = catalog.name, catalog.num_users, catalog.num_items
        self.cache_entry = catalog.cache_entry

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._ml is None:
            self._ml = self._load()
        return getattr(self._ml, name)


#: How many past movies ``because_you_recently_watched`` names (a sequential model's explanation).
RECENT = 2


class TrainedRun:
    """A trained model with its dataset's catalog; see the module docstring."""

    def __init__(self, path: Path | None, config: TrainConfig | None, model: torch.nn.Module | None,
                 catalog: Catalog, data_dir: str | None = None, cache: bool = True, split=None, ml=None,
                 device: str | None = "cpu") -> None:
        self.path, self.config, self.catalog = path, config, catalog
        self._model, self._load_model, self._newcomers = model, None, None
        #: opens the run that answers for new users and movies when this one cannot (the default recommender)
        self._newcomer_default: Callable[[], "TrainedRun"] | None = None
        self._data_dir, self._cache, self._split, self._ml = data_dir, cache, split, ml
        self.device = device  # where scoring runs: "auto", "cpu" or "cuda[:N]" (explanations run on the CPU)
        self.dataset = ml if ml is not None else _DatasetOnDemand(catalog, lambda: self.ml)

    @classmethod
    def from_model(cls, model: torch.nn.Module, ml, split=None, config: TrainConfig | None = None) -> "TrainedRun":
        """Wrap a model trained in this session (no run directory) with its dataset ``ml`` and ``split``."""
        from .pipeline import prepare

        split = split if split is not None else prepare(config or TrainConfig(data=_data_of(ml)), ml).split
        return cls(None, config, model, Catalog.from_movielens(ml), split=split, ml=ml)

    @property
    def model(self) -> torch.nn.Module:
        """The trained model (built and loaded on first use)."""
        if self._model is None and self._load_model is not None:
            self._model = self._load_model()
        return self._model

    @model.setter
    def model(self, model: torch.nn.Module) -> None:
        self._model, self._newcomers = model, None

    @property
    def metrics(self) -> dict:
        """The run's final test metrics (``metrics.json``; empty without a run directory)."""
        import json

        from .training.runs import METRICS

        p = self.path / METRICS if self.path is not None else None
        return json.loads(p.read_text()) if p is not None and p.is_file() else {}

    def __repr__(self) -> str:
        model = self.config.model if self.config is not None else type(self.model).__name__
        return (f"TrainedRun({str(self.path)!r}, model={model!r}, dataset={self.catalog.name!r}, "
                f"users={self.catalog.num_users}, movies={self.catalog.num_items})")

    # ----------------------------------------------------------------- data, loaded when needed

    @property
    def ml(self):
        """The run's :class:`~graphrec.data.MovieLens` (loaded on first use)."""
        if self._ml is None:
            self._ml, split = _dataset_and_split(self.config, self._data_dir, self._cache)
            self._split = self._split if self._split is not None else split
        return self._ml

    @property
    def features(self):
        """The :class:`~graphrec.data.FeatureTable` of the run's users and movies (feature codes)."""
        from .data.features import split_features

        return split_features(self.dataset, self.split)

    @property
    def split(self):
        """The split the run was trained and evaluated on."""
        if self._split is None:
            self._split = _quick_split(self.config, self._data_dir, self._cache)
            if self._split is None:
                _ = self.ml
        return self._split

    # ----------------------------------------------------------------- recommending

    @torch.no_grad()
    def scores(self, users: np.ndarray, filter_seen: bool = True) -> torch.Tensor:
        """Logits ``[N, num_movies]`` of dense ``users``; movies they rated are ``-inf`` with ``filter_seen``."""
        from .device import on_device, resolve_device

        users = torch.as_tensor(np.asarray(users, np.int64))
        was_training = self.model.training
        self.model.eval()
        try:
            s = on_device(self.model, resolve_device(self.device)).score_all(users).float().cpu()
        finally:
            self.model.train(was_training)
        if not torch.isfinite(s).all():
            raise GraphrecError("the model's scores are not finite (NaN or infinite): its training diverged; "
                                "train it again, e.g. with a smaller --lr")
        if filter_seen:
            c = self.catalog
            u = users.numpy()
            counts = c.rated_ptr[u + 1] - c.rated_ptr[u]
            rows = np.repeat(np.arange(len(u)), counts)
            cols = np.concatenate([c.rated(x) for x in u]) if len(u) else np.zeros(0, np.int64)
            s[torch.from_numpy(rows), torch.from_numpy(cols)] = -math.inf
        return s

    def _top(self, users: np.ndarray, k: int, filter_seen: bool) -> tuple[np.ndarray, np.ndarray]:
        """Dense top-``k`` items and sigmoid scores; rows with fewer unseen movies end in -1 and NaN."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an integer, got {type(k).__name__} {k!r}")
        if k < 1:
            raise GraphrecError(f"k must be >= 1, got {k}")
        s = self.scores(users, filter_seen)
        val, idx = torch.topk(s, min(k, s.shape[1]), dim=1)
        ok = torch.isfinite(val)
        items = torch.where(ok, idx, -1).numpy()
        scores = torch.where(ok, torch.sigmoid(val), math.nan).numpy()
        return items, scores

    def recommend(self, user: int, k: int = 10, filter_seen: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """``(movie_ids, scores)``: the ``k`` best movies for dataset user ``user``, best first.

        ``scores`` are ``sigmoid(logit)``; with ``filter_seen`` movies the user rated
        are left out (so fewer than ``k`` may come back).
        """
        items, scores = self._top(np.array([self.catalog.user_index(user)]), k, filter_seen)
        keep = items[0] >= 0
        return self.catalog.movie_ids[items[0][keep]], scores[0][keep]

    def recommend_all(self, k: int = 10, filter_seen: bool = True, users=None,
                      batch: int = 1024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(user_ids [N], movie_ids [N, k], scores [N, k])`` for every user (or the dataset ids ``users``),
        scored in batches of ``batch`` users; rows with fewer than ``k`` unseen movies end in -1 and NaN."""
        dense = (np.arange(self.catalog.num_users) if users is None else self.catalog.user_indices(users))
        parts = [self._top(dense[s:s + batch], k, filter_seen) for s in range(0, max(len(dense), 1), batch)]
        items = np.concatenate([p[0] for p in parts])[:len(dense)]
        scores = np.concatenate([p[1] for p in parts])[:len(dense)]
        ids = np.where(items >= 0, self.catalog.movie_ids[items.clip(0)], -1)
        return self.catalog.user_ids[dense], ids, scores

    def describe(self, movie_ids) -> list[dict]:
        """``movie_id``, ``title``, ``year`` and ``genres`` of each dataset movie id."""
        return [self.catalog.movie(i) for i in self.catalog.movie_indices(movie_ids).tolist()]

    def listing(self, movie_ids, scores) -> list[dict]:
        """One row of a recommendation list (``rank``, :meth:`describe`'s fields, ``score``) per movie,
        skipping the -1 padding of :meth:`recommend_all`."""
        keep = np.asarray(movie_ids) >= 0
        return [{"rank": r, **m, "score": float(s)} for r, (m, s) in
                enumerate(zip(self.describe(np.asarray(movie_ids)[keep]), np.asarray(scores)[keep]), start=1)]

    def explain_recommendations(self, user: int, recs: list[dict], method: str = "ig") -> list[dict]:
        """``recs`` (a :meth:`listing` of dataset user ``user``), each with ``why`` (its top contributing
        feature groups; feature models only), ``because_you_liked`` (the user's most similar movie rated
        >= 4 by the item embedding, with its ``similarity``) and, for a sequential model,
        ``because_you_recently_watched`` (the past movies with the largest integrated-gradients contribution
        to its score, signed), added in place and returned. Runs on the CPU."""
        from .explain import make_explainer
        from .explain.reasons import explain_recommendations
        from .models import capabilities

        if not recs:
            return recs
        model, split, c = self.model.cpu(), self.split, self.catalog
        features = capabilities(model).explainable
        explainer = make_explainer(method, model, split) if features else None
        items = [c.movie_index(x["movie_id"]) for x in recs]
        for x, e in zip(recs, explain_recommendations(model, split, c.user_index(user), items, explainer,
                                                      self.features if features else None)):
            if "top_groups" in e:
                x["why"] = e["top_groups"]
            if "because_you_liked" in e:
                liked = c.movie(e["because_you_liked"])
                x["because_you_liked"] = {"movie_id": liked["movie_id"], "title": liked["title"],
                                          "similarity": e["similarity"]}
        if hasattr(model, "history_attributions"):  # a sequential model: which recent movies drove each score
            for x, item in zip(recs, items):
                past, contribution = model.history_attributions(c.user_index(user), item)
                top = torch.argsort(contribution, descending=True)[:RECENT]
                x["because_you_recently_watched"] = [
                    {"movie_id": c.movie(int(past[j]))["movie_id"], "title": c.movie(int(past[j]))["title"],
                     "contribution": float(contribution[j])} for j in top.tolist()]
        return recs

    # ----------------------------------------------------------------- new users and movies

    def newcomer_run(self) -> "TrainedRun":
        """The run that scores new users and movies: this one, or for :func:`load_run` without a path (the
        default recommender, which only knows its training users) the embedded default ``hetero-sage``
        (:func:`graphrec.defaults.default_hetero_sage`, trained on first use)."""
        if self._newcomer_default is not None and (self.config is None or self.config.model != "hetero-sage"):
            if not isinstance(self._newcomer_default, TrainedRun):
                self._newcomer_default = self._newcomer_default()
            return self._newcomer_default
        return self

    @property
    def newcomers(self):
        """What scores users and movies the model never saw (``hetero-sage`` runs): its plain-torch twin,
        kept as ``inference.npz`` in the run directory (:func:`graphrec.inductive.newcomer_model`)."""
        from .inductive import newcomer_model

        if self._newcomers is None:
            self._newcomers = newcomer_model(self.path, lambda: self.model.cpu())
        return self._newcomers

    def recommend_new_user(self, gender: str, age: int, occupation: str, liked: list[str] = (),
                           k: int = 10) -> list[dict]:
        """Top ``k`` movies for a user the model never saw, from their demographics and the titles they
        liked (``hetero-sage`` runs): ``rank``, ``movie_id``, ``title``, ``year``, ``genres``, ``score``."""
        from .inductive import recommend_new_user

        r = self.newcomer_run()
        return recommend_new_user(r.newcomers, r.catalog, gender, age, occupation, liked, k)

    def explain_new_user(self, recommendations: list[dict], gender: str, age: int, occupation: str,
                         liked: list[str] = (), method: str = "ig", top: int = 3) -> list[dict]:
        """``recommendations`` (from :meth:`recommend_new_user`, same user) with ``why``: each movie's ``top``
        feature groups that raise its score (``method``: ig, shap or lime), from the PyG model."""
        from .inductive import explain_new_user, liked_movies

        r = self.newcomer_run()
        items = [r.catalog.movie_index(x["movie_id"]) for x in recommendations]
        attr, table = explain_new_user(r.model.cpu(), r.split, gender, age, occupation,
                                       liked_movies(r.catalog, liked), items, method)
        return [{**x, "why": [r for r in attr.rows(table, n) if r["contribution"] > 0][:top]}
                for n, x in enumerate(recommendations)]

    def recommend_new_movies(self, user: int, path: str | Path, k: int = 10) -> list[dict]:
        """The new titles of a ``title,year,genres`` CSV ranked for dataset user ``user`` (``hetero-sage`` runs)."""
        from .inductive import recommend_new_movies

        r = self.newcomer_run()
        return recommend_new_movies(r.newcomers, r.catalog, user, path, k)

    # ----------------------------------------------------------------- similar movies

    def item_vectors(self) -> torch.Tensor:
        """The model's ``[num_movies, d]`` item embedding; :class:`GraphrecError` if it has none."""
        from .explain.reasons import item_vectors

        vec = item_vectors(self.model.cpu())
        if vec is None:
            raise GraphrecError(f"a {self.config.model} model has no item embedding to compare movies by")
        return vec

    def similar_items(self, movie: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """``(movie_ids, cosine similarities)`` of the ``k`` movies nearest dataset movie ``movie`` in the
        model's item embedding, the movie itself excluded."""
        from .embeddings.similarity import nearest

        idx, sim = nearest(self.item_vectors(), self.catalog.movie_index(movie), k, "cosine")
        return self.catalog.movie_ids[idx.numpy()], sim.numpy()

    # ----------------------------------------------------------------- explaining

    def explain(self, user: int, movie: int, method: str = "ig", **kwargs) -> dict:
        """Signed per-feature-group contributions to the logit of (``user``, ``movie``) (dataset ids):
        ``method`` is ``ig``, ``shap`` or ``lime``; ``kwargs`` go to the engine (``background``, ``seed``).
        Feature models only (:class:`~graphrec.models.GroupRecommender`)."""
        from .explain import check_group_model, make_explainer

        check_group_model(self.model)
        u, i = self.catalog.user_index(user), self.catalog.movie_index(movie)
        explainer = make_explainer(method, self.model.cpu(), self.split, **kwargs)
        attr = explainer.attribute(torch.tensor([u]), torch.tensor([i]))
        return {"user": int(user), "movie": int(movie), "title": self.catalog.titles[i],
                **attr.to_dict(self.features)}


# --------------------------------------------------------------------------- loading

def _data_dir(config: TrainConfig, data_dir: str | None) -> str | None:
    """``data_dir`` if given, else the run's own folder while it exists (else: located as usual)."""
    if data_dir:
        return str(data_dir)
    d = config.data.data_dir
    return d if d and Path(d).is_dir() else None


def _dataset_and_split(config: TrainConfig, data_dir: str | None, cache: bool):
    from .pipeline import prepare

    if data_dir:
        config = TrainConfig.from_dict({**config.to_dict(), "data": {**config.to_dict()["data"], "data_dir": data_dir}})
    return tuple(prepare(config, saved=True, cache=cache))


def _quick_split(config: TrainConfig, data_dir: str | None, cache: bool):
    """The run's split straight from the cache (no parsing), or ``None`` when it is not there yet."""
    from .pipeline import split_if_cached

    d = config.data
    if not cache or d.on_bad_rows != "error":  # only a strict parse is cached
        return None
    return split_if_cached(DataConfig(d.dataset, _data_dir(config, data_dir), d.split_dir, d.split_seed))


def _located(dataset: str | None, data_dir: str | None, catalog: Catalog):
    """What :func:`~graphrec.training.runs.data_provenance` needs of the catalog's data: name, folder, cache entry."""
    from types import SimpleNamespace

    from .data.movielens import locate

    return SimpleNamespace(name=catalog.name, root=locate(dataset, data_dir)[1], cache_entry=catalog.cache_entry)


def _data_of(ml) -> DataConfig:
    return DataConfig(dataset=ml.name, data_dir=str(ml.root) if ml.root else None)


def load_run(path: str | Path | None = None, data_dir: str | None = None, cache: bool = True,
             progress: bool = True, device: str | None = "cpu", on_bad_rows: str | None = None,
             force: bool = False) -> TrainedRun:
    """A run directory as a :class:`TrainedRun`; without ``path`` the default recommender on ML-100K (:func:`graphrec.defaults.recommender_config`)
    (trained on first use and kept under ``GRAPHREC_HOME``), whose ``recommend_new_user`` and
    ``recommend_new_movies`` use the default hetero-sage (also trained on first use).

    ``data_dir`` points at the MovieLens files when they moved since training;
    ``cache=False`` re-parses them instead of reading the processed-data cache;
    ``device`` is where scoring runs (``"auto"``: CUDA when available); ``on_bad_rows``
    (default: as the run was trained) says what to do with malformed rows in the data files.
    Data other than the run was trained on (another fingerprint) is refused unless ``force``.
    """
    run = open_run(path, data_dir, cache, progress, device, on_bad_rows, force)
    _ = run.model  # built and loaded now: a run whose weights do not fit fails here
    return run


def open_run(path: str | Path | None = None, data_dir: str | None = None, cache: bool = True,
             progress: bool = True, device: str | None = "cpu", on_bad_rows: str | None = None,
             force: bool = False) -> TrainedRun:
    """:func:`load_run`, but the model is built and loaded on first use (``run.model``): what needs only the
    catalog or the run's cached files (``recommend_new_user``) imports no more than torch."""
    if path is None:
        from .defaults import default_hetero_sage, default_recommender

        run = open_run(default_recommender(data_dir, progress=progress, device=device),  # trains only on first use
                       data_dir, cache, progress, device, on_bad_rows)
        run._newcomer_default = lambda: open_run(default_hetero_sage(data_dir, progress=progress, device=device),
                                                 data_dir, cache, progress, device, on_bad_rows)
        return run
    path = Path(path)
    config = read_config(path)
    check_finished(path, config)
    if on_bad_rows and on_bad_rows != config.data.on_bad_rows:
        config = TrainConfig.from_dict({**config.to_dict(), "data": {**config.to_dict()["data"],
                                                                     "on_bad_rows": on_bad_rows}})
    ddir = _data_dir(config, data_dir)
    try:
        catalog = load_catalog(config.data.dataset, ddir, cache=cache, on_bad_rows=config.data.on_bad_rows)
    except GraphrecError as e:
        raise GraphrecError(f"{path}: the run's MovieLens files are needed for its movie ids and titles "
                            f"(pass data_dir / --data-dir): {e}") from None
    located, split_dir = _located(config.data.dataset, ddir, catalog), config.data.split_dir
    if split_dir and Path(split_dir).is_dir():  # the run's split files (a folder gone is reported when read)
        check_data(path, provenance(located, split_provenance(split_dir, cache)), force)
    else:
        check_data(path, data_provenance(located), force)
    from .device import resolve_device
    from .pipeline import Prepared, build_model

    resolve_device(device)  # an unavailable device fails before anything loads
    run = TrainedRun(path, config, None, catalog, ddir, cache, device=device)

    def load_model() -> torch.nn.Module:
        model = load_weights(build_model(config, Prepared(run.dataset, run.split)), path)
        catalog.check_fits(model, f"{path}: the model")
        return model

    run._load_model = load_model
    return run
