"""Everything needed to rebuild a run's data pipeline and model, as plain JSON."""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields


LOSSES = ("", "bce", "bpr")
L2_SCOPES = ("auto", "batch", "weights")
SELECT_METRICS = ("full_NDCG", "full_HR", "full_MRR", "NDCG", "HR", "MRR")


@dataclass
class DataConfig:
    dataset: str | None = None
    data_dir: str | None = None
    split_dir: str | None = None
    split_seed: int = 0
    on_bad_rows: str = "error"  # "skip": drop malformed rating rows (see graphrec.data.load_movielens)
    validation_in_train: bool = False  # the validation item of each user moved into training (a refit)


@dataclass
class TrainConfig:
    model: str = "neumf"
    hparams: dict = field(default_factory=dict)
    epochs: int = 20
    batch_size: int = 256
    lr: float = 1e-3
    num_ng: int = 4
    l2: float = 0.0
    seed: int = 0
    patience: int = 5  # stop after this many evaluations without a better validation score (0: never)
    k: int = 10
    full_eval_every: int = 1  # full-ranking *test* metrics in the per-epoch log every N epochs (0: never)
    loss: str = ""  # "bce" (pointwise) or "bpr" (pairwise); "" = the model's own default
    l2_scope: str = "auto"  # "batch": l2 on the batch's embeddings in the loss; "weights": Adam weight decay
    select: str = "full_NDCG"  # validation metric that picks the epoch (and the tuned setting), at k
    eval_every: int = 1  # evaluate on validation every N epochs (and after the last one)
    data: DataConfig = field(default_factory=DataConfig)
    pretrain: list = field(default_factory=list)  # run dirs whose models initialise this one (NeuMF: GMF, MLP)
    threads: int = 1  # torch intra-op threads while training (0: torch's default); small models run fastest on 1
    refit: bool = True  # after selecting the epoch on validation, retrain on train + validation for that many
    device: str = "auto"  # auto (CUDA when available) | cpu | cuda[:N]; see graphrec.device

    def __post_init__(self) -> None:
        if isinstance(self.data, dict):
            self.data = DataConfig(**self.data)
        if not isinstance(self.data, DataConfig):
            raise ValueError(f"data must be an object with the data settings, got {self.data!r}")
        if not isinstance(self.model, str):
            raise ValueError(f"model must be a name, got {self.model!r}")
        if not isinstance(self.hparams, dict):
            raise ValueError(f"hparams must be an object, got {self.hparams!r}")
        if not isinstance(self.pretrain, list):
            raise ValueError(f"pretrain must be a list of run directories, got {self.pretrain!r}")
        for name, low in (("epochs", 1), ("batch_size", 1), ("num_ng", 1), ("k", 1), ("patience", 0),
                          ("full_eval_every", 0), ("threads", 0), ("seed", 0), ("eval_every", 1)):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool):
                raise ValueError(f"{name} must be an integer, got {v!r}")
            if low is not None and v < low:
                raise ValueError(f"{name} must be >= {low}, got {v}")
            if name == "seed" and v > 2**32 - 1:  # what numpy's and torch's generators both take
                raise ValueError(f"seed must be at most {2**32 - 1}, got {v}")
        for name, positive in (("lr", True), ("l2", False)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v!r}")
            if (v <= 0) if positive else (v < 0):
                raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {v}")
        for name, allowed in (("loss", LOSSES), ("l2_scope", L2_SCOPES), ("select", SELECT_METRICS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, "
                                 f"got {getattr(self, name)!r}")

    @property
    def select_key(self) -> str:
        """The history column that selects the epoch, e.g. ``valid_full_NDCG@10``."""
        return f"valid_{self.select}@{self.k}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        if not isinstance(d, dict):
            raise ValueError("expected a JSON object")
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        if isinstance(d.get("data"), dict):
            data_known = {f.name for f in fields(DataConfig)}
            if set(d["data"]) - data_known:
                raise ValueError(f"unknown data keys: {', '.join(sorted(set(d['data']) - data_known))}")
        return cls(**d)
