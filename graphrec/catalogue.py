"""The catalogue: every benchmarked model with its settings, its validation grid and its search space.

Grids (what ``graphrec benchmark`` tries when a model has no tuned config) and search spaces (what
``graphrec tune`` searches, ``trial -> {"hparams", "train"}`` for learned models or ``{"params"}``
for fitted ones) live here and nowhere else. Entries name models of the registry
(:data:`graphrec.models.REGISTRY`); an entry named after a variant (``ease-recency``) says which
model it runs. See :mod:`graphrec.benchmark` for the protocol.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .config import DataConfig, TrainConfig
from .errors import GraphrecError
from .io import write_json
from .models import REGISTRY, model_class

METRICS = ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")
#: Reported beside them, as means: how deep the hit is, and whether a model wins on blockbusters only.
EXTRA_METRICS = ("full_MRR@10", "full_popularity@10")
COVERAGE = "full_coverage@10"  # catalogue-level: one value per run
#: The validation grid every learned family gets (same budget for all).
LR_GRID = (3e-3, 1e-2)
#: ItemKNN's grid: neighbours per item (same size as the learned grid).
KNN_GRID = (20, 50)


def _neumf(t) -> dict:
    width = t.suggest_categorical("mlp_width", [64, 128])
    return {"hparams": {"factors": t.suggest_categorical("factors", [16, 32, 64]), "layers": [width, width // 2],
                        "dropout": t.suggest_float("dropout", 0.0, 0.3), "bias": t.suggest_categorical("bias", [False, True])},
            "train": {"lr": t.suggest_float("lr", 3e-4, 1e-2, log=True), "batch_size": 1024,
                      "num_ng": t.suggest_int("num_ng", 2, 8), "l2": t.suggest_float("l2", 1e-8, 1e-2, log=True),
                      "l2_scope": "batch", "epochs": 60, "eval_every": 1, "patience": 5}}


def _gmf(t) -> dict:
    return {"hparams": {"factors": t.suggest_categorical("factors", [16, 32, 64, 128]), "bias": True},
            "train": {"lr": t.suggest_float("lr", 1e-3, 2e-2, log=True), "batch_size": 1024,
                      "loss": t.suggest_categorical("loss", ["bce", "bpr"]), "num_ng": t.suggest_int("num_ng", 1, 8),
                      "l2": t.suggest_float("l2", 1e-6, 1e-1, log=True), "l2_scope": "batch",
                      "epochs": 100, "eval_every": 2, "patience": 5}}


def _mlp(t) -> dict:
    width = t.suggest_categorical("width", [64, 128, 256])
    return {"hparams": {"layers": [width, width // 2, width // 4], "dropout": t.suggest_float("dropout", 0.0, 0.3)},
            "train": {"lr": t.suggest_float("lr", 3e-4, 1e-2, log=True), "batch_size": 1024,
                      "num_ng": t.suggest_int("num_ng", 2, 8), "epochs": 60, "eval_every": 1, "patience": 5}}


def _lightgcn(t) -> dict:
    return {"hparams": {"factors": 64, "num_layers": t.suggest_int("num_layers", 1, 4)},
            "train": {"lr": t.suggest_float("lr", 1e-3, 2e-2, log=True),
                      "l2": t.suggest_float("l2", 1e-6, 1e-2, log=True), "num_ng": t.suggest_int("num_ng", 1, 4),
                      "batch_size": 2048, "epochs": 300, "eval_every": 5, "patience": 5}}


def _sage_train(t) -> dict:
    return {"lr": t.suggest_float("lr", 1e-3, 2e-2, log=True), "l2": t.suggest_float("l2", 1e-8, 1e-4, log=True),
            "num_ng": t.suggest_int("num_ng", 1, 8), "batch_size": 4096, "epochs": 60, "eval_every": 1, "patience": 5}


def _hetero_sage(t) -> dict:
    return {"hparams": {"use_ids": t.suggest_categorical("use_ids", [True, False]),
                        "hidden": t.suggest_categorical("hidden", [32, 64, 128]),
                        "num_layers": t.suggest_int("num_layers", 1, 3),
                        "node_dropout": t.suggest_float("node_dropout", 0.0, 0.3),
                        "prior": t.suggest_categorical("prior", ["none", "popularity"])},
            "train": _sage_train(t)}


def _hetero_sage_cold(t) -> dict:
    """hetero-sage for new users and movies, its shipped default (``graphrec benchmark --suite coldstart
    --tune``; the warm ``hetero-sage-ids`` is the benchmark's entry): features only, plus how many nodes each step hides and
    how many edges a hidden user keeps. The group prior is left out: explanations cannot split it."""
    hparams = {"use_ids": False, "hidden": t.suggest_categorical("hidden", [32, 64, 128]),
               "num_layers": t.suggest_int("num_layers", 1, 3),
               "prior": t.suggest_categorical("prior", ["none", "popularity"])}
    train = _sage_train(t)
    hparams.update(node_dropout=t.suggest_float("node_dropout", 0.05, 0.5),
                   new_user_edges=t.suggest_int("new_user_edges", 0, 8))
    return {"hparams": hparams, "train": train}


def _ease(t) -> dict:
    return {"params": {"l2": t.suggest_float("l2", 10.0, 5000.0, log=True)}}


def _ease_recency(t) -> dict:
    return {"params": {"l2": t.suggest_float("l2", 10.0, 5000.0, log=True),
                       "recency": t.suggest_float("recency", 1.0, 50.0, log=True),
                       "floor": t.suggest_float("floor", 0.0, 0.5)}}


def _itemknn(t) -> dict:
    return {"params": {"k": t.suggest_int("k", 10, 500, log=True)}}


def _sasrec(t) -> dict:
    """SASRec: width, depth, heads, dropout, the loss and the learning rate; the paper's batch of 128 users,
    one negative per position for the sampled losses, at most 200 epochs, the history length fixed at 50
    (the ``sasrec-long`` entry reads 200, at about 7 times the time per epoch)."""
    factors = t.suggest_categorical("factors", [32, 64])
    return {"hparams": {"factors": factors, "num_layers": t.suggest_int("num_layers", 1, 3),
                        "heads": t.suggest_categorical("heads", [1, 2]),
                        "dropout": t.suggest_float("dropout", 0.1, 0.5), "max_len": 50,
                        "loss": t.suggest_categorical("loss", ["bce", "ce"])},
            "train": {"lr": t.suggest_float("lr", 3e-4, 5e-3, log=True), "batch_size": 128, "num_ng": 1,
                      "l2": 0.0, "epochs": 200, "eval_every": 5, "patience": 4}}


def _node2vec(t) -> dict:
    """The recommender over the node2vec embedding: its scoring and the embedding's main knobs."""
    return {"params": {"metric": t.suggest_categorical("metric", ["dot", "cosine"]),
                       "neighbours": t.suggest_int("neighbours", 5, 30, log=True),
                       "window": t.suggest_int("window", 2, 8),
                       "epochs": t.suggest_int("epochs", 1, 4),
                       "vectors": t.suggest_categorical("vectors", ["target", "concat"])}}


@dataclass
class Entry:
    """One row of the benchmark: a model with fixed hyperparameters, its validation grid and search space."""

    name: str
    model: str = ""  # registry name (default: the entry's name)
    hparams: dict = field(default_factory=dict)
    grid: tuple[dict, ...] = ({},)  # each point overrides TrainConfig fields (lr, ...) or baseline kwargs
    pretrain: bool = False  # NeuMF initialised from this seed's GMF and MLP runs (alpha = 0.5)
    train: dict = field(default_factory=dict)  # fixed TrainConfig overrides (e.g. LightGCN's L2)
    cell: tuple[str, str] | None = None  # (features, attention) position in the 2x2 chart
    space: Callable | None = None  # graphrec tune's search space
    quick: dict = field(default_factory=dict)  # smaller hparams for --quick (CI): same code paths, tiny widths
    benchmarked: bool = True  # a row of graphrec benchmark (else only tuned, e.g. the cold-start config)

    def __post_init__(self) -> None:
        self.model = self.model or self.name
        if self.model not in REGISTRY:
            raise ValueError(f"catalogue entry {self.name!r}: unknown model {self.model!r}")

    @property
    def baseline(self) -> bool:
        """Deterministic, non-learned floors: fitted once, the same for every seed."""
        return model_class(self.model).capabilities.baseline

    @property
    def fitted(self) -> bool:
        """Fitted on the split outside the trainer (baselines, Node2Vec embeddings scored by dot product)."""
        return not REGISTRY[self.model].trainable


LR = tuple({"lr": lr} for lr in LR_GRID)
NCF = {"factors": 8, "layers": [64, 32, 16, 8]}
QUICK_NCF = {"factors": 4, "layers": [8, 4]}
QUICK_ATT = {"factors": 4, "heads": 1, "layers": [8]}
#: Every model the benchmark knows, in table order; only those installed are run.
CATALOGUE = (
    Entry("mostpop"),
    Entry("itemknn", grid=tuple({"k": k} for k in KNN_GRID), space=_itemknn),
    Entry("gmf", hparams={"factors": 8}, grid=LR, space=_gmf, quick={"factors": 4}),
    Entry("mlp", hparams={"layers": [64, 32, 16, 8]}, grid=LR, space=_mlp, quick={"layers": [8, 4]}),
    Entry("neumf", hparams=NCF, grid=LR, cell=("2 features", "without attention"), space=_neumf, quick=QUICK_NCF),
    Entry("neumf-pre", "neumf", NCF, LR, pretrain=True, quick=QUICK_NCF),
    Entry("feature-mlp", grid=LR, cell=("all features", "without attention"),
          quick={"factors": 4, "side_dim": 2, "layers": [8]}),
    Entry("feature-neumf", grid=LR, quick={"factors": 4, "side_dim": 2, "layers": [8], "gmf_factors": 4}),
    Entry("att-neumf", grid=LR, cell=("2 features", "with attention"), quick=QUICK_ATT),
    Entry("att-neumf-all", grid=LR, cell=("all features", "with attention"), quick=QUICK_ATT),
    Entry("att-neumf-seed", grid=LR, quick={"factors": 4, "layers": [8, 4], "heads": 1}),
    Entry("node2vec", grid=({"metric": "dot"}, {"metric": "cosine"}), space=_node2vec,
          quick={"walk_length": 10, "walks_per_node": 2, "dim": 8}),
    Entry("lightgcn", grid=LR, train={"l2": 1e-4}, space=_lightgcn, quick={"factors": 8, "num_layers": 2}),
    # with id embeddings, for warm users (its tuned config: hetero-sage-ids.json); full-graph message
    # passing per step: large batches
    Entry("hetero-sage-ids", "hetero-sage", {"use_ids": True, "prior": "none"}, LR, train={"batch_size": 4096},
          space=_hetero_sage, quick={"hidden": 8}),
    # features only, for new users and movies (hetero-sage.json): tuned on the cold-start protocols
    Entry("hetero-sage", space=_hetero_sage_cold, quick={"hidden": 8}, benchmarked=False),
    Entry("ease", grid=({"l2": 100.0}, {"l2": 300.0}), space=_ease),
    Entry("ease-recency", "ease", grid=({"l2": 200.0, "recency": 5.0, "floor": 0.1},
                                         {"l2": 300.0, "recency": 3.0, "floor": 0.1}), space=_ease_recency),
    # the user's history as a sequence; its tuned config is the shipped sasrec.json (full softmax)
    Entry("sasrec", grid=LR, space=_sasrec, quick={"factors": 8, "num_layers": 1, "max_len": 10}),
    # the same with the history length 200 (configs/ml-100k/sasrec-long.json): better on validation, 7x the epoch
    Entry("sasrec-long", "sasrec", grid=LR, quick={"factors": 8, "num_layers": 1, "max_len": 20}),
    Entry("als"),  # implicit's (optional): the settings tuned on the reference split
    Entry("bpr-implicit"),
)
#: Epochs of a ``--quick`` run (CI).
QUICK_EPOCHS = 2
#: ``--quick`` widths per model (the first entry of each model that sets them).
QUICK_HPARAMS = {m: next(e.quick for e in CATALOGUE if e.model == m and e.quick)
                 for m in dict.fromkeys(e.model for e in CATALOGUE if e.quick)}
#: Paired comparisons that answer "does attention help?" (model, counterpart).
ATTENTION_PAIRS = (("att-neumf", "neumf"), ("att-neumf-all", "feature-mlp"), ("att-neumf-all", "feature-neumf"),
                   ("att-neumf-all", "att-neumf"),
                   ("att-neumf-seed", "neumf"), ("att-neumf", "att-neumf-seed"))


def entry(name: str) -> Entry:
    """The catalogue entry ``name``; :class:`GraphrecError` naming the known ones if there is none."""
    found = next((e for e in CATALOGUE if e.name == name), None)
    if found is None:
        raise GraphrecError(f"unknown catalogue entry {name!r}; known: {', '.join(e.name for e in CATALOGUE)}")
    return found


def tunable() -> list[str]:
    """The entries ``graphrec tune`` can search (those with a search space)."""
    return [e.name for e in CATALOGUE if e.space is not None]


def available() -> list[Entry]:
    """Benchmark entries whose model is usable in this install (implicit's are optional)."""
    return [e for e in CATALOGUE if e.benchmarked and getattr(model_class(e.model), "available", lambda: True)()]


def select(names: list[str] | None) -> list[Entry]:
    """The named entries (all available ones for ``None``), in catalogue order."""
    entries = available()
    if not names:
        return entries
    known = {e.name: e for e in entries}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GraphrecError(f"unknown or unavailable model(s) {', '.join(unknown)}; available: {', '.join(known)}")
    return [e for e in entries if e.name in set(names)]


@dataclass
class Settings:
    """How every entry runs: seeds, epoch budget and batch (the ``graphrec benchmark`` flags' defaults)."""

    seeds: int = 3
    epochs: int = 10
    batch_size: int = 4096
    num_ng: int = 4
    patience: int = 0  # 0: every model runs the full epoch budget (the best validation epoch is kept)
    quick: bool = False
    refit: bool = True  # retrain the chosen setting on train + validation for the chosen epochs, per seed
    tuned: bool = True  # use each model's tuned config (graphrec/configs/<dataset>/) instead of its grid
    data: DataConfig = field(default_factory=DataConfig)
    device: str = TrainConfig.device


# --------------------------------------------------------------------------- tuned configs

#: Where the shipped tuned configs live: ``configs/<dataset>/<entry>.json`` (written by ``graphrec tune``).
CONFIG_DIR = Path(__file__).parent / "configs"
#: TrainConfig fields a tuned config may set.
TRAIN_FIELDS = ("epochs", "batch_size", "lr", "num_ng", "l2", "l2_scope", "loss", "eval_every", "patience", "select")


def config_for(base, model: str, point: dict, **extra):
    """``base`` (a :class:`TrainConfig`) with a tuned point's hparams and training fields."""
    return replace(base, model=model, hparams={**base.hparams, **point.get("hparams", {})},
                   **{k: v for k, v in point.get("train", {}).items() if k in TRAIN_FIELDS}, **extra)


def config_from_tuned(tuned: dict, base, **overrides):
    """A :class:`~graphrec.training.TrainConfig`: ``base`` with the tuned settings, then ``overrides``
    (explicit flags win; ``overrides["hparams"]`` is merged into the model's)."""
    cfg = config_for(base, tuned["model"], tuned)
    hp = overrides.pop("hparams", {})
    return replace(cfg, hparams={**cfg.hparams, **hp}, **overrides)


def shipped_path(name: str, dataset: str | None) -> Path:
    return CONFIG_DIR / (dataset or "ml-100k") / f"{name}.json"


def load_tuned(name: str, dataset: str | None = None, path: str | Path | None = None,
               model: str | None = None) -> dict | None:
    """The tuned config at ``path``, else the shipped one named ``name`` (a model, or a benchmark
    entry such as ``ease-recency``) for ``dataset``; ``None`` if there is none. Its model must be
    ``model`` (default: ``name``)."""
    p = Path(path) if path else shipped_path(name, dataset)
    if not p.is_file():
        return None
    tuned = read_tuned(p)
    if tuned.get("model") != (model or name):
        raise ValueError(f"{p} is a config for {tuned.get('model')!r}, not {(model or name)!r}")
    return tuned


#: The keys of a tuned config file (graphrec tune writes them; the shipped configs have no others).
TUNED_KEYS = ("model", "hparams", "train", "params", "tuning")


def read_tuned(path: str | Path) -> dict:
    """A tuned config file, checked: UTF-8 JSON holding an object with a ``model`` and only
    :data:`TUNED_KEYS` (``train`` only :data:`TRAIN_FIELDS`); else a :class:`GraphrecError` naming the file."""
    p = Path(path)
    try:
        tuned = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise GraphrecError(f"{p}: not UTF-8 text (byte {e.start}): not a config file") from None
    except json.JSONDecodeError as e:
        raise GraphrecError(f"{p}: not valid JSON ({e}); fix it or write it again with graphrec tune") from None
    if not isinstance(tuned, dict):
        raise GraphrecError(f"{p}: a config file holds a JSON object (model, hparams, train), "
                            f"not a {type(tuned).__name__}")
    unknown = sorted(set(tuned) - set(TUNED_KEYS))
    train = tuned.get("train", {})
    unknown += [f"train.{k}" for k in sorted(set(train) - set(TRAIN_FIELDS))] if isinstance(train, dict) else []
    for key in ("hparams", "train", "params", "tuning"):
        if not isinstance(tuned.get(key, {}), dict):
            raise GraphrecError(f"{p}: {key} must be a JSON object, got {tuned[key]!r}")
    if unknown:
        raise GraphrecError(f"{p}: unknown keys {', '.join(unknown)} (a config holds {', '.join(TUNED_KEYS)}; "
                            f"train holds {', '.join(TRAIN_FIELDS)})")
    if not isinstance(tuned.get("model"), str):
        raise GraphrecError(f"{p}: no model name (\"model\": \"neumf\", ...)")
    return tuned


def save_tuned(tuned: dict, path: str | Path) -> Path:
    write_json(path, tuned)
    return Path(path)


# Grids of the other benchmark suites (graphrec benchmark --suite NAME, graphrec/benchmark/suites/).

#: hetero-sage's cold config: the earlier untuned default (the model's constructor defaults, lr 0.01,
#: 4 negatives, at most 40 epochs), the cold search's extra candidate (``--suite coldstart --tune``).
HETERO_SAGE_COLD_EARLIER = {"hparams": {"use_ids": False},
                            "train": {"lr": 0.01, "num_ng": 4, "l2": 0.0, "batch_size": 4096, "epochs": 40,
                                      "patience": 5}}
#: The first validation cold split's seed: ``--tune``, ``--tune-term`` and ``--liked-order`` read the splits
#: 100, 101, ... (as many as ``--seeds``), never the reported seeds 0, 1, ...
COLD_VALIDATION_SEED = 100
#: hetero-sage's new-user term (``--suite coldstart --tune-term``), chosen on the validation cold splits.
#: A first pass (weights 0.1-100, decays 0-0.9, no floor, smoothing 0-3) found, per k on its own, the best
#: weight >= 50 at k = 0, 10-15 at k = 1 and 3-5 at k = 3 and 5, and smoothing above 0.1 worse at every k:
#: a geometric decay alone cannot follow that, hence the floor.
NEW_USER_TERM_GRID = {"demo_prior": (20.0, 50.0, 100.0, 1000.0), "demo_decay": (0.05, 0.1, 0.2, 0.3, 0.5),
                      "demo_floor": (0.0, 1.0, 2.0, 3.0, 4.0, 5.0), "demo_smoothing": (0.0, 0.03, 0.1)}
#: The constant weights shown per k and smoothing beside the grid (weight 0 = the model alone).
NEW_USER_TERM_WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 50.0, 100.0, 1000.0)
#: A new user's liked titles in order (``--suite coldstart --liked-order``): each cold user's ``m`` most
#: recent visible ratings repeated ``r`` times in the graph, as (m, r); (0, 1) is the plain set.
LIKED_ORDER_SCHEMES = ((0, 1), (1, 2), (1, 3), (2, 2))
#: ``graphrec similar``'s embedding options (``--suite similar``): the base (the issue-13 default) and, per
#: option, the :class:`~graphrec.embeddings.EmbeddingConfig` fields changed from it; chosen on validation.
SIMILAR_BASE = dict(graph="comovie", weight="jaccard", neighbours=10, window=5, epochs=2, content=0.0, liked=0.0,
                    span=0)
SIMILAR_OPTIONS: tuple[tuple[str, dict], ...] = (
    ("old default (jaccard, K=10, window 5)", {}),
    ("weight cosine", {"weight": "cosine"}),
    ("weight pmi", {"weight": "pmi"}),
    ("weight lift (PMI, shrink 10)", {"weight": "lift"}),
    ("weight lift, shrink 100", {"weight": "lift", "shrink": 100.0}),
    ("weight jaclift (sqrt jaccard x lift)", {"weight": "jaclift"}),
    ("liked: both >= 4 stars", {"liked": 4.0}),
    ("span 10 (rated <= 10 apart)", {"span": 10}),
    ("span 50", {"span": 50}),
    ("history walks, 10 epochs, window 10", {"graph": "history", "epochs": 10, "window": 10}),
    ("window 2", {"window": 2}),
    ("window 1, p 0.25 (BFS-like)", {"window": 1, "p": 0.25}),
    ("p 0.25, q 4 (local walks)", {"p": 0.25, "q": 4.0}),
    ("neighbours 5", {"neighbours": 5}),
    ("content 0.25", {"content": 0.25}),
    ("content 0.5", {"content": 0.5}),
    ("content 1", {"content": 1.0}),
    ("metapath, genre steps 0.1", {"graph": "metapath", "content": 0.1}),
    ("metapath, genre steps 0.3", {"graph": "metapath", "content": 0.3}),
    ("period 10 (same-era discount)", {"period": 10.0}),
    ("jaclift, K=5", {"weight": "jaclift", "neighbours": 5}),
    ("jaclift, K=5, metapath 0.1", {"weight": "jaclift", "neighbours": 5, "graph": "metapath", "content": 0.1}),
    ("jaclift, K=5, metapath 0.3", {"weight": "jaclift", "neighbours": 5, "graph": "metapath", "content": 0.3}),
    ("jaclift, K=5, content 0.25", {"weight": "jaclift", "neighbours": 5, "content": 0.25}),
)
