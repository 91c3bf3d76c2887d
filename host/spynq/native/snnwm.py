"""The native SNNWM baseline (snnwm_native.cpp) behind spynq.snnwm.backends.run(..., "native").

W1 is passed as float32: exact for weights on the kernel's 2^-12 grid (every spynq
network); other weights are rounded to float32 first (the sums stay float64).

Same semantics and counters as the cpu backend (spynq.snnwm.reference and .counts): the
library returns the spikes, membranes, readout and the non-zero window sums per sample;
the W2 additions and membrane accesses follow from the input spikes and the segment
layout as in spynq.snnwm.counts.stage_counts.
"""
from __future__ import annotations

import ctypes
import time

import numpy as np

from . import double_array, entry, int_array, ptr, ptr_array, threads_used

_MODES = {"window": 0, "overlap": 1, "readout": 2}
_RUN = [ctypes.c_int] + [ctypes.c_void_p] * 7 + [ctypes.c_void_p, ctypes.c_int, ctypes.c_int] + \
    [ctypes.c_void_p] * 4 + [ctypes.c_int]


def run(network, rasters, threads: int | None = 0):
    """SnnwmResult of `network` (a validated SnnwmNetwork) on checked rasters (batch, T,
    n_in) bool; threads: 0/None = all cores."""
    from ..snnwm.counts import tap_multiplicity, totals
    from ..snnwm.reference import segments
    from ..snnwm.result import SnnwmResult

    r = np.ascontiguousarray(rasters, dtype=bool)
    batch, T, _ = r.shape
    t0 = time.perf_counter()
    stages = list(network.layers) + ([network.readout] if network.readout is not None else [])
    modes = [_MODES[s.mode] for s in network.layers] + ([2] if network.readout is not None else [])
    w1 = [np.ascontiguousarray(s.w1, np.float32) for s in stages]  # exact on the 2^-12 grid
    w2 = [np.ascontiguousarray(s.w2, np.float64) for s in stages]
    dparams = double_array(v for s in network.layers for v in (s.params.decay, s.params.threshold, s.params.v_rest))
    if network.readout is not None:
        dparams = double_array(list(dparams)[:3 * len(network.layers)] + [0.0, 0.0, 0.0])
    spikes = [np.zeros((batch, T, s.n_out), bool) for s in network.layers]
    v_last = [np.zeros((batch, s.n_out)) for s in stages]
    v_max = [np.zeros((batch, s.n_out)) for s in stages]
    nnz = [np.zeros(batch, np.int64) for _ in stages]
    used = entry("snnwm", "spynq_native_snnwm_run", _RUN)(
        len(stages), int_array(s.n_in for s in stages), int_array(s.n_out for s in stages),
        int_array(len(s.w2) for s in stages), int_array(modes), ptr_array(w1), ptr_array(w2), dparams, ptr(r),
        batch, T, ptr_array(spikes + [None] * (len(stages) - len(spikes))), ptr_array(v_last), ptr_array(v_max),
        ptr_array(nnz), threads_used(threads))
    if used < 0:
        raise RuntimeError("the native SNNWM library rejected its arguments (a spynq bug)")
    per, s_in = [], r
    for k, (stage, mode) in enumerate(zip(stages, modes)):
        name = "readout" if mode == 2 else stage.mode
        kind = "window" if name == "window" else ("readout" if name == "readout" else "overlap")
        n_seg = len(segments(kind, len(stage.w2), T))
        pop = s_in.sum(axis=2).astype(np.int64)
        v = 0 if kind == "readout" else n_seg * stage.n_out
        per.append({"mac": nnz[k] * stage.n_out, "add": pop @ tap_multiplicity(kind, len(stage.w2), T),
                    "v_reads": np.full(batch, v, np.int64), "v_writes": np.full(batch, v, np.int64)})
        if k < len(spikes):
            s_in = spikes[k]
    o = v_last[-1] if network.readout is not None else None
    n_layers = len(network.layers)
    return SnnwmResult("native", spikes, v_last[:n_layers], o, totals(per), time.perf_counter() - t0,
                       {"T": T, "threads": used}, {"counts_per_sample": per}, v_max[:n_layers])
