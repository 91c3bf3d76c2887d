"""Fixed-point golden model of the STM kernel: the exact integer arithmetic of
hls/stm/stm_kernel.h, on the same packed buffers.

Per evidence set (one row of the batch), nodes in post-order (children first):
  observed leaf v, parent p:  E_p(l) += z_v(e, x_l)                       (saturating)
  hidden node v:              u(l) = exp(-(E_v(l) - min E_v)) * P_v(l)    node weights
  hidden v -> parent p:       m(l) = sum_k u(k)/S_k * exp(-(z(c_k, x_l) - zmin_k))   eq. (6)-(8)
                              P_p(l) *= m(l), each rescaled by a power of two
  root:                       u(l) and U = sum u go out; the host divides (divisive normalisation)
The per-row minimum zmin_k and the row sums S_k = sum_l exp(-(z - zmin_k)) depend only on
the samples, so they are computed once per call ("precompute"), not per evidence set.
Subtracting minima, leaving u unnormalised and rescaling by powers of two change nothing
mathematically (every factor constant over the normalised index cancels) but keep UQ1.31
values in range and save a divider per node and evidence set.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpynqValueError
from ..fixed import U32_MAX, exp_neg_q, renorm, to_s32
from . import encode
from .encode import C, NONE, evidence_row_words, out_row_words

ONE = np.uint64(1 << C["STM_PROB_FRAC"])
SAT_D = (1 << 31) - 1
Z_SAT_T = 1 << 24  # |t| >= 2^24 (Q8.16) means z >= 65536: the energy saturates
SAT_GUARD = U32_MAX - (C["STM_SAT_GUARD_UNITS"] << C["STM_ENERGY_FRAC"])


@dataclass
class NodeQ:
    parent: int
    samples: np.ndarray | None  # int64 words (Q16.16 or state index)
    kind: int
    pstates: int
    cstates: int
    params: np.ndarray | None
    evidence: int


class BadNet(SpynqValueError):
    """A net buffer the kernel rejects (STM_ST_BAD_NET); run() turns it into that status."""


def parse_net(net: np.ndarray, net_words: int) -> list[NodeQ]:
    """Decode a net buffer; raise BadNet where the kernel flags STM_ST_BAD_NET."""
    w = np.asarray(net[:net_words], np.uint32).astype(np.int64)
    if net_words < C["STM_HDR_WORDS"] or w[0] != C["STM_MAGIC"]:
        raise BadNet("bad magic or too few words")
    n_nodes, n_ev = int(w[1]), int(w[2])
    if not 1 <= n_nodes <= C["STM_MAX_NODES"] or n_ev >= n_nodes or net_words > C["STM_MAX_NET_WORDS"]:
        raise BadNet("bad node or evidence count, or too many words")
    if C["STM_HDR_WORDS"] + n_nodes * C["STM_NODE_WORDS"] > net_words:
        raise BadNet(f"the table of {n_nodes} nodes runs past net_words {net_words}")
    nodes = []
    # structure, as stm_parse: every parent is hidden (an observed node has no children;
    # children come first, parent > i), and each evidence column 0..n_ev-1 is one node's
    has_child, columns = set(), set()
    for i in range(n_nodes):
        f = w[C["STM_HDR_WORDS"] + i * C["STM_NODE_WORDS"]:][:C["STM_NODE_WORDS"]]
        parent, ns, kind, ps, cs, po, so, ev = (int(v) for v in f)
        samples = params = None
        if ns:
            if ns > C["STM_MAX_SAMPLES"] or so + ns > net_words or so % C["STM_SAMPLE_ALIGN"]:
                raise BadNet(f"node {i}: bad sample count, offset or alignment")
            samples = to_s32(w[so:so + ns])
        if kind != C["STM_KIND_ROOT"]:
            n_par = ps * (C["STM_GAUSS_WORDS"] if kind == C["STM_KIND_GAUSS"] else cs)
            if (not 1 <= ps <= C["STM_MAX_STATES"] or n_par > C["STM_MAX_PARAM_WORDS"]
                    or po + n_par > net_words or not i < parent < n_nodes or kind not in (1, 2)
                    or (kind == C["STM_KIND_TABLE"] and not 1 <= cs <= C["STM_MAX_STATES"])):
                raise BadNet(f"node {i}: bad parameter rows, kind, offset or parent")
            params = w[po:po + n_par]
        elif i != n_nodes - 1 or not ns:
            raise BadNet("the root must be last and hidden")
        if (ev != NONE) == bool(ns) or (ev != NONE and ev >= n_ev):
            raise BadNet("a node is observed or hidden, not both")
        if ev != NONE and i in has_child:
            raise BadNet(f"node {i} is observed and has children (a parent must be hidden)")
        if ev != NONE and ev in columns:
            raise BadNet(f"evidence column {ev} belongs to two nodes")
        if ev != NONE:
            columns.add(ev)
        if kind != C["STM_KIND_ROOT"]:
            has_child.add(parent)
        nodes.append(NodeQ(parent, samples, kind, ps, cs, params, ev))
    if len(columns) != n_ev:
        raise BadNet(f"{len(columns)} observed nodes, the header says n_evidence={n_ev}")
    return nodes


def energy_q(node: NodeQ, c, x):
    """Integer energy z(c | x) in UQ16.16 (differences beyond the Q16.16 range are clipped)."""
    c, x = np.asarray(c, np.int64), np.asarray(x, np.int64)
    row = np.where((x >= 0) & (x < node.pstates), x, node.pstates - 1) if node.pstates > 1 else np.zeros_like(x)
    if node.kind == C["STM_KIND_TABLE"]:
        col = np.where((c >= 0) & (c < node.cstates), c, node.cstates - 1)
        return node.params[row * node.cstates + col]
    p = node.params.reshape(-1, 4)
    a, b = to_s32(p[row, 0]), to_s32(p[row, 1])
    r, g = p[row, 2], p[row, 3]
    mu = ((a * x) >> 16) + b  # |a|, |x| < 2^31: product < 2^62
    d = np.clip(c - mu, -SAT_D, SAT_D)
    t = np.abs((d * r) >> 16)  # |d| < 2^31, r < 2^32: product < 2^63
    z = np.where(t >= Z_SAT_T, U32_MAX, (t * t) >> 16)  # t < 2^24: t^2 < 2^48
    return np.minimum(z + g, U32_MAX)


def node_weights(E: np.ndarray, P: np.ndarray):
    """Unnormalised weights u (UQ1.31) of a node for each row of E, P (B, N), and per row:
    their sum, underflowed terms, the ST_* status bits and whether the sum was zero."""
    emin = E.min(axis=1, keepdims=True)
    u = (exp_neg_q(E - emin) * P) >> np.uint64(31)  # both <= 2^31: product <= 2^62
    total = u.sum(axis=1, dtype=np.uint64)
    zero = total == 0
    status = (np.where(zero, C["STM_ST_ZERO_SUM"], 0)
              | np.where(~zero & (total < C["STM_UNDERFLOW_SUM"]), C["STM_ST_UNDERFLOW"], 0)
              | np.where(emin[:, 0] > SAT_GUARD, C["STM_ST_SATURATED"], 0))
    return u, total, (u == 0).sum(axis=1), status, zero


def precompute(child: NodeQ, parent: NodeQ):
    """Per child sample k: zmin_k, 1/S_k (UQ1.31), the normalised-likelihood matrix, saturation."""
    z = energy_q(child, child.samples[:, None], parent.samples[None, :])
    zmin = z.min(axis=1, keepdims=True)
    L = exp_neg_q(z - zmin)
    S = L.sum(axis=1, dtype=np.uint64)  # >= 2^31 (the minimum term is exp(0)); <= 2^43
    recip = np.uint64(1 << 62) // S
    return L, recip, bool((zmin > SAT_GUARD).any())


def call_out_words(net: np.ndarray, net_words: int, batch: int) -> int:
    """Words the kernel writes to out: whole rows, or one beat when the net is rejected."""
    try:
        nodes = parse_net(net, net_words)
    except BadNet:
        return 4
    return 4 if batch > C["STM_MAX_BATCH"] else batch * out_row_words(len(nodes[-1].samples))


def call_sizes(net: np.ndarray, net_words: int, batch: int) -> tuple[int, int]:
    """(input words the kernel reads, out words it writes) for these arguments; (0, 4)
    when it rejects them. No call has an out buffer past MAX_OUT_WORDS (the limits keep
    it below; hls/stm/stm_kernel.h asserts it)."""
    try:
        nodes = parse_net(net, net_words)
    except BadNet:
        return 0, 4
    if batch > C["STM_MAX_BATCH"]:
        return 0, 4
    # the kernel reads n_evidence (header word 2) words per row, whole beats
    return encode.input_words(int(net[2]), batch), batch * out_row_words(len(nodes[-1].samples))


def run(net: np.ndarray, net_words: int, evidence: np.ndarray, batch: int) -> np.ndarray:
    """The words the kernel writes to its out buffer for these inputs, bit for bit."""
    try:
        nodes = parse_net(net, net_words)
        if batch > C["STM_MAX_BATCH"]:
            raise BadNet(f"batch {batch} > {C['STM_MAX_BATCH']}")
    except BadNet:
        out = np.zeros(4, np.uint32)
        out[0] = C["STM_ST_BAD_NET"]
        return out
    n_root = len(nodes[-1].samples)
    row = out_row_words(n_root)
    out = np.zeros(batch * row, np.uint32)
    if batch == 0:
        return out
    n_ev = sum(n.evidence != NONE for n in nodes)
    ev_row = evidence_row_words(n_ev)
    ev = to_s32(np.asarray(evidence[:batch * ev_row], np.uint32)).reshape(batch, ev_row)
    status = np.zeros(batch, np.int64)
    uf = np.zeros(batch, np.int64)
    zero_node = np.zeros(batch, np.int64)

    pre = {}
    for i, n in enumerate(nodes):
        if n.samples is not None and n.kind != C["STM_KIND_ROOT"]:
            pre[i] = precompute(n, nodes[n.parent])
            if pre[i][2]:
                status |= C["STM_ST_SATURATED"]

    E = {i: np.zeros((batch, len(n.samples)), np.uint64) for i, n in enumerate(nodes) if n.samples is not None}
    P = {i: np.full(e.shape, ONE, np.uint64) for i, e in E.items()}
    for i, n in enumerate(nodes):
        if n.samples is None:  # observed leaf: add its energy to the parent's
            z = energy_q(n, ev[:, n.evidence][:, None], nodes[n.parent].samples[None, :])
            E[n.parent] = np.minimum(E[n.parent] + z.astype(np.uint64), np.uint64(U32_MAX))
            continue
        u, total, under, st, zero = node_weights(E[i], P[i])
        uf += under
        status |= st
        zero_node = np.where(zero & (zero_node == 0), i + 1, zero_node)
        if n.kind == C["STM_KIND_ROOT"]:
            break
        L, recip, _ = pre[i]
        # scale u/S by 2^-(31+sh) with sum(u) >> sh < 2^32, so the message sum stays < 2^63
        sh = np.array([max(int(t).bit_length() - 32, 0) for t in total], np.uint64)
        coef = (u * recip[None, :]) >> (np.uint64(31) + sh[:, None])  # u, recip <= 2^31
        acc = coef @ L  # exact: every sum stays below 2^63 (see the kernel's MSG loop)
        for b in range(batch):
            m = renorm(acc[b], int(acc[b].max()))
            prod = P[n.parent][b] * m  # both < 2^31
            P[n.parent][b] = renorm(prod, int(prod.max()))
    out2 = out.reshape(batch, row)
    out2[:, 0] = status
    out2[:, 1] = np.minimum(uf, U32_MAX)
    out2[:, 2] = zero_node
    out2[:, 4] = total & np.uint64(U32_MAX)
    out2[:, 5] = total >> np.uint64(32)
    out2[:, C["STM_OUT_HDR_WORDS"]:C["STM_OUT_HDR_WORDS"] + n_root] = u
    return out

