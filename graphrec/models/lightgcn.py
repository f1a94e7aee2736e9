"""LightGCN (He et al., SIGIR 2020, "LightGCN: Simplifying and Powering Graph Convolution
Network for Recommendation") on the split's training graph.

Users and movies share one index space (users ``0..U-1``, movies ``U..U+M-1``) of
:func:`graphrec.data.graph.homogeneous`. The training edges, in both directions, are
normalised once with :func:`~torch_geometric.nn.conv.gcn_norm` (``D^-1/2 A D^-1/2``, no
self-loops) and kept as a sparse CSR matrix, so a propagation is ``num_layers`` sparse
matrix products, linear in the number of ratings. The final embedding is the mean of the
layer outputs, and a (user, movie) score is the dot product of the final embeddings.
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torch_geometric.nn import LightGCN as PyGLightGCN
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from ..data.graph import RATES, homogeneous
from .base import Recommender, declare


class _SymmetricSpMM(torch.autograd.Function):
    """``A @ x`` for a symmetric sparse ``A``: the backward is ``A @ grad`` too.

    Autograd's generic backward would transpose the CSR matrix on every call,
    which costs far more than the product itself.
    """

    @staticmethod
    def forward(ctx, adj: Tensor, x: Tensor) -> Tensor:
        ctx.adj = adj
        return adj @ x.contiguous()

    @staticmethod
    def backward(ctx, grad: Tensor):
        return None, ctx.adj @ grad.contiguous()


@declare(uses_graph=True)
class LightGCN(Recommender):
    """Wraps :class:`torch_geometric.nn.LightGCN`; trained with BPR (or BCE with ``loss="bce"``)
    and L2 on the batch's ego embeddings.

    ``l2_in_loss``: by default the trainer adds ``config.l2 * regularization(...)`` to the
    loss and does not apply weight decay on top (no double regularisation).
    """

    loss = "bpr"
    l2_in_loss = True

    def __init__(self, num_users: int, num_items: int, train_user: Tensor, train_item: Tensor,
                 factors: int = 64, num_layers: int = 3) -> None:
        super().__init__()
        self.num_users, self.num_items = int(num_users), int(num_items)
        self.factors, self.num_layers = factors, num_layers
        view = homogeneous(train_user, train_item, num_users, num_items)
        n = view.num_nodes
        edge_index, weight = gcn_norm(view.edge_index, None, n, add_self_loops=False)
        # LGConv aggregates into the target (row) from the source (column); the graph is symmetric.
        order = torch.argsort(edge_index[1] * n + edge_index[0])
        row, col = edge_index[1][order], edge_index[0][order]
        crow = torch.zeros(n + 1, dtype=torch.long)
        crow[1:] = torch.cumsum(torch.bincount(row, minlength=n), 0)
        # A plain attribute, not a buffer: never saved, never broadcast by DDP; moved lazily.
        with warnings.catch_warnings():  # "sparse CSR support is in beta": matmul is all we use
            warnings.simplefilter("ignore", UserWarning)
            self._adj = torch.sparse_csr_tensor(crow, col, weight[order], (n, n), check_invariants=False)
        # PyG's model holds the parameters (ego embeddings) and the layer weights alpha;
        # propagation is its get_embedding with the symmetric product above.
        self.gnn = PyGLightGCN(n, factors, num_layers, normalize=False)
        self._cache: tuple | None = None  # ((weight ptr, version), embeddings)

    @classmethod
    def build(cls, ml, split, **hparams) -> "LightGCN":
        """The graph is the split's training graph (``split.graph``, HeteroData): validation and test edges are unseen."""
        users, items = split.graph[RATES].edge_index
        return cls(split.num_users, split.num_items, users, items, **hparams)

    def reset_parameters(self) -> None:
        self.gnn.reset_parameters()
        self._cache = None

    def adjacency(self) -> Tensor:
        dev = self.gnn.embedding.weight.device
        if self._adj.device != dev:
            self._adj = self._adj.to(dev)
        return self._adj

    def embeddings(self) -> Tensor:
        """``sum_l alpha_l A^l E`` for all nodes, as :meth:`torch_geometric.nn.LightGCN.get_embedding`."""
        adj, alpha = self.adjacency(), self.gnn.alpha
        x = self.gnn.embedding.weight
        out = x * alpha[0]
        for layer in range(self.num_layers):
            x = _SymmetricSpMM.apply(adj, x)
            out = out + x * alpha[layer + 1]
        return out

    def propagate(self) -> tuple[Tensor, Tensor]:
        """(user, movie) final embeddings; cached for inference until the weights change."""
        if self.training or torch.is_grad_enabled():
            out = self.embeddings()
        else:
            w = self.gnn.embedding.weight
            key = (w.data_ptr(), w._version)
            if self._cache is None or self._cache[0] != key:
                self._cache = (key, self.embeddings())
            out = self._cache[1]
        return out[:self.num_users], out[self.num_users:]

    def train(self, mode: bool = True) -> "LightGCN":
        # Fused optimizers update weights without bumping their version counter, so the cache
        # is also dropped on every switch between training and evaluation.
        self._cache = None
        return super().train(mode)

    def forward(self, user: Tensor, item: Tensor) -> Tensor:
        u, m = self.propagate()
        return (u[user] * m[item]).sum(-1)

    def pair_logits(self, users: Tensor, pos: Tensor, neg: Tensor) -> tuple[Tensor, Tensor]:
        u, m = self.propagate()  # one propagation per batch
        eu = u[users]
        return (eu * m[pos]).sum(-1), (eu * m[neg]).sum(-1)

    def regularization(self, users: Tensor, *items: Tensor) -> Tensor:
        """``(||e_u||^2 + ||e_pos||^2 + ||e_neg||^2) / (2 B)`` on layer-0 (ego) embeddings, as in the paper."""
        w = self.gnn.embedding.weight
        ego = torch.cat([w[users], *(w[i + self.num_users] for i in items)])
        return ego.pow(2).sum() / (2 * len(users))

    @torch.no_grad()
    def score(self, users: Tensor, items: Tensor) -> Tensor:
        u, m = self.propagate()
        return torch.einsum("nd,ncd->nc", u[users], m[items])

    @torch.no_grad()
    def score_all(self, users: Tensor, chunk: int = 1 << 20) -> Tensor:
        u, m = self.propagate()
        return u[users] @ m.T
