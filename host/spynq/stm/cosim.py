"""The cosim backend: stm_top's HLS C++ behind the Vitis-shaped shell in Verilator,
driven through the PYNQ driver (spynq.stm.driver) by the co-simulation device."""
from __future__ import annotations

import time

from ..hw.cconfig import HLS_DIR
from . import encode
from .interface import STM_INTERFACE

ADAPTER_SOURCES = (HLS_DIR / "stm" / "stm_sim_adapter.cpp", HLS_DIR / "stm" / "stm_top.cpp")
INCLUDE_DIRS = (HLS_DIR / "stm", HLS_DIR / "common")


def cosim_jobs(jobs, timeout_s: float = 900, backpressure: float = 0.2, seed: int = 1):
    """Run several (net, net_words, evidence, batch) calls in one simulator launch.

    Returns spynq_sim CosimResults; result.value = (out words, seconds)."""
    from spynq_sim.runner import CosimJob, run_cosim_jobs

    return run_cosim_jobs(STM_INTERFACE, ADAPTER_SOURCES, INCLUDE_DIRS,
                          [CosimJob("spynq.stm.driver:host_job", tuple(j)) for j in jobs],
                          timeout_s, backpressure=backpressure, seed=seed)


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
