"""node2vec's settings, importable without torch (the ``graphrec embed`` parser reads their defaults)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import GraphrecError

#: Skip-gram trainers, and graphs to walk on (see :mod:`graphrec.embeddings.walks`).
TRAINERS = ("word2vec", "pyg")
GRAPHS = ("bipartite", "comovie")
#: How ``graphrec similar`` compares movie vectors.
METRICS = ("cosine", "euclidean")


@dataclass
class EmbeddingConfig:
    """Hyper-parameters; defaults follow node2vec practice (the slides used window 2, 4 negatives)."""

    trainer: str = "word2vec"
    graph: str = "bipartite"
    all_edges: bool = False
    min_weight: int = 5
    dim: int = 128
    walk_length: int = 80
    walks_per_node: int = 10
    window: int = 10
    negatives: int = 5
    epochs: int = 1
    p: float = 1.0
    q: float = 1.0
    lr: float | None = None
    batch_size: int | None = None
    subsample: float = 0.0
    row_negatives: int | None = None
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda[:N]: where the skip-gram trains (graphrec.device)

    def check(self) -> None:
        from .walks import check_walk_args
        from .word2vec import check_window

        if self.trainer not in TRAINERS:
            raise GraphrecError(f"unknown trainer {self.trainer!r}: choose one of {', '.join(TRAINERS)}")
        if self.graph not in GRAPHS:
            raise GraphrecError(f"unknown graph {self.graph!r}: choose one of {', '.join(GRAPHS)}")
        check_walk_args(self.p, self.q, self.walk_length, self.walks_per_node)
        check_window(self.window, self.negatives)
        for name in ("dim", "epochs"):
            if getattr(self, name) < 1:
                raise GraphrecError(f"--{name} must be >= 1, got {getattr(self, name)}")
        for name, low, v in (("p", 0, self.p), ("q", 0, self.q), ("lr", 0, self.lr), ("subsample", None, self.subsample)):
            if v is not None and not (math.isfinite(v) and (v > low if low is not None else v >= 0)):
                raise GraphrecError(f"--{name} must be a finite number {'> 0' if low is not None else '>= 0'}, got {v}")
        if self.trainer == "pyg" and self.walk_length < self.window + 2:
            raise GraphrecError(f"--trainer pyg needs --walk-length >= window + 2 = {self.window + 2}, "
                                f"got {self.walk_length}")

    @classmethod
    def from_dict(cls, d: dict) -> "EmbeddingConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
