"""Training: one trainer for every learned model, the select-then-refit protocol, run directories
(exported lazily)."""
from .._lazy import lazy_exports

_EXPORTS = {"Trainer": "trainer", "Outcome": "protocol", "select_and_refit": "protocol", "train_run": "protocol",
            "select": "protocol", "refit": "protocol", "load_model": "runs",
            "TrainRequest": "request", "train": "request"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
