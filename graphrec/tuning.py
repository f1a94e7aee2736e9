"""Hyper-parameter search on the validation item, and the tuned configs that ``train`` and
``benchmark`` read.

:func:`tune` runs Optuna's TPE sampler (seeded) over a per-family search space
(:data:`SPACES`), scoring each trial by its best validation ``full_NDCG@10`` (the epoch is
chosen by the trainer's early stopping, never on the test item); trials that trail the
median of earlier ones at the same epoch are pruned. Every family gets the same number of
trials. The result is a small JSON file::

    {"model": "neumf", "hparams": {...}, "train": {"lr": ..., ...}, "tuning": {...}}

(fitted models such as EASE keep their settings under ``"params"``). graphrec ships such
files for ML-100K in ``graphrec/configs/ml-100k/``; :func:`load_tuned` finds them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from .io import write_json

#: Where the shipped tuned configs live: ``configs/<dataset>/<model>.json``.
CONFIG_DIR = Path(__file__).parent / "configs"
#: TrainConfig fields a tuned config may set.
TRAIN_FIELDS = ("epochs", "batch_size", "lr", "num_ng", "l2", "l2_scope", "loss", "eval_every", "patience", "select")


def _neumf(t) -> dict:
    width = t.suggest_categorical("mlp_width", [64, 128])
    return {"hparams": {"factors": t.suggest_categorical("factors", [16, 32, 64]), "layers": [width, width // 2],
                        "dropout": t.suggest_float("dropout", 0.0, 0.3), "bias": t.suggest_categorical("bias", [False, True])},
            "train": {"lr": t.suggest_float("lr", 3e-4, 1e-2, log=True), "batch_size": 1024,
                      "num_ng": t.suggest_int("num_ng", 2, 8), "l2": t.suggest_float("l2", 1e-8, 1e-2, log=True),
                      "l2_scope": "batch", "epochs": 60, "eval_every": 1, "patience": 5}}


def _gmf(t) -> dict:
    return {"hparams": {"factors": t.suggest_categorical("factors", [16, 32, 64, 128]), "bias": True},
            "train": {"lr": t.suggest_float("lr", 1e-3, 2e-2, log=True), "batch_size": 1024,
                      "loss": t.suggest_categorical("loss", ["bce", "bpr"]), "num_ng": t.suggest_int("num_ng", 1, 8),
                      "l2": t.suggest_float("l2", 1e-6, 1e-1, log=True), "l2_scope": "batch",
                      "epochs": 100, "eval_every": 2, "patience": 5}}


def _mlp(t) -> dict:
    width = t.suggest_categorical("width", [64, 128, 256])
    return {"hparams": {"layers": [width, width // 2, width // 4], "dropout": t.suggest_float("dropout", 0.0, 0.3)},
            "train": {"lr": t.suggest_float("lr", 3e-4, 1e-2, log=True), "batch_size": 1024,
                      "num_ng": t.suggest_int("num_ng", 2, 8), "epochs": 60, "eval_every": 1, "patience": 5}}


def _lightgcn(t) -> dict:
    return {"hparams": {"factors": 64, "num_layers": t.suggest_int("num_layers", 1, 4)},
            "train": {"lr": t.suggest_float("lr", 1e-3, 2e-2, log=True),
                      "l2": t.suggest_float("l2", 1e-6, 1e-2, log=True), "num_ng": t.suggest_int("num_ng", 1, 4),
                      "batch_size": 2048, "epochs": 300, "eval_every": 5, "patience": 5}}


def _sage_train(t) -> dict:
    return {"lr": t.suggest_float("lr", 1e-3, 2e-2, log=True), "l2": t.suggest_float("l2", 1e-8, 1e-4, log=True),
            "num_ng": t.suggest_int("num_ng", 1, 8), "batch_size": 4096, "epochs": 60, "eval_every": 1, "patience": 5}


def _hetero_sage(t) -> dict:
    return {"hparams": {"use_ids": t.suggest_categorical("use_ids", [True, False]),
                        "hidden": t.suggest_categorical("hidden", [32, 64, 128]),
                        "num_layers": t.suggest_int("num_layers", 1, 3),
                        "node_dropout": t.suggest_float("node_dropout", 0.0, 0.3),
                        "prior": t.suggest_categorical("prior", ["none", "popularity"])},
            "train": _sage_train(t)}


def hetero_sage_cold(t) -> dict:
    """hetero-sage for new users and movies, its shipped default (``scripts/bench_coldstart.py --tune``; the
    warm ``hetero-sage-ids`` is in :data:`SPACES`): features only, plus how many nodes each step hides and
    how many edges a hidden user keeps. The group prior is left out: explanations cannot split it."""
    hparams = {"use_ids": False, "hidden": t.suggest_categorical("hidden", [32, 64, 128]),
               "num_layers": t.suggest_int("num_layers", 1, 3),
               "prior": t.suggest_categorical("prior", ["none", "popularity"])}
    train = _sage_train(t)
    hparams.update(node_dropout=t.suggest_float("node_dropout", 0.05, 0.5),
                   new_user_edges=t.suggest_int("new_user_edges", 0, 8))
    return {"hparams": hparams, "train": train}


def _sasrec(t) -> dict:
    """SASRec (issue 20): width, depth, heads, dropout, the loss and the learning rate; the paper's batch of
    128 users, one negative per position for the sampled losses, at most 200 epochs, the history length fixed
    at 50 (200 reads more but costs four times as much per epoch)."""
    factors = t.suggest_categorical("factors", [32, 64])
    return {"hparams": {"factors": factors, "num_layers": t.suggest_int("num_layers", 1, 3),
                        "heads": t.suggest_categorical("heads", [1, 2]),
                        "dropout": t.suggest_float("dropout", 0.1, 0.5), "max_len": 50,
                        "loss": t.suggest_categorical("loss", ["bce", "ce"])},
            "train": {"lr": t.suggest_float("lr", 3e-4, 5e-3, log=True), "batch_size": 128, "num_ng": 1,
                      "l2": 0.0, "epochs": 200, "eval_every": 5, "patience": 4}}


#: Per-family search spaces: ``trial -> {"hparams", "train"}`` (learned) or ``{"params"}`` (fitted).
SPACES: dict[str, Callable] = {
    "neumf": _neumf, "gmf": _gmf, "mlp": _mlp, "lightgcn": _lightgcn, "hetero-sage-ids": _hetero_sage,
    "sasrec": _sasrec,
    "ease": lambda t: {"params": {"l2": t.suggest_float("l2", 10.0, 5000.0, log=True)}},
    "itemknn": lambda t: {"params": {"k": t.suggest_int("k", 10, 500, log=True)}},
    # the recommender over the node2vec embedding: its scoring and the embedding's main knobs (issue 13)
    "node2vec": lambda t: {"params": {"metric": t.suggest_categorical("metric", ["dot", "cosine"]),
                                      "neighbours": t.suggest_int("neighbours", 5, 30, log=True),
                                      "window": t.suggest_int("window", 2, 8),
                                      "epochs": t.suggest_int("epochs", 1, 4),
                                      "vectors": t.suggest_categorical("vectors", ["target", "concat"])}},
    "ease-recency": lambda t: {"params": {"l2": t.suggest_float("l2", 10.0, 5000.0, log=True),
                                          "recency": t.suggest_float("recency", 1.0, 50.0, log=True),
                                          "floor": t.suggest_float("floor", 0.0, 0.5)}},
}
#: Search spaces named after a variant of a model (the benchmark entry's name), and their model.
VARIANTS = {"ease-recency": "ease", "hetero-sage-ids": "hetero-sage"}


def tune(name: str, ml, split, trials: int, seed: int = 0, base=None, space: Callable | None = None,
         progress: bool = False) -> dict:
    """Search ``name``'s space (a model, or a variant in :data:`VARIANTS`) for ``trials`` trials on
    ``split``'s validation item; the tuned config.

    ``base`` (a :class:`~graphrec.training.TrainConfig`) supplies what the space leaves
    open (data, k, threads); ``space`` replaces :data:`SPACES` ``[name]``.
    """
    import optuna

    from .evaluation import evaluate
    from .models import MODELS
    from .training import TrainConfig
    from .pipeline import train

    if not split.has_validation:
        raise ValueError("tuning needs a validation item per user")
    model = VARIANTS.get(name, name)
    space = space or SPACES.get(name)
    if space is None:
        raise ValueError(f"no search space for {name!r}; tunable: {', '.join(SPACES)}")
    base = base or TrainConfig(model=model)

    def objective(trial) -> float:
        point = space(trial)
        if "params" in point:  # fitted: one evaluation, no epochs
            scorer = MODELS[model](**point["params"]).fit(split)
            return evaluate(scorer, split, base.k, "valid", sampled=False)[f"full_NDCG@{base.k}"]
        cfg = _config(base, model, point, seed=seed)

        def report(epoch: int, score: float) -> None:
            trial.report(score, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        *_, trainer = train(cfg, None, (ml, split), progress=False, on_evaluation=report)
        trial.set_user_attr("best_epoch", trainer.best_epoch)
        return trainer.best_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10))
    study.optimize(objective, n_trials=trials, show_progress_bar=progress)
    best = study.best_trial
    point = space(optuna.trial.FixedTrial(best.params))
    out = {"model": model, **point,
           "tuning": {"trials": trials, "seed": seed, "metric": f"valid_full_NDCG@{base.k}",
                      "best_value": best.value, "best_epoch": best.user_attrs.get("best_epoch"),
                      "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
                      "split": split.name, "params": best.params}}
    return out


def _config(base, model: str, point: dict, **extra):
    from dataclasses import replace

    return replace(base, model=model, hparams={**base.hparams, **point.get("hparams", {})},
                   **{k: v for k, v in point.get("train", {}).items() if k in TRAIN_FIELDS}, **extra)


def config_from_tuned(tuned: dict, base, **overrides):
    """A :class:`~graphrec.training.TrainConfig`: ``base`` with the tuned settings, then ``overrides``
    (explicit flags win; ``overrides["hparams"]`` is merged into the model's)."""
    from dataclasses import replace

    cfg = _config(base, tuned["model"], tuned)
    hp = overrides.pop("hparams", {})
    return replace(cfg, hparams={**cfg.hparams, **hp}, **overrides)


def shipped_path(name: str, dataset: str | None) -> Path:
    return CONFIG_DIR / (dataset or "ml-100k") / f"{name}.json"


def load_tuned(name: str, dataset: str | None = None, path: str | Path | None = None,
               model: str | None = None) -> dict | None:
    """The tuned config at ``path``, else the shipped one named ``name`` (a model, or a benchmark
    entry such as ``ease-recency``) for ``dataset``; ``None`` if there is none. Its model must be
    ``model`` (default: ``name``)."""
    p = Path(path) if path else shipped_path(name, dataset)
    if not p.is_file():
        return None
    tuned = json.loads(p.read_text())
    if tuned.get("model") != (model or name):
        raise ValueError(f"{p} is a config for {tuned.get('model')!r}, not {(model or name)!r}")
    return tuned


def save_tuned(tuned: dict, path: str | Path) -> Path:
    write_json(path, tuned)
    return Path(path)
