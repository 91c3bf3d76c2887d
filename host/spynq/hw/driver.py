"""Generic PYNQ driver for a spynq HLS kernel (ap_ctrl_hs, s_axi_control, m_axi buffers).

The same class runs on the board (pynq Overlay with a .hwh) and in co-simulation
(``spynq_sim.device.SimDevice``): it only uses ``self.mmio`` and ``PynqBuffer``
sync calls. A kernel driver is a subclass that sets ``interface`` and ``bindto``::

    class StmDriver(KernelDriver):
        interface = STM_INTERFACE
        bindto = [STM_INTERFACE.vlnv]

``pynq`` is imported lazily by ``KernelDriver`` itself, so modules that only need
``description_dict`` do not require it.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from .cconfig import read_constants
from ..errors import SpynqTypeError, SpynqValueError
from .interface import (AP_CTRL, AP_DONE, AP_IDLE, AP_START, AUTO_RESTART, GIE, IER, ISR,
                        KernelInterface)

try:  # pynq is optional for the pure-Python tiers
    from pynq import DefaultIP as _DefaultIP
except ImportError:  # pragma: no cover - exercised only without pynq
    _DefaultIP = object

DEFAULT_TIMEOUT_S = 10.0
# What the host fills an output buffer with before each call (hls/common/spynq_words.h):
# a word the kernel leaves unwritten comes back as this, not as the last call's data.
OUT_POISON = read_constants("common/spynq_words.h")["SPYNQ_POISON_WORD"]


def description_dict(iface: KernelInterface, phys_addr: int, device: Any = None,
                     fullpath: str | None = None) -> dict:
    """An ip_dict entry as pynq builds it from a .hwh, from the KernelInterface alone."""
    desc = {
        "phys_addr": int(phys_addr),
        "addr_range": iface.control_bytes,
        "fullpath": fullpath or iface.top,
        "type": iface.vlnv,
        "bdtype": None,
        "state": None,
        "interrupts": {},
        "gpio": {},
        "parameters": {"C_S_AXI_CONTROL_ADDR_WIDTH": str((iface.control_bytes - 1).bit_length()),
                       "C_M_AXI_GMEM_DATA_WIDTH": "128", "C_M_AXI_GMEM_ADDR_WIDTH": "64"},
        "registers": iface.register_map(),
        "mem_id": "s_axi_control",
    }
    if device is not None:
        desc["device"] = device
    return desc


def driver_class_for(vlnv: str):
    """The DefaultIP subclass pynq would bind to this VLNV (DefaultIP if none)."""
    from pynq import DefaultIP
    from pynq.overlay import _ip_drivers

    return _ip_drivers.get(vlnv) or _ip_drivers.get(vlnv.rpartition(":")[0]) or DefaultIP


def open_kernel(device, iface: KernelInterface, fullpath: str | None = None):
    """Driver instance for the IP implementing ``iface`` in ``device.ip_dict``.

    Works with a board device after an Overlay download (ip_dict parsed from the .hwh)
    and with the co-simulation device (ip_dict built from the interface).
    """
    ip_dict = getattr(device, "ip_dict", None) or {}
    for name, desc in ip_dict.items():
        if (fullpath is None or name == fullpath) and str(desc.get("type", "")).rpartition(":")[0] == iface.vlnv.rpartition(":")[0]:
            desc = dict(desc)
            desc.setdefault("device", device)
            desc.setdefault("fullpath", name)
            return driver_class_for(desc["type"])(desc)
    raise LookupError(f"no IP with VLNV {iface.vlnv} in the device's ip_dict (has {sorted(ip_dict)}); "
                      "is the right overlay loaded?")


class KernelDriver(_DefaultIP):
    """Base driver: argument registers from ``interface``, start/wait with a real timeout."""

    interface: KernelInterface  # set by subclasses

    def __init__(self, description):
        super().__init__(description)
        if getattr(type(self), "interface", None) is None:
            raise SpynqTypeError(f"{type(self).__name__} must set the class attribute 'interface'")

    # ---- registers
    def write_args(self, **values) -> None:
        """Write argument registers. Pointers take a PynqBuffer or an int address
        (both 32-bit halves are written); scalars take an int in [0, 2**32)."""
        iface = self.interface
        known = {a.name: a for a in iface.args}
        for name, value in values.items():
            if name not in known:
                raise SpynqTypeError(f"{iface.top} has no argument {name!r}; it has {list(known)}")
            arg, off = known[name], iface.offset(name)
            if arg.kind == "ptr":
                addr = _address_of(value, name)
                self.mmio.write(off, addr & 0xFFFFFFFF)
                self.mmio.write(off + 4, (addr >> 32) & 0xFFFFFFFF)
            else:
                v = int(value)
                if not 0 <= v < 2**32:
                    raise SpynqValueError(f"{iface.top}.{name}={v} does not fit the 32-bit register")
                self.mmio.write(off, v)

    def read_ctrl(self) -> int:
        """AP_CTRL; ap_done is clear-on-read, so a done seen here is kept for wait()."""
        ctrl = self.mmio.read(AP_CTRL)
        if ctrl & AP_DONE:
            self.__dict__["_done_latched"] = True
        return ctrl

    @property
    def is_idle(self) -> bool:
        return bool(self.read_ctrl() & AP_IDLE)

    def start(self) -> None:
        """Set ap_start (auto_restart off)."""
        self.__dict__["_done_latched"] = False
        self.mmio.write(AP_CTRL, AP_START)

    def wait(self, timeout_s: float = DEFAULT_TIMEOUT_S, spin_polls: int = 200, max_sleep_s: float = 1e-3) -> int:
        """Poll AP_CTRL until ap_done or raise TimeoutError. The first `spin_polls` polls
        spin (short calls; in co-simulation each poll advances time), then the poller
        backs off to sleeps up to `max_sleep_s`, so a long call does not pin an A53 core.

        The deadline is wall-clock; at least one poll happens even with timeout_s=0.
        Returns the number of polls."""
        deadline = time.monotonic() + float(timeout_s)
        polls, sleep = 0, 1e-5
        while True:
            ctrl = self.read_ctrl()
            polls += 1
            if self.__dict__.pop("_done_latched", False):
                return polls
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self.interface.top}: ap_done not seen within {timeout_s} s "
                    f"(AP_CTRL=0x{ctrl:02x}: start={ctrl & AP_START and 1}, idle={(ctrl & AP_IDLE) >> 2}, "
                    f"auto_restart={(ctrl & AUTO_RESTART) >> 7}; {polls} polls). "
                    "The kernel is hung or the timeout is too short.")
            if polls > spin_polls:
                time.sleep(sleep)
                sleep = min(2 * sleep, max_sleep_s)

    def wait_interrupt(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
        """Sleep on the kernel's interrupt (pynq.Interrupt, asyncio) until ap_done, at most
        timeout_s; False when the IP has no interrupt in the .hwh or the wait could not be
        set up (the caller then polls). Runs its own event loop in a worker thread, so it
        also works inside Jupyter, whose loop is already running."""
        irq = getattr(self, "interrupt", None)
        if irq is None:
            return False
        import asyncio
        import concurrent.futures

        def sleep_on_it():
            asyncio.run(asyncio.wait_for(irq.wait(), timeout_s))

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            try:
                pool.submit(sleep_on_it).result(timeout_s + 1.0)
            except (asyncio.TimeoutError, concurrent.futures.TimeoutError):
                return False  # wait() polls once more and raises with the register state
            except Exception:  # no UIO device, no loop support: fall back to polling
                return False
        return True

    def enable_interrupt(self, done: bool = True, ready: bool = False) -> None:
        self.mmio.write(IER, (1 if done else 0) | (2 if ready else 0))
        self.mmio.write(GIE, 1)

    def clear_interrupt(self) -> int:
        """Acknowledge pending ISR bits (toggle-on-write); returns the bits cleared."""
        isr = self.mmio.read(ISR) & 0x3
        if isr:
            self.mmio.write(ISR, isr)
        return isr

    # ---- buffers and one call
    def buffer(self, arg: str, n_words: int):
        """The reusable pynq buffer of pointer argument `arg`, at least n_words long:
        allocated cacheable once (grown when a call needs more), so the CPU fills and
        reads it at cached speed; `run` flushes inputs before start and invalidates the
        output after done (sync_to_device / sync_from_device), as cacheable buffers need."""
        import pynq

        bufs = self.__dict__.setdefault("_spynq_buffers", {})
        buf = bufs.get(arg)
        if buf is None or len(buf) < n_words:
            if buf is not None:
                buf.freebuffer()
            buf = pynq.allocate(max(int(n_words), 4), "u4", target=getattr(self, "device", None), cacheable=True)
            bufs[arg] = buf
        return buf

    def free_buffers(self) -> None:
        for buf in self.__dict__.pop("_spynq_buffers", {}).values():
            buf.freebuffer()

    def call(self, out_words: int, timeout_s: float = DEFAULT_TIMEOUT_S, timer=None, **values):
        """One call on uint32 word arrays: the input pointers' buffers filled from their
        arrays, the output's `out_words` long; runs and returns (output words, seconds).
        Seconds: from start to done on the host clock (MMIO polling included), or, with the
        overlay's perf `timer`, the kernel's cycles ap_start..interrupt (see `run`); then
        self.last_cycles holds them. Buffers are kept for the next call."""
        import numpy as np

        (out_arg,) = [a.name for a in self.interface.pointers if a.direction == "out"]
        bufs = {}
        for a in self.interface.pointers:
            if a.name == out_arg:
                bufs[a.name] = buf = self.buffer(a.name, out_words)
                buf[:] = OUT_POISON
                buf.flush()  # no dirty cache line of a cacheable buffer may land after the kernel's writes
            else:
                data = np.asarray(values.pop(a.name), np.uint32)
                bufs[a.name] = buf = self.buffer(a.name, len(data))
                buf[:len(data)] = data
        t0 = time.perf_counter()
        cycles = self.run(timeout_s=timeout_s, timer=timer, **values, **bufs)
        seconds = time.perf_counter() - t0
        self.last_host_seconds = seconds
        self.last_cycles = cycles
        return np.array(bufs[out_arg][:out_words]), seconds if cycles is None else cycles / timer.clock_hz

    def run(self, timeout_s: float = DEFAULT_TIMEOUT_S, timer=None, **values):
        """sync_to_device the input buffers, write all arguments, start, wait, then
        sync_from_device the output buffers. Every argument must be given.

        Where the .hwh connects the kernel's interrupt (pynq then gives the driver
        `.interrupt`), the host sleeps on it instead of polling (`wait_interrupt`; polling
        with back-off is the fallback and the final check). With the overlay's perf `timer`
        (spynq.hw.perf_timer.PerfTimer) the interrupt is enabled, the timer started right
        before ap_start and stopped in hardware by the interrupt; returns the cycles (else
        None). The interrupt is then acknowledged, so the shared stop line falls again."""
        iface = self.interface
        missing = [a.name for a in iface.args if a.name not in values]
        if missing:
            raise SpynqTypeError(f"{iface.top}.run() missing arguments {missing}")
        for a in iface.pointers:
            if a.direction in ("in", "inout") and hasattr(values[a.name], "sync_to_device"):
                values[a.name].sync_to_device()
        self.write_args(**values)
        irq = getattr(self, "interrupt", None) is not None
        if timer is not None or irq:
            self.clear_interrupt()
            self.enable_interrupt(done=True)
        if timer is not None:
            timer.start()
        self.start()
        if irq:
            self.wait_interrupt(timeout_s)
        self.wait(timeout_s)
        cycles = timer.wait_stopped(timeout=timeout_s) if timer is not None else None
        if timer is not None or irq:
            self.clear_interrupt()
        for a in iface.pointers:
            if a.direction in ("out", "inout") and hasattr(values[a.name], "sync_from_device"):
                values[a.name].sync_from_device()
        return cycles


def _address_of(value, name: str) -> int:
    if hasattr(value, "physical_address"):
        addr = value.physical_address
        if addr is None:
            raise SpynqValueError(f"argument {name}: buffer has no physical address (not from pynq.allocate?)")
        return int(addr)
    if isinstance(value, int) or hasattr(value, "__index__"):
        addr = int(value)
        if not 0 <= addr < 2**64:
            raise SpynqValueError(f"argument {name}: address {addr:#x} out of 64-bit range")
        return addr
    raise SpynqTypeError(f"argument {name}: expected a PynqBuffer or an int address, got {type(value).__name__}")


def ctrl_fields(ctrl: int) -> Mapping[str, int]:
    """Decode an AP_CTRL value."""
    return {"ap_start": ctrl & 1, "ap_done": (ctrl >> 1) & 1, "ap_idle": (ctrl >> 2) & 1,
            "ap_ready": (ctrl >> 3) & 1, "auto_restart": (ctrl >> 7) & 1}
