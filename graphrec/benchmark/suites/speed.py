"""``graphrec benchmark --suite speed``: one training epoch of ``sasrec``, against a twin built from
``torch.nn.MultiheadAttention``.

The twin is the ``SASRec.pytorch`` layout (the reference split's recipe) written with PyTorch's own
attention: same width, blocks, heads, dropout, BCE with one negative per position, Adam, batch of 128
users, and every sequence padded to the full ``max_len`` as that code does. Both run in the same process on
the same batches, alternately, so the ratio is what a shared machine's noise leaves comparable. graphrec's
epoch goes through :class:`graphrec.training.Trainer` (negative sampling included); it trims the columns
that are padding for every user of a batch. ``--max-len`` (default 50 200), ``--repeat`` (default 3; the
best epoch of each is kept); ``--quick``: max_len 10, one repeat. Writes ``speed.md`` and ``speed.json``.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ...config import DataConfig, TrainConfig
from ...pipeline import Prepared, build_model, build_split
from ...training.trainer import Trainer
from . import save


class TorchSASRec(nn.Module):
    """SASRec.pytorch's layout with ``nn.MultiheadAttention`` (the baseline of this timing)."""

    def __init__(self, num_items: int, dim: int, max_len: int, blocks: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.pad, self.dim = num_items, dim
        self.item_emb = nn.Embedding(num_items + 1, dim, padding_idx=num_items)
        self.pos_emb = nn.Embedding(max_len, dim)
        self.drop = nn.Dropout(dropout)
        self.attn_ln = nn.ModuleList(nn.LayerNorm(dim, eps=1e-8) for _ in range(blocks))
        self.attn = nn.ModuleList(nn.MultiheadAttention(dim, heads, dropout, batch_first=True) for _ in range(blocks))
        self.ffn_ln = nn.ModuleList(nn.LayerNorm(dim, eps=1e-8) for _ in range(blocks))
        self.ffn = nn.ModuleList(nn.Sequential(nn.Linear(dim, dim), nn.Dropout(dropout), nn.ReLU(),
                                               nn.Linear(dim, dim), nn.Dropout(dropout)) for _ in range(blocks))
        self.last_ln = nn.LayerNorm(dim, eps=1e-8)

    def loss(self, seq: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        n = seq.shape[1]
        keep = (seq != self.pad).unsqueeze(-1).float()
        x = self.drop(self.item_emb(seq) * math.sqrt(self.dim) + self.pos_emb(torch.arange(n - 1, -1, -1))) * keep
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
        for ln, attn, fln, ffn in zip(self.attn_ln, self.attn, self.ffn_ln, self.ffn):
            q = ln(x)
            a, _ = attn(q, x, x, attn_mask=causal, need_weights=False)
            x = fln(q + a)
            x = (x + ffn(x)) * keep
        h = self.last_ln(x)
        real = seq != self.pad
        pl = (h * self.item_emb(pos)).sum(-1)[real]
        nl = (h * self.item_emb(neg)).sum(-1)[real]
        return F.binary_cross_entropy_with_logits(pl, torch.ones_like(pl)) + \
            F.binary_cross_entropy_with_logits(nl, torch.zeros_like(nl))


def twin_epoch(twin: TorchSASRec, opt, model, users, neg, batch_size: int) -> float:
    start = time.perf_counter()
    twin.train()
    for s in range(0, len(users), batch_size):
        hist = model.history[users[s:s + batch_size]]
        opt.zero_grad()
        loss = twin.loss(hist[:, :-1], hist[:, 1:], neg[s:s + batch_size, :, 0])
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def run(args, out: Path) -> list[Path]:
    max_lens = args.max_len or ([10] if args.quick else [50, 200])
    repeat = args.repeat or (1 if args.quick else 3)
    split = build_split(DataConfig(args.dataset, args.data_dir, args.split_dir, args.split_seed),
                        cache=not args.no_cache).split
    results, lines = {}, ["| max_len | graphrec epoch (s) | nn.MultiheadAttention twin (s) | ratio (best) |",
                          "|---:|---:|---:|---:|"]
    for max_len in max_lens:
        cfg = TrainConfig(model="sasrec", hparams={"factors": 50, "num_layers": 2, "heads": 1, "dropout": 0.2,
                                                   "max_len": max_len}, batch_size=128, num_ng=1, lr=1e-3,
                          threads=torch.get_num_threads(), device="cpu")
        model = build_model(cfg, Prepared(None, split))
        trainer = Trainer(model, split, cfg, None, progress=False, tensorboard=False)
        torch.manual_seed(0)
        twin = TorchSASRec(split.num_items, 50, max_len, 2, 1, 0.2)
        opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
        ours, theirs = [], []
        for r in range(1, repeat + 1):
            ours.append(trainer.train_epoch(r)[1])
            users, neg = model.epoch_batches(split, cfg, torch.Generator().manual_seed(r))
            theirs.append(twin_epoch(twin, opt, model, users, neg, cfg.batch_size))
        best_ours, best_theirs = min(ours), min(theirs)
        results[str(max_len)] = {"graphrec_s": ours, "twin_s": theirs, "ratio_best": best_ours / best_theirs}
        lines.append(f"| {max_len} | {best_ours:.2f} ({', '.join(f'{t:.2f}' for t in ours)}) | {best_theirs:.2f} "
                     f"({', '.join(f'{t:.2f}' for t in theirs)}) | {best_ours / best_theirs:.2f} |")
    text = (f"One sasrec training epoch (factors 50, 2 blocks, 1 head, batch 128), best of {repeat}; torch threads: "
            f"{torch.get_num_threads()}\n\n" + "\n".join(lines) + "\n")
    print(text)
    return [save(out / "speed.md", text), save(out / "speed.json", {"repeat": repeat, "max_len": results})]
