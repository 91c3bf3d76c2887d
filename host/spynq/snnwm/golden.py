"""Fixed-point golden model of the SNNWM kernel: the exact integer arithmetic of
hls/snnwm/snnwm_top.cpp, on the same packed buffers (net, rasters, out).

Update order and formats: the comment block of hls/snnwm/snnwm_config.h. Per stage and
segment (t0, len, e), all integers:
  collect   x_i = sum_k w2_k s_i(e - k)                  (w2 Q3.12, x Q.12)
  product   I_j = clip32((sum_i x_i w1_ij + 2^7) >> 8)    (Q.24 -> Q.16, round half up)
  neurons   per step of the segment: V = sat(rmul(alpha, V) + I_j); v_max = max(v_max, V);
            s = V >= theta; s: V = v_rest
  readout   o_j = I_j of the single segment ending at T-1
with rmul and sat those of the LIF engine (spynq.lif.golden: (a*V + 2^15) >> 16 and the
24-bit Q7.16 clip). Initial V = 0, v_max = -2^23.

Choices where the paper is garbled or silent:
  * eq. 7-8 write s_i(t - d_k - m) with m = floor(t / mem_len); read literally the shift m
    grows with t and is not a window. We follow Algorithm 1 and the text ("takes into
    account all the spikes within mem_len and continuously feeds them into the spiking
    neuron for mem_len"): one current per window, fed for each of its L steps.
  * Algorithm 1 writes Iseg[n] = Sseg[n] x W1 x W2 without saying which step w2_k weights;
    we align W2 with the delays of eq. 6: w2_k weights the spike k steps before the
    window's last step, so a window's current equals the overlap-mode current at the
    window's end (the window sees only its own spikes).
  * T not a multiple of L: the last window keeps its nominal end (the train is zero-padded
    to a whole window), runs only the remaining steps, and its membrane is written at T-1.
  * Algorithm 1 line 10 (V = Iseg[0] at the first step) is V(-1) = 0; the leak decays
    towards 0 and v_rest is only the after-spike value (as in the LIF engine).
  * eq. 9 lists delays {0..T} but sums k = 1..T; we keep T + 1 taps (delay k counted back
    from the last step T-1; delay T reads before the train and adds nothing) and output
    the value at T-1 without spiking.
  * The product is rounded once per segment (not per step), and saturation is that of V.
"""
from __future__ import annotations

import numpy as np

from ..errors import SpynqValueError
from ..hw import limits
from ..lif.golden import clips, rmul, s32, sat
from . import encode
from .counts import stage_counts
from .encode import (C, LANES, V_MIN, groups, out_words, pack_rasters, pad_words, row_words,
                     unpack_rasters)
from .reference import collect, segments, step_segment

MODES = {C["SNNWM_MODE_WINDOW"]: "window", C["SNNWM_MODE_OVERLAP"]: "overlap", C["SNNWM_MODE_READOUT"]: "readout"}
SHIFT = C["SNNWM_PROD_SHIFT"]
I_MAX = (1 << 31) - 1


class BadNet(SpynqValueError):
    """A call the kernel rejects (SNNWM_ST_BAD_NET); run() turns it into that status."""


class OutTooLarge(BadNet):
    """A call whose out buffer would exceed spynq.hw.limits.MAX_OUT_WORDS."""


MAX_NET_WORDS = C["SNNWM_MAX_HDR_WORDS"] + C["SNNWM_MAX_SYN"]
_FIELDS = ("n_in", "n_out", "mode", "taps", "alpha", "theta", "vrest", "w1_ofs", "w2_ofs")


def _s16(w):
    w = np.asarray(w, np.int64) & 0xFFFF
    return np.where(w >= 1 << 15, w - (1 << 16), w)


def parse_header(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> list[dict]:
    """The stage table of a call, weights not decoded; raise BadNet where the kernel
    writes SNNWM_ST_BAD_NET (same rules, in the same order, as snnwm_parse in
    hls/snnwm/snnwm_kernel.h), OutTooLarge for an out buffer past MAX_OUT_WORDS."""
    if net_words < C["SNNWM_HDR_WORDS"] or net_words > MAX_NET_WORDS:
        raise BadNet(f"net_words {net_words}: the kernel takes {C['SNNWM_HDR_WORDS']}..{MAX_NET_WORDS}")
    table_max = C["SNNWM_HDR_WORDS"] + C["SNNWM_MAX_STAGES"] * C["SNNWM_STAGE_WORDS"]
    w = np.asarray(net[:min(net_words, table_max)], np.uint32).tolist()  # the header and stage table
    if w[0] != C["SNNWM_MAGIC"]:
        raise BadNet("bad magic")
    n_layers, n_in, P, ro = (w[C[k]] for k in ("SNNWM_H_N_LAYERS", "SNNWM_H_N_IN", "SNNWM_H_P", "SNNWM_H_READOUT"))
    S = n_layers + ro
    if n_layers > C["SNNWM_MAX_LAYERS"] or ro > 1 or S < 1 or not 1 <= n_in <= C["SNNWM_MAX_IN"]:
        raise BadNet("bad layer count, readout flag or n_in")
    table_end = C["SNNWM_HDR_WORDS"] + S * C["SNNWM_STAGE_WORDS"]
    if P % 4 or P < table_end or P > C["SNNWM_MAX_HDR_WORDS"] or P > net_words:
        raise BadNet("bad P")
    if not 1 <= n_steps <= C["SNNWM_MAX_T"] or batch > C["SNNWM_MAX_BATCH"]:
        raise BadNet("bad T or batch")
    stages, prev = [], n_in
    for k in range(S):
        b = C["SNNWM_HDR_WORDS"] + k * C["SNNWM_STAGE_WORDS"]
        L = {name: w[b + C[f"SNNWM_SF_{name.upper()}"]] for name in _FIELDS}
        is_ro = k == S - 1 and ro
        if L["n_in"] != prev or not 1 <= L["n_out"] <= C["SNNWM_MAX_N"]:
            raise BadNet(f"bad stage {k} sizes")
        if (L["mode"] == C["SNNWM_MODE_READOUT"]) != bool(is_ro) or L["mode"] > C["SNNWM_MODE_READOUT"]:
            raise BadNet(f"bad stage {k} mode")
        n_words = L["n_in"] * groups(L["n_out"]) * LANES
        max_taps = C["SNNWM_MAX_K"] if is_ro else C["SNNWM_MAX_L"]
        if (not 1 <= L["taps"] <= max_taps or L["w2_ofs"] < table_end or L["w2_ofs"] + L["taps"] > P
                or L["w1_ofs"] < P or (L["w1_ofs"] - P) % LANES or L["w1_ofs"] + n_words > net_words
                or L["w1_ofs"] - P + n_words > C["SNNWM_MAX_SYN"] or L["alpha"] >> 16):
            raise BadNet(f"bad stage {k}")
        L["mode"] = MODES[L["mode"]]
        L["theta"], L["vrest"] = s32(L["theta"]), s32(L["vrest"])
        stages.append(L)
        prev = L["n_out"]
    limits.check_out_words(out_words([n_in] + [L["n_out"] for L in stages], n_steps, batch, stages[-1]["mode"] == "readout"), n_steps, batch, C["SNNWM_OUT_HDR_WORDS"], OutTooLarge)
    return stages


def parse_net(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> list[dict]:
    """Decode the net buffer: parse_header and every stage's weights w1, w2."""
    stages = parse_header(net, net_words, n_steps, batch)
    for L in stages:
        n_words = L["n_in"] * groups(L["n_out"]) * LANES
        L["w2"] = _s16(np.asarray(net[L["w2_ofs"]:L["w2_ofs"] + L["taps"]], np.uint32))
        w1 = np.asarray(net[L["w1_ofs"]:L["w1_ofs"] + n_words], np.uint32)
        L["w1"] = _s16(w1.reshape(L["n_in"], -1)[:, :L["n_out"]])
    return stages


def product(x: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """I = (x @ w1 + 2^7) >> 8, before run_stage clips it to int32; exact: |x| < 2^24, |w1| <= 2^15, n_in <= 1024, so
    every partial sum is an integer below 2^49 < 2^53 (float64 is exact)."""
    acc = (x.astype(np.float64) @ w1.astype(np.float64)).astype(np.int64)
    return (acc + (1 << (SHIFT - 1))) >> SHIFT  # before clip32: run_stage flags and clips it


def run_stage(L: dict, spikes_in: np.ndarray):
    """Integer dynamics of one stage; returns (spikes, v_last, v_max, readout, counts,
    status), status the (batch,) SNNWM_SS_* bits of what clip32 and sat clipped."""
    batch, T, _ = spikes_in.shape
    segs = segments(L["mode"], L["taps"], T)
    x = collect(spikes_in, L["w2"], segs)
    wide = product(x, L["w1"])  # (batch, segments, n_out)
    cur = np.clip(wide, -I_MAX - 1, I_MAX)
    status = np.where((cur != wide).any(axis=(1, 2)), C["SNNWM_SS_I_SAT"], 0)
    counts = stage_counts(spikes_in, x, L["mode"], L["taps"], L["n_out"])
    if L["mode"] == "readout":
        return None, None, None, cur[:, 0], counts, status
    seg_of = step_segment(segs, T)
    n = L["n_out"]
    v = np.zeros((batch, n), np.int64)
    vmax = np.full((batch, n), V_MIN, np.int64)
    out = np.zeros((batch, T, n), bool)
    v_sat = np.zeros(batch, bool)
    for t in range(T):
        vi = rmul(L["alpha"], v) + cur[:, seg_of[t]]
        v_sat |= clips(vi).any(axis=1)
        v = sat(vi)
        vmax = np.maximum(vmax, v)
        s = v >= L["theta"]
        v = np.where(s, L["vrest"], v)
        out[:, t] = s
    return out, v, vmax, None, counts, status | np.where(v_sat, C["SNNWM_SS_V_SAT"], 0)


def simulate(stages: list[dict], rasters: np.ndarray) -> dict:
    res = {"spikes": [], "v_last": [], "v_max": [], "readout": None, "counts": [], "status": []}
    s = rasters
    for L in stages:
        out, v, vm, o, cnt, st = run_stage(L, s)
        res["counts"].append(cnt)
        res["status"].append(st)
        if o is not None:
            res["readout"] = o
            continue
        res["spikes"].append(out)
        res["v_last"].append(v)
        res["v_max"].append(vm)
        s = out
    return res


def run(net: np.ndarray, net_words: int, rasters_in: np.ndarray, n_steps: int, batch: int) -> np.ndarray:
    """The kernel's out words for these buffers (uint32)."""
    try:
        stages = parse_net(net, net_words, n_steps, batch)
    except BadNet:
        out = np.zeros(4, np.uint32)
        out[0] = C["SNNWM_ST_BAD_NET"]
        return out
    n_in = stages[0]["n_in"]
    r = unpack_rasters(np.asarray(rasters_in, np.uint32)[:encode.input_words(n_in, n_steps, batch)], batch, n_steps,
                       n_in)
    res = simulate(stages, r)
    ro = stages[-1]["mode"] == "readout"
    sizes = [n_in] + [L["n_out"] for L in stages]
    out = np.zeros(out_words(sizes, n_steps, batch, ro), np.uint32)
    if not batch:
        return out
    body = out[C["SNNWM_OUT_HDR_WORDS"]:].reshape(batch, -1)
    ofs = 0
    for k, L in enumerate(stages):
        n = L["n_out"]
        for i, key in enumerate(("mac", "add", "v_reads", "v_writes")):
            body[:, ofs + i] = res["counts"][k][key].astype(np.uint32)
        ofs += C["SNNWM_COUNT_WORDS"]
        if L["mode"] == "readout":
            body[:, ofs:ofs + n] = (res["readout"] & 0xFFFFFFFF).astype(np.uint32)
            ofs += pad_words(n)
            continue
        rw = n_steps * row_words(n)
        body[:, ofs:ofs + rw] = pack_rasters(res["spikes"][k]).reshape(batch, rw)
        ofs += rw
        for key in ("v_last", "v_max"):
            body[:, ofs:ofs + n] = (res[key][k] & 0xFFFFFFFF).astype(np.uint32)
            ofs += pad_words(n)
    for k, st in enumerate(res["status"]):
        body[:, ofs + k] = st
    return out


def call_sizes(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> tuple[int, int]:
    """(input words the kernel reads, out words it writes) for these arguments: (0, 4)
    when it rejects them; OutTooLarge (a SpynqValueError) for an out buffer past
    MAX_OUT_WORDS, which the kernel also rejects, so that the host says why."""
    try:
        stages = parse_header(net, net_words, n_steps, batch)
    except OutTooLarge:
        raise
    except BadNet:
        return 0, 4
    sizes = [stages[0]["n_in"]] + [L["n_out"] for L in stages]
    return encode.input_words(sizes[0], n_steps, batch), out_words(sizes, n_steps, batch,
                                                                   stages[-1]["mode"] == "readout")


def call_out_words(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> int:
    """Words the kernel writes for these arguments (4 when it rejects them)."""
    try:
        return call_sizes(net, net_words, n_steps, batch)[1]
    except OutTooLarge:
        return 4
