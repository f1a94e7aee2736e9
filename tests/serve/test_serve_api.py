"""graphrec serve's HTTP API on tiny synthetic runs: every endpoint, every kind of bad input, known answers
from the Python API (graphrec.load_run) as the oracle."""
import json

import pytest

pytest.importorskip("fastapi", reason="graphrec serve needs the serve extra: pip install -e .[serve]")

from fastapi.testclient import TestClient  # noqa: E402

from graphrec.api import load_run  # noqa: E402
from graphrec.embeddings.similarity import nearest  # noqa: E402
from graphrec.serve import Registry, create_app  # noqa: E402


@pytest.fixture(scope="module")
def registry(serve_runs):
    return Registry.load([serve_runs["neumf"], serve_runs["sage"]])


@pytest.fixture(scope="module")
def client(registry):
    return TestClient(create_app(registry))


def run_id(registry, name):
    return registry.runs[name].id


def bad(response, status, *words):
    """A 4xx JSON error whose one-line message names what to fix."""
    assert response.status_code == status, response.text
    body = response.json()
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    for w in words:
        assert w in body["error"], body["error"]
    return body


def test_recommendations_are_the_python_apis_and_name_their_run(client, registry, serve_runs):
    r = client.get("/users/3/recommendations?k=10")
    assert r.status_code == 200
    body = r.json()
    assert body["run"] == run_id(registry, "neumf") and body["run"].startswith("neumf@") and body["user"] == 3
    run = load_run(serve_runs["neumf"])
    ids, scores = run.recommend(3, 10)
    assert [x["movie_id"] for x in body["recommendations"]] == ids.tolist()
    assert [x["rank"] for x in body["recommendations"]] == list(range(1, 11))
    assert all(x["title"] and "genres" in x and "year" in x for x in body["recommendations"])
    seen = set(run.catalog.movie_ids[run.catalog.rated(run.catalog.user_index(3))].tolist())
    assert not seen & set(ids.tolist())
    other = client.get("/users/3/recommendations?k=4&run=sage").json()
    assert other["run"] == run_id(registry, "sage") and len(other["recommendations"]) == 4


def test_explained_recommendations(client, registry):
    sage = client.get("/users/3/recommendations?k=5&explain=true&run=sage").json()
    for x in sage["recommendations"]:  # groups raising the score, largest first
        contributions = [g["contribution"] for g in x["why"]]
        assert contributions and contributions == sorted(contributions, reverse=True) and min(contributions) > 0
    assert sage["run"] == run_id(registry, "sage")
    plain = client.get("/users/3/recommendations?k=5&explain=true").json()  # NeuMF: no groups, says so
    assert "feature groups" in plain["note"] and all("why" not in x for x in plain["recommendations"])
    for x in plain["recommendations"]:  # the user's closest movie rated >= 4, by the item embedding
        assert x["because_you_liked"]["movie_id"] > 0 and -1 <= x["because_you_liked"]["similarity"] <= 1
    assert plain["run"] == run_id(registry, "neumf")


@pytest.mark.parametrize("url, status, words", [
    ("/users/99999/recommendations", 404, ["unknown user id 99999", "1..40"]),
    ("/users/abc/recommendations", 422, ["user", "integer"]),
    ("/users/1/recommendations?k=0", 422, ["k:", "greater than or equal to 1", "'0'"]),
    ("/users/1/recommendations?k=101", 422, ["k:", "less than or equal to 100"]),
    ("/users/1/recommendations?k=ten", 422, ["k:", "integer"]),
    ("/users/1/recommendations?method=magic", 422, ["method:", "ig"]),
    ("/users/1/recommendations?run=nope", 404, ["no run named 'nope'", "neumf, sage"]),
    ("/movies/999/similar", 404, ["unknown movie id 999"]),
    ("/movies/1/similar?metric=manhattan", 422, ["metric:", "cosine"]),
    ("/movies/1/similar?k=1000", 422, ["k:"]),
    ("/movies/search?q=", 422, ["q is empty"]),
    ("/movies/search", 422, ["q:", "required"]),
    ("/no/such/thing", 404, ["no such endpoint"]),
])
def test_bad_input_gets_a_4xx_saying_what_to_fix(client, url, status, words):
    bad(client.get(url), status, *words)


def test_search_matches_titles_as_graphrec_similar_does(client, registry):
    one = client.get("/movies/search?q=star wars").json()
    assert [m["title"] for m in one["matches"]] == ["Star Wars (1977)"] and one["run"] == run_id(registry, "neumf")
    the = client.get("/movies/search?q=the empire strikes back").json()  # "Title, The" read either way
    assert [m["movie_id"] for m in the["matches"]] == [2]
    several = client.get("/movies/search?q=star").json()  # substring: every title holding it
    assert {m["title"] for m in several["matches"]} == {"Star Wars (1977)", "Star Trek: Generations (1994)"}
    none = client.get("/movies/search?q=fargp").json()
    assert none["matches"] == [] and [m["title"] for m in none["did_you_mean"]][:1] == ["Fargo (1996)"]


def test_similar_is_the_nearest_in_the_item_embedding(client, registry):
    served = registry.runs["neumf"]
    body = client.get("/movies/4/similar?k=5").json()
    assert body["run"] == served.id and body["movie"]["title"] == "Fargo (1996)"
    idx, sim = nearest(served.run.item_vectors(), served.run.catalog.movie_index(4), 5, "cosine")
    assert [n["movie_id"] for n in body["neighbours"]] == served.run.catalog.movie_ids[idx.numpy()].tolist()
    assert [n["similarity"] for n in body["neighbours"]] == pytest.approx(sim.tolist(), abs=1e-6)
    assert 4 not in [n["movie_id"] for n in body["neighbours"]]
    far = client.get("/movies/4/similar?k=5&metric=euclidean").json()["neighbours"]
    d = [n["distance"] for n in far]
    assert d == sorted(d) and all("similarity" not in n for n in far)
    m = client.get("/movies/map").json()
    assert len(m["xy"]) == len(m["movie_ids"]) == served.run.catalog.num_items and all(0 <= v <= 1 for p in m["xy"] for v in p)


NEW = {"gender": "F", "age": 25, "occupation": "student"}


def test_new_user_lists_movies_they_did_not_name(client, registry, serve_runs):
    r = client.post("/new-user", json={**NEW, "liked": ["star wars", "Fargo"], "liked_ids": [5], "k": 7})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["run"] == run_id(registry, "sage")  # the hetero-sage run answers without being named
    assert [m["movie_id"] for m in body["new_user"]["liked"]] == [1, 4, 5]
    ids = [x["movie_id"] for x in body["recommendations"]]
    assert len(ids) == 7 and not {1, 4, 5} & set(ids)
    oracle = load_run(serve_runs["sage"]).recommend_new_user("F", 25, "student",
                                                             ["Star Wars (1977)", "Fargo (1996)", "Toy Story (1995)"], 7)
    assert ids == [x["movie_id"] for x in oracle]
    explained = client.post("/new-user", json={**NEW, "liked": ["fargo"], "k": 3, "explain": True}).json()
    for x in explained["recommendations"]:
        assert x["why"] and all(g["contribution"] > 0 for g in x["why"])


@pytest.mark.parametrize("body, status, words", [
    ({**NEW, "gender": "X", "occupation": "pilot"}, 422, ["invalid demographics", "gender 'X' (valid: F, M)",
                                                         "occupation 'pilot' (valid: administrator"]),
    ({**NEW, "age": 300}, 422, ["age 300", "1 to 120"]),
    ({**NEW, "age": "old"}, 422, ["age:", "integer"]),
    ({"gender": "F"}, 422, ["age:", "Field required", "occupation:"]),
    ({**NEW, "liked": ["star"]}, 422, ["'star' is ambiguous", "candidates"]),
    ({**NEW, "liked": ["Zardoz"]}, 404, ["no movie titled 'Zardoz'"]),
    ({**NEW, "liked": [""]}, 422, ["empty title"]),
    ({**NEW, "liked_ids": [9999]}, 404, ["unknown movie id 9999"]),
    ({**NEW, "k": 0}, 422, ["k:"]),
    ({**NEW, "liked": ["x"] * 51}, 422, ["liked:", "at most 50"]),
])
def test_bad_new_users_get_a_4xx_saying_what_to_fix(client, body, status, words):
    out = bad(client.post("/new-user", json=body), status, *words)
    if "ambiguous" in out["error"]:
        assert {m["title"] for m in out["candidates"]} == {"Star Wars (1977)", "Star Trek: Generations (1994)"}


def test_new_user_without_a_hetero_sage_run(serve_runs):
    client = TestClient(create_app(Registry.load([serve_runs["neumf"]])))
    bad(client.post("/new-user", json=NEW), 503, "no hetero-sage run is loaded", "--run")
    two = TestClient(create_app(Registry.load([serve_runs["neumf"], serve_runs["sage"]])))
    bad(two.post("/new-user?run=neumf", json=NEW), 422, "only a hetero-sage run scores new users")


def test_bodies_over_the_limit_and_malformed_json_are_refused(registry):
    client = TestClient(create_app(registry, max_body=1024))
    bad(client.post("/new-user", json={**NEW, "liked": ["a" * 100] * 20}), 413, "over 1024 bytes")
    bad(client.post("/new-user", content=b"{not json", headers={"Content-Type": "application/json"}), 422, "JSON")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b" " * 200
    bad(client.post("/new-user", content=chunks(), headers={"Content-Type": "application/json"}), 413, "over 1024")


def test_health_runs_and_docs(client, registry):
    h = client.get("/health").json()
    assert h == {"status": "ok", "runs": [run_id(registry, "neumf"), run_id(registry, "sage")]}
    runs = client.get("/runs").json()["runs"]
    assert [r["name"] for r in runs] == ["neumf", "sage"] and [r["model"] for r in runs] == ["neumf", "hetero-sage"]
    assert runs[0]["can"] == {"recommend": True, "explain_groups": False, "new_user": False, "similar": True}
    assert runs[1]["can"]["new_user"] and "student" in runs[1]["occupations"]
    assert runs[0]["users"] == 40 and runs[0]["config"]["model"] == "neumf" and "metrics" in runs[0]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/users/{user}/recommendations", "/movies/search", "/movies/{movie}/similar", "/new-user", "/health",
            "/runs", "/runs/reload"} <= set(paths)
    page = client.get("/")
    assert page.status_code == 200 and "<script src=\"static/app.js\"></script>" in page.text
    assert "http" not in client.get("/static/app.js").text.replace("http://www.w3.org/2000/svg", "")  # no CDN


def test_an_internal_error_is_one_json_line_not_a_traceback(registry, monkeypatch):
    from graphrec.serve import app as app_module

    def boom(*a, **k):
        raise ValueError("something\nbroke")
    monkeypatch.setattr(app_module, "recommendations", boom)
    r = TestClient(create_app(registry), raise_server_exceptions=False).get("/users/1/recommendations")
    assert r.status_code == 500 and r.json() == {"error": "internal error: ValueError: something broke"}
    assert json.loads(r.text)


def test_the_precomputed_score_matrix_answers_as_scoring_each_request_does(registry, serve_runs):
    live = TestClient(create_app(Registry.load([serve_runs["neumf"]], precompute=0)))
    cached = TestClient(create_app(registry))
    assert registry.runs["neumf"]._scores is not None
    for user in (1, 9, 40):
        a = live.get(f"/users/{user}/recommendations?k=100").json()
        b = cached.get(f"/users/{user}/recommendations?k=100").json()
        assert [x["movie_id"] for x in a["recommendations"]] == [x["movie_id"] for x in b["recommendations"]]
        assert [x["score"] for x in a["recommendations"]] == pytest.approx([x["score"] for x in b["recommendations"]])
        assert len(a["recommendations"]) < 125  # seen movies left out, not padded
