"""One runner for every kernel: a packed call on golden, csim, cosim or fpga.

Every spynq HLS top takes ``(net, input, out, net_words, scalars...)``: two input
buffers, one output buffer, then 32-bit scalars (`KernelInterface` order). A call is
the packed net buffer, its meaningful word count, the packed input buffer and the
scalars after net_words; the answer is the out buffer's words. What differs per kernel
is only its hls/ folder (`spynq.kernels.KERNELS`) and its golden model
(`spynq.<package>.golden`: ``run(net, net_words, input, *scalars)``,
``call_sizes(net, net_words, *scalars)`` and ``call_out_words(...)``), so a new kernel
needs no driver, cosim, dispatch or checking code of its own:

  golden  the numpy integer model
  csim    the HLS C++ built with g++ (with an overlay's parameters: ``overlay=``)
  cosim   the HLS C++ behind the Vitis-shaped shell in Verilator, driven through the
          kernel driver below by the co-simulation's pynq device
  fpga    the kernel in the overlay loaded on the board, through the same driver

Every call is checked before anything runs (`check_call`): word buffers are 1-D integer
arrays of 32-bit words, net_words and the scalars are 32-bit counts, net holds net_words
words, the input buffer holds every word the call reads and the out buffer the call
needs is one a call may have; each failure is a SpynqValueError or SpynqTypeError naming
the argument. What a call reads and writes comes from the golden model's call_sizes
-> (input words, out words), the formulas in `spynq.<package>.encode`. A call the kernel itself rejects (a bad net, a count past its limits) still runs: the
kernel answers it with its BAD_NET status, as every tier does.
"""
from __future__ import annotations

import importlib
import operator
import time
from dataclasses import dataclass

import numpy as np

from .. import overlays
from ..errors import SpynqTypeError, SpynqValueError
from ..kernels import KERNELS, PACKAGES
from .cconfig import HLS_DIR
from .driver import DEFAULT_TIMEOUT_S, KernelDriver, open_kernel
from .limits import MAX_OUT_WORDS

FIXED_BACKENDS = ("golden", "csim", "cosim", "fpga")
U32 = 1 << 32
FIXED_TIMEOUT_S = 60.0  # cosim and fpga: one call (csim: spynq.hw.csim.DEFAULT_TIMEOUT_S)


def golden(kernel: str):
    if kernel not in PACKAGES:
        raise SpynqValueError(f"kernel {kernel!r}: spynq has {sorted(PACKAGES)}")
    return importlib.import_module(f"spynq.{PACKAGES[kernel]}.golden")


def out_words(kernel: str, net, net_words: int, scalars) -> int:
    """Words the kernel writes for this call (all of them, or one beat if it rejects it)."""
    return int(golden(kernel).call_out_words(net, net_words, *scalars))


def word_buffer(name: str, a) -> np.ndarray:
    """`a` as a 1-D uint32 array (itself when it is one): integers in [0, 2^32) only, so
    no float, complex or out-of-range value is cast to a word silently."""
    if isinstance(a, np.ndarray) and a.dtype == np.uint32 and a.ndim == 1:
        return a
    if not isinstance(a, np.ndarray) and hasattr(a, "__len__") and len(a) == 0:
        return np.zeros(0, np.uint32)
    arr = np.asarray(a)
    if arr.dtype.kind not in "ui":
        raise SpynqTypeError(f"{name}: a buffer of 32-bit words must be an integer array, not dtype {arr.dtype}")
    if arr.ndim != 1:
        raise SpynqValueError(f"{name}: a buffer of 32-bit words must be 1-D, not shape {arr.shape}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= U32):
        raise SpynqValueError(f"{name}: words must be in [0, 2^32), found {int(arr.min())}..{int(arr.max())}")
    return arr.astype(np.uint32)


def word_count(name: str, v) -> int:
    """A 32-bit count argument: an integer (not a bool or float) in [0, 2^32)."""
    if isinstance(v, (bool, np.bool_)):
        raise SpynqTypeError(f"{name}: an integer count, not {v!r}")
    try:
        n = operator.index(v)
    except TypeError:
        raise SpynqTypeError(f"{name}: an integer count, not {type(v).__name__} {v!r}") from None
    if not 0 <= n < U32:
        raise SpynqValueError(f"{name}={n}: a 32-bit count, in [0, 2^32)")
    return n


@dataclass(frozen=True)
class CheckedCall:
    """A call `check_call` accepted: uint32 buffers, int counts, and the words it reads
    from the input buffer and writes to out (0 and 4 when the kernel rejects it)."""
    kernel: str
    net: np.ndarray
    net_words: int
    inp: np.ndarray
    scalars: tuple
    in_words: int
    out_words: int


def check_call(kernel: str, net, net_words, inp, scalars) -> CheckedCall:
    """Check one packed call of `kernel` before anything runs (see the module doc)."""
    g = golden(kernel)
    iface = KERNELS[kernel]
    p_net, p_in, _ = iface.pointers
    names = [a.name for a in iface.scalars[1:]]
    scalars = tuple(scalars)
    if len(scalars) != len(names):
        raise SpynqTypeError(f"{iface.top} takes scalars {names} after net_words, got {len(scalars)}: {scalars}")
    scalars = tuple(word_count(n, v) for n, v in zip(names, scalars))
    net, inp = word_buffer(p_net.name, net), word_buffer(p_in.name, inp)
    net_words = word_count("net_words", net_words)
    if net_words > len(net):
        raise SpynqValueError(f"net_words={net_words}: the {p_net.name} buffer holds only {len(net)} words")
    if len(inp) >= U32:
        raise SpynqValueError(f"{p_in.name}: {len(inp)} words; a buffer holds at most 2^32 - 1")
    n_in, n_out = g.call_sizes(net, net_words, *scalars)  # OutTooLarge: a SpynqValueError saying why
    if len(inp) < n_in:
        args = ", ".join(f"{n}={v}" for n, v in zip(names, scalars))
        raise SpynqValueError(f"{p_in.name}: this call ({args}, the sizes in the net header) reads {n_in} words, "
                              f"the buffer holds {len(inp)}")
    if n_out > MAX_OUT_WORDS:  # the golden models reject these already; the allocation must never see one
        raise SpynqValueError(f"{kernel}: the out buffer would be {n_out} words, more than the {MAX_OUT_WORDS} "
                              "one call may write")
    return CheckedCall(kernel, net, net_words, inp, scalars, int(n_in), int(n_out))


def kernel_of(iface) -> str:
    (kernel,) = [k for k, i in KERNELS.items() if i.top == iface.top]
    return kernel


def _check_signature(iface) -> None:
    kinds = [(a.kind, a.direction) for a in iface.args[:4]]
    if kinds != [("ptr", "in"), ("ptr", "in"), ("ptr", "out"), ("u32", "in")] or \
            any(a.kind != "u32" for a in iface.args[4:]):
        raise SpynqTypeError(f"{iface.top}: the runner needs (net, input, out, net_words, scalars...), "
                        f"not {[a.name for a in iface.args]}")


def call_words(ip: KernelDriver, net, net_words: int, inp, scalars, timeout_s: float = DEFAULT_TIMEOUT_S,
               timer=None):
    """One call through a kernel driver (board or co-simulation): (out words, seconds);
    with the overlay's perf `timer`, seconds are the kernel's own (KernelDriver.call).
    Checked first (check_call): the kernel's AXI masters ignore error responses, so a
    short buffer would be read past its end in DDR without a bus error."""
    iface = ip.interface
    _check_signature(iface)
    c = check_call(kernel_of(iface), net, net_words, inp, scalars)
    (p_net, p_in, _), (s_words, *s_rest) = iface.pointers, iface.scalars
    args = {p_net.name: c.net, p_in.name: c.inp, s_words.name: c.net_words}
    args.update({a.name: v for a, v in zip(s_rest, c.scalars)})
    return ip.call(c.out_words, timeout_s, timer, **args)


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
        """From the golden model's argument tuple (net, net_words, input, *scalars); the
        counts are checked, not cast, by check_call (cosim_calls)."""
        return cls(args[0], args[1], args[2], tuple(args[3:]))


def cosim_calls(kernel: str, calls, timeout_s: float = 900, backpressure: float = 0.2, seed: int = 1,
                overlay: str | None = None, call_timeout_s: float = 120.0):
    """Several calls (Call, or the golden model's argument tuples) in one simulator launch,
    built with `overlay`'s parameters; one spynq_sim CosimResult per call, result.value =
    (out words, seconds)."""
    from spynq_sim.runner import CosimJob, run_cosim_jobs

    kdir = HLS_DIR / kernel
    calls = [c if isinstance(c, Call) else Call.of(c) for c in calls]
    # checked here, before the launch, so a bad call fails alone (host_job checks again in the simulator)
    calls = [Call(k.net, k.net_words, k.inp, k.scalars) for k in
             (check_call(kernel, c.net, c.net_words, c.inp, c.scalars) for c in calls)]
    jobs = [CosimJob("spynq.hw.runner:host_job", (kernel, c.net, c.net_words, c.inp, tuple(c.scalars),
                                                   call_timeout_s)) for c in calls]
    return run_cosim_jobs(KERNELS[kernel], (kdir / f"{kernel}_sim_adapter.cpp", kdir / f"{kernel}_top.cpp"),
                          (kdir, HLS_DIR / "common"), jobs, timeout_s, backpressure=backpressure, seed=seed,
                          defines=overlays.kernel_params(overlay, kernel) or None)


def execute(kernel: str, backend: str, net, net_words: int, inp, scalars, *, overlay: str | None = None,
            ol=None, opt: str = "-O2", timeout_s: float | None = None, backpressure: float = 0.2):
    """One packed call of `kernel` on `backend`: (out words, seconds, info), checked first
    (check_call).

    overlay: csim and cosim build the kernel with that overlay's parameters. ol: the
    loaded pynq overlay for fpga (default: load the one the board has, spynq.hw.board).
    timeout_s: for one call (TimeoutError past it); default FIXED_TIMEOUT_S for cosim and
    fpga, spynq.hw.csim.DEFAULT_TIMEOUT_S for csim. golden has none (Ctrl-C stops it)."""
    if backend not in FIXED_BACKENDS:
        raise SpynqValueError(f"backend {backend!r} is not a fixed-point backend {FIXED_BACKENDS}")
    c = check_call(kernel, net, net_words, inp, scalars)
    net, net_words, inp, scalars = c.net, c.net_words, c.inp, c.scalars
    if backend == "golden":
        t0 = time.perf_counter()
        out = golden(kernel).run(net, net_words, inp, *scalars)
        return out, time.perf_counter() - t0, {}
    if backend == "csim":
        from . import csim

        out, dt = csim.run_checked(c, opt, overlays.kernel_params(overlay, kernel),
                                   csim.DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s)
        return out, dt, {"overlay": overlay} if overlay else {}
    timeout_s = FIXED_TIMEOUT_S if timeout_s is None else timeout_s
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
