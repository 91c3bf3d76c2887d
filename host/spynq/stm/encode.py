"""Pack a network, its sample populations and evidence into the kernel's buffers.

Layout and formats are those of hls/stm/stm_config.h (read, not repeated). Bad input
(too large, values outside the fixed-point range) raises ValueError here, before any
backend runs, so every backend rejects the same networks with the same message.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fixed import quantize, quantize_sat, to_u32
from ..hw import limits
from ..hw.cconfig import read_constants
from ..hw.interface import pad_words
from .energy import KIND_GAUSS, edge_energy
from .model import Network
from ..errors import SpynqValueError

C = read_constants("stm/stm_config.h")
NONE = 0xFFFFFFFF


def out_row_words(n_root: int) -> int:
    return pad_words(C["STM_OUT_HDR_WORDS"] + n_root)


# the most words one call may write (hls/common/spynq_limits.h): the limits keep every STM
# call below it, as hls/stm/stm_kernel.h asserts too
assert C["STM_MAX_BATCH"] * out_row_words(C["STM_MAX_SAMPLES"]) <= limits.MAX_OUT_WORDS


@dataclass
class Packed:
    net: np.ndarray  # uint32, padded to whole beats
    net_words: int  # meaningful words (the kernel's net_words argument)
    order: list  # node names in kernel order (post-order)
    n_root: int
    n_evidence: int


def check_limits(network: Network, pops: dict, limits: dict = C) -> None:
    """Reject what a kernel with `limits` (its config constants; an overlay may have
    smaller ones, spynq.overlays.limits) cannot take."""
    n_nodes, n_hidden = len(network.nodes), len(network.hidden_nodes)
    if n_nodes > limits["STM_MAX_NODES"]:
        raise SpynqValueError(f"{network.name}: {n_nodes} nodes, the kernel takes at most {limits['STM_MAX_NODES']}")
    if n_hidden > limits["STM_MAX_HIDDEN"]:
        raise SpynqValueError(f"{network.name}: {n_hidden} hidden nodes, the kernel takes at most {limits['STM_MAX_HIDDEN']}")
    for node in network.hidden_nodes:
        n = len(pops[node.name])
        if not 1 <= n <= limits["STM_MAX_SAMPLES"]:
            raise SpynqValueError(f"{node.name!r}: {n} samples, the kernel takes 1..{limits['STM_MAX_SAMPLES']}")
        if node.discrete and node.n_states > limits["STM_MAX_STATES"]:
            raise SpynqValueError(f"{node.name!r}: {node.n_states} states, the kernel takes at most {limits['STM_MAX_STATES']}")


def pack_network(network: Network, pops: dict, limits: dict = C) -> Packed:
    network.validate()
    check_limits(network, pops, limits)
    order = network.post_order()
    index = {n.name: i for i, n in enumerate(order)}
    ev_col = {n.name: j for j, n in enumerate(network.evidence_nodes)}
    hdr = [C["STM_MAGIC"], len(order), len(ev_col)] + [0] * (C["STM_HDR_WORDS"] - 3)
    table = np.zeros((len(order), C["STM_NODE_WORDS"]), np.int64)
    blobs, ofs = [], C["STM_HDR_WORDS"] + len(order) * C["STM_NODE_WORDS"]
    for i, node in enumerate(order):
        f = table[i]
        f[C["STM_NF_PARENT"]] = NONE if node.parent is None else index[node.parent.name]
        f[C["STM_NF_EVIDENCE"]] = ev_col.get(node.name, NONE)
        f[C["STM_NF_KIND"]] = C["STM_KIND_ROOT"]
        if node.parent is not None:
            e = edge_energy(node.dist)
            if e.kind == KIND_GAUSS:
                words = np.stack([quantize(e.a, C["STM_VALUE_FRAC"], what=f"{node.name}: slope a"),
                                  quantize(e.b, C["STM_VALUE_FRAC"], what=f"{node.name}: offset b"),
                                  quantize(e.r, C["STM_RSCALE_FRAC"], False, what=f"{node.name}: 1/(sqrt2 std)"),
                                  quantize_sat(e.g, C["STM_ENERGY_FRAC"])], axis=1).ravel()
                if np.any(words.reshape(-1, 4)[:, 2] == 0):
                    raise SpynqValueError(f"{node.name!r}: std too large for UQ16.16 1/(sqrt(2) std); rescale the model")
                f[C["STM_NF_CSTATES"]] = 0
            else:
                words = quantize_sat(e.table, C["STM_ENERGY_FRAC"]).ravel()
                f[C["STM_NF_CSTATES"]] = e.table.shape[1]
            f[C["STM_NF_KIND"]] = e.kind
            f[C["STM_NF_PSTATES"]] = e.rows
            f[C["STM_NF_PARAMS"]] = ofs
            blobs.append(words)
            ofs += len(words)
        if not node.observed:
            gap = -ofs % C["STM_SAMPLE_ALIGN"]  # the kernel reads samples in aligned lane groups
            blobs.append(np.zeros(gap, np.int64))
            ofs += gap
            s = pops[node.name]
            words = (np.asarray(s, np.int64) if node.discrete
                     else quantize(s, C["STM_VALUE_FRAC"], what=f"{node.name}: sample"))
            f[C["STM_NF_SAMPLES"]] = len(words)
            f[C["STM_NF_SAMPLE_OFS"]] = ofs
            blobs.append(words)
            ofs += len(words)
    words = np.concatenate([np.asarray(hdr, np.int64), table.ravel()] + blobs)
    net = np.zeros(pad_words(len(words)), np.uint32)
    net[:len(words)] = to_u32(words)
    return Packed(net, len(words), [n.name for n in order], len(pops[network.root_node.name]), len(ev_col))


def evidence_row_words(n_evidence: int) -> int:
    return pad_words(n_evidence)


def input_words(n_evidence: int, batch: int) -> int:
    """Words of the evidence buffer a call reads: batch rows of n_evidence words, whole beats."""
    return batch * evidence_row_words(n_evidence)


def pack_evidence(network: Network, evidence) -> np.ndarray:
    """(batch, n_evidence) evidence -> uint32 words, one row per set, rows padded to whole beats."""
    ev = network.evidence_array(evidence)
    if len(ev) > C["STM_MAX_BATCH"]:
        raise SpynqValueError(f"batch of {len(ev)}, the kernel takes at most {C['STM_MAX_BATCH']} per call")
    cols = []
    for j, node in enumerate(network.evidence_nodes):
        cols.append(ev[:, j].astype(np.int64) if node.discrete
                    else quantize(ev[:, j], C["STM_VALUE_FRAC"], what=f"evidence {node.name}"))
    out = np.zeros((len(ev), evidence_row_words(len(cols))), np.uint32)
    out[:, :len(cols)] = to_u32(np.stack(cols, axis=1))
    return out.ravel()
