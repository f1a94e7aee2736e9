"""Skip-gram with negative sampling (Mikolov et al., 2013), written from scratch on walk tensors.

Each node has a *target* vector and a separate *context* vector. One training
row is one walk position: its target ``u``, the ``2 * window`` nodes around it
(its contexts) and ``k`` negatives, scored together as
``einsum('be,bce->bc', T[u], C[[contexts..., negatives...]])``. The loss of a row is

    - sum_j a_j log sigma(s_j)  -  (k / m) (sum_j a_j) * sum_n log sigma(-s_n)

over its ``m`` negatives (``m = 2k`` by default).

* **Contexts** come from the walk tensor ``[W, L]`` by one ``unfold`` (no loop
  over pairs). ``a_j = (window - d + 1) / window`` for a context ``d`` steps
  away: the expectation of word2vec's randomly shrunk window, so that each
  (target, context) pair counts as often as in word2vec, without the noise.
* **Negatives** are drawn from the unigram distribution of walk tokens raised to
  0.75 (word2vec's table method) and redrawn wherever one equals a true
  context of its row. The ``m`` negatives of a row are shared by its contexts
  and weighted so that in expectation every pair meets ``k`` negatives as in
  word2vec (PyG's Node2Vec also shares negatives per sub-walk). Sharing them is
  what makes this trainer faster than word2vec's per-pair loop: a row costs
  ``2 * window + m`` dot products instead of ``1 + k`` per pair (~``window + 1``
  pairs). ``m = 2k`` measured as good as gensim's HR@10 where ``m = k`` fell
  0.02 short (docs/benchmarks.md).
* **Subsampling** (optional, ``subsample = t``, e.g. 1e-3) drops a token with
  word2vec's probability ``1 - (sqrt(f / t) + 1) * t / f``; a dropped token is
  neither a target nor a context (distances are not compacted).

Training is SGD with word2vec's linearly decaying rate; the gradients are
written by hand and scattered with ``index_add_`` (:func:`sgns_step`, fused by
``torch.compile`` for long runs), which measured faster than autograd with
dense Adam or with sparse gradients and ``SparseAdam`` (both still available).
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import GraphrecError

OPTIMIZERS = ("sgd", "adam", "sparse_adam")


def check_window(window: int, negatives: int = 1) -> None:
    if window < 1:
        raise GraphrecError(f"--window must be >= 1, got {window}")
    if negatives < 1:
        raise GraphrecError(f"--negatives must be >= 1, got {negatives}")


def context_windows(walks: Tensor, window: int, shrink: bool = True, keep: Tensor | None = None
                    ) -> tuple[Tensor, Tensor, Tensor]:
    """Every walk position as a row: ``targets [N]``, ``contexts [N, 2*window]``, ``weights [N, 2*window]``.

    Context slots beyond a walk's ends hold -1 with weight 0. ``shrink``
    weights a context ``d`` steps away by ``(window - d + 1) / window``;
    ``keep`` (bool ``[W, L]``, from :func:`subsample_mask`) zeroes dropped
    tokens as contexts and drops them as targets.
    """
    check_window(window)
    w = walks.long()
    padded = F.pad(w, (window, window), value=-1)
    win = padded.unfold(1, 2 * window + 1, 1)  # [W, L, 2w+1], centre = the target
    ctx = torch.cat([win[..., :window], win[..., window + 1:]], -1).reshape(-1, 2 * window)
    dist = torch.cat([torch.arange(window, 0, -1), torch.arange(1, window + 1)])
    a = ((window - dist + 1) / window).float() if shrink else torch.ones(2 * window)
    weight = (ctx >= 0) * a
    target = w.reshape(-1)
    if keep is not None:
        kp = F.pad(keep, (window, window), value=False).unfold(1, 2 * window + 1, 1)
        kctx = torch.cat([kp[..., :window], kp[..., window + 1:]], -1).reshape(-1, 2 * window)
        weight = weight * kctx
        rows = keep.reshape(-1)
        target, ctx, weight = target[rows], ctx[rows], weight[rows]
    return target, ctx, weight


def subsample_mask(walks: Tensor, counts: Tensor, t: float, generator: torch.Generator | None = None) -> Tensor:
    """Bool ``[W, L]``: tokens kept by word2vec's frequent-token subsampling with threshold ``t``."""
    f = counts.float() / counts.sum()
    keep_p = torch.where(f > 0, ((f / t).sqrt() + 1) * t / f.clamp_min(1e-12), torch.ones_like(f)).clamp(max=1.0)
    return torch.rand(walks.shape, generator=generator) < keep_p[walks]


class UnigramNegatives:
    """Negatives from ``counts ** power`` (word2vec's table of ``table_size`` slots)."""

    def __init__(self, counts: Tensor, power: float = 0.75, table_size: int = 10_000_000) -> None:
        w = counts.double().clamp_min(0) ** power
        if w.sum() <= 0:
            raise GraphrecError("no tokens to draw negatives from")
        self.probs = (w / w.sum()).float()
        slots = torch.floor(torch.cumsum(self.probs.double(), 0) * table_size).long().clamp(max=table_size)
        sizes = torch.diff(slots, prepend=torch.zeros(1, dtype=torch.long))
        self.table = torch.repeat_interleave(torch.arange(len(counts)), sizes)

    def sample(self, contexts: Tensor, k: int, generator: torch.Generator | None = None, rounds: int = 20) -> Tensor:
        """``[N, k]`` negatives; none equals a true context of its row (``contexts`` ``[N]`` or ``[N, C]``, -1 = none).

        Clashes are redrawn from the table ``rounds`` times; the few left are
        drawn exactly from the distribution with the row's contexts removed.
        """
        ctx = contexts.reshape(len(contexts), -1)
        neg = self.table[torch.randint(len(self.table), (len(ctx), k), generator=generator)]
        for _ in range(rounds):
            bad = (neg[:, :, None] == ctx[:, None, :]).any(-1)
            n = int(bad.sum())
            if n == 0:
                return neg
            neg[bad] = self.table[torch.randint(len(self.table), (n,), generator=generator)]
        rows = torch.nonzero((neg[:, :, None] == ctx[:, None, :]).any(-1).any(1)).flatten()
        p = self.probs.expand(len(rows), -1).clone()
        c = ctx[rows]
        hits = torch.zeros_like(p).scatter_add_(1, c.clamp(min=0), (c >= 0).float())
        p[hits > 0] = 0.0
        if (p.sum(1) <= 0).any():
            raise GraphrecError("no node is left to draw as a negative: the graph has too few nodes")
        neg[rows] = torch.multinomial(p, k, replacement=True, generator=generator)
        return neg


def _columns(ctx: Tensor, weight: Tensor, neg: Tensor, negatives: int) -> tuple[Tensor, Tensor, Tensor]:
    """(columns, coefficients, labels) of rows: contexts, then negatives worth ``negatives`` per pair."""
    n, k = neg.shape
    cols = torch.cat([ctx.clamp(min=0), neg], 1)
    coef = torch.cat([weight, (weight.sum(1, keepdim=True) * (negatives / k)).expand(n, k)], 1)
    label = torch.zeros_like(coef)
    label[:, :ctx.shape[1]] = 1.0
    return cols, coef, label


class SkipGram(nn.Module):
    """Target and context embedding tables of a skip-gram model."""

    def __init__(self, num_nodes: int, dim: int, sparse: bool = False) -> None:
        super().__init__()
        self.target = nn.Embedding(num_nodes, dim, sparse=sparse)
        self.context = nn.Embedding(num_nodes, dim, sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        dim = self.target.embedding_dim
        nn.init.uniform_(self.target.weight, -0.5 / dim, 0.5 / dim)  # word2vec's initialisation
        nn.init.zeros_(self.context.weight)

    def forward(self, target: Tensor, columns: Tensor, coef: Tensor, label: Tensor) -> Tensor:
        """Summed weighted loss of ``[B]`` targets against ``[B, C]`` columns (label 1 = context, 0 = negative)."""
        s = torch.einsum("be,bce->bc", self.target(target), self.context(columns))
        return (coef * F.binary_cross_entropy_with_logits(s, label, reduction="none")).sum()


def sgns_step(target_w: Tensor, context_w: Tensor, target: Tensor, columns: Tensor, coef: Tensor, label: Tensor,
              lr: Tensor) -> Tensor:
    """One in-place SGD step on :meth:`SkipGram.forward`'s loss; returns the loss before the step.

    The gradients are written out by hand (as word2vec does) and scattered with
    ``index_add_``: autograd's embedding backward sorts the indices and measured
    several times slower on small tables.
    """
    b, c = columns.shape
    t = target_w.index_select(0, target)
    ctx = context_w.index_select(0, columns.reshape(-1)).view(b, c, -1)
    s = torch.einsum("be,bce->bc", t, ctx)
    g = (torch.sigmoid(s) - label) * coef * lr  # lr * d loss / d score
    target_w.index_add_(0, target, torch.einsum("bc,bce->be", g, ctx), alpha=-1.0)
    context_w.index_add_(0, columns.reshape(-1), (g[:, :, None] * t[:, None, :]).reshape(b * c, -1), alpha=-1.0)
    return (coef * F.binary_cross_entropy_with_logits(s, label, reduction="none")).sum()


def train_skipgram(walks: Tensor, num_nodes: int, dim: int = 128, window: int = 10, negatives: int = 5,
                   epochs: int = 1, lr: float | None = None, batch_size: int = 512, optimizer: str = "sgd",
                   subsample: float = 0.0, shrink: bool = True, seed: int = 0, compile: bool | None = None,
                   threads: int | None = 1, row_negatives: int | None = None, progress: bool = True,
                   log: Callable[[str, float, int], None] | None = None,
                   device: torch.device | str | None = "cpu") -> tuple[SkipGram, list[dict]]:
    """Fit a :class:`SkipGram` on ``walks`` ``[W, L]``; returns it and one dict per epoch.

    ``batch_size`` counts walk positions (rows), each ~``window`` pairs.
    ``optimizer``: ``"sgd"`` (default, fastest: hand-written gradients, word2vec's
    rate 0.025 decaying linearly to 0), ``"adam"`` (autograd, dense gradients) or
    ``"sparse_adam"`` (autograd, sparse gradients, ``SparseAdam``). ``compile``
    fuses the SGD step with ``torch.compile`` (default: when an epoch has over
    200k rows; compiling takes ~15 s, outside the epoch timings). ``threads``
    sets torch's intra-op threads while training (restored afterwards; ``None``
    keeps the current setting): the step's tensors are small, and one thread
    measured several times faster than two on a shared 2-core machine.
    ``row_negatives`` (default ``2 * negatives``) negatives are drawn per row and
    share its ``negatives * sum(a)`` weight. The loss
    reported is per (target, context) pair. ``log(tag, value, step)`` receives
    it (e.g. ``SummaryWriter.add_scalar``). ``device`` (:func:`graphrec.device.resolve_device`): where
    the tables and the steps live; windows and negatives are drawn on the CPU from the seeded
    generator, so a seed gives the same draws on every device.
    """
    from ..device import num_threads, resolve_device

    device = resolve_device(device)
    with num_threads(threads or 0):
        return _train(walks, num_nodes, dim, window, negatives, epochs, lr, batch_size, optimizer, subsample, shrink,
                      seed, compile, progress, log, row_negatives or 2 * negatives, device)


def _train(walks, num_nodes, dim, window, negatives, epochs, lr, batch_size, optimizer, subsample, shrink, seed,
           compile, progress, log, row_negatives, device=torch.device("cpu")):
    from tqdm.auto import tqdm

    check_window(window, negatives)
    if optimizer not in OPTIMIZERS:
        raise GraphrecError(f"unknown optimizer {optimizer!r}: choose one of {', '.join(OPTIMIZERS)}")
    if epochs < 1 or dim < 1 or batch_size < 1:
        raise GraphrecError("epochs, dim and batch size must be >= 1")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SkipGram(num_nodes, dim, sparse=optimizer == "sparse_adam").to(device)
    counts = torch.bincount(walks.reshape(-1), minlength=num_nodes)
    sampler = UnigramNegatives(counts)
    rows = walks.numel()
    expected = epochs * math.ceil(rows / batch_size)
    compile_seconds, fused, opt = 0.0, sgns_step, None
    if optimizer == "sgd":
        base_lr = lr or 0.025
        if rows > 200_000 if compile is None else compile:
            fused, compile_seconds = _compile(model, batch_size, 2 * window + row_negatives)
    else:
        params = list(model.parameters())
        opt = (torch.optim.SparseAdam(params, lr=lr or 0.01) if optimizer == "sparse_adam"
               else torch.optim.Adam(params, lr=lr or 0.01))
    fixed = None if subsample > 0 else context_windows(walks, window, shrink)
    history, step = [], 0
    bar = tqdm(total=expected, desc="word2vec", unit="batch", disable=not progress, leave=False)
    for epoch in range(epochs):
        t0, total, pairs = time.perf_counter(), 0.0, 0.0
        target, ctx, weight = fixed or context_windows(walks, window, shrink, subsample_mask(walks, counts, subsample, gen))
        order = torch.randperm(len(target), generator=gen)
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            c, wt = ctx[idx], weight[idx]
            cols, coef, label = _columns(c, wt, sampler.sample(c, row_negatives, gen), negatives)
            tgt = target[idx]
            if device.type != "cpu":
                tgt, cols, coef, label = (t.to(device, non_blocking=True) for t in (tgt, cols, coef, label))
            if opt is None:
                rate = torch.tensor(base_lr * max(1e-4, 1.0 - step / max(expected, 1)))
                fn = fused if len(idx) == batch_size else sgns_step
                with torch.no_grad():
                    loss = fn(model.target.weight, model.context.weight, tgt, cols, coef, label, rate.to(device))
            else:
                loss = model(tgt, cols, coef, label)
                opt.zero_grad(set_to_none=True)
                (loss / len(idx)).backward()
                opt.step()
            n = float(wt.sum())
            total, pairs, step = total + float(loss.detach()), pairs + n, step + 1
            bar.update(1)
            if log is not None and step % 100 == 0:
                log("loss/batch", float(loss.detach()) / max(n, 1e-9), step)
        mean = total / max(pairs, 1e-9)
        history.append({"epoch": epoch + 1, "loss": mean, "pairs": pairs, "seconds": time.perf_counter() - t0,
                        "compile_seconds": compile_seconds if epoch == 0 else 0.0})
        if log is not None:
            log("loss/epoch", mean, epoch + 1)
        bar.set_postfix(loss=f"{mean:.4f}")
    bar.close()
    return model.cpu().eval(), history


def _compile(model: SkipGram, batch_size: int, columns: int):
    """(step, seconds): :func:`sgns_step` compiled now on throw-away copies, or eager if that fails."""
    t0 = time.perf_counter()
    fused = torch.compile(sgns_step, dynamic=False)
    w = model.target.weight.detach()
    idx = torch.zeros(batch_size, dtype=torch.long, device=w.device)
    z = torch.zeros(batch_size, columns, device=w.device)
    try:
        fused(w.clone(), w.clone(), idx, idx.repeat(columns, 1).T.contiguous(), z, z, torch.tensor(0.0, device=w.device))
    except Exception:  # noqa: BLE001 - no working compiler: eager is correct, only slower
        fused = sgns_step
    return fused, time.perf_counter() - t0
