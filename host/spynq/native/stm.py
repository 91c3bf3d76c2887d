"""The native STM baseline (stm_native.cpp) behind spynq.stm.backends.infer(..., "native").

The cpu backend's algorithm (spynq.stm.reference) in float32: same energies (spynq.stm.
energy), the same caps and status bits (ST_SATURATED, ST_ZERO_SUM; E_CAP and E_GUARD of
the reference), weights normalised per row, and the same two savings: an edge's
normalised likelihood has one column per distinct parent value (a discrete parent: its
states), and it is kept between calls on the same populations (content-keyed, least
recently used out past CACHE_BYTES; cache=False recomputes it every call, as the kernel's
precompute pass does). The posterior differs from the cpu's float64 only by float32
rounding (bounded in tests/test_native.py).
"""
from __future__ import annotations

import ctypes
import time

import numpy as np

from . import entry, int_array, ptr, ptr_array, threads_used
from ..cache import ByteLRU, default_limit, digest
from ..stm.energy import KIND_GAUSS, edge_energy

CACHE_BYTES = default_limit()  # float32 likelihood matrices kept between calls (512 MB; less on a small machine)
_CACHE = ByteLRU(lambda: CACHE_BYTES, lambda v: v[0].nbytes)  # key -> (L, inv, K, saturated)
_RUN = [ctypes.c_int] + [ctypes.c_void_p] * 12 + [ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                                ctypes.c_float, ctypes.c_float, ctypes.c_int64, ctypes.c_int64,
                                                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_EDGE = [ctypes.c_int] * 3 + [ctypes.c_void_p] * 6 + [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                                                     ctypes.c_float, ctypes.c_float, ctypes.c_void_p, ctypes.c_int]


def _f32(a):
    return None if a is None else np.ascontiguousarray(a, np.float32)


def _params(dist):
    """(kind, rows, cols, [a, b, r, g, table]) of an edge's energy, float32."""
    e = edge_energy(dist)
    if e.kind == KIND_GAUSS:
        return e.kind, len(e.a), 0, [_f32(e.a), _f32(e.b), _f32(e.r), _f32(e.g), None]
    return e.kind, e.table.shape[0], e.table.shape[1], [None] * 4 + [_f32(e.table)]  # inf: capped in C


def edge_matrix(dist, cs: np.ndarray, ps: np.ndarray, threads: int, cache: bool = True):
    """(L (len(cs), K) float32, inv (len(ps),) int32, K, saturated) of a hidden edge."""
    kind, rows, cols, arrs = _params(dist)
    cs, ps = _f32(cs), _f32(ps)
    key = digest(np.array([kind, rows, cols]), *arrs, cs, ps) if cache else None
    hit = _CACHE.get(key) if key is not None else None
    if hit is not None:
        return hit
    pu, inv = np.unique(ps, return_inverse=True)
    inv = np.ascontiguousarray(inv.reshape(-1), np.int32)
    counts = _f32(np.bincount(inv, minlength=len(pu))) if len(pu) < len(ps) else None
    values = _f32(pu) if counts is not None else ps
    if counts is None:
        inv = np.arange(len(ps), dtype=np.int32)
    L = np.empty((len(cs), len(values)), np.float32)
    from ..stm import reference

    sat = entry("stm", "spynq_native_stm_edge", _EDGE)(kind, rows, cols, *[ptr(a) for a in arrs], ptr(cs), len(cs), ptr(values),
                                    ptr(counts), len(values), float(reference.E_CAP), float(reference.E_GUARD),
                                    ptr(L), threads)
    made = (L, inv, len(values), bool(sat))
    if key is not None:
        _CACHE.put(key, made)
    return made


def clear_cache() -> None:
    """Forget the kept likelihood matrices."""
    _CACHE.clear()


def infer(network, pops: dict, evidence, threads: int | None = 0, cache: bool = True):
    """StmResult of `network` (validated) with checked populations on the evidence;
    threads: 0/None = all cores; cache: keep each edge's normalised likelihood for later
    calls on the same populations."""
    from ..stm import reference
    from ..stm.result import ST_SATURATED, ST_ZERO_SUM, StmResult

    threads = threads_used(threads)
    ev = np.ascontiguousarray(network.evidence_array(evidence), np.float64)
    t0 = time.perf_counter()
    order = network.post_order()
    index = {n.name: i for i, n in enumerate(order)}
    col = {n.name: j for j, n in enumerate(network.evidence_nodes)}
    keep = []  # arrays the call points into
    observed, parent, size, samples, kind, rows, cols, ptrs, ev_col = [], [], [], [], [], [], [], [], []
    mats, invs, ks, pre_sat = [], [], [], False
    for n in order:
        observed.append(int(n.observed))
        parent.append(-1 if n.parent is None else index[n.parent.name])
        s = None if n.observed else _f32(pops[n.name])
        size.append(0 if s is None else len(s))
        samples.append(s)
        ev_col.append(col.get(n.name, -1))
        mat = inv = None
        k = 0
        if n.parent is None:
            kind.append(0), rows.append(0), cols.append(0)
            ptrs += [None] * 5
        else:
            kd, r, c, arrs = _params(n.dist)
            kind.append(kd), rows.append(r), cols.append(c)
            keep += arrs
            ptrs += arrs
            if not n.observed:
                mat, inv, k, sat = edge_matrix(n.dist, pops[n.name], pops[n.parent.name], threads, cache)
                pre_sat |= sat
        mats.append(mat), invs.append(inv), ks.append(k)
    batch = len(ev)
    w = np.zeros((batch, size[-1]))
    status = np.zeros(batch, np.int64)
    used = entry("stm", "spynq_native_stm_run", _RUN)(
        len(order), int_array(observed), int_array(parent), int_array(size), ptr_array(samples), int_array(kind),
        int_array(rows), int_array(cols), ptr_array(ptrs), int_array(ev_col), ptr_array(mats), ptr_array(invs),
        int_array(ks), int(pre_sat), ptr(ev), ev.shape[1], batch, float(reference.E_CAP), float(reference.E_GUARD),
        int(ST_ZERO_SUM), int(ST_SATURATED), ptr(w), ptr(status), threads)
    if used < 0:
        raise RuntimeError("the native STM library rejected its arguments (a spynq bug)")
    del keep, mats
    return StmResult("native", network, pops[network.root_node.name], w, status, np.zeros(batch, np.int64), None,
                     time.perf_counter() - t0, {"threads": used, "cache": cache})
