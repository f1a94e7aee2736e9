"""Reloading runs: an atomic swap under concurrent requests (each answer wholly from one run), files
replaced on disk, and corrupt weights refused at start-up and at reload while the old model keeps serving."""
import os
import shutil
import threading
import weakref

import pytest

pytest.importorskip("fastapi", reason="graphrec serve needs the serve extra: pip install -e .[serve]")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from graphrec.api import load_run  # noqa: E402
from graphrec.cli import main  # noqa: E402
from graphrec.errors import CheckpointError  # noqa: E402
from graphrec.serve import Registry, create_app  # noqa: E402
from graphrec.serve.registry import weights_hash  # noqa: E402

USERS = (1, 2, 3, 7)


def replace_weights(run, source) -> None:
    """Write ``source``'s model.pt over ``run``'s atomically (a new file renamed into place)."""
    tmp = run / "model.pt.new"
    shutil.copyfile(source / "model.pt", tmp)
    os.replace(tmp, run / "model.pt")


def expected_lists(path) -> dict:
    run = load_run(path)
    return {u: run.recommend(u, 10)[0].tolist() for u in USERS}


def test_reload_swaps_the_model_and_the_old_one_finishes_in_flight(serve_runs, copy_run):
    path = copy_run(serve_runs["neumf"], "live")
    registry = Registry.load([path])
    client = TestClient(create_app(registry))
    old = registry.get()
    assert client.get("/users/1/recommendations").json()["run"] == old.id == f"live@{weights_hash(path)}"
    assert client.post("/runs/reload").json() == {"reloaded": [], "unchanged": [old.id], "refused": []}
    replace_weights(path, serve_runs["neumf2"])
    report = client.post("/runs/reload?run=live").json()
    new = registry.get()
    assert report == {"reloaded": [new.id], "unchanged": [], "refused": []} and new.id != old.id
    body = client.get("/users/1/recommendations").json()
    assert body["run"] == new.id
    assert [x["movie_id"] for x in body["recommendations"]] == expected_lists(serve_runs["neumf2"])[1]
    # a request that took the old run before the swap finishes on it: the old model is still whole
    assert old.run.recommend(1, 10)[0].tolist() == expected_lists(serve_runs["neumf"])[1]
    assert client.post("/runs/reload?run=nope").status_code == 404
    gone = weakref.ref(old)
    del old
    replace_weights(path, serve_runs["neumf"])
    client.post("/runs/reload")
    assert gone() is None  # a replaced run is freed once no request holds it (memory stays flat)


def test_watch_reloads_only_runs_whose_files_changed(serve_runs, copy_run):
    a, b = copy_run(serve_runs["neumf"], "a"), copy_run(serve_runs["sage"], "b")
    registry = Registry.load([a, b])
    before = dict(registry.runs)
    assert registry.reload(changed_only=True) == {"reloaded": [], "unchanged": [], "refused": []}
    replace_weights(a, serve_runs["neumf2"])
    report = registry.reload(changed_only=True)
    assert report["reloaded"] == [registry.runs["a"].id] and registry.runs["b"] is before["b"]


def test_corrupt_weights_are_refused_and_the_old_model_keeps_serving(serve_runs, copy_run):
    path = copy_run(serve_runs["neumf"], "live")
    registry = Registry.load([path])
    client = TestClient(create_app(registry))
    old = registry.get().id
    (path / "model.pt").write_bytes(b"PK\x03\x04 not a checkpoint" * 10)
    r = client.post("/runs/reload")
    assert r.status_code == 422
    body = r.json()
    assert "\n" not in body["error"] and "run 'live' refused" in body["error"] and "model.pt" in body["error"]
    assert "the old model keeps serving" in body["error"] and body["refused"][0]["serving"] == old
    assert client.get("/users/1/recommendations").json()["run"] == old
    assert registry.reload(changed_only=True)["refused"]  # the watcher refuses it too
    with pytest.raises(CheckpointError, match="run 'live' refused: .*model.pt: cannot be loaded"):
        Registry.load([path])


def test_serve_refuses_a_corrupt_run_at_start_with_one_line(serve_runs, copy_run, capsys):
    path = copy_run(serve_runs["neumf"], "broken")
    (path / "model.pt").write_bytes(b"garbage")
    assert main(["serve", "--run", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("graphrec: error: run 'broken' refused:") and "Traceback" not in err
    assert main(["serve", "--run", str(path.parent / "missing"), "--port", "0"]) == 2
    assert "no such run directory" in capsys.readouterr().err


def test_reload_under_concurrent_requests_drops_nothing_and_never_mixes_runs(serve_runs, copy_run, live_server):
    path = copy_run(serve_runs["neumf"], "live")
    registry = Registry.load([path])
    lists = {registry.get().id: expected_lists(serve_runs["neumf"])}
    replace_weights(path, serve_runs["neumf2"])
    second = f"live@{weights_hash(path)}"
    lists[second] = expected_lists(serve_runs["neumf2"])
    replace_weights(path, serve_runs["neumf"])
    failures, answers, stop = [], [], threading.Event()

    with live_server(create_app(registry)) as server:
        def client_loop(n):
            with httpx.Client(base_url=server.url, timeout=10) as c:
                i = 0
                while not stop.is_set():
                    u = USERS[(n + i) % len(USERS)]
                    i += 1
                    try:
                        r = c.get(f"/users/{u}/recommendations?k=10")
                        if r.status_code != 200:
                            failures.append(r.text)
                            continue
                        body = r.json()
                        answers.append((body["run"], u, [x["movie_id"] for x in body["recommendations"]]))
                    except httpx.HTTPError as e:
                        failures.append(repr(e))

        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for source in ("neumf2", "neumf", "neumf2", "neumf"):
                replace_weights(path, serve_runs[source])
                assert c.post("/runs/reload").status_code == 200
        stop.set()
        for t in threads:
            t.join()
    assert not failures
    assert {rid for rid, _, _ in answers} == set(lists)  # both runs answered
    for rid, u, movies in answers:  # and every answer is wholly one run's list
        assert movies == lists[rid][u]
