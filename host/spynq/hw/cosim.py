"""Co-simulation of a kernel by its hls/ folder name: the HLS C++ (hls/<k>/<k>_top.cpp)
behind the generated Vitis-shaped shell with its adapter (hls/<k>/<k>_sim_adapter.cpp),
driven by the kernel's PYNQ driver (`spynq.<package>.driver:host_job`)."""
from __future__ import annotations

from .cconfig import HLS_DIR


def jobs(kernel: str, package: str, jobs, timeout_s: float = 900, backpressure: float = 0.2, seed: int = 1):
    """Run several host_job calls (tuples of its arguments after the device) in one
    simulator launch; returns spynq_sim CosimResults (result.value = host_job's value)."""
    from spynq_sim.runner import CosimJob, run_cosim_jobs

    from ..kernels import KERNELS

    kdir = HLS_DIR / kernel
    return run_cosim_jobs(KERNELS[kernel], (kdir / f"{kernel}_sim_adapter.cpp", kdir / f"{kernel}_top.cpp"),
                          (kdir, HLS_DIR / "common"),
                          [CosimJob(f"spynq.{package}.driver:host_job", tuple(j)) for j in jobs],
                          timeout_s, backpressure=backpressure, seed=seed)
