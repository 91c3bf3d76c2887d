"""SNNWM networks on every backend, one API and one result type.

  native  float C++ for the CPU (spynq.native), the baseline a CPU user would run
  cpu     numpy float64 reference (the paper's maths)
  golden  numpy fixed-point model of the kernel (bit-exact with csim, cosim, fpga)
  csim    the HLS C++ built with g++ and called through ctypes
  cosim   the HLS C++ behind the Vitis-shaped shell in Verilator, driven by the PYNQ driver
  fpga    the overlay on a ZCU104 board through PYNQ
  auto    fpga when an overlay is loaded, else cpu

A network must fit one kernel call (4 layers + readout, SNNWM_MAX_SYN W1 words, T <=
SNNWM_MAX_T); larger ones raise ValueError from spynq.snnwm.encode.check_limits. A batch
larger than one call takes runs as consecutive calls.
"""
from __future__ import annotations


import numpy as np

from ..bench import timed
from ..hw import csim, runner
from ..hw import limits as hw_limits
from ..hw.board import resolve_backend
from ..status import warn_clipped
from ..validate import check_type

from . import encode, golden, reference
from .counts import totals
from .encode import C
from .model import SnnwmNetwork
from .result import SnnwmResult

V_SCALE = float(1 << C["SNNWM_V_FRAC"])


def packed_args(network: SnnwmNetwork, rasters: np.ndarray):
    """(net, net_words, raster words, T, batch) of one kernel call."""
    p = encode.pack_network(network)
    return p.net, p.net_words, encode.pack_rasters(rasters), rasters.shape[1], rasters.shape[0]


def batch_chunk(network: SnnwmNetwork, T: int, limits: dict = C) -> int:
    """Samples per kernel call: SNNWM_MAX_BATCH, or fewer where the out buffer would pass
    MAX_OUT_WORDS."""
    hdr = C["SNNWM_OUT_HDR_WORDS"]
    per = encode.out_words(network.sizes, T, 1, network.readout is not None) - hdr
    return max(1, min(limits["SNNWM_MAX_BATCH"], (hw_limits.MAX_OUT_WORDS - hdr) // per))


def _join(parts: list):
    """Concatenate per-chunk decoded values along the batch axis (lists per stage, dicts of
    counters, arrays or None)."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, list):
        return [_join([p[k] for p in parts]) for k in range(len(first))]
    if isinstance(first, dict):
        return {key: _join([p[key] for p in parts]) for key in first}
    return np.concatenate(parts, axis=0)


def run_fixed(name: str, network: SnnwmNetwork, rasters, call_fn, info=None, limits: dict = C) -> SnnwmResult:
    """Calls of a kernel with `limits` through call_fn(net, net_words, raster_words, T,
    batch) -> (out, seconds): one, or consecutive chunks of a batch larger than one call takes."""
    r = network.check_rasters(rasters)
    batch, T, _ = r.shape
    encode.check_limits(network, T, None, limits)
    chunk = batch_chunk(network, T, limits)
    p = encode.pack_network(network)
    outs, decs, seconds = [], [], 0.0
    for b0 in range(0, max(batch, 1), chunk):
        rb = r[b0:b0 + chunk]
        out, dt = call_fn(p.net, p.net_words, encode.pack_rasters(rb), T, len(rb))
        seconds += dt
        outs.append(out)
        decs.append(encode.decode_out(out, p.sizes, T, len(rb), p.readout))
    dec = {key: _join([d[key] for d in decs]) for key in decs[0]}
    o = None if dec["readout"] is None else dec["readout"] / V_SCALE
    return SnnwmResult(name, dec["spikes"], [v / V_SCALE for v in dec["v_last"]], o, totals(dec["counts"]),
                       seconds, dict(info or {}, T=T, calls=len(outs)),
                       {"out": outs[0] if len(outs) == 1 else outs, "v_last": dec["v_last"], "v_max": dec["v_max"],
                        "readout": dec["readout"], "counts_per_sample": dec["counts"], "batch_chunk": chunk},
                       [v / V_SCALE for v in dec["v_max"]], dec["status"])


def golden_call(net, net_words, raster_words, T, batch):
    return timed(golden.run, net, net_words, raster_words, T, batch)


def csim_call(net: np.ndarray, net_words: int, rasters: np.ndarray, n_steps: int, batch: int,
              opt: str = "-O2") -> np.ndarray:
    """Run the HLS top function natively on packed buffers; returns the out words."""
    return csim.call("snnwm", net, net_words, rasters, (n_steps, batch), opt)


def run(network: SnnwmNetwork, rasters, backend: str = "auto", **opts) -> SnnwmResult:
    """Run `network` on rasters (batch, T, n_in) bool; readouts of every stage.

    opts for the fixed-point backends (spynq.hw.runner.execute): overlay=NAME (csim, cosim:
    build and check as that overlay's kernel), ol= (fpga: a loaded overlay), timeout_s=,
    opt= (csim), backpressure= (cosim). fpga checks against the overlay on the board."""
    check_type(network, "network", SnnwmNetwork)
    network.validate()  # stages are mutable: check them as they are now, on every backend
    rasters = network.check_rasters(rasters)
    if backend == "native":  # float C++ CPU baseline (spynq.native); opts: threads= (0: all cores)
        from ..native import snnwm as native_snnwm

        return native_snnwm.run(network, rasters, **opts)
    backend = resolve_backend(backend)
    if backend == "cpu":
        res, clipped = reference.run(network, rasters, clip=True)
        res.stage_status = clipped.per_layer  # where the float run left the kernel's range
    else:
        call, info, limits = runner.caller("snnwm", backend, **opts)
        res = run_fixed(backend, network, rasters, call, None, limits)
        res.info.update(info)
    warn_clipped(backend, res.stage_status, encode.STATUS_BITS, "stage")
    return res
