"""Training: one trainer for every model, and run directories."""
from .config import DataConfig, TrainConfig
from .runs import Run, load_run
from .trainer import Trainer, train

__all__ = ["DataConfig", "TrainConfig", "Trainer", "train", "Run", "load_run"]
