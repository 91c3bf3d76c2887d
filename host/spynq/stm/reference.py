"""Float64 reference of STM inference: the maths of eq. (1)-(9), vectorised over the batch.

Same algorithm as the golden model (spynq.stm.golden) without quantisation, so the two
differ only by rounding; that difference is bounded in tests/test_stm_model.py.

Where the fixed tiers saturate, this reference does the same and says so, so that every
backend gives the same kind of answer (same status, same NaN-or-number) for the same
input: an energy (one edge, or the sum at a node) is capped at the kernel's energy range
E_CAP (UQ16.16 all ones, ~65536; an impossible value, energy inf, lands there too), and a
minimum energy above E_GUARD sets ST_SATURATED exactly as in golden.node_weights and
golden.precompute. So impossible evidence (every sample's likelihood 0) gives what the
kernel gives: every sample at the cap, weights = the node's message products (the prior's
sample weights), ST_SATURATED, and numbers, not NaN. ST_ZERO_SUM is a weight sum that is
really zero. The fixed tiers' ST_UNDERFLOW (a count of UQ1.31 terms) has no float analogue.

Memory is bounded: the batch is processed in chunks of about CHUNK_ELEMS values per
(rows, samples) array, and an edge's normalised likelihood matrix (child samples x parent
samples) is computed whole when it has at most MATRIX_ELEMS entries (every edge the
kernel takes), else in row blocks of that size for each chunk.

The normalised likelihood is evidence independent: a whole matrix is kept in a cache per
population (keyed on the child's energy parameters and the child and parent sample
arrays' contents, so changing a population in place is seen), up to CACHE_BYTES in all,
least recently used first out; a later call on the same populations, whatever its batch,
only pays the messages. A parent whose population repeats values (a discrete parent:
its samples are states) gets one column per distinct value, its row sums weighted by how
often each value occurs, and the message is spread back to the samples: the same maths
with K columns instead of N (sums reassociated: within float rounding of the N-column
form).
"""
from __future__ import annotations


import numpy as np

from ..cache import ByteLRU, default_limit, digest
from ..fixed import U32_MAX
from ..hw.cconfig import read_constants
from .energy import edge_energy
from .model import Network
from .result import ST_SATURATED, ST_ZERO_SUM

_C = read_constants("stm/stm_config.h")
E_CAP = U32_MAX / 2.0 ** _C["STM_ENERGY_FRAC"]  # the fixed tiers' saturated energy
E_GUARD = E_CAP - _C["STM_SAT_GUARD_UNITS"]  # golden.SAT_GUARD in energy units
CHUNK_ELEMS = 1 << 22  # 32 MB per float64 (rows, samples) array
MATRIX_ELEMS = 1 << 24  # 128 MB: a 4096 x 4096 edge (STM_MAX_SAMPLES) is precomputed
CACHE_BYTES = default_limit()  # normalised likelihood matrices kept between calls (512 MB; less on a small machine)
BLOCK_ELEMS = 1 << 15  # entries per row block while a matrix is computed: its temporaries stay in L2
_CACHE = ByteLRU(lambda: CACHE_BYTES)  # key -> _Edge


def _energy(dist_energy, child, parent) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        z = np.asarray(dist_energy(child, parent), float)
    # capped at E_CAP, NaN and inf too (fmin takes the number where one side is NaN);
    # energies are >= 0 (squares plus g >= 0, table entries >= 0), so no -inf to map
    return np.fmin(z, E_CAP, out=z if z.flags.writeable and z.dtype == float else None)


def _weights(E: np.ndarray | None, P: np.ndarray | None, shape):
    """Divisive normalisation of exp(-E) * P over the population (E None: all zero, P
    None: all one); the rows' ST_* bits. Overwrites E and P (each is used once)."""
    if E is None:  # exp(-(0 - 0)) * P is P itself
        u = np.ones(shape) if P is None else P
        saturated = np.zeros(shape[0], bool)
    else:
        emin = E.min(axis=1, keepdims=True)
        saturated = emin[:, 0] > E_GUARD
        u = np.subtract(emin, E, out=E)  # -(E - emin), the same bits
        np.exp(u, out=u)
        if P is not None:
            u *= P
    total = u.sum(axis=1, keepdims=True)
    zero = total[:, 0] <= 0
    status = np.where(zero, ST_ZERO_SUM, 0) | np.where(saturated, ST_SATURATED, 0)
    if not zero.any():
        return np.divide(u, total, out=u), status
    return np.where(zero[:, None], 0.0, u / np.where(zero, 1.0, total[:, 0])[:, None]), status


def normalised_likelihood(child, parent, child_samples, parent_samples):
    """L[k, l] = P(c_k | x_l) / sum_l' P(c_k | x_l'): the evidence-independent part of eq. (8);
    and whether a row's minimum energy is past E_GUARD (the kernel's precompute flag)."""
    return _likelihood(edge_energy(child.dist), np.asarray(child_samples), np.asarray(parent_samples), None)


def _likelihood(energy, cs, ps, counts):
    """normalised_likelihood over the columns ps, each standing for counts[l] parent
    samples (None: one each), computed in row blocks that stay in cache (per-row
    reductions: the same values as on the whole matrix)."""
    L = np.empty((len(cs), len(ps)))
    saturated = False
    rows = max(1, BLOCK_ELEMS // max(len(ps), 1))
    for k in range(0, len(cs), rows):
        blk = L[k:k + rows]
        z = _energy(energy, cs[k:k + rows, None], ps[None, :])
        zmin = z.min(axis=1, keepdims=True)
        saturated |= bool((zmin > E_GUARD).any())
        np.subtract(zmin, z, out=blk)  # -(z - zmin), the same bits (rounding is sign-symmetric)
        np.exp(blk, out=blk)
        total = blk.sum(axis=1, keepdims=True) if counts is None else (blk @ counts)[:, None]
        np.divide(blk, total, out=blk)
    return L, saturated


class _Edge:
    """The message of a hidden child to its parent, w @ L, with L whole or in row blocks,
    over the parent's distinct values when it repeats them."""

    def __init__(self, child, parent, cs, ps):
        self.energy = edge_energy(child.dist)
        self.cs = np.asarray(cs)
        pu, inv = np.unique(ps, return_inverse=True)
        if len(pu) < len(ps):  # repeated values (states): one column per value
            self.ps, self.inv, self.counts = pu, inv.reshape(-1), np.bincount(inv.reshape(-1)).astype(float)
        else:
            self.ps, self.inv, self.counts = np.asarray(ps), None, None
        self.rows = max(1, MATRIX_ELEMS // len(self.ps))
        self.L, self.saturated = None, False
        if len(self.cs) <= self.rows:
            self.L, self.saturated = _likelihood(self.energy, self.cs, self.ps, self.counts)
        else:  # evidence independent: the flag is known before the first chunk
            for k in range(0, len(self.cs), self.rows):
                self.saturated |= _likelihood(self.energy, self.cs[k:k + self.rows], self.ps, self.counts)[1]

    @property
    def nbytes(self) -> int:
        return 0 if self.L is None else self.L.nbytes

    def message(self, w: np.ndarray) -> np.ndarray:
        if self.L is not None:
            m = w @ self.L
        else:
            m = np.zeros((len(w), len(self.ps)))
            for k in range(0, len(self.cs), self.rows):
                m += w[:, k:k + self.rows] @ _likelihood(self.energy, self.cs[k:k + self.rows], self.ps,
                                                         self.counts)[0]
        return m if self.inv is None else m[:, self.inv]


def edge(child, parent, cs, ps, memo: dict | None = None) -> _Edge:
    """The _Edge of child -> parent on these populations, from the cache when it is there.
    memo: digests of the sample arrays already hashed in this call (a parent with several
    children is hashed once)."""
    memo = {} if memo is None else memo
    for a in (cs, ps):
        if id(a) not in memo:
            memo[id(a)] = (a, digest(a))  # the array kept alive: its id stays its own
    e = edge_energy(child.dist)
    key = digest(np.array([e.kind, MATRIX_ELEMS, BLOCK_ELEMS]), e.a, e.b, e.r, e.g, e.table) \
        + memo[id(cs)][1] + memo[id(ps)][1]
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    made = _Edge(child, parent, cs, ps)
    _CACHE.put(key, made)
    return made


def clear_cache() -> None:
    """Forget every cached normalised likelihood (they are rebuilt on the next call)."""
    _CACHE.clear()


def infer_weights(network: Network, pops: dict, evidence: np.ndarray):
    """Root weights (batch, N_root) and the rows' ST_* status bits (ST_ZERO_SUM,
    ST_SATURATED), in float64."""
    ev = network.evidence_array(evidence)
    order = network.post_order()
    memo = {}
    edges = {n.name: edge(n, n.parent, pops[n.name], pops[n.parent.name], memo)
             for n in order if not n.observed and n.parent is not None}
    pre_sat = any(e.saturated for e in edges.values())
    rows = max(1, CHUNK_ELEMS // max(len(pops[n.name]) for n in network.hidden_nodes))
    w = np.empty((len(ev), len(pops[network.root_node.name])))  # the result: no second copy
    status = np.full(len(ev), ST_SATURATED if pre_sat else 0, np.int64)
    for b in range(0, len(ev), rows):
        w[b:b + rows], st = _infer_chunk(network, order, pops, edges, ev[b:b + rows])
        status[b:b + rows] |= st
    return w, status


def _infer_chunk(network, order, pops, edges, ev):
    batch = len(ev)
    col = {n.name: j for j, n in enumerate(network.evidence_nodes)}
    E = {}  # a node's summed leaf energies; none yet: all zero
    P = {}  # a node's product of child messages; none yet: all one
    status = np.zeros(batch, np.int64)
    root = network.root_node
    for node in order:
        parent = node.parent
        if node.observed:
            z = _energy(edge_energy(node.dist), ev[:, col[node.name]][:, None], pops[parent.name][None, :])
            if parent.name in E:  # the kernel's saturating sum
                np.minimum(np.add(E[parent.name], z, out=E[parent.name]), E_CAP, out=E[parent.name])
            else:
                E[parent.name] = z  # 0 + z, already capped
            continue
        w, st = _weights(E.pop(node.name, None), P.pop(node.name, None), (batch, len(pops[node.name])))
        status |= st
        if node is root:
            return w, status
        m = edges[node.name].message(w)
        mmax = m.max(axis=1, keepdims=True)
        if (mmax > 0).all():
            f = np.divide(m, mmax, out=m)
        else:
            f = np.where(mmax > 0, m / np.where(mmax > 0, mmax, 1), 0.0)
        if parent.name in P:
            P[parent.name] *= f
        else:
            P[parent.name] = f  # 1 * f
    raise AssertionError("post-order ends at the root")


def status_from_zero(status: np.ndarray) -> np.ndarray:
    """The ST_* bits of infer_weights as int64 (a bool zero-sum mask is also taken)."""
    status = np.asarray(status)
    if status.dtype == bool:
        return np.where(status, ST_ZERO_SUM, 0).astype(np.int64)
    return status.astype(np.int64)
