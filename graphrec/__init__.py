"""graphrec: graph-ML movie recommendation on PyTorch Geometric.

``graphrec.train(graphrec.TrainRequest("neumf"))`` trains a run as ``graphrec train neumf`` does
(:mod:`graphrec.training.request`); ``graphrec.load_run(path)`` gives a trained run as an object
(see :mod:`graphrec.api`);
everything is imported on first use, so ``import graphrec`` costs nothing.
"""
from ._lazy import lazy_exports

__version__ = "0.1.0"
__all__ = ["load_run", "TrainedRun", "train", "TrainRequest"]
__getattr__, __dir__ = lazy_exports(__name__, {"load_run": "api", "TrainedRun": "api", "train": "training.request",
                                               "TrainRequest": "training.request"})
