"""The pipeline every entry point goes through: config -> dataset -> split, whose training edges
are the bipartite :class:`~torch_geometric.data.HeteroData` graph -> model (pretraining
included) -> trained run.

    data = prepare(DataConfig("ml-100k"))           # Prepared(ml, split); data.graph is the HeteroData
    model = build(config, data)                     # the registry's model, initialised from pretrained runs
    model, metrics = train(config, run_dir, data)   # build, pretrain, fit: the one training sequence

The CLI (``train``, ``evaluate``, ``recommend``, ``explain``, ``embed``, ``benchmark``),
:func:`graphrec.training.distributed.train_distributed`, the benchmark, the scripts and the
notebooks all take their data and models from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .data.movielens import MovieLens, load_movielens, locate
from .data.split import Split
from .errors import CheckpointError, DataError, GraphrecError
from .training.config import DataConfig, TrainConfig


@dataclass
class Prepared:
    """The dataset (``None`` when only split files exist and no MovieLens folder is found) and the split;
    ``split.graph`` is its training graph."""

    ml: MovieLens | None
    split: Split

    @property
    def graph(self):
        """The training edges as ``HeteroData`` (node features, ``rating``/``time`` on the edges, ``raw_id``)."""
        return self.split.graph

    def __iter__(self):  # ``ml, split = prepare(...)``
        return iter((self.ml, self.split))


def load_dataset(data: DataConfig, saved: bool = False, cache: bool = True) -> MovieLens:
    """The MovieLens release ``data`` names. ``saved``: the config comes from a run directory, so a
    data folder that no longer exists falls back to ``$GRAPHREC_DATA``/the cache instead of failing.
    ``cache``: read (and keep) the parse in the processed-data cache (:mod:`graphrec.data.cache`)."""
    return load_movielens(data.dataset, dataset_dir(data, saved), on_bad_rows=data.on_bad_rows, cache=cache)


def dataset_dir(data: DataConfig, saved: bool = False) -> str | None:
    """The data folder of ``data`` (``None`` for a run's folder that no longer exists: located as usual)."""
    if saved and data.data_dir and not Path(data.data_dir).is_dir():
        return None
    return data.data_dir


def build_split(data: DataConfig, ml: MovieLens | None = None, validation: bool = True,
                saved: bool = False, cache: bool = True) -> Prepared:
    """The one split builder: NCF-format files from ``data.split_dir``, else the leave-one-out split
    of the dataset with test negatives seeded by ``data.split_seed``.

    With split files the dataset is optional (titles, features); when found, its size must match.
    The split's training graph carries the dataset's node features when the dataset is known.
    ``cache``: dataset and split come from (and go to) the processed-data cache.
    """
    from .data.split import load_ncf, split_movielens

    if data.split_dir:
        split = load_ncf(data.split_dir, seed=data.split_seed, cache=cache)
        if ml is None and (data.dataset or data.data_dir):
            try:
                ml = load_dataset(data, saved, cache)
            except DataError:
                ml = None
        if ml is not None and (ml.num_users, ml.num_items) != (split.num_users, split.num_items):
            raise GraphrecError(
                f"--split-dir has {split.num_users} users x {split.num_items} items but {ml.name} has "
                f"{ml.num_users} x {ml.num_items}: they do not belong together")
    else:
        ml = ml if ml is not None else load_dataset(data, saved, cache)
        split = split_movielens(ml, validation=validation, seed=data.split_seed, cache=cache)
    split = split.with_dataset(ml)
    if data.validation_in_train:  # a refit's data: each user's validation item moved into training
        from .training.refit import with_validation_in_train

        split = with_validation_in_train(split)
    return Prepared(ml, split)


def cached_split(data: DataConfig) -> Split | None:
    """The split :func:`build_split` would make, read straight from the processed-data cache without
    parsing anything (:mod:`graphrec.data.cache`), or ``None`` when the cache does not hold it yet.
    Loading a run uses it: a NeuMF needs the split's sizes, not the dataset."""
    from .data.cache import cached_split_of, split_key
    from .data.split import load_ncf

    if data.split_dir:
        return load_ncf(data.split_dir, seed=data.split_seed)  # cached by content, parsed on first use
    name, root = locate(data.dataset, data.data_dir)
    return cached_split_of(name, root, split_key(data.split_seed))


def prepare(data: DataConfig | TrainConfig, ml: MovieLens | None = None, saved: bool = False,
            cache: bool = True) -> Prepared:
    """Dataset, split and training graph for a data (or training) config."""
    return build_split(data.data if isinstance(data, TrainConfig) else data, ml, saved=saved, cache=cache)


def adopt(prepared: Prepared | tuple | None, config: TrainConfig, saved: bool = False) -> Prepared:
    """``prepared`` as a :class:`Prepared` (an ``(ml, split)`` pair is accepted), built from ``config`` if ``None``."""
    if prepared is None:
        return prepare(config, saved=saved)
    if isinstance(prepared, Prepared):
        return prepared
    ml, split = prepared
    if split is None:
        return prepare(config, ml, saved=saved)
    if ml is not None and split._dataset is None:
        split.with_dataset(ml)
    return Prepared(ml, split)


def from_hetero(graph, seed: int = 0, validation: bool = True, name: str = "hetero",
                edge_type: tuple[str, str, str] | None = None) -> Prepared:
    """A bipartite ``HeteroData`` from elsewhere (e.g. PyG's ``MovieLens100K``: ``user -rates-> movie``
    with ``rating`` and ``time`` on the edges) as graphrec's prepared data.

    The edges are split leave-one-out by ``time`` (edge order if absent), with seeded test negatives;
    the training graph keeps the given node stores (``x`` and any other attribute) under the node
    types ``user`` and ``movie``. Models that embed ids (GMF, MLP, NeuMF, LightGCN, the baselines,
    node2vec) train on it; the feature models need graphrec's feature codes (:func:`prepare`).
    """
    import torch
    from torch_geometric.data import HeteroData

    from .data.graph import set_edges
    from .data.split import leave_one_out

    if edge_type is None:
        bipartite = [t for t in graph.edge_types if t[0] != t[2]]
        if not bipartite:
            raise DataError("the graph has no edge type between two node types")
        edge_type = next((t for t in bipartite if t[0] == "user"), bipartite[0])
    src_type, _, dst_type = edge_type
    store = graph[edge_type]
    users, items = store.edge_index.long()
    num_users, num_items = graph[src_type].num_nodes, graph[dst_type].num_nodes
    time = store.time if "time" in store else torch.arange(users.numel())
    rating = store.rating if "rating" in store else None
    split = leave_one_out(users.numpy(), items.numpy(), num_users, num_items, time.numpy(),
                          None if rating is None else rating.float().numpy(), validation=validation, seed=seed,
                          name=name)
    train = HeteroData()
    for new, old in (("user", src_type), ("movie", dst_type)):
        for key, value in graph[old].items():
            train[new][key] = value
        train[new].num_nodes = graph[old].num_nodes
    split.graph = set_edges(train, split.train_user, split.train_item, split.train_rating, split.train_time)
    return Prepared(None, split)


def build_model(config: TrainConfig, data: Prepared):
    """The registered model of ``config``, freshly initialised with ``config.seed`` (no pretraining)."""
    import torch

    from .models import TRAINABLE, model_class

    try:
        cls = model_class(config.model)  # imports only this model's module
    except KeyError:
        cls = None
    if cls is None or not cls.capabilities.trainable:
        raise CheckpointError(f"unknown model {config.model!r}; trainable: {', '.join(TRAINABLE)}")
    torch.manual_seed(config.seed)
    try:
        return cls.build(data.ml, data.split, **config.hparams)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"model {config.model!r} cannot be built with {config.hparams}: {e}") from None


def build(config: TrainConfig, data: Prepared, resume: bool = False, pretrained: list | None = None):
    """:func:`build_model`, then initialised from ``pretrained`` models, or else from ``config.pretrain``'s
    runs (not when resuming: the checkpoint holds the weights)."""
    model = build_model(config, data)
    if resume:
        return model
    if pretrained:
        init_from_models(model, pretrained, "the given models")
    elif config.pretrain:
        from .training.runs import load_run

        init_from_models(model, [load_run(d, data).model for d in config.pretrain], ", ".join(map(str, config.pretrain)))
    return model


def init_from_models(model, models: list, source: str = "") -> None:
    """Initialise ``model`` from trained models via its ``load_pretrained(*models)`` (NeuMF: GMF, MLP)."""
    if not hasattr(model, "load_pretrained"):
        raise CheckpointError(f"{type(model).__name__} cannot be initialised from pretrained runs")
    try:
        model.load_pretrained(*models)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"cannot initialise {type(model).__name__} from {source}: {e}") from None


def train(config: TrainConfig, run_dir: str | Path | None = None, data: Prepared | None = None,
          resume: bool = False, progress: bool = True, pretrained: list | None = None, trainer_cls=None,
          setup=None, **trainer_kwargs):
    """The one build-pretrain-train sequence: build the model (initialised from
    ``pretrained`` models or ``config.pretrain``'s runs), write ``config.json``,
    resume from the checkpoint if asked, fit. Returns ``(model, test metrics, trainer)``.

    ``trainer_cls`` (default :class:`~graphrec.training.Trainer`) gets ``trainer_kwargs``;
    ``setup(run_dir, config)`` replaces the default creation of the run directory (rank 0 only, in DDP).
    """
    from .io import write_json
    from .training.runs import CONFIG, clear_unstarted, record_data
    from .training.trainer import Trainer

    data = adopt(data, config)
    model = build(config, data, resume=resume, pretrained=pretrained)
    trainer = (trainer_cls or Trainer)(model, data.split, config, run_dir, progress=progress, **trainer_kwargs)
    if run_dir is not None:
        if setup is None:
            if not resume:
                clear_unstarted(run_dir)  # what a run killed before its first checkpoint left under this name
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            write_json(Path(run_dir) / CONFIG, config.to_dict())
            record_data(run_dir, data.ml)  # the fingerprint of the training data (docs/reliability.md)
        else:
            setup(run_dir, config)
        if resume:
            trainer.resume()
    return model, trainer.fit(), trainer
