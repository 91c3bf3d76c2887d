"""The cosim backend: stm_top's HLS C++ behind the Vitis-shaped shell in Verilator,
driven through the PYNQ driver (spynq.stm.driver) by the co-simulation device."""
from __future__ import annotations

import time

from ..hw import cosim
from . import encode


def cosim_jobs(jobs, timeout_s: float = 900, backpressure: float = 0.2, seed: int = 1):
    """Run several (net, net_words, evidence, batch[, timeout]) calls in one simulator launch;
    result.value = (out words, seconds)."""
    return cosim.jobs("stm", "stm", jobs, timeout_s, backpressure, seed)


def run_cosim(network, pops, evidence, timeout_s: float = 900, backpressure: float = 0.2):
    from .backends import _fixed_result

    packed = encode.pack_network(network, pops)
    evw = encode.pack_evidence(network, evidence)
    batch = len(network.evidence_array(evidence))
    t0 = time.perf_counter()
    (res,) = cosim_jobs([(packed.net, packed.net_words, evw, batch, timeout_s)], timeout_s, backpressure)
    res.raise_for_error()
    out, _ = res.value
    return _fixed_result("cosim", network, pops, packed, out, batch, time.perf_counter() - t0,
                         {"cycles": res.cycles, "runs": res.runs, "bus_errors": res.bus_errors})
