"""The native LIF baseline (lif_native.cpp) behind spynq.lif.backends.run(..., "native").

Same semantics as the cpu backend (spynq.lif.reference): delay 0 arrives in the same
step, deliveries past the last step are dropped, refractory R holds V for R steps,
threshold >=, reset to v_reset or by subtraction, optional current state. Delays of
T or more never arrive, so they are stored as T (uint16: T must be < 65536).
"""
from __future__ import annotations

import ctypes
import time

import numpy as np

from ..errors import SpynqValueError
from . import double_array, entry, int_array, ptr, ptr_array, threads_used

_RUN = [ctypes.c_int] + [ctypes.c_void_p] * 8 + [ctypes.c_void_p, ctypes.c_int, ctypes.c_int] + \
    [ctypes.c_void_p] * 3 + [ctypes.c_int]


def run(network, rasters, threads: int | None = 0):
    """LifResult of `network` (a validated LifNetwork) on checked rasters (batch, T, n_in)
    bool; threads: 0/None = all cores."""
    from ..lif.result import LifResult

    r = np.ascontiguousarray(rasters, dtype=bool)
    batch, T, _ = r.shape
    if T >= 1 << 16:
        raise SpynqValueError(f"T={T}: the native LIF baseline takes fewer than 65536 steps")
    t0 = time.perf_counter()
    L = network.layers
    w = [np.ascontiguousarray(layer.weights, np.float32) for layer in L]
    d, mode, ring = [], [], []
    for layer in L:
        if layer.delays is None or not np.any(layer.delays):
            d.append(None), mode.append(0), ring.append(1)
            continue
        dl = np.minimum(layer.delays, T).astype(np.uint16)  # >= T: never delivered
        d.append(np.ascontiguousarray(dl))
        mode.append(1 if dl.ndim == 1 else 2)
        ring.append(1 << int(dl.max()).bit_length())  # a power of two > every delay
    params = double_array(v for layer in L for v in (layer.params.alpha, layer.params.beta or 0.0,
                                                     layer.params.threshold, layer.params.v_reset))
    iparams = int_array(v for layer in L for v in (layer.params.beta is not None, layer.params.reset == "subtract",
                                                   layer.params.refractory))
    spikes = [np.zeros((batch, T, layer.n_out), bool) for layer in L]
    v_last = [np.zeros((batch, layer.n_out)) for layer in L]
    v_max = [np.zeros((batch, layer.n_out)) for layer in L]
    used = entry("lif", "spynq_native_lif_run", _RUN)(
        len(L), int_array(layer.n_in for layer in L), int_array(layer.n_out for layer in L), ptr_array(w),
        ptr_array(d), int_array(mode), int_array(ring), params, iparams, ptr(r), batch, T, ptr_array(spikes),
        ptr_array(v_last), ptr_array(v_max), threads_used(threads))
    if used < 0:
        raise RuntimeError("the native LIF library rejected its arguments (a spynq bug)")
    counts = [s.sum(axis=1).astype(np.int64) for s in spikes]
    return LifResult("native", spikes, counts, v_last, v_max, time.perf_counter() - t0, {"threads": used})
