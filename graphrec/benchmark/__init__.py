"""One benchmark for every model: same split, same tuning budget, seeds, intervals.

Protocol (also in the README):

* a model with a tuned config for the dataset (``graphrec/configs/<dataset>/``, written by
  ``graphrec tune``: the same number of Optuna trials for every family) runs that setting; the
  others search their family's small grid (learned: ``lr`` in :data:`graphrec.catalogue.LR_GRID`; ItemKNN:
  neighbours in :data:`graphrec.catalogue.KNN_GRID`), all on the **validation** item with seed 0;
* settings and the epoch count are chosen by full-ranking validation NDCG@10 (the trainer keeps
  its best evaluation; the test item is never looked at);
* every seed then refits the chosen setting on train + validation for that many epochs and is
  evaluated once on the test item (``refit=False``: each seed's selected run);
* test metrics: sampled and full HR@10/NDCG@10 (and MRR, coverage, popularity); each mean gets a
  95 % interval from a two-level bootstrap over users and seeds
  (:func:`graphrec.metrics.bootstrap_seeds_users`), and each model a paired interval of its
  difference to the best baseline (chosen on validation); a difference is called real only when
  that interval excludes zero.
"""
from .._lazy import lazy_exports

_EXPORTS = {"Report": "report", "markdown_table": "report", "Benchmark": "runner", "RunResult": "runner"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
