"""Recommendations for users and movies a model never saw, from their features (``hetero-sage`` runs).

* :func:`recommend_new_user` -- a new user given by gender, age, occupation and a few liked titles:
  their node and edges are appended to the graph, message passing runs, and the top ``k`` movies
  they have not named come back;
* :func:`recommend_new_movies` -- new titles from a CSV (``title,year,genres``, genres separated by
  ``|``) are appended as movies without ratings and ranked for a known user;
* :func:`explain_new_user` -- a new user's scores attributed to the model's feature groups.

Both take the trained :class:`~graphrec.models.HeteroSAGE` (new nodes through PyG,
:meth:`~graphrec.models.HeteroSAGE.with_nodes`; the run is unchanged) or its plain-torch twin
(:class:`~graphrec.models.sage_inference.SAGEInference`, the same scores without torch_geometric).
:func:`newcomer_model` keeps the twin of a run directory as ``inference.npz`` beside its weights, so a
warm ``graphrec recommend --new-user`` reads it and the cached catalog and imports only torch.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .data.catalog import Catalog, resolve_titles
from .data.graph import age_bucket
from .errors import DataError, GraphrecError

#: The plain-torch twin of a hetero-sage run, in its run directory (:func:`newcomer_model`).
INFERENCE = "inference.npz"


def check_inductive(model) -> None:
    if not hasattr(model, "score_with_nodes"):
        name = getattr(model, "registry_name", type(model).__name__)
        raise GraphrecError(f"model {name!r} only knows the users and movies it was trained on; "
                            "train a hetero-sage run for new users and movies")


def demographics(table, gender: str, age: int, occupation: str) -> tuple[int, int, int]:
    """Feature codes of a new user in ``table``'s vocabularies (a :class:`~graphrec.data.FeatureTable` or
    :class:`~graphrec.models.sage_inference.Vocabulary`); one error naming every invalid value and the valid ones."""
    problems = []
    genders = {g.lower(): j for j, g in enumerate(table.gender_names) if g != "unknown"}
    occupations = {o.lower(): j for j, o in enumerate(table.occupation_names) if o != "unknown"}
    g = genders.get(str(gender).strip().lower())
    if g is None:
        problems.append(f"gender {gender!r} (valid: {', '.join(sorted(x.upper() for x in genders))})")
    if isinstance(age, bool) or not isinstance(age, (int, np.integer)) or not 1 <= int(age) <= 120:
        problems.append(f"age {age!r} (valid: a whole number of years, 1 to 120)")
        a = None
    else:
        a = int(age_bucket(np.array([int(age)]))[0]) + 1
    o = occupations.get(str(occupation).strip().lower())
    if o is None:
        valid = [x for x in table.occupation_names if x != "unknown"]
        listed = ", ".join(valid) or "none: this release has no occupations"
        problems.append(f"occupation {occupation!r} (valid: {listed})")
    if problems:
        raise GraphrecError("invalid demographics: " + "; ".join(problems))
    return g, a, o


def _catalog(data) -> Catalog:
    """``data`` as a :class:`Catalog` (a :class:`~graphrec.data.MovieLens` is converted)."""
    return data if isinstance(data, Catalog) else Catalog.from_movielens(data)


def find_movies(data, titles: list[str]) -> list[int]:
    """Dense indices of the movies ``titles`` (a list) name, through the one title resolver
    (:func:`graphrec.data.catalog.resolve_titles`: ambiguous or unknown titles are refused with candidates).
    ``data``: a :class:`Catalog` or the dataset."""
    c = _catalog(data)
    return resolve_titles(c.titles, titles, np.bincount(c.rated_items, minlength=c.num_items))


def read_new_movies(path: str | Path, genre_names: list[str]) -> tuple[list[dict], torch.Tensor, torch.Tensor]:
    """``(rows, genres multi-hot [N, G], year [N])`` of a ``title,year,genres`` CSV."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    col = {g.lower(): j for j, g in enumerate(genre_names)}
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the first column's name
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start}); save the file as UTF-8") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        records = list(reader)
        fieldnames = reader.fieldnames or []
    except csv.Error as e:
        raise DataError(f"{path}: not a valid CSV file ({e}); check its quotes") from None
    missing = {"title", "year", "genres"} - set(fieldnames)
    if missing:
        raise DataError(f"{path}: needs the columns title, year, genres (missing: {', '.join(sorted(missing))})")
    rows, genres, years = [], [], []
    for n, rec in enumerate(records, start=2):
        if None in rec or None in rec.values():
            raise DataError(f"{path}: line {n}: {'more' if None in rec else 'fewer'} fields than the header's "
                            f"{len(fieldnames)}; quote a title that holds a comma")
        title = (rec["title"] or "").strip()
        if not title:
            raise DataError(f"{path}: line {n}: empty title")
        year_text = (rec["year"] or "").strip()
        try:
            year = int(year_text) if year_text else None
        except ValueError:
            raise DataError(f"{path}: line {n}: year {year_text!r} is not a whole number") from None
        if year is not None and not 1870 <= year <= 2100:
            raise DataError(f"{path}: line {n}: year {year} is outside 1870..2100")
        multi = np.zeros(len(genre_names), np.float32)
        names = [g.strip() for g in (rec["genres"] or "").split("|") if g.strip()]
        for g in names:
            if g.lower() not in col:
                raise DataError(f"{path}: line {n}: unknown genre {g!r} (valid: {', '.join(genre_names)})")
            multi[col[g.lower()]] = 1.0
        rows.append({"title": title, "year": year, "genres": names})
        genres.append(multi)
        years.append(0.0 if year is None else (year - 1900) / 100.0)
    if not rows:
        raise DataError(f"{path}: no movies")
    return rows, torch.from_numpy(np.stack(genres)), torch.tensor(years, dtype=torch.float32)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


def liked_movies(data, titles: list[str]) -> Tensor:
    """Sorted dense indices of the movies ``titles`` name (:func:`find_movies`), each once: a new user's edges."""
    return torch.tensor(sorted(set(find_movies(data, titles))), dtype=torch.long)


def _new_user(model, codes: tuple[int, int, int], liked: Tensor) -> tuple[tuple[Tensor, ...], tuple[Tensor, Tensor]]:
    """``(new_users, new_edges)`` of one new user with feature ``codes``, appended after ``model``'s users,
    with an edge to each of the ``liked`` movies (:meth:`~graphrec.models.HeteroSAGE.with_nodes`)."""
    user = model.num_users
    return tuple(torch.tensor([c]) for c in codes), (torch.full_like(liked, user), liked)


def recommend_new_user(model, data, gender: str, age: int, occupation: str, liked: list[str] = (),
                       k: int = 10) -> list[dict]:
    """Top ``k`` movies for a user the model never saw; ``liked`` titles become their edges.

    ``model``: a hetero-sage model or its :class:`~graphrec.models.sage_inference.SAGEInference`;
    ``data``: the run's :class:`Catalog` or dataset.
    """
    check_inductive(model)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__} {k!r}")
    if k < 1:
        raise GraphrecError(f"k must be >= 1, got {k}")
    codes = demographics(model.table, gender, age, occupation)
    c = _catalog(data)
    c.check_fits(model)
    items = liked_movies(c, liked)
    new_users, new_edges = _new_user(model, codes, items)
    scores = model.score_with_nodes(torch.tensor([model.num_users]), new_users=new_users,
                                    new_edges=new_edges)[0].float()
    scores[items] = -math.inf
    top = torch.topk(scores, min(k, int(torch.isfinite(scores).sum())))
    return [{"rank": rank, **c.movie(item), "score": _sigmoid(logit)}
            for rank, (item, logit) in enumerate(zip(top.indices.tolist(), top.values.tolist()), start=1)]


def explain_new_user(model, split, gender: str, age: int, occupation: str, liked: Tensor, items: Tensor,
                     method: str = "ig"):
    """Why a new user gets each of ``items`` (dense movie indices): ``method``'s attribution of each logit to the
    model's feature groups (:mod:`graphrec.explain`), and a feature table that describes the new user.

    ``model`` is the PyG hetero-sage model (the twin has no gradients); the user is appended as in
    :func:`recommend_new_user`, with an edge to each of ``liked`` (dense movie indices). What the user reads
    from those ratings (and their number) is the ``user_ratings`` group; the rest of the score is split
    between the demographics, the movie's features and what the movie reads from its raters.
    Returns ``(attribution, table)``: ``attribution.rows(table, n)`` lists item ``n``'s groups.
    """
    from dataclasses import replace

    from .explain import make_explainer
    from .models import capabilities

    check_inductive(model)
    if not capabilities(model).explainable:
        raise GraphrecError(f"this {getattr(model, 'registry_name', type(model).__name__)} run has no feature groups "
                            "to explain (GAT or the group prior)")
    g, a, o = codes = demographics(model.table, gender, age, occupation)
    new_users, new_edges = _new_user(model, codes, torch.as_tensor(liked).long())
    new = model.with_nodes(users=new_users, edges=new_edges).eval()
    items = torch.as_tensor(items).long()
    attr = make_explainer(method, new, split).attribute(torch.full_like(items, model.num_users), items)
    t = model.table  # the same vocabularies, with the new user's codes appended: its rows describe them
    table = replace(t, **{name: torch.cat([getattr(t, name), torch.tensor([code], dtype=getattr(t, name).dtype)])
                          for name, code in (("user_gender", g), ("user_age", a), ("user_occupation", o))})
    return attr, table


def recommend_new_movies(model, data, user_id: int, path: str | Path, k: int = 10) -> list[dict]:
    """The new titles of ``path`` ranked for the dataset's user ``user_id`` (top ``k``); ``model`` and ``data``
    as for :func:`recommend_new_user`."""
    check_inductive(model)
    c = _catalog(data)
    c.check_fits(model)
    user = c.user_index(user_id)
    rows, genres, years = read_new_movies(path, list(model.table.genre_names))
    if hasattr(model, "without_new_user_term"):  # the term is one constant for movies without ratings: left out,
        model = model.without_new_user_term()   # the new movies' scores keep the model's scale
    scores = model.score_with_nodes(torch.tensor([user]), new_movies=(genres, years))[0, model.num_items:].float()
    order = torch.argsort(scores, descending=True, stable=True)[:k]
    return [{"rank": r, **rows[j], "score": _sigmoid(float(scores[j]))} for r, j in enumerate(order.tolist(), 1)]


def newcomer_model(run_dir: str | Path | None, load_model: Callable[[], torch.nn.Module]):
    """What scores new users and movies for a run: its :class:`~graphrec.models.sage_inference.SAGEInference`,
    read from ``run_dir/inference.npz`` while the run's weights are those it was exported from; otherwise
    ``load_model()``, exported and stored there atomically (a GAT encoder, which does not export, is
    returned as it is). Raises :class:`GraphrecError` for a model that only knows its training nodes."""
    from .data.processed import CacheError
    from .models.sage_inference import SAGEInference
    from .training.runs import WEIGHTS

    path = stamp = None
    if run_dir is not None:
        path = Path(run_dir) / INFERENCE
        st = (Path(run_dir) / WEIGHTS).stat()
        stamp = (st.st_size, st.st_mtime_ns)
        if path.is_file():
            try:
                twin, source = SAGEInference.load(path)
                if source == stamp:
                    return twin
            except CacheError:
                pass  # exported again below
    model = load_model()
    check_inductive(model)
    if getattr(model, "conv", "sage") != "sage":
        return model
    twin = model.export()
    if path is not None:
        try:
            twin.save(path, source=stamp)
        except OSError:  # a read-only run directory: export again next time
            pass
    return twin
