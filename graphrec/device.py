"""Where tensors live and how many threads torch uses: ``auto`` (CUDA when available), ``cpu`` or ``cuda[:N]``.

:func:`resolve_device` turns the ``--device`` flag (and ``TrainConfig.device``) into a
:class:`torch.device`, refusing a CUDA device this machine does not have with one clear
:class:`~graphrec.errors.GraphrecError`. :class:`OnDevice` lets CPU-side code (evaluation,
recommendation) score with a model that lives on another device.
"""
from __future__ import annotations

import contextlib

import torch
from torch import Tensor

from .errors import GraphrecError

#: Accepted spellings, for ``--help``.
CHOICES = "auto|cpu|cuda[:N]"


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """``auto``/``None``: ``cuda`` when available, else ``cpu``; ``cpu``; ``cuda`` or ``cuda:N``."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    kind, _, index = spec.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise GraphrecError(f"--device {spec!r}: expected {CHOICES}")
    if not torch.cuda.is_available():
        why = "this torch is a CPU-only build" if torch.version.cuda is None else "no CUDA GPU is visible"
        raise GraphrecError(f"--device {spec}: CUDA is not available ({why}); use --device cpu or auto")
    n = torch.cuda.device_count()
    if index and int(index) >= n:
        raise GraphrecError(f"--device {spec}: only {n} CUDA device(s) (cuda:0..cuda:{n - 1})")
    return torch.device(spec)


class OnDevice(torch.nn.Module):
    """A scorer for :func:`~graphrec.evaluation.evaluate` (inputs and outputs on the CPU) whose model
    lives on ``device``."""

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        super().__init__()
        self.model, self.device, self.num_items = model, device, model.num_items

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return self.model.score(users.to(self.device), items.to(self.device)).cpu()

    def score_all(self, users: Tensor) -> Tensor:
        return self.model.score_all(users.to(self.device)).cpu()


def on_device(model, device: torch.device):
    """``model`` moved to ``device``, wrapped for CPU-side callers when that is not the CPU."""
    if device.type == "cpu" or not isinstance(model, torch.nn.Module):
        return model
    return OnDevice(model.to(device), device)


@contextlib.contextmanager
def num_threads(n: int):
    """Run with ``n`` intra-op threads (0: leave torch's setting), restoring it afterwards."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
