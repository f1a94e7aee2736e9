"""implicit's matrix factorisation (ALS, BPR) in graphrec's evaluator: optional baselines.

``pip install graphrec[baselines]`` installs `implicit <https://benfred.github.io/implicit/>`_;
without it, :func:`available` is ``False`` and fitting says how to install it.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ..data.split import Split
from ..errors import GraphrecError
from .base import declare


def available() -> bool:
    """Whether the optional ``implicit`` package can be imported."""
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True


def _implicit():
    try:
        import implicit
    except ImportError:
        raise GraphrecError("implicit is not installed: pip install 'graphrec[baselines]'") from None
    return implicit


class _ImplicitMF:
    """Fits an implicit model on the binary training matrix; scores are ``user_factors @ item_factors.T``."""

    #: The registry and the benchmark skip these models when implicit is not installed.
    available = staticmethod(available)

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.user_factors: Tensor | None = None
        self.item_factors: Tensor | None = None

    def _matrix(self, split: Split) -> sp.csr_matrix:
        u, i = split.train_user.numpy(), split.train_item.numpy()
        x = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(split.num_users, split.num_items))
        x.data[:] = 1.0  # duplicates count once
        return x

    def _model(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, split: Split) -> "_ImplicitMF":
        self.num_items = split.num_items
        model, x = self._model(), self._matrix(split)
        model.fit(self._weigh(x), show_progress=False)
        self.user_factors = torch.from_numpy(np.asarray(model.user_factors, dtype=np.float32))
        self.item_factors = torch.from_numpy(np.asarray(model.item_factors, dtype=np.float32))
        return self

    def _weigh(self, x: sp.csr_matrix) -> sp.csr_matrix:
        return x

    def score_all(self, users: Tensor) -> Tensor:
        return self.user_factors[users.long()] @ self.item_factors.T

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return torch.einsum("nd,ncd->nc", self.user_factors[users.long()], self.item_factors[items.long()])


@declare()
class ImplicitALS(_ImplicitMF):
    """Alternating least squares for implicit feedback (Hu, Koren and Volinsky, ICDM 2008), as
    :class:`implicit.als.AlternatingLeastSquares`, on BM25-weighted interactions by default."""

    def __init__(self, factors: int = 64, regularization: float = 0.01, iterations: int = 15, bm25: bool = True,
                 seed: int = 0) -> None:
        super().__init__(seed)
        self.factors, self.regularization, self.iterations, self.bm25 = factors, regularization, iterations, bm25

    def _model(self):
        _implicit()
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                       iterations=self.iterations, random_state=self.seed, num_threads=1)

    def _weigh(self, x: sp.csr_matrix) -> sp.csr_matrix:
        if not self.bm25:
            return x
        from implicit.nearest_neighbours import bm25_weight

        return bm25_weight(x).tocsr()


@declare()
class ImplicitBPR(_ImplicitMF):
    """Bayesian personalised ranking (Rendle et al., UAI 2009), as
    :class:`implicit.bpr.BayesianPersonalizedRanking` (its item factors end with a bias)."""

    def __init__(self, factors: int = 128, learning_rate: float = 0.01, regularization: float = 0.001,
                 iterations: int = 100, seed: int = 0) -> None:
        super().__init__(seed)
        self.factors, self.learning_rate = factors, learning_rate
        self.regularization, self.iterations = regularization, iterations

    def _model(self):
        _implicit()
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(factors=self.factors, learning_rate=self.learning_rate,
                                           regularization=self.regularization, iterations=self.iterations,
                                           random_state=self.seed, num_threads=1)
