"""Fixed-point golden model of the LIF delay kernel: the exact integer arithmetic of
hls/lif_delay/lif_delay_top.cpp, on the same packed buffers (net, rasters, out).

Update order (the one definition is the comment in hls/lif_delay/lif_delay_config.h),
per layer, per step t, per neuron j, all integers:
  deliver    ring[(t + d_ij) mod D][j] += w_ij << 4      for every input spike (i, t)
             (Q3.12 -> Q.16; dropped if t + d_ij >= T)
  integrate  x = ring[t mod D][j]; ring[t mod D][j] = 0
             current: I = sat(rmul(beta, I) + x); u = I     else u = x
             r > 0:   r -= 1 (V held, no spike)
             else:    V = sat(rmul(alpha, V) + u); v_max = max(v_max, V)
  fire       s = r_was_0 and V >= theta
  reset      s: V = v_reset (zero) or sat(V - theta) (subtract); r = refractory
with rmul(a, v) = (a * v + 2^15) >> 16 (a UQ0.16, arithmetic shift) and sat() clipping to
the 24-bit state range [-2^23, 2^23 - 1] (Q7.16), flagged per sample and layer in the
status beat (LIF_SS_V_SAT, LIF_SS_I_SAT). Initial V = I = r = 0, v_max = -2^23.

Formats: weights Q3.12 (16 bit), delays 7 bit (D = 128 ring slots), states, threshold and
v_reset Q7.16, decays UQ0.16. The ring needs no saturation: a slot gets at most one
contribution per input neuron (|sum| <= 1024 * 2^19 = 2^29).

Choices where the papers are silent (SNNWM eq. 1-5 give V(t) = e^{-1/tau} V(t-1) +
sum w s(t - d), spike when V >= theta, reset to V_rest):
  * the leak decays towards 0 (eq. 1 has no rest term); v_reset is only the after-spike value;
  * the spike test is V >= theta (eq. 4, H(0) = 1);
  * delay 0 acts in the step of the presynaptic spike (eq. 1 with d = 0);
  * refractory steps hold V and discard input to V (the current state keeps integrating);
  * v_max is taken before reset, over integrated steps (what the threshold saw);
  * multiplications round half up; states saturate instead of wrapping.
"""
from __future__ import annotations

import numpy as np

from ..errors import SpynqValueError
from ..hw import limits
from . import encode
from .encode import C, V_MAX, V_MIN, groups, out_words, pack_rasters, row_words, pad_words, unpack_rasters, LANES
from .reference import delayed_input

HALF = 1 << (C["LIF_DECAY_FRAC"] - 1)
W_SHIFT = C["LIF_V_FRAC"] - C["LIF_W_FRAC"]


def rmul(a: int, v: np.ndarray) -> np.ndarray:
    return (np.int64(a) * v + HALF) >> C["LIF_DECAY_FRAC"]  # |v| < 2^31, a < 2^16: < 2^47


def sat(v: np.ndarray) -> np.ndarray:
    return np.clip(v, V_MIN, V_MAX)


def clips(v: np.ndarray) -> np.ndarray:
    """Where sat() changes v."""
    return (v < V_MIN) | (v > V_MAX)


def s32(x) -> int:
    x = int(x) & 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


class BadNet(SpynqValueError):
    """A call the kernel rejects (LIF_ST_BAD_NET); run() turns it into that status."""


class OutTooLarge(BadNet):
    """A call whose out buffer would exceed spynq.hw.limits.MAX_OUT_WORDS."""


def header_words(n_layers: int) -> int:
    """Words before the first synapse row: header and layer table, whole beats."""
    return pad_words(C["LIF_HDR_WORDS"] + n_layers * C["LIF_LAYER_WORDS"])


MAX_NET_WORDS = header_words(C["LIF_MAX_LAYERS"]) + C["LIF_MAX_SYN"]
_FIELDS = ("n_in", "n_out", "flags", "alpha", "beta", "theta", "vreset", "refractory", "syn_ofs")


def parse_header(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> list[dict]:
    """The layer table of a call, synapse rows not decoded; raise BadNet where the kernel
    writes LIF_ST_BAD_NET (same rules, in the same order, as lif_parse in
    hls/lif_delay/lif_delay_kernel.h), OutTooLarge for an out buffer past MAX_OUT_WORDS."""
    if net_words < C["LIF_HDR_WORDS"] or net_words > MAX_NET_WORDS:
        raise BadNet(f"net_words {net_words}: the kernel takes {C['LIF_HDR_WORDS']}..{MAX_NET_WORDS}")
    w = np.asarray(net[:min(net_words, header_words(C["LIF_MAX_LAYERS"]))], np.uint32).tolist()
    if w[0] != C["LIF_MAGIC"]:
        raise BadNet("bad magic")
    n_layers, n_in = w[1], w[2]
    if not 1 <= n_layers <= C["LIF_MAX_LAYERS"] or not 1 <= n_in <= C["LIF_MAX_IN"]:
        raise BadNet("bad layer count or n_in")
    P = header_words(n_layers)
    if net_words < P or not 1 <= n_steps <= C["LIF_MAX_T"] or batch > C["LIF_MAX_BATCH"]:
        raise BadNet("bad net_words, T or batch")
    layers, prev = [], n_in
    for k in range(n_layers):
        b = C["LIF_HDR_WORDS"] + k * C["LIF_LAYER_WORDS"]
        L = {name: w[b + C[f"LIF_LF_{name.upper()}"]] for name in _FIELDS}
        if L["n_in"] != prev or not 1 <= L["n_out"] <= C["LIF_MAX_N"]:
            raise BadNet(f"bad layer {k} sizes")
        if (L["syn_ofs"] < P or (L["syn_ofs"] - P) % LANES or L["syn_ofs"] + L["n_in"] * groups(L["n_out"]) * LANES
                > net_words or L["refractory"] > C["LIF_MAX_REFRACTORY"] or L["alpha"] >> 16 or L["beta"] >> 16):
            raise BadNet(f"bad layer {k}")
        L["theta"], L["vreset"] = s32(L["theta"]), s32(L["vreset"])
        layers.append(L)
        prev = L["n_out"]
    limits.check_out_words(out_words([n_in] + [L["n_out"] for L in layers], n_steps, batch), n_steps, batch, C["LIF_OUT_HDR_WORDS"], OutTooLarge)
    return layers


def parse_net(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> list[dict]:
    """Decode the net buffer: parse_header and every layer's weights w and delays d."""
    layers = parse_header(net, net_words, n_steps, batch)
    for L in layers:
        n_words = L["n_in"] * groups(L["n_out"]) * LANES
        sw = np.asarray(net[L["syn_ofs"]:L["syn_ofs"] + n_words], np.uint32).astype(np.int64)
        sw = sw.reshape(L["n_in"], -1)[:, :L["n_out"]]
        wq = sw & 0xFFFF
        L["w"] = np.where(wq >= 1 << 15, wq - (1 << 16), wq)
        L["d"] = (sw >> C["LIF_DELAY_SHIFT"]) & ((1 << C["LIF_DELAY_BITS"]) - 1)
    return layers


def run_layer(L: dict, spikes_in: np.ndarray):
    """Integer dynamics of one layer; returns (spikes, counts, v_last, v_max, status), status
    the (batch,) LIF_SS_* bits of what sat() clipped."""
    x = delayed_input(spikes_in, L["w"] << W_SHIFT, L["d"]).astype(np.int64)  # exact: |x| < 2^30
    batch, T, n = x.shape
    v = np.zeros((batch, n), np.int64)
    cur = np.zeros((batch, n), np.int64)
    ref = np.zeros((batch, n), np.int64)
    vmax = np.full((batch, n), V_MIN, np.int64)
    out = np.zeros((batch, T, n), bool)
    v_sat = np.zeros(batch, bool)
    i_sat = np.zeros(batch, bool)
    current, subtract = L["flags"] & C["LIF_FL_CURRENT"], L["flags"] & C["LIF_FL_SUBTRACT"]
    for t in range(T):
        if current:
            ci = rmul(L["beta"], cur) + x[:, t]
            i_sat |= clips(ci).any(axis=1)
            cur = sat(ci)
            u = cur
        else:
            u = x[:, t]
        active = ref == 0
        ref = np.where(active, 0, ref - 1)
        vi = rmul(L["alpha"], v) + u
        v_sat |= (active & clips(vi)).any(axis=1)
        v = np.where(active, sat(vi), v)
        vmax = np.where(active, np.maximum(vmax, v), vmax)
        s = active & (v >= L["theta"])
        v = np.where(s, sat(v - L["theta"]) if subtract else L["vreset"], v)
        ref = np.where(s, L["refractory"], ref)
        out[:, t] = s
    status = np.where(v_sat, C["LIF_SS_V_SAT"], 0) | np.where(i_sat, C["LIF_SS_I_SAT"], 0)
    return out, out.sum(axis=1).astype(np.int64), v, vmax, status


def simulate(layers: list[dict], rasters: np.ndarray) -> dict:
    keys = ("spikes", "counts", "v_last", "v_max", "status")
    res = {key: [] for key in keys}
    s = rasters
    for L in layers:
        vals = run_layer(L, s)
        s = vals[0]
        for key, val in zip(keys, vals):
            res[key].append(val)
    return res


def run(net: np.ndarray, net_words: int, rasters_in: np.ndarray, n_steps: int, batch: int) -> np.ndarray:
    """The kernel's out words for these buffers (uint32)."""
    try:
        layers = parse_net(net, net_words, n_steps, batch)
    except BadNet:
        out = np.zeros(4, np.uint32)
        out[0] = C["LIF_ST_BAD_NET"]
        return out
    n_in = layers[0]["n_in"]
    r = unpack_rasters(np.asarray(rasters_in, np.uint32)[:encode.input_words(n_in, n_steps, batch)], batch, n_steps,
                       n_in)
    res = simulate(layers, r)
    sizes = [n_in] + [L["n_out"] for L in layers]
    out = np.zeros(out_words(sizes, n_steps, batch), np.uint32)
    body = out[C["LIF_OUT_HDR_WORDS"]:].reshape(batch, -1) if batch else out[:0].reshape(0, 0)
    ofs = 0
    for k, n in enumerate(sizes[1:]):
        rw = n_steps * row_words(n)
        if batch:
            body[:, ofs:ofs + rw] = pack_rasters(res["spikes"][k]).reshape(batch, rw)
        ofs += rw
        for key in ("counts", "v_last", "v_max"):
            if batch:
                body[:, ofs:ofs + n] = (res[key][k] & 0xFFFFFFFF).astype(np.uint32)
            ofs += pad_words(n)
    for k, st in enumerate(res["status"]):
        if batch:
            body[:, ofs + k] = st
    return out


def call_sizes(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> tuple[int, int]:
    """(input words the kernel reads, out words it writes) for these arguments: (0, 4)
    when it rejects them; OutTooLarge (a SpynqValueError) for an out buffer past
    MAX_OUT_WORDS, which the kernel also rejects, so that the host says why."""
    try:
        layers = parse_header(net, net_words, n_steps, batch)
    except OutTooLarge:
        raise
    except BadNet:
        return 0, 4
    sizes = [layers[0]["n_in"]] + [L["n_out"] for L in layers]
    return encode.input_words(sizes[0], n_steps, batch), out_words(sizes, n_steps, batch)


def call_out_words(net: np.ndarray, net_words: int, n_steps: int, batch: int) -> int:
    """Words the kernel writes for these arguments (4 when it rejects them)."""
    try:
        return call_sizes(net, net_words, n_steps, batch)[1]
    except OutTooLarge:
        return 4
