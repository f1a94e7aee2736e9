"""Skip-gram with negative sampling (Mikolov et al., 2013), written from scratch on walk tensors.

Each node has a *target* vector ``T`` and a separate *context* vector ``C``.
A step takes a block of ``B`` walks ``[B, L]`` and ``m`` negatives per walk,
and minimises, for every position ``i`` of every walk (token ``u_i``),

    - sum_j a_ij log sigma(T[u_i] . C[u_j])  -  (k / m) (sum_j a_ij) * sum_n log sigma(-T[u_i] . C[n])

* **Contexts** are the other positions of the same walk, weighted by
  ``a_ij = (window - d + 1) / window`` at distance ``d = |i - j| <= window``
  (:func:`window_band`): the expectation of word2vec's randomly shrunk window,
  so each (target, context) pair counts as often as in word2vec, without the noise.
* **Negatives** are drawn from the unigram distribution of walk tokens raised to
  ``ns_exponent`` (0.75: word2vec's table method) and shared by every position
  of a walk, weighted so that in expectation every pair meets ``k`` negatives as
  in word2vec (PyG's Node2Vec also shares negatives per sub-walk). A negative
  equal to the target is skipped, as word2vec does.
* **Subsampling** (``subsample = t``, e.g. 1e-3) drops a token with word2vec's
  probability ``1 - (sqrt(f / t) + 1) * t / f`` and closes the gap
  (:func:`compact_walks`), as word2vec does with dropped words.

Why it is fast: all scores of a block are one batched matrix product
``T[walk] @ [C[walk]; C[negatives]]^T`` (``[B, L, L + m]``), and both gradients
two more (:func:`walk_step`); each token's vectors are gathered and scattered
once per step instead of once per pair, so no compiler is needed. Training is
SGD with word2vec's linearly decaying rate and hand-written gradients
(:func:`walk_step` is checked against autograd on :meth:`SkipGram.forward`).
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import GraphrecError

def check_window(window: int, negatives: int = 1) -> None:
    if window < 1:
        raise GraphrecError(f"--window must be >= 1, got {window}")
    if negatives < 1:
        raise GraphrecError(f"--negatives must be >= 1, got {negatives}")


def subsample_mask(walks: Tensor, counts: Tensor, t: float, generator: torch.Generator | None = None) -> Tensor:
    """Bool ``[W, L]``: tokens kept by word2vec's frequent-token subsampling with threshold ``t``."""
    f = counts.float() / counts.sum()
    keep_p = torch.where(f > 0, ((f / t).sqrt() + 1) * t / f.clamp_min(1e-12), torch.ones_like(f)).clamp(max=1.0)
    return torch.rand(walks.shape, generator=generator) < keep_p[walks]


class UnigramNegatives:
    """Negatives from ``counts ** power`` (word2vec's table of ``table_size`` slots)."""

    def __init__(self, counts: Tensor, power: float = 0.75, table_size: int = 1_000_000) -> None:
        c = counts.double()
        w = torch.where(c > 0, c.clamp_min(1e-12) ** power, torch.zeros_like(c))  # never-seen nodes: no negatives
        if w.sum() <= 0:
            raise GraphrecError("no tokens to draw negatives from")
        self.probs = (w / w.sum()).float()
        slots = torch.floor(torch.cumsum(self.probs.double(), 0) * table_size).long().clamp(max=table_size)
        sizes = torch.diff(slots, prepend=torch.zeros(1, dtype=torch.long))
        self.table = torch.repeat_interleave(torch.arange(len(counts)), sizes)


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



def chunk_band(chunk: int, window: int, shrink: bool = True) -> Tensor:
    """``[S, S + 2 window]`` pair weights of a chunk of ``S`` targets against the chunk widened by ``window`` each side.

    Target ``i`` sits at column ``i + window``; a column ``d`` steps away gets
    ``a_d = (window - d + 1) / window`` (1 without ``shrink``) for ``1 <= d <= window``, else 0.
    """
    d = (torch.arange(chunk)[:, None] + window - torch.arange(chunk + 2 * window)[None, :]).abs()
    a = ((window - d + 1) / window).float() if shrink else torch.ones(d.shape)
    return torch.where((d >= 1) & (d <= window), a, torch.zeros(()))


def compact_walks(walks: Tensor, keep: Tensor) -> Tensor:
    """Move each walk's kept tokens to its front (order kept), pad with -1 and trim the all-padding columns.

    This is how word2vec treats subsampled words: they vanish before the
    window is laid, so the window reaches further along the walk.
    """
    order = torch.argsort((~keep).to(torch.uint8), dim=1, stable=True)
    out = torch.gather(walks, 1, order)
    lengths = keep.sum(1)
    out[torch.arange(out.shape[1])[None, :] >= lengths[:, None]] = -1
    return out[:, :int(lengths.max()) if len(lengths) else 0]


def walk_step(target_w: Tensor, context_w: Tensor, walks: Tensor, negatives: Tensor, band: Tensor, k: float,
              lr: float, loss: bool = False, cap: float | None = None) -> tuple[float, float] | None:
    """One in-place SGD step on a block of walks ``[B, L]`` (-1 = no token) with ``[B, P, m]`` shared negatives.

    The walk's positions fall in ``P`` consecutive chunks of ``S`` targets
    (``band``, from :func:`chunk_band`, is ``[S, S + 2 window]``). A chunk's
    columns are the walk positions from ``window`` before it to ``window`` after
    it (the contexts, weighted by ``band``) and its ``m`` negatives, weighted
    ``k * sum_j band[i, j] / m`` for target ``i`` (none where a negative is the
    target itself, as in word2vec). Scores, gradients and updates are three
    batched matrix products and two ``index_add_`` calls, written out by hand
    like word2vec's inner loop. ``cap`` damps the summed step of a node that
    carries more than ``cap`` pair weight in this block (a hub of a dense graph,
    met hundreds of times, would otherwise overshoot and diverge; sequential
    word2vec refreshes it between pairs). With ``loss`` returns (summed loss
    before the step, summed pair weight), else None.
    """
    b, length = walks.shape
    parts, m = negatives.shape[1:]
    size, span = band.shape
    window = (span - size) // 2
    padded = F.pad(walks, (window, parts * size - length + window), value=-1)
    ctx = padded.unfold(1, span, size).reshape(b * parts, span)  # [B P, S + 2 window]
    tgt = ctx[:, window:window + size]
    neg = negatives.reshape(b * parts, m)
    cols = torch.cat([ctx.clamp(min=0), neg], 1)
    t = target_w.index_select(0, tgt.clamp(min=0).reshape(-1)).view(b * parts, size, -1)
    c = context_w.index_select(0, cols.reshape(-1)).view(b * parts, span + m, -1)
    s = torch.bmm(t, c.transpose(1, 2))  # [B P, S, S + 2 window + m]
    pos = band * ((tgt >= 0)[:, :, None] & (ctx >= 0)[:, None, :])
    wsum = pos.sum(2, keepdim=True)
    coef = torch.cat([pos, (wsum * (k / m)) * (neg[:, None, :] != tgt[:, :, None])], 2)
    out = None
    if loss:
        sign = torch.ones(span + m, device=s.device)
        sign[:span] = -1.0
        out = (float((coef * F.softplus(s * sign)).sum()), float(wsum.sum()))
    g = torch.sigmoid(s)
    g[:, :, :span] -= 1.0
    g.mul_(coef).mul_(lr)
    ti, ci = tgt.clamp(min=0).reshape(-1), cols.reshape(-1)
    grad_t = torch.bmm(g, c).reshape(b * parts * size, -1)
    grad_c = torch.bmm(g.transpose(1, 2), t).reshape(b * parts * (span + m), -1)
    if cap:  # a node met more than `cap` (weighted) times in this step moves as if met `cap` times
        met = torch.zeros(len(target_w), device=coef.device)
        met.index_add_(0, ti, coef.sum(2).reshape(-1)).index_add_(0, ci, coef.sum(1).reshape(-1))
        damp = (cap / met.clamp(min=cap))
        grad_t *= damp[ti, None]
        grad_c *= damp[ci, None]
    target_w.index_add_(0, ti, grad_t, alpha=-1.0)
    context_w.index_add_(0, ci, grad_c, alpha=-1.0)
    return out


#: Largest pair weight one node's summed update may carry in a step (:func:`walk_step`'s ``cap``).
STEP_CAP = 200.0


def default_shared(negatives: int, window: int, chunk: int) -> int:
    """Negatives per chunk: ``2 * negatives``, or more where one negative's summed weight in a step
    (``chunk * negatives * (window + 1) / m``) would pass 50; larger sums diverged with window 10-20."""
    return max(2 * negatives, math.ceil(chunk * negatives * (window + 1) / 50))


def train_skipgram(walks: Tensor, num_nodes: int, dim: int = 128, window: int = 10, negatives: int = 5,
                   epochs: int = 1, lr: float | None = None, batch_size: int = 32, subsample: float = 0.0,
                   shrink: bool = True, ns_exponent: float = 0.75, shared_negatives: int | None = None,
                   chunk: int = 16, seed: int = 0, threads: int | None = 1, progress: bool = True, loss_every: int = 10,
                   log: Callable[[str, float, int], None] | None = None,
                   device: torch.device | str | None = "cpu",
                   on_epoch: Callable[[int, "SkipGram"], None] | None = None) -> tuple[SkipGram, list[dict]]:
    """Fit a :class:`SkipGram` on ``walks`` ``[W, L]`` (-1 = no token); returns it and one dict per epoch.

    ``batch_size`` counts walks per step (:func:`walk_step`). ``shared_negatives``
    (default :func:`default_shared`) negatives are drawn for every ``chunk`` walk
    positions from the unigram distribution raised to ``ns_exponent``; they
    share the weight of ``negatives`` per pair. Small chunks keep the summed
    step of one shared negative small (a large one diverges with wide windows). The rate is word2vec's: ``lr`` (default 0.025)
    decaying linearly to 0 over all steps. ``subsample`` = t drops frequent
    tokens with word2vec's probability, redrawn every epoch, then closes the gaps
    (:func:`compact_walks`). ``threads`` > 1 trains on the CPU with that many
    Hogwild workers (Python threads, one torch thread each, unlocked updates as in
    word2vec and gensim; not bit-reproducible); 1 (default) steps in order, reproducibly under ``seed``. The
    loss reported per epoch is per (target, context) pair, measured on every
    ``loss_every``-th step before it is taken; ``log(tag, value, step)``
    receives it (e.g. ``SummaryWriter.add_scalar``); ``on_epoch(epoch, model)`` is called after
    every epoch. ``device``
    (:func:`graphrec.device.resolve_device`): where the tables and the steps live; walks and
    negatives are drawn on the CPU from the seeded generator, so a seed gives the same draws on
    every device.
    """
    from ..device import num_threads, resolve_device

    check_window(window, negatives)
    if epochs < 1 or dim < 1 or batch_size < 1:
        raise GraphrecError("epochs, dim and batch size must be >= 1")
    if chunk < 1:
        raise GraphrecError(f"chunk must be >= 1, got {chunk}")
    if subsample < 0:
        raise GraphrecError(f"--subsample must be >= 0, got {subsample}")
    device = resolve_device(device)
    workers = max(1, threads or 1) if device.type == "cpu" else 1
    with num_threads(1 if workers > 1 else (threads or 0)):
        return _train(walks.long(), num_nodes, dim, window, negatives, epochs, lr or 0.025, batch_size, subsample,
                      shrink, ns_exponent, shared_negatives or default_shared(negatives, window, chunk), chunk, seed,
                      progress, loss_every, log, device, workers, on_epoch)


def _train(walks, num_nodes, dim, window, negatives, epochs, lr, batch_size, subsample, shrink, ns_exponent,
           shared_negatives, chunk, seed, progress, loss_every, log, device, workers, on_epoch):
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SkipGram(num_nodes, dim).to(device)
    tokens = walks[walks >= 0]
    counts = torch.bincount(tokens, minlength=num_nodes)
    table = UnigramNegatives(counts, ns_exponent).table
    band = chunk_band(chunk, window, shrink).to(device)
    per_epoch = math.ceil(len(walks) / batch_size)
    expected = epochs * per_epoch
    history = []
    bar = tqdm(total=expected, desc="word2vec", unit="batch", disable=not progress, leave=False)
    tw, cw = model.target.weight.detach(), model.context.weight.detach()
    with torch.no_grad():
        for epoch in range(epochs):
            t0 = time.perf_counter()
            w = walks
            if subsample > 0:
                w = compact_walks(walks, (walks >= 0) & subsample_mask(walks.clamp(min=0), counts, subsample, gen))
            order = torch.randperm(len(w), generator=gen)
            blocks = [order[b:b + batch_size] for b in range(0, len(order), batch_size)]

            def work(mine, gen, log=log):
                total = pairs = 0.0
                for j in mine:
                    block = w[blocks[j]]
                    parts = -(-block.shape[1] // chunk)  # chunks of positions sharing negatives
                    neg = table[torch.randint(len(table), (len(block), parts, shared_negatives), generator=gen)]
                    step = epoch * per_epoch + j
                    rate = lr * max(1e-4, 1.0 - step / expected)
                    if device.type != "cpu":
                        block, neg = block.to(device, non_blocking=True), neg.to(device, non_blocking=True)
                    measured = walk_step(tw, cw, block, neg, band, negatives, rate, loss=step % loss_every == 0,
                                         cap=STEP_CAP)
                    if measured is not None:
                        total, pairs = total + measured[0], pairs + measured[1]
                        if log is not None:
                            log("loss/batch", measured[0] / max(measured[1], 1e-9), step)
                    bar.update(1)
                sums.append((total, pairs))

            sums: list[tuple[float, float]] = []
            if workers == 1:
                work(range(len(blocks)), gen)
            else:  # Hogwild (Recht et al., 2011), as word2vec and gensim do: unlocked, rarely clashing updates
                threads = [threading.Thread(target=work, args=(range(i, len(blocks), workers),
                                                               torch.Generator().manual_seed(seed + 1000 * epoch + i),
                                                               None)) for i in range(workers)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            total, pairs = sum(x for x, _ in sums), sum(y for _, y in sums)
            mean = total / max(pairs, 1e-9)
            history.append({"epoch": epoch + 1, "loss": mean, "seconds": time.perf_counter() - t0})
            if log is not None:
                log("loss/epoch", mean, epoch + 1)
            if on_epoch is not None:
                on_epoch(epoch + 1, model)
            bar.set_postfix(loss=f"{mean:.4f}")
    bar.close()
    return model.cpu().eval(), history
