"""The HTTP API and the web page of ``graphrec serve`` (FastAPI; :func:`create_app`).

Every answer is JSON and names the run that produced it (``run``: ``<name>@<weights hash>``). A request
takes its run from the :class:`~graphrec.serve.registry.Registry` once, at its start, and uses nothing
else, so a reload never mixes two models in one answer. Bad input gets a 4xx whose ``error`` says what to
fix (with ``candidates`` for an unknown or ambiguous title); anything unexpected a 500 with one line, never a
traceback. Bodies over ``max_body`` bytes are refused (413).

A run scores every known user once when it loads (a 6 MB matrix for ML-100K; per request above
:data:`~graphrec.serve.registry.PRECOMPUTE_LIMIT` entries), so a recommendation only ranks one row, on the
event loop. Batching concurrent requests into one model call was measured and left out: NeuMF's cost
is linear in the users scored (docs/serving.md). Explanations (gradients through the model), new users and
reloads run on a fixed few model threads (``workers``), explanations one at a time per run.
"""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import torch
from fastapi import Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..data.catalog import find_titles
from ..embeddings.similarity import nearest
from ..errors import GraphrecError
from ..inductive import demographics
from ..io import dumps
from .registry import Registry, Served

STATIC = Path(__file__).parent / "static"

#: The largest ``k`` a request may ask for.
MAX_K = 100

#: Request bodies above this many bytes are refused (413).
MAX_BODY = 16 * 1024


class Json(JSONResponse):
    """JSON through :func:`graphrec.io.dumps`: numpy values converted, non-finite floats as ``null``."""

    def render(self, content) -> bytes:
        try:  # the answers hold plain Python values: the standard encoder, unless something is not finite
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()
        except (ValueError, TypeError):
            return dumps(content).encode()


class ApiError(Exception):
    """A 4xx/5xx answer: ``{"error": message, **extra}``."""

    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


# ----------------------------------------------------------------------------- schema (for /docs)

class Movie(BaseModel):
    movie_id: int
    title: str
    year: int | None
    genres: list[str]


class Group(BaseModel):
    group: str = Field(description="a feature group: gender, age, occupation, genres, year, ...")
    value: str
    contribution: float = Field(description="its signed contribution to the logit")


class Liked(BaseModel):
    movie_id: int
    title: str
    similarity: float = Field(description="cosine of the two movies' item embeddings")


class Recommendation(Movie):
    rank: int
    score: float = Field(description="sigmoid of the model's logit")
    why: list[Group] | None = Field(None, description="with explain: the top groups raising the score "
                                                      "(feature models and hetero-sage only)")
    because_you_liked: Liked | None = Field(None, description="with explain: the user's most similar movie "
                                                              "rated >= 4")


class Recommendations(BaseModel):
    run: str = Field(description="the run that produced this answer: <name>@<hash of its model.pt>")
    model: str
    user: int
    recommendations: list[Recommendation]
    note: str | None = None


class Neighbour(Movie):
    rank: int
    similarity: float | None = None
    distance: float | None = None


class Similar(BaseModel):
    run: str
    model: str
    movie: Movie
    metric: str
    neighbours: list[Neighbour]


class Search(BaseModel):
    run: str
    query: str
    matches: list[Movie] = Field(description="the titles the query names (one when it resolves)")
    did_you_mean: list[Movie] = Field(description="close titles, when nothing matches")


class NewUser(BaseModel):
    """A user the model never saw (hetero-sage runs)."""

    gender: str = Field(examples=["F"], description="F or M")
    age: int = Field(examples=[25], description="years, 1 to 120")
    occupation: str = Field(examples=["student"])
    liked: list[str] = Field([], max_length=50, examples=[["Star Wars", "Fargo"]],
                             description="titles the user liked (matched as in /movies/search)")
    liked_ids: list[int] = Field([], max_length=50, description="movie ids the user liked")
    k: int = Field(10, ge=1, le=MAX_K)
    explain: bool = False
    method: Literal["ig", "shap", "lime"] = "ig"


class NewUserAnswer(BaseModel):
    run: str
    model: str
    new_user: dict
    recommendations: list[Recommendation]


class Error(BaseModel):
    error: str = Field(description="what went wrong and what to fix")
    candidates: list[Movie] | None = None


ERRORS = {n: {"model": Error} for n in (404, 413, 422, 503)}


# ----------------------------------------------------------------------------- the answers

def _run(registry: Registry, name: str | None, need: str | None = None) -> Served:
    try:
        return registry.get(name, need)
    except LookupError as e:
        raise ApiError(404, str(e)) from None
    except RuntimeError as e:
        raise ApiError(503, str(e)) from None


def _user(served: Served, user: int) -> int:
    c = served.run.catalog
    try:
        return c.user_index(user)
    except GraphrecError as e:
        raise ApiError(404, str(e), run=served.id) from None


def _movie(served: Served, movie: int) -> int:
    try:
        return served.run.catalog.movie_index(movie)
    except GraphrecError as e:
        raise ApiError(404, str(e), run=served.id) from None


def recommendations(served: Served, user: int, k: int) -> dict:
    _user(served, user)
    return {"run": served.id, "model": served.model_name, "user": user,
            "recommendations": served.run.listing(*served.recommend(user, k))}


def explain(served: Served, answer: dict, method: str) -> dict:
    """``answer`` (from :func:`recommendations`) with its explanations (worker thread; one per run at a time)."""
    with served.explain_lock:
        served.run.explain_recommendations(answer["user"], answer["recommendations"], method)
    if not served.feature_groups:
        answer["note"] = (f"a {served.model_name} model has no feature groups: only 'because you liked' "
                          "explains it (serve a feature model or a hetero-sage run for the groups)")
    return answer


def title_index(served: Served, title: str) -> int:
    """The dense index of the one movie ``title`` names; 404/422 with candidates otherwise."""
    c = served.run.catalog
    try:
        found, close = find_titles(c.titles, title)
    except GraphrecError:
        raise ApiError(422, "empty title: name a movie, e.g. \"Star Wars\"", run=served.id) from None
    if len({c.titles[i] for i in found}) == 1:  # identical titles (a film listed twice) are one movie
        return found[0]
    if found:
        raise ApiError(422, f"{title!r} is ambiguous: {len(found)} titles match; pick one of the candidates "
                            "(or give its movie id)", run=served.id,
                       candidates=[c.movie(i) for i in found[:20]])
    raise ApiError(404, f"no movie titled {title!r}" + ("; did you mean one of the candidates?" if close else ""),
                   run=served.id, candidates=[c.movie(i) for i in close])


def search(served: Served, q: str, limit: int) -> dict:
    c = served.run.catalog
    try:
        found, close = find_titles(c.titles, q)
    except GraphrecError:
        raise ApiError(422, "q is empty: give part of a title, e.g. q=star wars", run=served.id) from None
    return {"run": served.id, "query": q, "matches": [c.movie(i) for i in found[:limit]],
            "did_you_mean": [c.movie(i) for i in close]}


def similar(served: Served, movie: int, k: int, metric: str) -> dict:
    i = _movie(served, movie)
    vec = served.item_vectors()
    if vec is None:
        raise ApiError(422, f"a {served.model_name} model has no item embedding to compare movies by: "
                            "choose another run", run=served.id)
    c = served.run.catalog
    idx, val = nearest(vec, i, k, metric)
    key = "similarity" if metric == "cosine" else "distance"
    return {"run": served.id, "model": served.model_name, "movie": c.movie(i), "metric": metric,
            "neighbours": [{"rank": n, **c.movie(j), key: v}
                           for n, (j, v) in enumerate(zip(idx.tolist(), val.tolist()), start=1)]}


def movie_map(served: Served) -> dict:
    """Every movie's position on the first two principal axes of the item embedding (computed once)."""
    vec = served.item_vectors()
    if vec is None:
        raise ApiError(422, f"a {served.model_name} model has no item embedding to map", run=served.id)
    if served._map is None:
        x = vec - vec.mean(0)
        _, _, v = torch.linalg.svd(x, full_matrices=False)
        xy = x @ v[:2].T
        xy = (xy - xy.min(0).values) / (xy.max(0).values - xy.min(0).values).clamp_min(1e-12)
        served._map = [[round(a, 4), round(b, 4)] for a, b in xy.tolist()]
    c = served.run.catalog
    return {"run": served.id, "movie_ids": c.movie_ids.tolist(), "xy": served._map}


def new_user(served: Served, body: NewUser) -> tuple[dict, list[str]]:
    r = served.run
    try:
        demographics(r.newcomers.table, body.gender, body.age, body.occupation)
    except GraphrecError as e:
        raise ApiError(422, str(e), run=served.id) from None
    c = r.catalog
    items = [title_index(served, t) for t in body.liked] + [_movie(served, m) for m in body.liked_ids]
    items = list(dict.fromkeys(items))
    titles = [c.titles[i] for i in items]
    recs = r.recommend_new_user(body.gender, body.age, body.occupation, titles, body.k)
    who = {"gender": body.gender, "age": body.age, "occupation": body.occupation,
           "liked": [c.movie(i) for i in items]}
    return {"run": served.id, "model": served.model_name, "new_user": who, "recommendations": recs}, titles


def explain_new_user(served: Served, answer: dict, body: NewUser, titles: list[str]) -> dict:
    with served.explain_lock:
        answer["recommendations"] = served.run.explain_new_user(answer["recommendations"], body.gender, body.age,
                                                                body.occupation, titles, body.method)
    return answer


# ----------------------------------------------------------------------------- the app

class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 (by its Content-Length, or as it arrives)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")

        def too_big():
            return Json({"error": f"the request body is over {self.limit} bytes: send less"}, status_code=413)

        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await too_big()(scope, receive, send)
        if length is not None:
            return await self.app(scope, receive, send)
        body, more = b"", True  # no Content-Length (chunked): read it here, up to the limit, then pass it on
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)  # the client went away: let the app see it
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await too_big()(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def create_app(registry: Registry, max_body: int = MAX_BODY, workers: int = 1) -> FastAPI:
    """The FastAPI app answering from ``registry`` (see the module docstring); model work that does not
    run on the event loop (new users, explanations, reloads) runs on ``workers`` threads."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="graphrec-model")

    async def off_loop(fn, *args):
        """``fn(*args)`` on the model threads: a fixed few, so CPU and memory (one malloc arena a thread)
        stay bounded however many requests wait."""
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    app = FastAPI(title="graphrec", version="1",
                  description="Movie recommendations, similar movies, new users and explanations from trained "
                              "graphrec runs. Every answer names the run that produced it (`run`).")
    app.state.registry = registry

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError):
        return Json({"error": e.message, **e.extra}, status_code=e.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        parts = []
        for err in e.errors():
            where = ".".join(str(x) for x in err.get("loc", ())[1:]) or "request"
            got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], (dict, list)) else ""
            parts.append(f"{where}: {err.get('msg', 'invalid')}{got}")
        return Json({"error": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException):
        msg = "no such endpoint: see /docs" if e.status_code == 404 else str(e.detail)
        return Json({"error": msg}, status_code=e.status_code)

    @app.exception_handler(Exception)
    async def _bug(request: Request, e: Exception):
        return Json({"error": f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}"},
                    status_code=500)

    Run = Query(None, description="the run to answer from (a name from /runs; default: the first)")

    @app.get("/users/{user}/recommendations", response_model=Recommendations, responses=ERRORS,
             summary="top-k movies the user has not rated")
    async def get_recommendations(user: int, k: int = Query(10, ge=1, le=MAX_K), explain_: bool = Query(
            False, alias="explain", description="add each movie's top feature groups and 'because you liked'"),
            method: Literal["ig", "shap", "lime"] = "ig", run: str | None = Run):
        served = _run(registry, run)
        answer = recommendations(served, user, k)
        if explain_:
            answer = await off_loop(explain, served, answer, method)
        return Json(answer)

    @app.get("/movies/search", response_model=Search, responses=ERRORS,
             summary="movies by title, matched as by `graphrec similar`")
    async def get_search(q: str = Query(..., max_length=200, description='part of a title, e.g. "star wars"'),
                         limit: int = Query(20, ge=1, le=MAX_K), run: str | None = Run):
        return Json(search(_run(registry, run), q, limit))

    @app.get("/movies/map", responses=ERRORS, summary="every movie on the first two principal axes of the "
                                                      "run's item embedding, scaled to 0..1")
    async def get_map(run: str | None = Run):
        return Json(movie_map(_run(registry, run, need="similar")))

    @app.get("/movies/{movie}/similar", response_model=Similar, responses=ERRORS,
             summary="the k movies nearest a movie in the run's item embedding")
    async def get_similar(movie: int, k: int = Query(10, ge=1, le=MAX_K),
                          metric: Literal["cosine", "euclidean"] = "cosine", run: str | None = Run):
        return Json(similar(_run(registry, run, need="similar"), movie, k, metric))

    @app.post("/new-user", response_model=NewUserAnswer, responses=ERRORS,
              summary="recommendations for a user the model never saw (a hetero-sage run)")
    async def post_new_user(body: NewUser = Body(...), run: str | None = Run):
        served = _run(registry, run, need="new_user")
        if not served.new_users:
            raise ApiError(422, f"run {served.name!r} is a {served.model_name} run: only a hetero-sage run scores "
                                "new users", run=served.id)
        answer, titles = await off_loop(new_user, served, body)  # message passing: ms, off the loop
        if body.explain:
            answer = await off_loop(explain_new_user, served, answer, body, titles)
        return Json(answer)

    @app.get("/health", summary="liveness, and the id of every loaded run")
    async def get_health():
        return Json({"status": "ok", "runs": [r.id for r in registry.runs.values()]})

    @app.get("/runs", summary="the loaded runs: ids, models, metrics and configs (the first is the default)")
    async def get_runs():
        return Json({"runs": [r.describe() for r in registry.runs.values()]})

    @app.post("/runs/reload", responses=ERRORS,
              summary="load runs again from their folders and swap them in; a run that fails keeps serving")
    async def post_reload(run: list[str] | None = Query(None, description="runs to reload (default: all)")):
        try:
            report = await off_loop(registry.reload, run)
        except LookupError as e:
            raise ApiError(404, str(e)) from None
        if report["refused"]:
            return Json({"error": "; ".join(x["error"] for x in report["refused"]) + " (the old model keeps serving)",
                         **report}, status_code=422)
        return Json(report)

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=max_body)
    return app
