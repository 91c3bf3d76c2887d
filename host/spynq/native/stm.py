"""The native STM baseline (stm_native.cpp) behind spynq.stm.backends.infer(..., "native").

The cpu backend's algorithm (spynq.stm.reference) in float32: same energies (spynq.stm.
energy), the same caps and status bits (ST_SATURATED, ST_ZERO_SUM; E_CAP and E_GUARD of
the reference), weights normalised per row. The posterior differs from the cpu's float64
only by float32 rounding (bounded in tests/test_native.py).
"""
from __future__ import annotations

import ctypes
import time

import numpy as np

from . import int_array, load, ptr, ptr_array, threads_used
from ..stm.energy import KIND_GAUSS, edge_energy

_READY = False


def _lib():
    global _READY
    lib = load("stm")
    if not _READY:
        f = lib.spynq_native_stm_run
        f.argtypes = [ctypes.c_int] + [ctypes.c_void_p] * 9 + [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                                                ctypes.c_float, ctypes.c_float, ctypes.c_int64,
                                                                ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                                                ctypes.c_int]
        f.restype = ctypes.c_int
        _READY = True
    return lib


def _f32(a):
    return None if a is None else np.ascontiguousarray(a, np.float32)


def infer(network, pops: dict, evidence, threads: int | None = 0):
    """StmResult of `network` (validated) with checked populations on the evidence;
    threads: 0/None = all cores."""
    from ..stm import reference
    from ..stm.result import ST_SATURATED, ST_ZERO_SUM, StmResult

    lib = _lib()
    ev = np.ascontiguousarray(network.evidence_array(evidence), np.float64)
    t0 = time.perf_counter()
    order = network.post_order()
    index = {n.name: i for i, n in enumerate(order)}
    col = {n.name: j for j, n in enumerate(network.evidence_nodes)}
    keep = []  # arrays the call points into
    observed, parent, size, samples, kind, rows, cols, ptrs, ev_col = [], [], [], [], [], [], [], [], []
    for n in order:
        observed.append(int(n.observed))
        parent.append(-1 if n.parent is None else index[n.parent.name])
        s = None if n.observed else _f32(pops[n.name])
        size.append(0 if s is None else len(s))
        samples.append(s)
        ev_col.append(col.get(n.name, -1))
        if n.parent is None:
            kind.append(0), rows.append(0), cols.append(0)
            ptrs += [None] * 5
            continue
        e = edge_energy(n.dist)
        kind.append(e.kind)
        if e.kind == KIND_GAUSS:
            arrs = [_f32(e.a), _f32(e.b), _f32(e.r), _f32(e.g), None]
            rows.append(len(e.a)), cols.append(0)
        else:
            arrs = [None] * 4 + [_f32(e.table)]  # inf (impossible) stays inf; capped in the kernel
            rows.append(e.table.shape[0]), cols.append(e.table.shape[1])
        keep += arrs
        ptrs += arrs
    batch = len(ev)
    n_root = size[-1]
    w = np.zeros((batch, n_root))
    status = np.zeros(batch, np.int64)
    used = lib.spynq_native_stm_run(
        len(order), int_array(observed), int_array(parent), int_array(size), ptr_array(samples), int_array(kind),
        int_array(rows), int_array(cols), ptr_array(ptrs), int_array(ev_col), ptr(ev), ev.shape[1], batch,
        float(reference.E_CAP), float(reference.E_GUARD), int(ST_ZERO_SUM), int(ST_SATURATED), ptr(w), ptr(status),
        threads_used(threads))
    if used < 0:
        raise RuntimeError("the native STM library rejected its arguments (a spynq bug)")
    del keep
    return StmResult("native", network, pops[network.root_node.name], w, status, np.zeros(batch, np.int64), None,
                     time.perf_counter() - t0, {"threads": used})
