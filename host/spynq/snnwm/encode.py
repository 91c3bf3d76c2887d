"""Pack an SNNWM network and spike rasters into the kernel's buffers, and unpack its output.

Layout and formats are those of hls/snnwm/snnwm_config.h (read, not repeated); raster
rows are the LIF engine's (spynq.lif.encode.pack_rasters, same 128-bit beats). Networks or
values the kernel cannot take raise ValueError here, before any backend runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fixed import quantize_bits, to_u32
from ..hw import limits
from ..hw.cconfig import read_constants
from ..lif import encode as lif_encode
# the membrane and decay formats are the LIF engine's (asserted below): one definition
from ..lif.encode import V_MAX, V_MIN, decay_q, pack_rasters, pad_words, row_words, state_q, unpack_rasters  # noqa: F401
# the raster buffer is the LIF engine's, so is the words a call reads: input_words(n_in, T, batch)
from ..lif.encode import input_words  # noqa: F401
from .model import SnnwmNetwork
from .reference import stage_mode
from ..errors import SpynqValueError

C = read_constants("snnwm/snnwm_config.h")
LANES = C["SNNWM_LANES"]
MODE_CODE = {"window": C["SNNWM_MODE_WINDOW"], "overlap": C["SNNWM_MODE_OVERLAP"], "readout": C["SNNWM_MODE_READOUT"]}

# the formats shared with the LIF engine (the L = 1 equivalence depends on them)
_LC = lif_encode.C
assert C["SNNWM_BEAT_BITS"] == _LC["LIF_BEAT_BITS"]
assert (C["SNNWM_W_FRAC"], C["SNNWM_V_FRAC"], C["SNNWM_STATE_BITS"], C["SNNWM_DECAY_FRAC"]) == \
    (_LC["LIF_W_FRAC"], _LC["LIF_V_FRAC"], _LC["LIF_STATE_BITS"], _LC["LIF_DECAY_FRAC"])
assert 128 % LANES == 0

STATUS_BITS = {C["SNNWM_SS_V_SAT"]: "membrane V saturated", C["SNNWM_SS_I_SAT"]: "current I (readout) clipped to int32"}


def groups(n: int) -> int:
    return -(-n // LANES)


def w1_words(n_in: int, n_out: int) -> int:
    return n_in * groups(n_out) * LANES


def stage_out_words(n: int, T: int, readout: bool) -> int:
    body = pad_words(n) if readout else T * row_words(n) + 2 * pad_words(n)
    return C["SNNWM_COUNT_WORDS"] + body


def out_words(sizes, T: int, batch: int, readout: bool) -> int:
    """Words the kernel writes: the header beat and every sample's readouts and status."""
    ns = sizes[1:]
    per = sum(stage_out_words(n, T, readout and k == len(ns) - 1) for k, n in enumerate(ns)) + C["SNNWM_STATUS_WORDS"]
    return C["SNNWM_OUT_HDR_WORDS"] + batch * per


def check_out_words(sizes, T: int, batch: int, readout: bool) -> int:
    """The out words of one call with these sizes; SpynqValueError past MAX_OUT_WORDS."""
    return limits.check_out_words(out_words(sizes, T, batch, readout), T, batch, C["SNNWM_OUT_HDR_WORDS"])


def header_words(taps) -> int:
    """P: words before the first W1 row (header, stage table, W2 taps), whole beats."""
    return pad_words(C["SNNWM_HDR_WORDS"] + len(taps) * C["SNNWM_STAGE_WORDS"] + sum(taps))


@dataclass
class Packed:
    net: np.ndarray  # uint32, whole beats
    net_words: int
    sizes: list
    readout: bool


def check_limits(network: SnnwmNetwork, T: int | None = None, batch: int | None = None, limits: dict = C) -> None:
    """Reject what a kernel with `limits` (its config constants; an overlay may have
    smaller ones, spynq.overlays.limits) cannot take in one call."""
    if len(network.layers) > limits["SNNWM_MAX_LAYERS"]:
        raise SpynqValueError(f"{len(network.layers)} layers, the kernel takes at most {limits['SNNWM_MAX_LAYERS']} per call")
    if network.n_in > limits["SNNWM_MAX_IN"]:
        raise SpynqValueError(f"{network.n_in} inputs, the kernel takes at most {limits['SNNWM_MAX_IN']}")
    for i, st in enumerate(network.stages):
        if st.n_out > limits["SNNWM_MAX_N"]:
            raise SpynqValueError(f"stage {i}: {st.n_out} neurons, the kernel takes at most {limits['SNNWM_MAX_N']}")
    for i, layer in enumerate(network.layers):
        if layer.L > limits["SNNWM_MAX_L"]:
            raise SpynqValueError(f"layer {i}: L={layer.L} W2 taps, the kernel takes at most {limits['SNNWM_MAX_L']}")
    if network.readout is not None and network.readout.K > limits["SNNWM_MAX_K"]:
        raise SpynqValueError(f"readout: {network.readout.K} W2 taps, the kernel takes at most {limits['SNNWM_MAX_K']}")
    total = sum(w1_words(st.n_in, st.n_out) for st in network.stages)
    if total > limits["SNNWM_MAX_SYN"]:
        raise SpynqValueError(f"{total} W1 words (rows padded to {LANES} lanes): the kernel holds {limits['SNNWM_MAX_SYN']}; "
                         "run fewer or smaller layers per call")
    if T is not None and not 1 <= T <= limits["SNNWM_MAX_T"]:
        raise SpynqValueError(f"T={T}: the kernel takes 1..{limits['SNNWM_MAX_T']} steps")
    if batch is not None and batch > limits["SNNWM_MAX_BATCH"]:
        raise SpynqValueError(f"batch {batch}: the kernel takes at most {limits['SNNWM_MAX_BATCH']} samples per call")
    if T is not None and batch is not None:
        check_out_words(network.sizes, T, batch, network.readout is not None)


def w1_q(w, what):
    return quantize_bits(w, C["SNNWM_W_FRAC"], C["SNNWM_W_BITS"], what)


def w2_q(w, what):
    return quantize_bits(w, C["SNNWM_W2_FRAC"], C["SNNWM_W2_BITS"], what)


def pack_network(network: SnnwmNetwork) -> Packed:
    network.validate()
    check_limits(network)
    stages = network.stages
    taps = [s.w2.shape[0] for s in stages]
    S, SW = len(stages), C["SNNWM_STAGE_WORDS"]
    P = header_words(taps)
    head = np.zeros(P, np.int64)
    head[0] = C["SNNWM_MAGIC"]
    head[C["SNNWM_H_N_LAYERS"]] = len(network.layers)
    head[C["SNNWM_H_N_IN"]] = network.n_in
    head[C["SNNWM_H_P"]] = P
    head[C["SNNWM_H_READOUT"]] = int(network.readout is not None)
    w2_ofs, w1_ofs, blobs = C["SNNWM_HDR_WORDS"] + S * SW, P, []
    for k, st in enumerate(stages):
        f = head[C["SNNWM_HDR_WORDS"] + k * SW:][:SW]
        mode = stage_mode(st)
        name = "readout" if mode == "readout" else f"layer {k}"
        f[C["SNNWM_SF_N_IN"]], f[C["SNNWM_SF_N_OUT"]] = st.n_in, st.n_out
        f[C["SNNWM_SF_MODE"]], f[C["SNNWM_SF_TAPS"]] = MODE_CODE[mode], taps[k]
        if mode != "readout":
            p = st.params
            f[C["SNNWM_SF_ALPHA"]] = decay_q(p.decay, f"{name} decay")
            th = state_q(p.threshold, f"{name} threshold")
            if th <= 0:
                raise SpynqValueError(f"{name}: threshold {p.threshold} rounds to 0 in Q7.16")
            f[C["SNNWM_SF_THETA"]] = th
            f[C["SNNWM_SF_VREST"]] = state_q(p.v_rest, f"{name} v_rest")
        f[C["SNNWM_SF_W1_OFS"]], f[C["SNNWM_SF_W2_OFS"]] = w1_ofs, w2_ofs
        head[w2_ofs:w2_ofs + taps[k]] = w2_q(st.w2, f"{name} w2")
        w2_ofs += taps[k]
        words = np.zeros((st.n_in, groups(st.n_out) * LANES), np.int64)
        words[:, :st.n_out] = w1_q(st.w1, f"{name} w1")
        blobs.append(words.ravel())
        w1_ofs += words.size  # a multiple of LANES words: whole beats
    words = np.concatenate([head] + blobs)
    return Packed(to_u32(words), len(words), network.sizes, network.readout is not None)


def decode_out(out: np.ndarray, sizes, T: int, batch: int, readout: bool) -> dict:
    """Split out words into per-stage counts and per-layer spikes, v_last, v_max, and the
    readout values (integers), and per stage the (batch,) SNNWM_SS_* status bits."""
    out = np.asarray(out, np.uint32)
    if len(out) < out_words(sizes, T, batch, readout) or (len(out) and out[0] & C["SNNWM_ST_BAD_NET"]):
        raise SpynqValueError(f"the kernel rejected the call (status {int(out[0]) if len(out) else None})")
    body = out[C["SNNWM_OUT_HDR_WORDS"]:out_words(sizes, T, batch, readout)]
    body = body.reshape(batch, -1) if batch else np.zeros((0, out_words(sizes, T, 1, readout)), np.uint32)
    res = {"spikes": [], "v_last": [], "v_max": [], "readout": None, "counts": [], "status": []}
    ofs, ns = 0, sizes[1:]
    for k, n in enumerate(ns):
        cw = body[:, ofs:ofs + C["SNNWM_COUNT_WORDS"]].astype(np.int64)
        res["counts"].append({key: cw[:, i] for i, key in enumerate(("mac", "add", "v_reads", "v_writes"))})
        ofs += C["SNNWM_COUNT_WORDS"]
        if readout and k == len(ns) - 1:
            res["readout"] = body[:, ofs:ofs + n].view(np.int32).astype(np.int64)
            ofs += pad_words(n)
            continue
        rw = T * row_words(n)
        res["spikes"].append(unpack_rasters(body[:, ofs:ofs + rw].ravel(), batch, T, n))
        ofs += rw
        for key in ("v_last", "v_max"):
            res[key].append(body[:, ofs:ofs + n].view(np.int32).astype(np.int64))
            ofs += pad_words(n)
    res["status"] = [body[:, ofs + k].astype(np.int64) for k in range(len(ns))]
    return res
