"""numpy float64 reference: the maths of the SNNWM paper in the update order of
hls/snnwm/snnwm_config.h, without rounding or saturation. The golden model
(spynq.snnwm.golden) is the same computation in integers and shares ``segments`` and
``collect`` below.

Window mode is Algorithm 1: Iseg[n] = (sum_k w2_k s(nL + L-1-k)) W1 fed for each of the
window's L steps; overlap mode is eq. 6 with the factorised weights: I(t) = (sum_k w2_k
s(t-k)) W1 every step; the readout is eq. 9 evaluated at the last step T-1.
"""
from __future__ import annotations

import time

import numpy as np

from .model import ReadoutLayer, SnnwmNetwork
from .result import SnnwmResult


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
    Exact for integer w2 (sums < 2^53). Returns (batch, segments, n_in) of w2's dtype."""
    batch, T, n = spikes.shape
    ends = np.array([e for _, _, e in segs])
    x = np.zeros((batch, len(segs), n), np.result_type(w2.dtype, np.int64))
    for k, w in enumerate(w2):
        if w == 0:
            continue
        t = ends - k
        ok = (t >= 0) & (t < T)
        if ok.any():
            x[:, ok] += w * spikes[:, t[ok]]
    return x


def step_segment(segs, T: int) -> np.ndarray:
    """Index of the segment every step belongs to."""
    idx = np.zeros(T, np.int64)
    for n, (t0, ln, _) in enumerate(segs):
        idx[t0:t0 + ln] = n
    return idx


def run_layer(layer, spikes_in: np.ndarray):
    """Float dynamics of one WindowLayer; returns (spikes, v_last, v_max, x)."""
    batch, T, _ = spikes_in.shape
    segs = segments(layer.mode, layer.L, T)
    x = collect(spikes_in, layer.w2, segs)
    cur = x @ layer.w1  # (batch, segments, n_out)
    seg_of = step_segment(segs, T)
    p = layer.params
    v = np.zeros((batch, layer.n_out))
    vmax = np.full((batch, layer.n_out), -np.inf)
    out = np.zeros((batch, T, layer.n_out), bool)
    for t in range(T):
        v = p.decay * v + cur[:, seg_of[t]]
        vmax = np.maximum(vmax, v)
        s = v >= p.threshold
        v = np.where(s, p.v_rest, v)
        out[:, t] = s
    return out, v, vmax, x


def run_readout(ro: ReadoutLayer, spikes_in: np.ndarray):
    segs = segments("readout", ro.K, spikes_in.shape[1])
    x = collect(spikes_in, ro.w2, segs)
    return (x @ ro.w1)[:, 0], x


def run(network: SnnwmNetwork, rasters) -> SnnwmResult:
    from .counts import stage_counts, totals

    r = network.check_rasters(rasters)
    T = r.shape[1]
    t0 = time.perf_counter()
    spikes, vl, vm, per = [], [], [], []
    s = r
    for layer in network.layers:
        out, v, vmax, x = run_layer(layer, s)
        per.append(stage_counts(s, x, "window" if layer.mode == "window" else "overlap", layer.L, layer.n_out))
        spikes.append(out)
        vl.append(v)
        vm.append(vmax)
        s = out
    o = None
    if network.readout is not None:
        o, x = run_readout(network.readout, s)
        per.append(stage_counts(s, x, "readout", network.readout.K, network.readout.n_out))
    seconds = time.perf_counter() - t0
    return SnnwmResult("cpu", spikes, vl, o, totals(per), seconds, {"T": T},
                       {"counts_per_sample": per}, vm)
