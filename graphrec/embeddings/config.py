"""node2vec's settings, importable without torch (the ``graphrec embed`` parser reads their defaults)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import GraphrecError

#: Skip-gram trainers; graphs to walk on and the co-movie graph's edge weights (see
#: :mod:`graphrec.embeddings.walks`); how ``graphrec similar`` compares movie vectors.
GRAPHS = ("bipartite", "comovie", "metapath", "history")
#: Edge weights of the co-movie graph: the raw co-rating count, or a normalised association (see :func:`comovie_graph`).
WEIGHTINGS = ("count", "cosine", "jaccard", "pmi", "lift", "jaclift")
METRICS = ("cosine", "euclidean")
#: 2-D maps of the movies an embedding folder gets (:mod:`graphrec.embeddings.views`).
MAP_METHODS = ("pca", "tsne")
TRAINERS = ("word2vec", "pyg")
#: Which walk tokens the word2vec trainer sees: every node, or only the movies (users still steer the walk).
TOKENS = ("all", "movies")
#: How the co-movie graph keeps each movie's K nearest: with the edges that name it among theirs (union), only
#: the pairs that name each other (mutual), or as directed edges (see :func:`~graphrec.embeddings.walks.comovie_graph`).
KNN = ("union", "mutual", "directed")
#: A word2vec node's vector: its target vector, or its target and context vectors side by side.
VECTORS = ("target", "concat")


def check_walk_args(p: float, q: float, walk_length: int, walks_per_node: int = 1) -> None:
    """Raise :class:`~graphrec.errors.GraphrecError` for values node2vec cannot use."""
    if not p > 0:
        raise GraphrecError(f"--p must be > 0 (return parameter), got {p}")
    if not q > 0:
        raise GraphrecError(f"--q must be > 0 (in-out parameter), got {q}")
    if walk_length < 2:
        raise GraphrecError(f"--walk-length must be >= 2 (a walk needs a step), got {walk_length}")
    if walks_per_node < 1:
        raise GraphrecError(f"--walks-per-node must be >= 1, got {walks_per_node}")


@dataclass
class EmbeddingConfig:
    """Hyper-parameters. The defaults are the setting chosen for ``graphrec similar`` on ML-100K's
    *validation* items and the choosing half of the franchises (docs/embeddings.md): walks
    on the co-movie graph of each movie's 5 nearest movies by ``jaclift`` (the geometric mean of the
    Jaccard similarity of their raters and their lift, PMI shrunk by c / (c + 10)), with a
    movie-genre-movie step instead of a co-movie step 30 % of the time (``graph="metapath"``,
    ``content=0.3``); window 5, 2 epochs, target and context vectors side by side, centred. The
    rule: item-to-item HR@10 and top-100 share no worse than the item-item cosine's, then the best
    mean of franchise recall@10 and genre coherence@10. Issue 13's defaults (chosen for item-to-item
    HR@10 alone) were ``graph="comovie", weight="jaccard", neighbours=10, content=0``.
    """

    trainer: str = "word2vec"
    graph: str = "metapath"
    all_edges: bool = False
    min_weight: int = 1
    dim: int = 128
    walk_length: int = 40
    walks_per_node: int = 10
    window: int = 5
    negatives: int = 5
    epochs: int = 2
    p: float = 1.0
    q: float = 1.0
    lr: float | None = None
    batch_size: int | None = None
    subsample: float = 0.0
    ns_exponent: float = 0.75
    shared_negatives: int | None = None
    tokens: str = "all"
    weight: str = "jaclift"
    neighbours: int | None = 5
    knn: str = "union"
    hub: float = 0.0
    liked: float = 0.0
    span: int = 0
    content: float = 0.3
    years: int = 0
    period: float = 0.0
    shrink: float = 10.0
    vectors: str = "concat"
    center: bool = True
    workers: int = 1
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda[:N]: where the skip-gram trains (graphrec.device)

    def check(self) -> None:
        from .word2vec import check_window

        if self.trainer not in TRAINERS:
            raise GraphrecError(f"unknown trainer {self.trainer!r}: choose one of {', '.join(TRAINERS)}")
        if self.graph not in GRAPHS:
            raise GraphrecError(f"unknown graph {self.graph!r}: choose one of {', '.join(GRAPHS)}")
        check_walk_args(self.p, self.q, self.walk_length, self.walks_per_node)
        check_window(self.window, self.negatives)
        if self.tokens not in TOKENS:
            raise GraphrecError(f"unknown --tokens {self.tokens!r}: choose one of {', '.join(TOKENS)}")
        for name, value, allowed in (("knn", self.knn, KNN), ("vectors", self.vectors, VECTORS)):
            if value not in allowed:
                raise GraphrecError(f"unknown --{name} {value!r}: choose one of {', '.join(allowed)}")
        if not (math.isfinite(self.content) and 0 <= self.content <= 1):
            raise GraphrecError(f"--content must be between 0 and 1, got {self.content}")
        if not (math.isfinite(self.period) and self.period >= 0):
            raise GraphrecError(f"--period must be a finite number >= 0, got {self.period}")
        if self.years < 0:
            raise GraphrecError(f"--years must be >= 0, got {self.years}")
        if self.span < 0:
            raise GraphrecError(f"--span must be >= 0, got {self.span}")
        if not (math.isfinite(self.shrink) and self.shrink >= 0):
            raise GraphrecError(f"--shrink must be a finite number >= 0, got {self.shrink}")
        if not math.isfinite(self.liked):
            raise GraphrecError(f"--liked must be a finite number, got {self.liked}")
        if not (math.isfinite(self.hub) and self.hub >= 0):
            raise GraphrecError(f"--hub must be a finite number >= 0, got {self.hub}")
        if self.weight not in WEIGHTINGS:
            raise GraphrecError(f"unknown --weight {self.weight!r}: choose one of {', '.join(WEIGHTINGS)}")
        if self.neighbours is not None and self.neighbours < 1:
            raise GraphrecError(f"--neighbours must be >= 1 (or 0 for all edges), got {self.neighbours}")
        if not self.subsample >= 0:
            raise GraphrecError(f"--subsample must be >= 0, got {self.subsample}")
        for name in ("dim", "epochs", "workers"):
            if getattr(self, name) < 1:
                raise GraphrecError(f"--{name} must be >= 1, got {getattr(self, name)}")
        for name, low, v in (("p", 0, self.p), ("q", 0, self.q), ("lr", 0, self.lr), ("subsample", None, self.subsample)):
            if v is not None and not (math.isfinite(v) and (v > low if low is not None else v >= 0)):
                raise GraphrecError(f"--{name} must be a finite number {'> 0' if low is not None else '>= 0'}, got {v}")
        if self.trainer == "pyg" and self.graph == "history":
            raise GraphrecError("--graph history is walked by the word2vec trainer only (its walks are the histories)")
        if self.trainer == "pyg" and self.walk_length < self.window + 2:
            raise GraphrecError(f"--trainer pyg needs --walk-length >= window + 2 = {self.window + 2}, "
                                f"got {self.walk_length}")

    @classmethod
    def from_dict(cls, d: dict) -> "EmbeddingConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
