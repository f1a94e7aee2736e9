"""Data-parallel training of any graphrec model with :class:`~torch.nn.parallel.DistributedDataParallel`.

Launch one process per device with ``torchrun``::

    torchrun --nproc_per_node 2 -m graphrec train lightgcn --distributed ...

The backend is gloo on CPU and nccl on GPU (one GPU per local rank). Every rank
builds the same split and model; DDP broadcasts rank 0's initial weights and
averages the gradients, so the ranks' weights stay identical. Each epoch the
training pairs are shuffled with a generator seeded by (seed, epoch), shared by
all ranks, and rank ``r`` takes every ``world``-th pair from offset ``r``; its
negatives come from a generator seeded by (seed, epoch, rank). ``batch_size`` is
the global batch: each rank steps on ``ceil(batch_size / world)`` pairs.
Validation/test metrics are computed on rank 0 only and broadcast (so all ranks
take the same early-stopping decision); only rank 0 writes the run directory,
atomically, as the single-process :class:`~graphrec.training.Trainer` does.
"""
from __future__ import annotations

import datetime
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from ..config import TrainConfig
from ..device import resolve_device
from ..errors import GraphrecError
from ..io import write_json
from .protocol import select_and_refit
from .runs import CONFIG, clear_unstarted, record_data
from .trainer import Trainer, batch_loss, epoch_seed, epoch_tensors


def init_process_group(backend: str | None = None, timeout_s: float = 600.0,
                       device: str = TrainConfig.device) -> torch.device:
    """Join the process group described by torchrun's environment (``RANK``, ``WORLD_SIZE``,
    ``MASTER_ADDR``/``MASTER_PORT``); returns this rank's device. ``device`` (``TrainConfig.device``:
    auto, cpu, cuda) chooses the kind: CUDA ranks use nccl and the GPU of their local rank, CPU ranks gloo."""
    if backend is None:
        backend = "nccl" if resolve_device(device).type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return rank_device()


def rank_device() -> torch.device:
    """This rank's device: the GPU of its local rank under nccl, else the CPU."""
    if dist.get_backend() == "nccl":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
        return device
    return torch.device("cpu")


def dense_embeddings(model: torch.nn.Module) -> None:
    """Switch sparse-gradient embeddings to dense ones: nccl cannot all-reduce sparse gradients,
    and dense ones let DDP bucket every gradient the same way on every backend."""
    for m in model.modules():
        if isinstance(m, torch.nn.Embedding) and m.sparse:
            m.sparse = False


def shard_epoch(model, split, config: TrainConfig, epoch: int, rank: int, world: int) -> tuple:
    """This rank's shuffled training tensors for ``epoch``; every rank gets the same number of rows."""
    order = torch.randperm(len(split.train_user), generator=torch.Generator().manual_seed(epoch_seed(config.seed, epoch)))
    per_rank = math.ceil(len(order) / world)
    order = order.repeat(2)[:per_rank * world]  # wrap around so that the shards have equal length
    mine = order[rank::world]
    gen = torch.Generator().manual_seed(epoch_seed(config.seed, epoch, rank))
    users, items, sampler = split.train_user[mine], split.train_item[mine], split.train_sampler
    return epoch_tensors(users, items, sampler, model, config, gen)


class _Loss(torch.nn.Module):
    """DDP synchronises gradients through ``forward``: the loss is computed inside it."""

    def __init__(self, model: torch.nn.Module, config: TrainConfig) -> None:
        super().__init__()
        self.model, self.config = model, config

    def forward(self, *batch: torch.Tensor) -> torch.Tensor:
        return batch_loss(self.model, self.config, batch)


def _broadcast(obj, src: int = 0):
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def on_rank0(fn):
    """Run ``fn`` on rank 0 only and return its result on every rank; a
    :class:`~graphrec.errors.GraphrecError` raised there is raised on every rank
    (e.g. choosing a fresh run directory: every rank must agree on one)."""
    result = error = None
    if dist.get_rank() == 0:
        try:
            result = fn()
        except GraphrecError as e:
            error = e
    result, error = _broadcast((result, error))
    if error is not None:
        raise error
    return result


def fingerprint(model: torch.nn.Module) -> torch.Tensor:
    """Float64 [3] summary of all weights (sum, sum of squares, position-weighted sum):
    equal across ranks when the weights are."""
    flat = torch.cat([p.detach().reshape(-1).double() for p in model.parameters()])
    pos = torch.arange(1, len(flat) + 1, dtype=torch.float64, device=flat.device)
    return torch.stack([flat.sum(), flat.pow(2).sum(), (flat * pos.reciprocal()).sum()])


class DistributedTrainer(Trainer):
    """:class:`Trainer` with DDP; use inside an initialised process group.

    With ``verify_sync`` every step all-gathers a :func:`fingerprint` of the weights and
    raises if the ranks disagree (``sync_checks`` counts the checks).
    """

    def __init__(self, model, split, config: TrainConfig, run_dir: str | Path | None = None,
                 progress: bool = True, tensorboard: bool = True, device: torch.device | None = None,
                 verify_sync: bool = False) -> None:
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.out_dir = Path(run_dir) if run_dir is not None else None
        dense_embeddings(model)
        lead = self.rank == 0
        super().__init__(model, split, config, run_dir if lead else None, progress if lead else False,
                         tensorboard and lead, device=device or rank_device())
        self.ddp = DistributedDataParallel(_Loss(model, config),
                                           device_ids=[self.device] if self.device.type == "cuda" else None)
        self.verify_sync, self.sync_checks = verify_sync, 0

    def resume(self) -> None:
        run_dir, self.run_dir = self.run_dir, self.out_dir  # every rank reads rank 0's checkpoint
        try:
            super().resume()
        finally:
            self.run_dir = run_dir
        self.model.to(self.device)

    def train_epoch(self, epoch: int) -> tuple[float, float]:
        cfg = self.config
        torch.manual_seed(epoch_seed(cfg.seed, epoch, self.rank))  # dropout: differs per rank
        self.ddp.train()
        tensors = shard_epoch(self.model, self.split, cfg, epoch, self.rank, self.world)
        n, bs = len(tensors[0]), math.ceil(cfg.batch_size / self.world)
        total, start = torch.zeros(2, dtype=torch.float64, device=self.device), time.perf_counter()
        bar = tqdm(range(0, n, bs), desc=f"epoch {epoch}/{cfg.epochs} ({self.world} ranks)", unit="batch",
                   leave=False, disable=not self.progress)
        for s in bar:
            batch = tuple(t[s:s + bs].to(self.device, non_blocking=True) for t in tensors)
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.ddp(*batch)
            loss.backward()
            self.optimizer.step()
            total += torch.stack([loss.detach().double() * len(batch[0]), torch.tensor(len(batch[0]), device=self.device)])
            if self.verify_sync:
                self.check_sync()
        dist.all_reduce(total)  # mean loss over all ranks' rows
        return float(total[0] / total[1].clamp_min(1)), time.perf_counter() - start

    def check_sync(self) -> None:
        mine = fingerprint(self.model)
        every = [torch.zeros_like(mine) for _ in range(self.world)]
        dist.all_gather(every, mine)
        if any(not torch.equal(every[0], f) for f in every[1:]):
            raise RuntimeError(f"ranks' weights diverged after {self.sync_checks} synchronised steps")
        self.sync_checks += 1

    def evaluate_epoch(self, epoch: int) -> dict:
        """Rank 0 evaluates; every rank gets its numbers, so all stop at the same epoch."""
        return _broadcast(super().evaluate_epoch(epoch) if self.rank == 0 else None)

    def _final_metrics(self) -> dict:
        return _broadcast(super()._final_metrics() if self.rank == 0 else None)


def train_distributed(config: TrainConfig, run_dir: str | Path | None = None, ml=None, split=None,
                      resume: bool = False, progress: bool = True, backend: str | None = None,
                      verify_sync: bool = False) -> tuple[torch.nn.Module, dict]:
    """:func:`graphrec.training.select_and_refit` across the processes of a (torchrun) process group: selection
    on the validation item, then (``config.refit``) the refit on train + validation, both distributed.

    Joins the group from the environment unless one is initialised already. Returns the
    model (on CPU, best weights) and the test metrics, the same on every rank.
    """
    device = init_process_group(backend, device=config.device)
    rank0 = dist.get_rank() == 0

    def setup(path, cfg, data) -> None:  # only rank 0 writes the run directory
        if rank0:
            if not resume:
                clear_unstarted(path)  # what a run killed before its first checkpoint left under this name
            Path(path).mkdir(parents=True, exist_ok=True)
            write_json(Path(path) / CONFIG, cfg.to_dict())
            record_data(path, data)  # as a single-process run does

    outcome = select_and_refit(config, None if split is None and ml is None else (ml, split), run_dir,
                               resume=resume, progress=progress, write=rank0, trainer_cls=DistributedTrainer,
                               setup=setup, device=device, verify_sync=verify_sync)
    dist.barrier()
    return outcome.model, outcome.metrics()
