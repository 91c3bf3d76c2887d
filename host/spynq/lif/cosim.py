"""The cosim backend: lif_delay_top's HLS C++ behind the Vitis-shaped shell in Verilator,
driven through the PYNQ driver (spynq.lif.driver) by the co-simulation device."""
from __future__ import annotations

import time

from ..hw import cosim


def cosim_jobs(jobs, timeout_s: float = 900, backpressure: float = 0.2, seed: int = 1):
    """Run several (net, net_words, rasters, n_steps, batch[, timeout]) calls in one simulator launch;
    result.value = (out words, seconds)."""
    return cosim.jobs("lif_delay", "lif", jobs, timeout_s, backpressure, seed)


def run_cosim(network, rasters, timeout_s: float = 900, backpressure: float = 0.2):
    """Every call of the network's plan in one simulator launch."""
    from . import encode
    from .backends import plan_calls, run_fixed, _sub_network

    r = network.check_rasters(rasters)
    if len(plan_calls(network)) > 1:
        # later calls need earlier outputs: one launch per call
        def call(p, rw, T, batch):
            (res,) = cosim_jobs([(p.net, p.net_words, rw, T, batch, timeout_s)], timeout_s, backpressure)
            res.raise_for_error()
            return res.value

        return run_fixed("cosim", network, r, call)
    t0 = time.perf_counter()
    p = encode.pack_network(_sub_network(network, plan_calls(network)[0]))
    (res,) = cosim_jobs([(p.net, p.net_words, encode.pack_rasters(r), r.shape[1], r.shape[0], timeout_s)],
                        timeout_s, backpressure)
    res.raise_for_error()
    out, _ = res.value
    return run_fixed("cosim", network, r, lambda *a: (out, time.perf_counter() - t0),
                     {"cycles": res.cycles, "runs": res.runs, "bus_errors": res.bus_errors})
