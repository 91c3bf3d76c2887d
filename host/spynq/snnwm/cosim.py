"""The cosim backend: snnwm_top's HLS C++ behind the Vitis-shaped shell in Verilator,
driven through the PYNQ driver (spynq.snnwm.driver) by the co-simulation device."""
from __future__ import annotations

import time

from ..hw import cosim


def cosim_jobs(jobs, timeout_s: float = 900, backpressure: float = 0.2, seed: int = 1):
    """Run several (net, net_words, rasters, n_steps, batch[, timeout]) calls in one simulator launch;
    result.value = (out words, seconds)."""
    return cosim.jobs("snnwm", "snnwm", jobs, timeout_s, backpressure, seed)


def run_cosim(network, rasters, timeout_s: float = 900, backpressure: float = 0.2):
    """One kernel call in one simulator launch."""
    from .backends import packed_args, run_fixed

    r = network.check_rasters(rasters)
    t0 = time.perf_counter()
    (res,) = cosim_jobs([packed_args(network, r) + (timeout_s,)], timeout_s, backpressure)
    res.raise_for_error()
    out, _ = res.value
    return run_fixed("cosim", network, r, lambda *a: (out, time.perf_counter() - t0),
                     {"cycles": res.cycles, "runs": res.runs, "bus_errors": res.bus_errors})
