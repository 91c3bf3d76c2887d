"""Float64 reference of STM inference: the maths of eq. (1)-(9), vectorised over the batch.

Same algorithm as the golden model (spynq.stm.golden) without quantisation, so the two
differ only by rounding; that difference is bounded in tests/test_stm_golden.py.
"""
from __future__ import annotations

import numpy as np

from .energy import edge_energy
from .model import Network
from .result import ST_ZERO_SUM


def _weights(E: np.ndarray, P: np.ndarray):
    """Divisive normalisation of exp(-E) * P over the population; zero rows flagged."""
    with np.errstate(invalid="ignore"):
        u = np.exp(-(E - E.min(axis=1, keepdims=True))) * P
    u = np.nan_to_num(u, nan=0.0)
    total = u.sum(axis=1, keepdims=True)
    zero = total[:, 0] <= 0
    return np.where(zero[:, None], 0.0, u / np.where(zero, 1.0, total[:, 0])[:, None]), zero


def normalised_likelihood(child, parent, child_samples, parent_samples) -> np.ndarray:
    """L[k, l] = P(c_k | x_l) / sum_l' P(c_k | x_l'): the evidence-independent part of eq. (8)."""
    z = edge_energy(child.dist)(child_samples[:, None], parent_samples[None, :])
    L = np.exp(-(z - z.min(axis=1, keepdims=True)))
    return L / L.sum(axis=1, keepdims=True)


def infer_weights(network: Network, pops: dict, evidence: np.ndarray):
    """Root weights (batch, N_root) and a zero-sum mask, in float64."""
    ev = network.evidence_array(evidence)
    batch = len(ev)
    col = {n.name: j for j, n in enumerate(network.evidence_nodes)}
    E = {n.name: np.zeros((batch, len(pops[n.name]))) for n in network.hidden_nodes}
    P = {n: np.ones_like(e) for n, e in E.items()}
    zero_any = np.zeros(batch, bool)
    root = network.root_node
    for node in network.post_order():
        parent = node.parent
        if node.observed:
            E[parent.name] += edge_energy(node.dist)(ev[:, col[node.name]][:, None], pops[parent.name][None, :])
            continue
        w, zero = _weights(E[node.name], P[node.name])
        zero_any |= zero
        if node is root:
            return w, zero_any
        m = w @ normalised_likelihood(node, parent, pops[node.name], pops[parent.name])
        mmax = m.max(axis=1, keepdims=True)
        P[parent.name] *= np.where(mmax > 0, m / np.where(mmax > 0, mmax, 1), 0.0)
    raise AssertionError("post-order ends at the root")


def status_from_zero(zero: np.ndarray) -> np.ndarray:
    return np.where(zero, ST_ZERO_SUM, 0).astype(np.int64)
