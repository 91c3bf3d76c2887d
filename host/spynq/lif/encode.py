"""Pack a LIF network and spike rasters into the kernel's buffers, and unpack its output.

Layout and formats are those of hls/lif_delay/lif_delay_config.h (read, not repeated).
Networks or values the kernel cannot take raise ValueError here, before any backend
runs, so every fixed-point backend rejects the same input with the same message.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fixed import quantize, quantize_bits, to_u32
from ..hw import limits
from ..hw.cconfig import read_constants
from ..hw.interface import pad_words
from ..rasters import pack as pack_rasters  # noqa: F401  (the kernel's raster buffer)
from ..rasters import row_words
from ..rasters import unpack as unpack_rasters
from .model import LifNetwork
from ..errors import SpynqValueError

C = read_constants("lif_delay/lif_delay_config.h")
LANES = C["LIF_LANES"]
V_MAX = (1 << (C["LIF_STATE_BITS"] - 1)) - 1
V_MIN = -V_MAX - 1
STATUS_BITS = {C["LIF_SS_V_SAT"]: "membrane V saturated", C["LIF_SS_I_SAT"]: "current I saturated"}
# the most words one call may write (hls/common/spynq_limits.h); the parser rejects more


def groups(n: int) -> int:
    return -(-n // LANES)


def syn_words(n_in: int, n_out: int) -> int:
    return n_in * groups(n_out) * LANES


def layer_out_words(n: int, T: int) -> int:
    return T * row_words(n) + 3 * pad_words(n)


def out_words(sizes, T: int, batch: int) -> int:
    """Words the kernel writes: the header beat and every sample's readouts and status
    beat (an exact Python integer; a call above MAX_OUT_WORDS is one the kernel rejects)."""
    return C["LIF_OUT_HDR_WORDS"] + batch * (sum(layer_out_words(n, T) for n in sizes[1:]) + C["LIF_STATUS_WORDS"])


def input_words(n_in: int, T: int, batch: int) -> int:
    """Words of the raster buffer a call reads: batch x T rows of n_in bits, whole beats."""
    return batch * T * row_words(n_in)


def check_out_words(sizes, T: int, batch: int) -> int:
    """The out words of one call with these sizes; SpynqValueError past MAX_OUT_WORDS."""
    return limits.check_out_words(out_words(sizes, T, batch), T, batch, C["LIF_OUT_HDR_WORDS"])


@dataclass
class Packed:
    net: np.ndarray  # uint32, whole beats
    net_words: int
    sizes: list


def check_limits(network: LifNetwork, T: int | None = None, batch: int | None = None) -> None:
    if len(network.layers) > C["LIF_MAX_LAYERS"]:
        raise SpynqValueError(f"{len(network.layers)} layers, the kernel takes at most {C['LIF_MAX_LAYERS']} per call")
    if network.n_in > C["LIF_MAX_IN"]:
        raise SpynqValueError(f"{network.n_in} inputs, the kernel takes at most {C['LIF_MAX_IN']}")
    for i, layer in enumerate(network.layers):
        if layer.n_out > C["LIF_MAX_N"]:
            raise SpynqValueError(f"layer {i}: {layer.n_out} neurons, the kernel takes at most {C['LIF_MAX_N']}")
        if layer.params.refractory > C["LIF_MAX_REFRACTORY"]:
            raise SpynqValueError(f"layer {i}: refractory {layer.params.refractory} > {C['LIF_MAX_REFRACTORY']}")
    if network.max_delay >= C["LIF_RING"]:
        raise SpynqValueError(f"delay {network.max_delay}: the kernel's ring buffers take delays 0..{C['LIF_RING'] - 1}")
    total = sum(syn_words(layer.n_in, layer.n_out) for layer in network.layers)
    if total > C["LIF_MAX_SYN"]:
        raise SpynqValueError(f"{total} synapse words (rows padded to {LANES} lanes): the kernel holds "
                         f"{C['LIF_MAX_SYN']}; split the network (spynq.lif.backends.plan_calls)")
    if T is not None and not 1 <= T <= C["LIF_MAX_T"]:
        raise SpynqValueError(f"T={T}: the kernel takes 1..{C['LIF_MAX_T']} steps")
    if batch is not None and batch > C["LIF_MAX_BATCH"]:
        raise SpynqValueError(f"batch {batch}: the kernel takes at most {C['LIF_MAX_BATCH']} samples per call")
    if T is not None and batch is not None:
        check_out_words(network.sizes, T, batch)


def decay_q(a: float, what: str) -> int:
    q = int(round(a * (1 << C["LIF_DECAY_FRAC"])))
    if q >= 1 << C["LIF_DECAY_FRAC"]:
        raise SpynqValueError(f"{what}={a} rounds to 1.0 in UQ0.16; use a value below 1 - 2^-17")
    return q


def state_q(v: float, what: str) -> int:
    q = int(quantize([v], C["LIF_V_FRAC"], what=what)[0])
    if not V_MIN <= q <= V_MAX:
        raise SpynqValueError(f"{what}={v} is outside the Q7.16 membrane range (|v| < 128)")
    return q


def weights_q(w: np.ndarray, what: str) -> np.ndarray:
    return quantize_bits(w, C["LIF_W_FRAC"], C["LIF_W_BITS"], what)


def pack_network(network: LifNetwork) -> Packed:
    network.validate()
    check_limits(network)
    L = len(network.layers)
    hdr = [C["LIF_MAGIC"], L, network.n_in] + [0] * (C["LIF_HDR_WORDS"] - 3)
    table = np.zeros((L, C["LIF_LAYER_WORDS"]), np.int64)
    ofs = pad_words(C["LIF_HDR_WORDS"] + L * C["LIF_LAYER_WORDS"])
    blobs = []
    for k, layer in enumerate(network.layers):
        p = layer.params
        f = table[k]
        f[C["LIF_LF_N_IN"]], f[C["LIF_LF_N_OUT"]] = layer.n_in, layer.n_out
        f[C["LIF_LF_FLAGS"]] = (C["LIF_FL_SUBTRACT"] if p.reset == "subtract" else 0) | \
                               (C["LIF_FL_CURRENT"] if p.beta is not None else 0)
        f[C["LIF_LF_ALPHA"]] = decay_q(p.alpha, f"layer {k} alpha")
        f[C["LIF_LF_BETA"]] = decay_q(p.beta, f"layer {k} beta") if p.beta is not None else 0
        th = state_q(p.threshold, f"layer {k} threshold")
        if th <= 0:
            raise SpynqValueError(f"layer {k}: threshold {p.threshold} rounds to 0 in Q7.16")
        f[C["LIF_LF_THETA"]] = th
        f[C["LIF_LF_VRESET"]] = state_q(p.v_reset, f"layer {k} v_reset")
        f[C["LIF_LF_REFRACTORY"]] = int(p.refractory)
        f[C["LIF_LF_SYN_OFS"]] = ofs
        g = groups(layer.n_out)
        words = np.zeros((layer.n_in, g * LANES), np.int64)
        words[:, :layer.n_out] = (weights_q(layer.weights, f"layer {k} weights") & 0xFFFF) | \
            (layer.synapse_delays() << C["LIF_DELAY_SHIFT"])
        blobs.append(words.ravel())
        ofs += words.size  # a multiple of LANES words: whole beats
    words = np.concatenate([np.asarray(hdr, np.int64), table.ravel(),
                            np.zeros(pad_words(len(hdr) + table.size) - len(hdr) - table.size, np.int64)] + blobs)
    return Packed(to_u32(words), len(words), network.sizes)


def decode_out(out: np.ndarray, sizes, T: int, batch: int) -> dict:
    """Split out words into per-layer spikes, counts, v_last, v_max (integers) and status
    (LIF_SS_* bits, (batch,) per layer)."""
    out = np.asarray(out, np.uint32)
    if len(out) < out_words(sizes, T, batch) or (batch and out[0] & C["LIF_ST_BAD_NET"]):
        raise SpynqValueError(f"the kernel rejected the call (status {int(out[0]) if len(out) else None})")
    body = out[C["LIF_OUT_HDR_WORDS"]:].reshape(batch, -1)
    res = {"spikes": [], "counts": [], "v_last": [], "v_max": [], "status": []}
    ofs = 0
    for n in sizes[1:]:
        rw, pw = T * row_words(n), pad_words(n)
        res["spikes"].append(unpack_rasters(body[:, ofs:ofs + rw].ravel(), batch, T, n))
        ofs += rw
        for key in ("counts", "v_last", "v_max"):
            res[key].append(body[:, ofs:ofs + n].view(np.int32).astype(np.int64))
            ofs += pw
    res["status"] = [body[:, ofs + k].astype(np.int64) for k in range(len(sizes) - 1)]
    return res
