"""SASRec: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018).

A user is the sequence of the movies they rated, in (timestamp, movie) order. Each token
``t`` of the last ``L`` movies ``s_1 .. s_n`` becomes

.. math::

    x_t = \\sqrt{d}\\, E_{s_t} + P_{n - t}

(``E`` the item embedding, ``P`` a learned embedding of the *recency* position: the latest movie is
position 0, so the amount of left padding never matters). ``num_layers`` blocks follow, each

.. math::

    q = \\mathrm{LN}(x), \\quad x \\leftarrow q + \\mathrm{MHA}(q, x, x; \\text{causal}),\\quad
    y = \\mathrm{LN}(x), \\quad x \\leftarrow y + W_2\\, \\mathrm{drop}(\\mathrm{ReLU}(W_1 y))

(the layout of the authors' code and of ``SASRec.pytorch``), then a last layer norm gives
``h_t``. The *causal* mask lets token ``t`` attend only to tokens ``<= t``, and padded tokens are
never attended to from a real one, so ``h_t`` depends on ``s_1 .. s_t`` alone. The score of the
next movie ``i`` is ``h_t . E_i``: the item embedding is shared with the output layer.

Training reads every position of every sequence in one pass (batches of users): position ``t``
predicts ``s_{t+1}``. Losses (``loss``): ``"bce"`` (the paper: the positive against
``config.num_ng`` sampled negatives per position, ``-log s(h.E_pos) - log(1 - s(h.E_neg))``),
``"bpr"`` (``-log s(h.E_pos - h.E_neg)``), ``"sampled"`` (softmax over the positive and its sampled
negatives) or ``"ce"`` (full softmax over every movie). Negatives are movies the user never rated
in training, fresh each epoch.

The model keeps each user's last ``L + 1`` training movies (the ``history`` buffer, saved with its
weights): scoring a user reads their whole training sequence, so a refit on train + validation
(:func:`graphrec.training.refit.with_validation_in_train`, which dates the validation item after
the last training one) scores the test item with the validation item appended to the input.

``graph=True`` propagates the movie embeddings over the training graph (:func:`item_propagation`);
:meth:`SASRec.history_attributions` says which past movies drove a score (integrated gradients).
On the reference split: ``docs/sequential.md``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import MultiHeadSelfAttention
from .base import Recommender, declare

LOSSES = ("bce", "bpr", "sampled", "ce")


def user_sequences(users: Tensor, items: Tensor, times: Tensor, num_users: int, length: int,
                   pad: int) -> Tensor:
    """``[num_users, length]`` of each user's latest ``length`` items in (time, item) order,
    left-padded with ``pad`` (the latest item is the last column)."""
    users, items, times = users.long(), items.long(), times.long()
    order = torch.argsort(items, stable=True)  # (user, time, item) order by stable sorts, last key first
    order = order[torch.argsort(times[order], stable=True)]
    order = order[torch.argsort(users[order], stable=True)]
    u, i = users[order], items[order]
    count = torch.bincount(u, minlength=num_users)
    end = torch.cumsum(count, 0)
    rank_from_end = end[u] - 1 - torch.arange(len(u))  # 0 for a user's latest item
    keep = rank_from_end < length
    out = torch.full((num_users, length), pad, dtype=torch.long)
    out[u[keep], length - 1 - rank_from_end[keep]] = i[keep]
    return out


def item_propagation(users: Tensor, items: Tensor, num_users: int, num_items: int) -> Tensor:
    """``P = N^T N`` with ``N = D_u^{-1/2} R D_i^{-1/2}`` (``R`` the binary user x movie training matrix):
    LightGCN's symmetric normalisation applied twice, movie -> users -> movies, as a sparse
    ``[num_items, num_items]`` tensor."""
    key = torch.unique(users.long() * num_items + items.long())
    u, i = key // num_items, key % num_items
    du = torch.bincount(u, minlength=num_users).clamp_min(1).float()
    di = torch.bincount(i, minlength=num_items).clamp_min(1).float()
    w = (du[u] * di[i]).rsqrt()
    n = torch.sparse_coo_tensor(torch.stack([u, i]), w, (num_users, num_items)).coalesce()
    return torch.sparse.mm(n.t().coalesce(), n).coalesce()


class PointwiseFeedForward(nn.Module):
    """``W_2 drop(ReLU(W_1 y))`` then dropout, applied to each token alike."""

    def __init__(self, dim: int, dropout: float) -> None:
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, y: Tensor) -> Tensor:
        return self.dropout(self.lin2(self.dropout(torch.relu(self.lin1(y)))))


class SASRecBlock(nn.Module):
    """One causal self-attention block (pre-norm query, post-norm feed-forward, as the authors' code)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attn_norm, self.ffn_norm = nn.LayerNorm(dim, eps=1e-8), nn.LayerNorm(dim, eps=1e-8)
        self.attn = MultiHeadSelfAttention(dim, heads, dropout=dropout)
        self.ffn = PointwiseFeedForward(dim, dropout)

    def forward(self, x: Tensor, forbid: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        q = self.attn_norm(x)
        a, w = self.attn(q, x, x, mask=forbid, need_weights=need_weights)
        y = self.ffn_norm(q + a)
        return y + self.ffn(y), w


@declare()
class SASRec(Recommender):
    """Causal self-attention over a user's last ``max_len`` movies (Kang & McAuley, 2018).

    Args:
        num_users, num_items: sizes of the split.
        history: ``[num_users, max_len + 1]`` latest training items per user, left-padded with
            ``num_items`` (:func:`user_sequences`; :meth:`build` makes it from the split).
        factors: model width ``d`` (item and position embeddings, every block).
        num_layers: self-attention blocks.
        heads: attention heads (``factors`` must divide by it).
        dropout: on the embeddings, the attention weights and the feed-forward layers.
        max_len: ``L``, how many of the latest movies are read.
        loss: ``"bce"`` (the paper), ``"bpr"``, ``"sampled"`` (sampled softmax) or ``"ce"`` (full
            softmax); a ``config.loss`` given to the trainer (``bce``/``bpr``) overrides it.
        graph: ``[num_items, num_items]`` sparse propagation ``P`` over the training graph
            (:func:`item_propagation`, :meth:`build` with ``graph=True``): every movie's embedding, as a
            token and in the output layer, becomes ``(E_i + (P E)_i) / 2``, LightGCN's two hops
            movie -> users -> movies, so a rarely rated movie borrows from its graph neighbours.
    """

    def __init__(self, num_users: int, num_items: int, history: Tensor | None = None, factors: int = 50,
                 num_layers: int = 2, heads: int = 1, dropout: float = 0.2, max_len: int = 50,
                 loss: str = "bce", graph: Tensor | None = None) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}")
        if max_len < 1 or factors < 1 or num_layers < 0 or heads < 1:
            raise ValueError("max_len, factors and heads must be >= 1 and num_layers >= 0")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.num_users, self.num_items, self.max_len, self.dim = num_users, num_items, max_len, factors
        self.seq_loss = loss
        self.pad = num_items  # the padding token: the item embedding's extra last row
        if history is None:
            history = torch.full((num_users, max_len + 1), num_items, dtype=torch.long)
        if history.shape != (num_users, max_len + 1):
            raise ValueError(f"history must be [{num_users}, {max_len + 1}], got {list(history.shape)}")
        self.register_buffer("history", history.long().clone())
        self.item_emb = nn.Embedding(num_items + 1, factors, padding_idx=num_items)
        self.pos_emb = nn.Embedding(max_len, factors)
        self.emb_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(SASRecBlock(factors, heads, dropout) for _ in range(num_layers))
        self.last_norm = nn.LayerNorm(factors, eps=1e-8)
        # derived from the split by build(), so not saved with the weights; a buffer, so .to(device) moves it
        self.register_buffer("propagation", graph, persistent=False)
        self.reset_parameters()

    @classmethod
    def build(cls, ml, split, **hparams) -> "SASRec":
        """The model with each user's training sequence from ``split`` (train_user, train_item, train_time)."""
        max_len = int(hparams.get("max_len", 50))
        history = user_sequences(split.train_user, split.train_item, split.train_time, split.num_users,
                                 max_len + 1, split.num_items)
        if hparams.get("graph"):
            hparams["graph"] = item_propagation(split.train_user, split.train_item, split.num_users, split.num_items)
        else:
            hparams.pop("graph", None)
        return cls(split.num_users, split.num_items, history, **hparams)

    def reset_parameters(self) -> None:
        """Xavier-normal weights (as the authors' code), zero biases, unit layer norms, a zero padding row."""
        for name, p in self.named_parameters():
            if p.dim() > 1:
                nn.init.xavier_normal_(p)
            elif name.endswith("norm.weight"):
                nn.init.ones_(p)
            else:
                nn.init.zeros_(p)
        with torch.no_grad():
            self.item_emb.weight[self.pad].zero_()

    # -- the sequence encoder ---------------------------------------------------------------------
    def encode(self, seq: Tensor, need_weights: bool = False) -> tuple[Tensor, list[Tensor]]:
        """``h [B, L', d]`` of left-padded sequences ``seq [B, L']`` (``L' <= max_len``, padding =
        ``num_items``): ``h[:, t]`` reads tokens ``<= t`` only. With ``need_weights`` also each block's
        attention weights ``[B, L', L']`` (averaged over heads)."""
        return self.encode_embedded(self.table()[seq] * math.sqrt(self.dim), seq == self.pad, need_weights)

    def encode_embedded(self, tokens: Tensor, pad: Tensor, need_weights: bool = False) -> tuple[Tensor, list[Tensor]]:
        """:meth:`encode` from the scaled item embeddings ``tokens [B, L', d]`` (the input that
        integrated gradients interpolates) and the padding mask ``pad [B, L']``."""
        b, n, _ = tokens.shape
        if n > self.max_len:
            raise ValueError(f"sequences of {n} tokens are longer than max_len {self.max_len}")
        positions = torch.arange(n - 1, -1, -1, device=tokens.device)  # recency: the last token is 0
        keep = (~pad).unsqueeze(-1).to(tokens.dtype)
        x = self.emb_dropout(tokens + self.pos_emb(positions)) * keep
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool, device=tokens.device), diagonal=1)
        # a real token never sees a padded one; a padded token may (its output is discarded), so no row is empty
        forbid = causal | (pad[:, None, :] & ~pad[:, :, None])
        weights = []
        for block in self.blocks:
            x, w = block(x, forbid, need_weights)
            x = x * keep
            if need_weights:
                weights.append(w)
        return self.last_norm(x), weights

    def user_states(self, users: Tensor) -> Tensor:
        """``[N, d]``: the state after each user's latest training movie (what predicts the next one)."""
        seq = self.history[users.long(), 1:]
        width = int((seq != self.pad).sum(1).max()) if len(seq) else 0  # drop columns that are padding for all
        seq = seq[:, seq.shape[1] - max(width, 1):]
        return self.encode(seq)[0][:, -1]

    def table(self) -> Tensor:
        """``[num_items + 1, d]``: the item embedding (propagated over the graph if the model has one),
        the padding row last."""
        if self.propagation is None:
            return self.item_emb.weight
        e = self.item_emb.weight[:self.num_items]
        e = (e + torch.sparse.mm(self.propagation, e)) / 2
        return torch.cat([e, self.item_emb.weight[self.num_items:]])

    def item_weights(self) -> Tensor:
        """``[num_items, d]``: the output layer (the item embedding without its padding row)."""
        return self.table()[:self.num_items]

    # -- scoring ----------------------------------------------------------------------------------
    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        uniq, inverse = torch.unique(user, return_inverse=True)
        h = self.user_states(uniq)[inverse]
        return (h * self.table()[item]).sum(-1)

    @torch.no_grad()
    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return torch.einsum("nd,ncd->nc", self.user_states(users), self.table()[items])

    @torch.no_grad()
    def score_all(self, users: Tensor, chunk: int = 1024) -> Tensor:
        return torch.cat([self.user_states(users[s:s + chunk]) @ self.item_weights().T
                          for s in range(0, len(users), chunk)]) if len(users) else torch.zeros(0, self.num_items)

    # -- explanations over time -------------------------------------------------------------------
    def history_attributions(self, user: int, item: int, steps: int = 64) -> tuple[Tensor, Tensor]:
        """Which past movies drove the score of ``item`` for ``user``: integrated gradients
        (Sundararajan et al., 2017) over the history positions.

        The input is the scaled embedding of each real token of the user's history, the baseline
        the same tokens at zero (positions kept); the path integral uses ``steps`` midpoint points.
        Returns ``(items [n], contributions [n])`` in history order (oldest first); the
        contributions sum to ``score - baseline score`` up to the quadrature error (completeness).
        """
        was = self.training
        self.eval()
        seq = self.history[int(user), 1:]
        seq = seq[seq != self.pad][None]
        if seq.shape[1] == 0:
            self.train(was)
            return seq[0], torch.zeros(0)
        pad = torch.zeros_like(seq, dtype=torch.bool)
        table = self.table().detach()
        x = table[seq] * math.sqrt(self.dim)
        target = table[int(item)]
        alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
        path = (alphas[:, None, None] * x).requires_grad_(True)  # [steps, n, d]
        h, _ = self.encode_embedded(path, pad.expand(steps, -1))
        grad, = torch.autograd.grad((h[:, -1] @ target).sum(), path)
        self.train(was)
        return seq[0], (x[0] * grad.mean(0)).sum(-1).detach()

    # -- training ---------------------------------------------------------------------------------
    def epoch_batches(self, split, config, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``(user, negatives [U, max_len, num_ng])``: every user with at least two training movies,
        shuffled, with fresh negatives for each position (movies the user never rated in training)."""
        hist = self.history.cpu()
        users = torch.nonzero((hist != self.pad).sum(1) >= 2).flatten()
        users = users[torch.randperm(len(users), generator=generator)]
        num_ng = 1 if self._loss(config) == "ce" else config.num_ng  # "ce" uses none: one placeholder
        neg = split.train_sampler.sample(users.repeat_interleave(self.max_len), num_ng, generator)
        return users, neg.view(len(users), self.max_len, num_ng)

    def _loss(self, config) -> str:
        return getattr(config, "loss", "") or self.seq_loss

    def batch_loss(self, batch: tuple[Tensor, Tensor], config) -> Tensor:
        """The loss over every real position of the batch's users' sequences (mean over positions)."""
        users, neg = batch
        hist = self.history[users]
        inputs, targets = hist[:, :-1], hist[:, 1:]
        width = max(int((inputs != self.pad).sum(1).max()), 1)  # columns that are padding for every user go
        inputs, targets, neg = inputs[:, -width:], targets[:, -width:], neg[:, -width:]
        table = self.table()  # propagated once per step
        h, _ = self.encode_embedded(table[inputs] * math.sqrt(self.dim), inputs == self.pad)
        real = inputs != self.pad
        h, pos, neg = h[real], targets[real], neg[real]  # [P, d], [P], [P, num_ng]
        loss = self._loss(config)
        if loss == "ce":
            return F.cross_entropy(h @ table[:self.num_items].T, pos)
        pos_logit = (h * table[pos]).sum(-1)
        neg_logit = torch.einsum("pd,pkd->pk", h, table[neg])
        if loss == "bce":
            return (F.binary_cross_entropy_with_logits(pos_logit, torch.ones_like(pos_logit))
                    + F.binary_cross_entropy_with_logits(neg_logit, torch.zeros_like(neg_logit)))
        if loss == "bpr":
            return -F.logsigmoid(pos_logit[:, None] - neg_logit).mean()
        logits = torch.cat([pos_logit[:, None], neg_logit], 1)  # sampled softmax: the positive is class 0
        return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))
