"""SNNWM networks on every backend, one API and one result type.

  cpu     numpy float64 reference (the paper's maths)
  golden  numpy fixed-point model of the kernel (bit-exact with csim, cosim, fpga)
  csim    the HLS C++ built with g++ and called through ctypes
  cosim   the HLS C++ behind the Vitis-shaped shell in Verilator, driven by the PYNQ driver
  fpga    the overlay on a ZCU104 board through PYNQ
  auto    fpga when an overlay is loaded, else cpu

A network must fit one kernel call (4 layers + readout, SNNWM_MAX_SYN W1 words, T <=
SNNWM_MAX_T); larger ones raise ValueError from spynq.snnwm.encode.check_limits.
"""
from __future__ import annotations


import numpy as np

from ..bench import timed
from ..hw import csim, runner
from ..hw.board import resolve_backend
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


def run_fixed(name: str, network: SnnwmNetwork, rasters, call_fn, info=None, limits: dict = C) -> SnnwmResult:
    """One call of a kernel with `limits` through call_fn(net, net_words, raster_words, T,
    batch) -> (out, seconds)."""
    r = network.check_rasters(rasters)
    batch, T, _ = r.shape
    encode.check_limits(network, T, batch, limits)
    p = encode.pack_network(network)
    out, seconds = call_fn(p.net, p.net_words, encode.pack_rasters(r), T, batch)
    dec = encode.decode_out(out, p.sizes, T, batch, p.readout)
    o = None if dec["readout"] is None else dec["readout"] / V_SCALE
    return SnnwmResult(name, dec["spikes"], [v / V_SCALE for v in dec["v_last"]], o, totals(dec["counts"]),
                       seconds, dict(info or {}, T=T),
                       {"out": out, "v_last": dec["v_last"], "v_max": dec["v_max"], "readout": dec["readout"],
                        "counts_per_sample": dec["counts"]},
                       [v / V_SCALE for v in dec["v_max"]])


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
    backend = resolve_backend(backend)
    if backend == "cpu":
        return reference.run(network, rasters)
    call, info, limits = runner.caller("snnwm", backend, **opts)
    res = run_fixed(backend, network, rasters, call, None, limits)
    res.info.update(info)
    return res
