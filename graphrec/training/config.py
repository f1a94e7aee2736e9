"""Everything needed to rebuild a run's data pipeline and model, as plain JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class DataConfig:
    dataset: str | None = None
    data_dir: str | None = None
    split_dir: str | None = None
    split_seed: int = 0


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
    patience: int = 5
    k: int = 10
    full_eval_every: int = 1  # full-ranking metrics in the per-epoch log every N epochs (0: never)
    data: DataConfig = field(default_factory=DataConfig)
    pretrain: list = field(default_factory=list)  # run dirs whose models initialise this one (NeuMF: GMF, MLP)
    threads: int = 1  # torch intra-op threads while training (0: torch's default); small models run fastest on 1
    device: str = "auto"  # auto (CUDA when available) | cpu | cuda[:N]; see graphrec.device

    def __post_init__(self) -> None:
        if isinstance(self.data, dict):
            self.data = DataConfig(**self.data)
        for name in ("epochs", "batch_size", "num_ng", "k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")
        if self.l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {self.l2}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        return cls(**d)
