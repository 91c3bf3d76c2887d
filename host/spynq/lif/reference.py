"""numpy float64 reference: the maths of the papers, in the update order of
hls/lif_delay/lif_delay_config.h (deliver, integrate, fire, reset), without rounding or
saturation. The golden model (spynq.lif.golden) is the same loop in integers.

Input currents are computed per layer from the whole input raster, event by event
(``delayed_input``): a spike (b, t, i) adds w_ij to x[b, t + d_ij, j]. This is exactly
what the ring buffer of D slots holds at step t + d_ij (a slot is consumed before it is
reused, since d < D), and its cost grows with the number of spikes, not n_in * T.

With ``clip=True`` the layer and network functions also say, per sample, where the float
result left the kernel's fixed-point state range (Q7.16, [V_LO, V_HI]), i.e. where the
kernel would have saturated: bit LIF_SS_V_SAT for the integrated membrane V, bit
LIF_SS_I_SAT for the current state I (the kernel's status bits, same values).
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from .encode import C, V_MAX, V_MIN
from .model import LifNetwork
from .result import LifResult

V_LO = V_MIN / float(1 << C["LIF_V_FRAC"])  # -128
V_HI = V_MAX / float(1 << C["LIF_V_FRAC"])  # 128 - 2^-16
V_SAT, I_SAT = C["LIF_SS_V_SAT"], C["LIF_SS_I_SAT"]
SCATTER_ELEMS = 1 << 16  # synaptic events per scatter chunk (1 MB of index and weight rows)


class Clipped(NamedTuple):
    """Where a float run left the kernel's range, per sample: ``flags`` (batch,) the OR over
    the layers of the per-layer bits (V_SAT = 1 membrane, I_SAT = 2 current/readout),
    ``layers`` (batch,) bit l set where layer l set any flag, ``per_layer`` the (batch,)
    bits of each layer (the kernel's per-layer status words)."""

    flags: np.ndarray
    layers: np.ndarray
    per_layer: list


def clipped(per_layer: list, batch: int) -> Clipped:
    flags = np.zeros(batch, np.int64)
    layers = np.zeros(batch, np.int64)
    for k, f in enumerate(per_layer):
        flags |= f
        layers |= np.where(f != 0, 1 << k, 0)
    return Clipped(flags, layers, per_layer)


def delayed_input(spikes: np.ndarray, weights: np.ndarray, delays: np.ndarray | None,
                  chunk: int = SCATTER_ELEMS) -> np.ndarray:
    """x[b, t, j] = sum over spikes (b, t', i) with t' + d_ij = t of weights[i, j].

    spikes (batch, T, n_in) bool; weights (n_in, n_out) float or int (sums are exact in
    float64 for integer weights below 2^53); delays None, (n_in,) or (n_in, n_out).
    Deliveries past the last step are dropped. Returns float64 (batch, T, n_out).
    """
    return np.ascontiguousarray(sample_major_input(spikes, weights, delays, chunk))


def sample_major_input(spikes: np.ndarray, weights: np.ndarray, delays: np.ndarray | None,
                       chunk: int = SCATTER_ELEMS) -> np.ndarray:
    """delayed_input as a (batch, T, n_out) float64 array that may be a view.

    Per-synapse delays: every event (b, t, i) is a row of n_out integer offsets (d_ij *
    n_out + j, each input's synapses sorted by delay) plus the event's base (b, t),
    scattered with np.add.at into a buffer padded by the largest delay (capped at T): a
    delivery past T-1 lands in the padding and is cut off. An event fewer than dmax + 1
    steps before the end takes only the first m_e columns of its row, its synapses that
    still arrive; events are sorted by m_e (stable: raster order among equals) and
    scattered in chunks of about SCATTER_ELEMS deliveries, each as wide as its widest
    event. The terms of one target x[b, t, j] are added one at a time, in raster order
    except that late events come sorted by m_e; on exactly representable inputs (every
    partial sum exact in float64, e.g. the kernel's Q3.12 weights) the order cannot change
    the sums, and tests/test_cpu_paths.py checks them against the plain event loop.
    """
    batch, T, n_in = spikes.shape
    n_out = weights.shape[1]
    w = np.ascontiguousarray(weights, float)
    if delays is None or not np.any(delays):
        return (spikes.reshape(-1, n_in).astype(float) @ w).reshape(batch, T, n_out)
    if delays.ndim == 1:  # axonal: one matmul per distinct delay
        x = np.zeros((batch, T, n_out))
        for d in np.unique(delays):
            if d >= T:
                continue
            sel = delays == d
            x[:, d:, :] += (spikes[:, :T - d, sel].reshape(-1, sel.sum()).astype(float) @ w[sel]).reshape(
                batch, T - d, n_out)
        return x
    d = np.minimum(delays, T).astype(np.intp)  # >= T never arrives: all of them land in the padding
    dmax = int(d.max())
    tt = T + dmax
    small = np.uint8 if dmax < 256 else np.uint16 if dmax < 65536 else np.intp
    order = np.argsort(d.astype(small), axis=1, kind="stable")  # each input's synapses by delay (radix sort)
    ds = np.take_along_axis(d, order, 1)
    off = ds * n_out + order  # (n_in, n_out) offsets from the event's own (b, t) row
    ws = np.take_along_axis(w, order, 1)
    # arrive[i, k]: synapses of input i with delay <= k, what an event k + 1 steps before the
    # end needs (k = dmax: all n_out, what an earlier event needs too)
    hist = np.bincount((np.arange(n_in)[:, None] * (dmax + 1) + ds).ravel(), minlength=n_in * (dmax + 1))
    arrive = np.cumsum(hist.reshape(n_in, dmax + 1), axis=1).reshape(-1)
    bt, i = np.divmod(np.flatnonzero(spikes), n_in)  # events in (b, t, i) order (3-D nonzero is 3x slower)
    b, t = np.divmod(bt, T)
    base = (bt + b * dmax) * n_out  # (b * (T + dmax) + t) * n_out
    # a late event (fewer than dmax + 1 steps to go) needs only its first `need` synapses;
    # events are sorted by that number (stable: raster order among equals), so a chunk of
    # neighbours takes about as many columns as its events need
    need = arrive.take(i * (dmax + 1) + np.minimum(T - t, dmax + 1) - 1)
    key = need.astype(np.uint8 if n_out < 256 else np.uint16 if n_out < 65536 else np.intp)
    by_need = np.argsort(key, kind="stable")  # a radix sort for small integer keys
    i, need, base = i.take(by_need), need.take(by_need), base.take(by_need)
    xp = np.zeros(batch * tt * n_out)
    cap = max(chunk, n_out)  # deliveries per chunk
    rows = cap // n_out  # whole rows per gather
    idx = np.empty(min(cap, len(t) * n_out), np.intp)
    val = np.empty(len(idx))
    ifull, wfull = np.empty((min(rows, len(t)), n_out), np.intp), np.empty((min(rows, len(t)), n_out))
    cols = np.arange(n_out)
    s = int(np.searchsorted(need, 1))  # events none of whose synapses arrive in time come first
    while s < len(t):
        e = min(len(t), s + max(1, cap // int(need[s])))
        m = int(need[e - 1])  # the widest of the chunk (need ascends)
        if (e - s) * m > cap:
            e = s + max(1, cap // m)
            m = int(need[e - 1])
        ii, bb = i[s:e], base[s:e, None]
        n = e - s
        ix, vx = idx[:n * m].reshape(n, m), val[:n * m].reshape(n, m)
        if m == n_out:  # whole rows
            off.take(ii, axis=0, out=ix, mode="clip")  # "clip": an unbuffered out
            ix += bb
            ws.take(ii, axis=0, out=vx, mode="clip")
        elif 4 * m < n_out:  # a few synapses per row: gathered one by one
            flat = np.add((ii * n_out)[:, None], cols[:m])
            np.add(off.reshape(-1).take(flat), bb, out=ix)
            ws.reshape(-1).take(flat, out=vx, mode="clip")
        else:  # whole rows (the fastest gather; a column slice would be copied whole), then m columns
            for a in range(0, n, rows):
                c = min(n, a + rows)
                np.add(off.take(ii[a:c], axis=0, out=ifull[:c - a], mode="clip")[:, :m], bb[a:c], out=ix[a:c])
                np.copyto(vx[a:c], ws.take(ii[a:c], axis=0, out=wfull[:c - a], mode="clip")[:, :m])
        np.add.at(xp, idx[:n * m], val[:n * m])
        s = e
    return xp.reshape(batch, tt, n_out)[:, :T]


def current_state(x: np.ndarray, beta: float) -> np.ndarray:
    """I(t) = beta I(t-1) + x(t) from I(-1) = 0, in place over x (T, ...): the same float
    operations, in the same order, as stepping it inside the neuron loop."""
    tmp = np.empty_like(x[0])
    for t in range(1, len(x)):
        np.multiply(x[t - 1], beta, out=tmp)
        np.add(tmp, x[t], out=x[t])
    return x


def outside(a: np.ndarray, lo: float, hi: float, axes) -> np.ndarray:
    """Whether any value of `a` over `axes` lies outside [lo, hi]."""
    return (a.min(axis=axes, initial=np.inf) < lo) | (a.max(axis=axes, initial=-np.inf) > hi)


def run_layer(layer, spikes_in: np.ndarray, clip: bool = False):
    """Float LIF dynamics of one layer; returns (spikes, v_last, v_max), and with clip=True
    also flags (batch,) int64: V_SAT where an integrated V (an update of a neuron that is
    not refractory, before reset) left [V_LO, V_HI], I_SAT where the current state I did
    (current-based layers, every step)."""
    p = layer.params
    # step-major and contiguous: the per-step rows below cost half as much as strided ones
    u = np.ascontiguousarray(sample_major_input(spikes_in, layer.weights, layer.delays).transpose(1, 0, 2))
    T, batch, n = u.shape
    flags = np.zeros(batch, np.int64)
    if p.beta is not None:
        current_state(u, p.beta)
        if clip:
            flags |= np.where(outside(u, V_LO, V_HI, (0, 2)), I_SAT, 0)
    v = np.zeros((batch, n))
    vmax = np.full((batch, n), -np.inf)
    vmin = np.full((batch, n), np.inf)  # only for the clip flags
    out = np.zeros((T, batch, n), bool)
    subtract = p.reset != "zero"
    if p.refractory == 0:  # every neuron integrates every step: no masks
        for t in range(T):
            np.multiply(v, p.alpha, out=v)
            np.add(v, u[t], out=v)
            np.maximum(vmax, v, out=vmax)
            if clip:
                np.minimum(vmin, v, out=vmin)
            s = out[t]
            np.greater_equal(v, p.threshold, out=s)
            if subtract:
                np.subtract(v, p.threshold, out=v, where=s)
            else:
                np.copyto(v, p.v_reset, where=s)
    else:
        ref = np.zeros((batch, n), np.int64)
        active = np.empty((batch, n), bool)
        vi = np.empty((batch, n))
        for t in range(T):
            np.equal(ref, 0, out=active)
            np.subtract(ref, 1, out=ref)  # refractory neurons count down; active ones stay at 0
            np.maximum(ref, 0, out=ref)
            np.multiply(v, p.alpha, out=vi)
            np.add(vi, u[t], out=vi)
            np.copyto(v, vi, where=active)  # a refractory neuron holds V
            np.maximum(vmax, v, out=vmax, where=active)
            if clip:
                np.minimum(vmin, v, out=vmin, where=active)
            s = out[t]
            np.greater_equal(v, p.threshold, out=s)
            s &= active
            if subtract:
                np.subtract(v, p.threshold, out=v, where=s)
            else:
                np.copyto(v, p.v_reset, where=s)
            np.copyto(ref, p.refractory, where=s)
    spikes = np.ascontiguousarray(out.transpose(1, 0, 2))
    if not clip:
        return spikes, v, vmax
    flags |= np.where(outside(vmax, V_LO, V_HI, 1) | outside(vmin, V_LO, V_HI, 1), V_SAT, 0)
    return spikes, v, vmax, flags


def run(network: LifNetwork, rasters, clip: bool = False):
    """LifResult of the float reference; with clip=True (LifResult, Clipped): where each
    sample's float result left the kernel's state range (see ``Clipped``)."""
    r = network.check_rasters(rasters)
    t0 = time.perf_counter()
    spikes, counts, vl, vm, fl = [], [], [], [], []
    s = r
    for layer in network.layers:
        s, v, vmax, *f = run_layer(layer, s, clip)
        spikes.append(s)
        counts.append(s.sum(axis=1).astype(np.int64))
        vl.append(v)
        vm.append(vmax)
        fl += f
    res = LifResult("cpu", spikes, counts, vl, vm, time.perf_counter() - t0)
    return (res, clipped(fl, len(r))) if clip else res
