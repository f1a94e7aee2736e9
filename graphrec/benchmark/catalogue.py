"""The benchmark's catalogue: which models run, with which settings and validation grid.

See :mod:`graphrec.benchmark` for the protocol.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..training.config import DataConfig, TrainConfig

METRICS = ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10")
#: Reported beside them, as means: how deep the hit is, and whether a model wins on blockbusters only.
EXTRA_METRICS = ("full_MRR@10", "full_popularity@10")
COVERAGE = "full_coverage@10"  # catalogue-level: one value per run
#: The validation grid every learned family gets (same budget for all).
LR_GRID = (3e-3, 1e-2)
#: ItemKNN's grid: neighbours per item (same size as the learned grid).
KNN_GRID = (20, 50)


@dataclass
class Entry:
    """One row of the benchmark: a model with fixed hyperparameters and its validation grid."""

    name: str
    model: str  # registry name, or a baseline name
    hparams: dict = field(default_factory=dict)
    grid: tuple[dict, ...] = ({},)  # each point overrides TrainConfig fields (lr, ...) or baseline kwargs
    pretrain: bool = False  # NeuMF initialised from this seed's GMF and MLP runs (alpha = 0.5)
    train: dict = field(default_factory=dict)  # fixed TrainConfig overrides (e.g. LightGCN's L2)
    cell: tuple[str, str] | None = None  # (features, attention) position in the 2x2 chart

    @property
    def baseline(self) -> bool:
        """Deterministic, non-learned floors: fitted once, the same for every seed."""
        from ..models import capabilities

        return capabilities(self.model).baseline

    @property
    def fitted(self) -> bool:
        """Fitted on the split outside the trainer (baselines, Node2Vec embeddings scored by dot product)."""
        from ..models import capabilities

        return capabilities(self.model).fit


LR = tuple({"lr": lr} for lr in LR_GRID)
NCF = {"factors": 8, "layers": [64, 32, 16, 8]}
#: Every model the benchmark knows, in table order; only those registered are run.
CATALOGUE = (
    Entry("mostpop", "mostpop"),
    Entry("itemknn", "itemknn", grid=tuple({"k": k} for k in KNN_GRID)),
    Entry("gmf", "gmf", {"factors": 8}, LR),
    Entry("mlp", "mlp", {"layers": [64, 32, 16, 8]}, LR),
    Entry("neumf", "neumf", NCF, LR, cell=("2 features", "without attention")),
    Entry("neumf-pre", "neumf", NCF, LR, pretrain=True),
    Entry("feature-mlp", "feature-mlp", {}, LR, cell=("all features", "without attention")),
    Entry("feature-neumf", "feature-neumf", {}, LR),
    Entry("att-neumf", "att-neumf", {}, LR, cell=("2 features", "with attention")),
    Entry("att-neumf-all", "att-neumf-all", {}, LR, cell=("all features", "with attention")),
    Entry("att-neumf-seed", "att-neumf-seed", {}, LR),
    Entry("node2vec", "node2vec", {}, ({"metric": "dot"}, {"metric": "cosine"})),
    Entry("lightgcn", "lightgcn", {}, LR, train={"l2": 1e-4}),
    # with id embeddings, for warm users (its tuned config: hetero-sage-ids.json; hetero-sage.json is the
    # features-only one for new users and movies, docs/benchmarks.md, issue 15); full-graph message
    # passing per step: large batches
    Entry("hetero-sage-ids", "hetero-sage", {"use_ids": True, "prior": "none"}, LR, train={"batch_size": 4096}),
    Entry("ease", "ease", grid=({"l2": 100.0}, {"l2": 300.0})),
    Entry("ease-recency", "ease", grid=({"l2": 200.0, "recency": 5.0, "floor": 0.1},
                                        {"l2": 300.0, "recency": 3.0, "floor": 0.1})),
    # the user's history as a sequence (issue 20); its tuned config is the shipped sasrec.json (full softmax)
    Entry("sasrec", "sasrec", {}, LR),
    Entry("als", "als"),  # implicit's (optional): the settings tuned on the reference split
    Entry("bpr-implicit", "bpr-implicit"),
)
#: Epochs of a ``--quick`` run (CI).
QUICK_EPOCHS = 2
#: Smaller models for ``--quick`` (CI): same code paths, tiny widths.
QUICK_HPARAMS = {"gmf": {"factors": 4}, "mlp": {"layers": [8, 4]}, "neumf": {"factors": 4, "layers": [8, 4]},
                 "att-neumf": {"factors": 4, "heads": 1, "layers": [8]},
                 "att-neumf-all": {"factors": 4, "heads": 1, "layers": [8]},
                 "att-neumf-seed": {"factors": 4, "layers": [8, 4], "heads": 1},
                 "feature-mlp": {"factors": 4, "side_dim": 2, "layers": [8]},
                 "feature-neumf": {"factors": 4, "side_dim": 2, "layers": [8], "gmf_factors": 4},
                 "lightgcn": {"factors": 8, "num_layers": 2}, "hetero-sage": {"hidden": 8},
                 "node2vec": {"walk_length": 10, "walks_per_node": 2, "dim": 8},
                 "sasrec": {"factors": 8, "num_layers": 1, "max_len": 10}}
#: Paired comparisons that answer "does attention help?" (model, counterpart).
ATTENTION_PAIRS = (("att-neumf", "neumf"), ("att-neumf-all", "feature-mlp"), ("att-neumf-all", "feature-neumf"),
                   ("att-neumf-all", "att-neumf"),
                   ("att-neumf-seed", "neumf"), ("att-neumf", "att-neumf-seed"))


def available() -> list[Entry]:
    """Catalogue entries whose model is registered and usable in this install."""
    from ..models import MODELS

    return [e for e in CATALOGUE if e.model in MODELS and getattr(MODELS[e.model], "available", lambda: True)()]


def select(names: list[str] | None) -> list[Entry]:
    """The named entries (all available ones for ``None``), in catalogue order."""
    from ..errors import GraphrecError

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
