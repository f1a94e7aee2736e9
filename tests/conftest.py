import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from synthetic import write_ml100k

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ml100k_dir() -> Path:
    """The official ML-100K folder: ``$GRAPHREC_DATA`` or ``../shared/data/ml-100k``.

    Under CI a missing folder fails the test instead of skipping it.
    """
    path = Path(os.environ.get("GRAPHREC_DATA", ROOT.parent / "shared" / "data" / "ml-100k"))
    if not (path / "u.data").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"ML-100K not found at {path}: CI needs ../shared/data/ml-100k")
        pytest.skip(f"ML-100K not found at {path}")
    return path


@pytest.fixture(scope="session")
def ml100k(ml100k_dir):
    from graphrec.data import load_movielens

    return load_movielens("ml-100k", ml100k_dir)


@pytest.fixture(scope="session")
def ml100k_split(ml100k):
    from graphrec.pipeline import prepare
    from graphrec.config import DataConfig

    return prepare(DataConfig(), ml100k).split


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory):
    """The one synthetic-data factory: ``synthetic_data(**write_ml100k options)`` -> ``(dir, ml, split)``
    (a namespace; the split comes from the pipeline, seed 0), written once per set of options."""
    from graphrec.data import load_movielens
    from graphrec.pipeline import prepare
    from graphrec.config import DataConfig

    made: dict = {}

    def make(**options) -> SimpleNamespace:
        key = tuple(sorted(options.items(), key=lambda kv: kv[0]))
        if key not in made:
            folder = write_ml100k(tmp_path_factory.mktemp("synth") / "ml-100k", **options)
            ml = load_movielens("ml-100k", folder)
            made[key] = SimpleNamespace(dir=folder, ml=ml, split=prepare(DataConfig(), ml).split)
        return made[key]

    return make


@pytest.fixture(scope="session")
def synth_dir(synthetic_data) -> Path:
    return synthetic_data().dir


@pytest.fixture(scope="session")
def synth(synthetic_data):
    return synthetic_data().ml


@pytest.fixture(scope="session")
def synth_split(synthetic_data):
    return synthetic_data().split


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory):
    """Session fixtures (datasets, runs) cache under a private GRAPHREC_HOME too, never the user's."""
    old = os.environ.get("GRAPHREC_HOME")
    os.environ["GRAPHREC_HOME"] = str(tmp_path_factory.mktemp("session-home"))
    yield
    if old is None:
        os.environ.pop("GRAPHREC_HOME", None)
    else:
        os.environ["GRAPHREC_HOME"] = old


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Never touch the user's cache: every test gets its own GRAPHREC_HOME (beside ``tmp_path``, not in it:
    commands fill the processed-data cache, and tests list what they wrote in ``tmp_path``)."""
    monkeypatch.setenv("GRAPHREC_HOME", str(tmp_path_factory.mktemp("graphrec-home")))


@pytest.fixture(scope="session")
def neumf_run(synth_dir, tmp_path_factory) -> Path:
    """A tiny NeuMF trained for one epoch on the synthetic data (a run directory)."""
    from graphrec.config import DataConfig, TrainConfig
    from graphrec.training import select_and_refit

    config = TrainConfig(model="neumf", hparams={"factors": 4, "layers": [8, 4]}, epochs=1, batch_size=256,
                         full_eval_every=0, data=DataConfig(dataset="ml-100k", data_dir=str(synth_dir)))
    run = tmp_path_factory.mktemp("runs") / "neumf"
    select_and_refit(config, None, run, progress=False)
    return run
