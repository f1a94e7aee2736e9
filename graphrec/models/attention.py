"""Multi-head scaled dot-product attention, written from scratch (Vaswani et al., 2017).

Numerically the same as ``torch.nn.MultiheadAttention(batch_first=True)`` given the
same weights (``tests/test_attention.py`` checks it); kept by hand so that the
attention-based NCF models show every step and can hand back the weights per head.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class MultiHeadSelfAttention(nn.Module):
    """``softmax(Q K^T / sqrt(d_head) + mask) V`` in ``num_heads`` heads, concatenated and projected.

    Args:
        embed_dim: model width ``d``; split into ``num_heads`` heads of ``d / num_heads``.
        num_heads: number of heads.
        dropout: dropout on the attention weights (training only).
        bias: biases in the Q/K/V and output projections.

    ``forward(x)`` is self-attention over the tokens of ``x [B, L, d]``; passing
    ``key``/``value`` makes it cross-attention (used to pool a sequence with a
    learned query).
    """

    def __init__(self, embed_dim: int, num_heads: int = 1, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform projections and zero biases, as ``nn.MultiheadAttention``."""
        for lin in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            nn.init.xavier_uniform_(lin.weight)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    def _heads(self, x: Tensor) -> Tensor:
        b, n, _ = x.shape  # [B, L, d] -> [B, H, L, d_head]
        return x.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: Tensor, key: Tensor | None = None, value: Tensor | None = None,
                mask: Tensor | None = None, key_padding_mask: Tensor | None = None,
                need_weights: bool = False, average_weights: bool = True) -> tuple[Tensor, Tensor | None]:
        """Attend from the tokens of ``x [B, Lq, d]`` to ``key``/``value`` (default ``x``).

        Args:
            mask: ``[Lq, Lk]``, ``[B, Lq, Lk]`` or ``[B, H, Lq, Lk]``; boolean ``True``
                forbids a position, a float mask is added to the scores.
            key_padding_mask: ``[B, Lk]`` boolean, ``True`` = ignore that key.
            need_weights: also return the attention weights, ``[B, Lq, Lk]``
                averaged over heads, or ``[B, H, Lq, Lk]`` with ``average_weights=False``.

        Returns:
            ``(out [B, Lq, d], weights or None)``.
        """
        key = x if key is None else key
        value = key if value is None else value
        q, k, v = self._heads(self.q_proj(x)), self._heads(self.k_proj(key)), self._heads(self.v_proj(value))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # [B, H, Lq, Lk]
        if mask is not None:
            m = mask if mask.dim() != 3 else mask[:, None]
            scores = scores.masked_fill(m, float("-inf")) if m.dtype == torch.bool else scores + m
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        ctx = self.dropout(weights) @ v  # [B, H, Lq, d_head]
        b, _, n, _ = ctx.shape
        out = self.out_proj(ctx.transpose(1, 2).reshape(b, n, self.embed_dim))
        if not need_weights:
            return out, None
        return out, weights.mean(dim=1) if average_weights else weights
