"""Top-k recommendations for one user, and the settings of the embedded default model.

:func:`recommend` ranks every movie the user has not rated by a trained model;
:data:`DEFAULT_CONFIG` is the NeuMF that ``graphrec recommend`` trains on first use without
``--run`` (cached by :func:`graphrec.cache.default_neumf`).
"""
from __future__ import annotations

import numpy as np
import torch

from .data.movielens import MovieLens
from .data.split import Split
from .errors import GraphrecError
from .training.config import DataConfig, TrainConfig

#: The embedded default: NeuMF with the settings chosen on ML-100K's validation item (docs/benchmarks.md).
DEFAULT_CONFIG = TrainConfig(model="neumf", hparams={"factors": 16, "layers": [64, 32, 16, 8]}, epochs=20,
                             batch_size=4096, lr=0.01, num_ng=4, patience=3, full_eval_every=0,
                             data=DataConfig(dataset="ml-100k"))


def rated_items(user: int, split: Split, ml: MovieLens | None = None) -> np.ndarray:
    """Dense indices of every movie ``user`` rated: all of the dataset's ratings when
    ``ml`` is given, else the split's training, validation and test items."""
    if ml is not None:
        r = ml.ratings
        return r["item"].to_numpy()[r["user"].to_numpy() == user]
    parts = [(split.train_user, split.train_item), (split.valid_user, split.valid_item),
             (split.test_user, split.test_item)]
    return torch.cat([i[u == user] for u, i in parts]).numpy()


def recommend(model, split: Split, ml: MovieLens, user_id: int, k: int = 10) -> list[dict]:
    """The ``k`` highest-scoring movies that user ``user_id`` (the dataset's own id) has not rated.

    Each entry has ``rank``, ``movie_id`` (the dataset's id), ``title``, ``year``,
    ``genres`` and ``score`` (the sigmoid of the model's logit). Fewer than ``k``
    come back when the user has fewer unseen movies. (:class:`graphrec.api.TrainedRun`
    does the same for a loaded run, for one user or all at once.)
    """
    from .api import TrainedRun

    if ml is None:
        raise GraphrecError("recommendations need the dataset's movie titles: pass --data-dir")
    user = ml.user_index(user_id)  # DataError naming the valid id range
    if user >= split.num_users or ml.num_items != split.num_items:
        raise GraphrecError(f"the model was trained on {split.num_users} users x {split.num_items} items, "
                            f"{ml.name} has {ml.num_users} x {ml.num_items}")
    run = TrainedRun.from_model(model, ml, split)
    return run.listing(*run.recommend(user_id, k))
