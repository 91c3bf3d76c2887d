"""The result type every STM backend returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .model import Network

# status bits, identical in golden, csim, cosim and fpga (defined in hls/stm/stm_config.h)
from ..hw.cconfig import read_constants
from ..errors import SpynqTypeError

_C = read_constants("stm/stm_config.h")
ST_UNDERFLOW = _C["STM_ST_UNDERFLOW"]
ST_ZERO_SUM = _C["STM_ST_ZERO_SUM"]
ST_SATURATED = _C["STM_ST_SATURATED"]
ST_BAD_NET = _C["STM_ST_BAD_NET"]


@dataclass
class StmResult:
    """Importance weights of the root population for each evidence set.

    weights[b, l] is the posterior weight of root sample l given evidence set b, each row
    summing to 1 (rows with ST_ZERO_SUM are all zero and their posterior is NaN).
    """

    backend: str
    network: Network
    root_samples: np.ndarray
    weights: np.ndarray  # (batch, N_root) float64
    status: np.ndarray  # (batch,) int, ST_* bits
    underflows: np.ndarray  # (batch,) likelihood terms that underflowed
    raw_weights: np.ndarray | None = None  # (batch, N_root) unnormalised UQ1.31 of fixed-point tiers
    seconds: float = float("nan")  # wall time of the inference call
    info: dict = field(default_factory=dict)  # cycles, transfers, build details

    @property
    def batch(self) -> int:
        return self.weights.shape[0]

    @property
    def valid(self) -> np.ndarray:
        return (self.status & (ST_ZERO_SUM | ST_BAD_NET)) == 0

    def posterior(self) -> np.ndarray:
        """P(root = a | evidence) for a discrete root, shape (batch, n_states); eq. (5)."""
        root = self.network.root_node
        if not root.discrete:
            raise SpynqTypeError(f"root {root.name!r} is continuous: use mean() or histogram()")
        onehot = np.eye(root.n_states)[self.root_samples.astype(np.int64)]
        post = self.weights @ onehot
        post[~self.valid] = np.nan
        return post

    def mean(self) -> np.ndarray:
        """Posterior mean of the root, shape (batch,); eq. (9) with f(S) = S."""
        m = self.weights @ self.root_samples.astype(float)
        m[~self.valid] = np.nan
        return m

    def histogram(self, edges) -> np.ndarray:
        """Posterior mass of the root in each bin [edges[i], edges[i+1]), shape (batch, bins)."""
        edges = np.asarray(edges, float)
        idx = np.searchsorted(edges, self.root_samples, side="right") - 1
        inside = (idx >= 0) & (idx < len(edges) - 1)
        onehot = np.zeros((len(self.root_samples), len(edges) - 1))
        onehot[np.nonzero(inside)[0], idx[inside]] = 1.0
        h = self.weights @ onehot
        h[~self.valid] = np.nan
        return h
