"""Tiny runs for the server's tests: synthetic ML-100K-shaped data where a few movies carry real titles
(so "star wars" and "fargo" mean something), a NeuMF, a second NeuMF of another seed (to swap in on
reload), and a one-epoch hetero-sage run (new users and explanation groups)."""
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from synthetic import write_ml100k

#: Titles given to the first synthetic movies.
TITLES = ["Star Wars (1977)", "Empire Strikes Back, The (1980)", "Return of the Jedi (1983)", "Fargo (1996)",
          "Toy Story (1995)", "Star Trek: Generations (1994)"]


@pytest.fixture(scope="session")
def serve_data(tmp_path_factory) -> Path:
    folder = write_ml100k(tmp_path_factory.mktemp("serve") / "ml-100k", num_users=40, num_items=150, per_user=12)
    lines = (folder / "u.item").read_text(encoding="latin-1").splitlines()
    for n, title in enumerate(TITLES):
        parts = lines[n].split("|")
        parts[1] = title
        lines[n] = "|".join(parts)
    (folder / "u.item").write_text("\n".join(lines) + "\n", encoding="latin-1")
    return folder


def _train(data: Path, out: Path, name: str, *args: str) -> Path:
    from graphrec.cli import main

    assert main(["train", *args, "--data-dir", str(data), "--quiet", "--no-tuned", "--out", str(out),
                 "--name", name, "--threads", "1"]) == 0
    return out / name


@pytest.fixture(scope="session")
def serve_runs(serve_data, tmp_path_factory) -> dict:
    """``{"neumf", "neumf2", "sage"}``: finished run directories (read-only: copy before changing them)."""
    out = tmp_path_factory.mktemp("serve-runs")
    small = ["--factors", "4", "--layers", "8,4", "--epochs", "1", "--batch-size", "256"]
    return {"neumf": _train(serve_data, out, "neumf", "neumf", *small, "--seed", "0"),
            "neumf2": _train(serve_data, out, "neumf2", "neumf", *small, "--seed", "1"),
            "sage": _train(serve_data, out, "sage", "hetero-sage", "--epochs", "1")}


@pytest.fixture
def copy_run(tmp_path):
    """A writable copy of a run directory, named ``name``."""
    def copy(src: Path, name: str) -> Path:
        dst = tmp_path / "runs" / name
        shutil.copytree(src, dst)
        return dst
    return copy


class LiveServer:
    """The app on uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def live_server():
    return LiveServer
