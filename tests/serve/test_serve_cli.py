"""``graphrec serve``'s command line: the defaults it serves without --run, the port it listens on, bad flags."""
import socket

import pytest

pytest.importorskip("fastapi", reason="graphrec serve needs the serve extra: pip install -e .[serve]")

from graphrec.cli import main  # noqa: E402


@pytest.fixture
def no_server(monkeypatch):
    """uvicorn's Server.run records the app instead of serving forever."""
    import uvicorn

    seen = {}

    def run(self, sockets=None):
        seen["app"], seen["sockets"] = self.config.app, sockets
    monkeypatch.setattr(uvicorn.Server, "run", run)
    return seen


def test_without_run_it_serves_the_defaults_trained_on_first_use(serve_runs, no_server, monkeypatch, capsys):
    import graphrec.defaults
    import graphrec.data

    calls = []
    monkeypatch.setattr(graphrec.defaults, "default_recommender", lambda data_dir, progress: calls.append("neumf")
                        or serve_runs["neumf"])
    monkeypatch.setattr(graphrec.defaults, "default_feature_model", lambda ml, progress: calls.append("feature")
                        or serve_runs["neumf2"])
    monkeypatch.setattr(graphrec.defaults, "default_hetero_sage", lambda data_dir, progress: calls.append("sage")
                        or serve_runs["sage"])
    monkeypatch.setattr(graphrec.data, "load_movielens", lambda name, data_dir: None)
    assert main(["serve", "--port", "0", "--watch", "0"]) == 0
    assert calls == ["neumf", "feature", "sage"]
    registry = no_server["app"].state.registry
    assert list(registry.runs) == ["neumf", "neumf2", "sage"]
    err = capsys.readouterr().err
    port = no_server["sockets"][0].getsockname()[1]
    assert f"serving neumf, neumf2, sage at http://127.0.0.1:{port}/" in err and err.count("\n") == 1
    no_server["sockets"][0].close()


def test_a_taken_port_and_bad_flags_get_one_line(serve_runs, no_server, capsys):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        assert main(["serve", "--run", str(serve_runs["neumf"]), "--port", str(port)]) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert main(["serve", "--run", str(serve_runs["neumf"]), "--watch", "-1", "--port", "0"]) == 2
    assert "--watch must be >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["serve", "--port", "-1"])
    assert e.value.code == 2
