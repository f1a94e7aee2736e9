"""One benchmark for every model: same split, same epoch budget, same tuning budget, seeds, intervals.

Protocol (also in the README):

* every model family gets the same small grid, searched on the **validation** item with
  seed 0 (learned models: ``lr`` in :data:`LR_GRID`; ItemKNN: neighbours in :data:`KNN_GRID`);
  the chosen point is then trained with every seed (seed 0's tuning run is reused);
* every learned model trains for the same number of epochs, keeping the epoch with the best
  validation HR@10 (early stopping never looks at the test item);
* test metrics: sampled and full HR@10/NDCG@10; each mean gets a 95 % interval from a two-level
  bootstrap over users and seeds (:func:`graphrec.metrics.bootstrap_seeds_users`), and each
  model a paired interval of its difference to the best baseline (chosen on validation);
  a difference is called real only when that interval excludes zero.
"""
from .._lazy import lazy_exports

_EXPORTS = {**dict.fromkeys(("ATTENTION_PAIRS", "CATALOGUE", "KNN_GRID", "LR_GRID", "METRICS", "QUICK_EPOCHS",
                             "QUICK_HPARAMS", "Entry", "Settings", "available", "select"), "catalogue"),
            "Report": "report", "markdown_table": "report", "Benchmark": "runner", "RunResult": "runner"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
