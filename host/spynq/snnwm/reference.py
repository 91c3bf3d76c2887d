"""numpy float64 reference: the maths of the SNNWM paper in the update order of
hls/snnwm/snnwm_config.h, without rounding or saturation. The golden model
(spynq.snnwm.golden) is the same computation in integers and shares ``segments`` and
``collect`` below.

Window mode is Algorithm 1: Iseg[n] = (sum_k w2_k s(nL + L-1-k)) W1 fed for each of the
window's L steps; overlap mode is eq. 6 with the factorised weights: I(t) = (sum_k w2_k
s(t-k)) W1 every step; the readout is eq. 9 evaluated at the last step T-1.

With ``clip=True`` the stage and network functions also say, per sample, where the float
result left the kernel's fixed-point range, i.e. where the kernel would have saturated:
bit V_SAT (SNNWM_SS_V_SAT) for a membrane V outside [V_LO, V_HI] (Q7.16), bit I_SAT
(SNNWM_SS_I_SAT) for a product current I_j (the readout o) outside [I_LO, I_HI] (int32
Q15.16).
"""
from __future__ import annotations

import time

import numpy as np

from ..hw.cconfig import read_constants
from ..lif.reference import Clipped, clipped, outside
from .model import ReadoutLayer, SnnwmNetwork
from .result import SnnwmResult

_C = read_constants("snnwm/snnwm_config.h")  # not .encode: it imports this module
_ONE = float(1 << _C["SNNWM_V_FRAC"])
V_HI = ((1 << (_C["SNNWM_STATE_BITS"] - 1)) - 1) / _ONE  # 128 - 2^-16
V_LO = -(1 << (_C["SNNWM_STATE_BITS"] - 1)) / _ONE  # -128
I_HI = ((1 << 31) - 1) / _ONE  # 32768 - 2^-16
I_LO = -(1 << 31) / _ONE  # -32768
V_SAT, I_SAT = _C["SNNWM_SS_V_SAT"], _C["SNNWM_SS_I_SAT"]
__all__ = ["Clipped"]  # re-exported: the type of run(..., clip=True)'s second value


def segments(mode: str, K: int, T: int) -> list[tuple[int, int, int]]:
    """(t0, len, e) of every segment of a stage (snnwm_config.h): window mode cuts T into
    windows of K = L steps (the last one may be shorter; its end e stays at the nominal
    window end, i.e. the train is zero-padded); overlap mode has one segment per step; the
    readout one segment ending at T-1 with no neuron steps."""
    if mode == "window":
        return [(t0, min(K, T - t0), t0 + K - 1) for t0 in range(0, T, K)]
    if mode == "overlap":
        return [(t, 1, t) for t in range(T)]
    if mode == "readout":
        return [(T - 1, 0, T - 1)]
    raise ValueError(f"unknown mode {mode!r}")


def stage_mode(stage) -> str:
    return "readout" if isinstance(stage, ReadoutLayer) else stage.mode


def collect(spikes: np.ndarray, w2: np.ndarray, segs) -> np.ndarray:
    """x[b, n, i] = sum_k w2[k] s[b, e_n - k, i] with s = 0 outside 0..T-1.
    Exact for integer w2 (sums < 2^53). Returns (batch, segments, n_in) of w2's dtype.

    The train is padded by K = len(w2) zero steps on both sides, so every tap is one
    gather of whole rows; the taps are added in order from 0 (a tap that reads padding
    adds a zero: the same sums as skipping it)."""
    batch, T, n = spikes.shape
    K = len(w2)
    ends = np.array([e for _, _, e in segs], np.intp)
    dt = np.result_type(w2.dtype, np.int64)
    x = np.zeros((batch, len(segs), n), dt)
    if not len(segs) or not batch:
        return x
    pad = np.zeros((batch, T + 2 * K, n), spikes.dtype)  # w * s below: the old dtype rules, any input dtype
    pad[:, K:K + T] = spikes
    for k, w in enumerate(w2):
        if w == 0:
            continue
        rows = ends - k + K  # ends - k in -K .. T - 1 + K: inside the padded train
        x += w * pad.take(rows, axis=1, mode="clip")  # C order (pad[:, rows] is not: 10x slower to use)
    return x


def step_segment(segs, T: int) -> np.ndarray:
    """Index of the segment every step belongs to."""
    idx = np.zeros(T, np.int64)
    for n, (t0, ln, _) in enumerate(segs):
        idx[t0:t0 + ln] = n
    return idx


def product(x: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """I[n, b, j] = sum_i x[b, n, i] w1[i, j], segment-major (segments, batch, n_out): one
    matrix product over all samples and segments (exact for exactly representable x, w1)."""
    batch, segs, n_in = x.shape
    xs = np.ascontiguousarray(x.transpose(1, 0, 2), float).reshape(-1, n_in)
    return (xs @ np.asarray(w1, float)).reshape(segs, batch, -1)


def run_layer(layer, spikes_in: np.ndarray, clip: bool = False):
    """Float dynamics of one WindowLayer; returns (spikes, v_last, v_max, x), and with
    clip=True also flags (batch,) int64: V_SAT where V (after the update, before the reset)
    left [V_LO, V_HI] at some step, I_SAT where a segment's current I_j left [I_LO, I_HI]."""
    batch, T, _ = spikes_in.shape
    segs = segments(layer.mode, layer.L, T)
    x = collect(spikes_in, layer.w2, segs)
    cur = product(x, layer.w1)  # (segments, batch, n_out)
    seg_of = step_segment(segs, T)
    p = layer.params
    decay, thr, v_rest = p.decay, p.threshold, p.v_rest
    n = layer.n_out
    v = np.zeros((batch, n))
    vmax = np.full((batch, n), -np.inf)
    vmin = np.full((batch, n), np.inf)  # only for the clip flags
    out = np.zeros((T, batch, n), bool)
    for t in range(T):
        np.multiply(v, decay, out=v)
        np.add(v, cur[seg_of[t]], out=v)
        np.maximum(vmax, v, out=vmax)
        if clip:
            np.minimum(vmin, v, out=vmin)
        s = out[t]
        np.greater_equal(v, thr, out=s)
        np.copyto(v, v_rest, where=s)
    spikes = np.ascontiguousarray(out.transpose(1, 0, 2))
    if not clip:
        return spikes, v, vmax, x
    flags = np.where(outside(cur, I_LO, I_HI, (0, 2)), I_SAT, 0)  # every segment, as the kernel computes them
    flags |= np.where(outside(vmax, V_LO, V_HI, 1) | outside(vmin, V_LO, V_HI, 1), V_SAT, 0)
    return spikes, v, vmax, x, flags


def run_readout(ro: ReadoutLayer, spikes_in: np.ndarray, clip: bool = False):
    """Readout o (batch, n_out) and its window sums x; with clip=True also flags (batch,):
    I_SAT where o left [I_LO, I_HI]."""
    segs = segments("readout", ro.K, spikes_in.shape[1])
    x = collect(spikes_in, ro.w2, segs)
    o = product(x, ro.w1)[0]
    if not clip:
        return o, x
    return o, x, np.where(outside(o, I_LO, I_HI, 1), I_SAT, 0).astype(np.int64)


def run(network: SnnwmNetwork, rasters, clip: bool = False):
    """SnnwmResult of the float reference; with clip=True (SnnwmResult, Clipped): where each
    sample's float result left the kernel's range, per stage (the readout is the last)."""
    from .counts import stage_counts, totals

    r = network.check_rasters(rasters)
    T = r.shape[1]
    t0 = time.perf_counter()
    spikes, vl, vm, per, fl = [], [], [], [], []
    s = r
    for layer in network.layers:
        out, v, vmax, x, *f = run_layer(layer, s, clip)
        per.append(stage_counts(s, x, "window" if layer.mode == "window" else "overlap", layer.L, layer.n_out))
        spikes.append(out)
        vl.append(v)
        vm.append(vmax)
        fl += f
        s = out
    o = None
    if network.readout is not None:
        o, x, *f = run_readout(network.readout, s, clip)
        per.append(stage_counts(s, x, "readout", network.readout.K, network.readout.n_out))
        fl += f
    seconds = time.perf_counter() - t0
    res = SnnwmResult("cpu", spikes, vl, o, totals(per), seconds, {"T": T}, {"counts_per_sample": per}, vm)
    return (res, clipped(fl, len(r))) if clip else res
