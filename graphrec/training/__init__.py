"""Training: one trainer for every model, and run directories (exported lazily)."""
from .._lazy import lazy_exports

_EXPORTS = {"DataConfig": "config", "TrainConfig": "config", "Trainer": "trainer", "train": "trainer",
            "Run": "runs", "load_run": "runs"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
