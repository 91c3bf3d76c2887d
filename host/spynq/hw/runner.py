"""One runner for every kernel: a packed call on golden, csim, cosim or fpga.

Every spynq HLS top takes ``(net, input, out, net_words, scalars...)``: two input
buffers, one output buffer, then 32-bit scalars (`KernelInterface` order). A call is
the packed net buffer, its meaningful word count, the packed input buffer and the
scalars after net_words; the answer is the out buffer's words. What differs per kernel
is only its hls/ folder (`spynq.kernels.KERNELS`) and its golden model
(`spynq.<package>.golden`: ``run(net, net_words, input, *scalars)`` and
``call_out_words(net, net_words, *scalars)``), so a new kernel needs no driver, cosim
or dispatch code of its own:

  golden  the numpy integer model
  csim    the HLS C++ built with g++ (with an overlay's parameters: ``overlay=``)
  cosim   the HLS C++ behind the Vitis-shaped shell in Verilator, driven through the
          kernel driver below by the co-simulation's pynq device
  fpga    the kernel in the overlay loaded on the board, through the same driver
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass

import numpy as np

from .. import overlays
from ..kernels import KERNELS, PACKAGES
from .cconfig import HLS_DIR
from .driver import DEFAULT_TIMEOUT_S, KernelDriver, open_kernel

FIXED_BACKENDS = ("golden", "csim", "cosim", "fpga")


def golden(kernel: str):
    return importlib.import_module(f"spynq.{PACKAGES[kernel]}.golden")


def out_words(kernel: str, net, net_words: int, scalars) -> int:
    """Words the kernel writes for this call (all of them, or one beat if it rejects it)."""
    return int(golden(kernel).call_out_words(net, net_words, *scalars))


def kernel_of(iface) -> str:
    (kernel,) = [k for k, i in KERNELS.items() if i.top == iface.top]
    return kernel


def _check_signature(iface) -> None:
    kinds = [(a.kind, a.direction) for a in iface.args[:4]]
    if kinds != [("ptr", "in"), ("ptr", "in"), ("ptr", "out"), ("u32", "in")] or \
            any(a.kind != "u32" for a in iface.args[4:]):
        raise TypeError(f"{iface.top}: the runner needs (net, input, out, net_words, scalars...), "
                        f"not {[a.name for a in iface.args]}")


def call_words(ip: KernelDriver, net, net_words: int, inp, scalars, timeout_s: float = DEFAULT_TIMEOUT_S,
               timer=None):
    """One call through a kernel driver (board or co-simulation): (out words, seconds);
    with the overlay's perf `timer`, seconds are the kernel's own (KernelDriver.call)."""
    iface = ip.interface
    _check_signature(iface)
    (p_net, p_in, _), (s_words, *s_rest) = iface.pointers, iface.scalars
    if len(scalars) != len(s_rest):
        raise TypeError(f"{iface.top} takes scalars {[a.name for a in s_rest]} after net_words, got {len(scalars)}")
    args = {p_net.name: net, p_in.name: inp, s_words.name: int(net_words)}
    args.update({a.name: int(v) for a, v in zip(s_rest, scalars)})
    return ip.call(out_words(kernel_of(iface), net, net_words, scalars), timeout_s, timer, **args)


def host_job(device, kernel: str, net, net_words: int, inp, scalars, timeout_s: float = DEFAULT_TIMEOUT_S):
    """The host side of one call inside the co-simulation (device = its pynq Device)."""
    return call_words(open_kernel(device, KERNELS[kernel]), net, net_words, inp, scalars, timeout_s)


@dataclass(frozen=True)
class Call:
    net: np.ndarray
    net_words: int
    inp: np.ndarray
    scalars: tuple

    @classmethod
    def of(cls, args) -> "Call":
        """From the golden model's argument tuple (net, net_words, input, *scalars)."""
        return cls(args[0], int(args[1]), args[2], tuple(int(s) for s in args[3:]))


def cosim_calls(kernel: str, calls, timeout_s: float = 900, backpressure: float = 0.2, seed: int = 1,
                overlay: str | None = None, call_timeout_s: float = 120.0):
    """Several calls (Call, or the golden model's argument tuples) in one simulator launch,
    built with `overlay`'s parameters; one spynq_sim CosimResult per call, result.value =
    (out words, seconds)."""
    from spynq_sim.runner import CosimJob, run_cosim_jobs

    kdir = HLS_DIR / kernel
    calls = [c if isinstance(c, Call) else Call.of(c) for c in calls]
    jobs = [CosimJob("spynq.hw.runner:host_job", (kernel, c.net, c.net_words, c.inp, tuple(c.scalars),
                                                   call_timeout_s)) for c in calls]
    return run_cosim_jobs(KERNELS[kernel], (kdir / f"{kernel}_sim_adapter.cpp", kdir / f"{kernel}_top.cpp"),
                          (kdir, HLS_DIR / "common"), jobs, timeout_s, backpressure=backpressure, seed=seed,
                          defines=overlays.kernel_params(overlay, kernel) or None)


def execute(kernel: str, backend: str, net, net_words: int, inp, scalars, *, overlay: str | None = None,
            ol=None, opt: str = "-O2", timeout_s: float = 60.0, backpressure: float = 0.2):
    """One packed call of `kernel` on `backend`: (out words, seconds, info).

    overlay: csim and cosim build the kernel with that overlay's parameters. ol: the
    loaded pynq overlay for fpga (default: load the one the board has, spynq.hw.board)."""
    scalars = tuple(int(s) for s in scalars)
    if backend == "golden":
        t0 = time.perf_counter()
        out = golden(kernel).run(net, net_words, inp, *scalars)
        return out, time.perf_counter() - t0, {}
    if backend == "csim":
        from . import csim

        out, dt = csim.timed_call(kernel, net, net_words, inp, scalars, opt, overlays.kernel_params(overlay, kernel))
        return out, dt, {"overlay": overlay} if overlay else {}
    if backend == "cosim":
        t0 = time.perf_counter()
        (res,) = cosim_calls(kernel, [Call(net, net_words, inp, scalars)], max(900.0, timeout_s), backpressure,
                             overlay=overlay, call_timeout_s=timeout_s)
        res.raise_for_error()
        out, _ = res.value
        return out, time.perf_counter() - t0, {"cycles": res.cycles, "runs": res.runs, "bus_errors": res.bus_errors}
    if backend == "fpga":
        from .board import load_overlay

        ol = ol or load_overlay()
        ip = getattr(ol, f"{KERNELS[kernel].top}_0")  # block-design instance name, see overlays/zcu104
        timer = getattr(ol, "perf_timer_0", None)  # rtl/axi_perf_timer.v, stopped by the kernel interrupt
        out, dt = call_words(ip, net, net_words, inp, scalars, timeout_s, timer)
        info = {"overlay": overlays.of(ol), "host_seconds": ip.last_host_seconds}
        if timer is not None:
            info.update(cycles=ip.last_cycles, clock_hz=timer.clock_hz,
                        source=f"measured: perf timer, ap_start..interrupt at {timer.clock_hz / 1e6:g} MHz")
        else:
            info["source"] = "measured: host wall clock around start..done (MMIO polling included)"
        return out, dt, info
    raise ValueError(f"backend {backend!r} is not a fixed-point backend {FIXED_BACKENDS}")


def caller(kernel: str, backend: str, **opts):
    """For a model's run(): (call(net, net_words, input, *scalars) -> (out words, seconds),
    info (filled by the calls: cycles, source, overlay), the limits to plan and check for)."""
    info = {}

    def call(net, net_words, inp, *scalars):
        out, dt, more = execute(kernel, backend, net, net_words, inp, scalars, **opts)
        info.update(more)
        return out, dt

    return call, info, limits(kernel, backend, opts.get("overlay"), opts.get("ol"))


def limits(kernel: str, backend: str, overlay: str | None = None, ol=None) -> dict:
    """The limits a call on `backend` must meet: the overlay's (csim/cosim: `overlay`;
    fpga: the loaded one), else the config defaults."""
    if backend == "fpga":
        overlay = overlays.of(ol) if ol is not None else overlays.active()
    return overlays.limits(kernel, overlay)


def _driver_classes() -> dict:
    """One pynq driver class per kernel (bound by VLNV when an overlay loads)."""
    return {k: type(f"{i.top}_driver", (KernelDriver,), {"interface": i, "bindto": [i.vlnv],
                                                         "__doc__": f"`ol.{i.top}_0` of a spynq overlay"})
            for k, i in KERNELS.items()}


DRIVERS = _driver_classes()
