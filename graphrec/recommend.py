"""Top-k recommendations for one user, and the settings of the embedded default model.

:func:`recommend` ranks every movie the user has not rated by a trained model;
:data:`DEFAULT_CONFIG` is the NeuMF that ``graphrec recommend`` trains on first use without
``--run`` (cached by :func:`graphrec.cache.default_neumf`).
"""
from __future__ import annotations

from .data.movielens import MovieLens
from .data.split import Split
from .errors import GraphrecError
from .training.config import DataConfig, TrainConfig

def _default_config() -> TrainConfig:
    """The shipped tuned NeuMF for ML-100K (``graphrec/configs/ml-100k/neumf.json``, chosen by
    ``graphrec tune`` on the validation item), refit on train + validation: the recipe ``graphrec
    train neumf`` also uses, written once."""
    from .tuning import config_from_tuned, load_tuned

    base = TrainConfig(model="neumf", full_eval_every=0, data=DataConfig(dataset="ml-100k"))
    return config_from_tuned(load_tuned("neumf", "ml-100k"), base)


#: The embedded default (see :func:`_default_config`).
DEFAULT_CONFIG = _default_config()


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
