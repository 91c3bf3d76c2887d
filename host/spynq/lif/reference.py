"""numpy float64 reference: the maths of the papers, in the update order of
hls/lif_delay/lif_delay_config.h (deliver, integrate, fire, reset), without rounding or
saturation. The golden model (spynq.lif.golden) is the same loop in integers.

Input currents are computed per layer from the whole input raster, event by event
(``delayed_input``): a spike (b, t, i) adds w_ij to x[b, t + d_ij, j]. This is exactly
what the ring buffer of D slots holds at step t + d_ij (a slot is consumed before it is
reused, since d < D), and its cost grows with the number of spikes, not n_in * T.
"""
from __future__ import annotations

import time

import numpy as np

from .model import LifNetwork
from .result import LifResult


def delayed_input(spikes: np.ndarray, weights: np.ndarray, delays: np.ndarray | None,
                  chunk: int = 4_000_000) -> np.ndarray:
    """x[b, t, j] = sum over spikes (b, t', i) with t' + d_ij = t of weights[i, j].

    spikes (batch, T, n_in) bool; weights (n_in, n_out) float or int (sums are exact in
    float64 for integer weights below 2^53); delays None, (n_in,) or (n_in, n_out).
    Deliveries past the last step are dropped. Returns float64 (batch, T, n_out).
    """
    batch, T, n_in = spikes.shape
    n_out = weights.shape[1]
    w = np.asarray(weights, float)
    if delays is None or not np.any(delays):
        return (spikes.reshape(-1, n_in).astype(float) @ w).reshape(batch, T, n_out)
    x = np.zeros((batch, T, n_out))
    if delays.ndim == 1:  # axonal: one matmul per distinct delay
        for d in np.unique(delays):
            if d >= T:
                continue
            sel = delays == d
            x[:, d:, :] += (spikes[:, :T - d, sel].reshape(-1, sel.sum()).astype(float) @ w[sel]).reshape(
                batch, T - d, n_out)
        return x
    b, t, i = np.nonzero(spikes)  # events
    per = max(1, chunk // n_out)
    flat = x.reshape(-1)
    cols = np.arange(n_out)
    for s in range(0, len(b), per):
        bb, tt, ii = b[s:s + per], t[s:s + per], i[s:s + per]
        tgt = tt[:, None] + delays[ii]  # (events, n_out)
        ok = tgt < T
        idx = ((bb[:, None] * T + tgt) * n_out + cols)[ok]
        flat += np.bincount(idx, weights=w[ii][ok], minlength=flat.size)
    return x


def run_layer(layer, spikes_in: np.ndarray):
    """Float LIF dynamics of one layer; returns (spikes, v_last, v_max)."""
    p = layer.params
    x = delayed_input(spikes_in, layer.weights, layer.delays)
    batch, T, n = x.shape
    v = np.zeros((batch, n))
    cur = np.zeros((batch, n))
    ref = np.zeros((batch, n), np.int64)
    vmax = np.full((batch, n), -np.inf)
    out = np.zeros((batch, T, n), bool)
    for t in range(T):
        if p.beta is not None:
            cur = p.beta * cur + x[:, t]
            u = cur
        else:
            u = x[:, t]
        active = ref == 0
        ref = np.where(active, ref, ref - 1)
        v = np.where(active, p.alpha * v + u, v)
        vmax = np.where(active, np.maximum(vmax, v), vmax)
        s = active & (v >= p.threshold)
        if p.reset == "zero":
            v = np.where(s, p.v_reset, v)
        else:
            v = np.where(s, v - p.threshold, v)
        ref = np.where(s, p.refractory, ref)
        out[:, t] = s
    return out, v, vmax


def run(network: LifNetwork, rasters) -> LifResult:
    r = network.check_rasters(rasters)
    t0 = time.perf_counter()
    spikes, counts, vl, vm = [], [], [], []
    s = r
    for layer in network.layers:
        s, v, vmax = run_layer(layer, s)
        spikes.append(s)
        counts.append(s.sum(axis=1).astype(np.int64))
        vl.append(v)
        vm.append(vmax)
    return LifResult("cpu", spikes, counts, vl, vm, time.perf_counter() - t0)
