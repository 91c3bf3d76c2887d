"""A pynq Device whose MMIO and buffers live inside the running co-simulation.

Unchanged driver code works on it: ``pynq.allocate(shape, dtype, target=dev)`` returns
a real ``pynq.buffer.PynqBuffer`` whose ``physical_address`` is a simulated DDR
address; ``sync_to_device()`` copies the host array into the DDR model behind the
shell's m_axi port, ``sync_from_device()`` copies back; MMIO on the IP goes over
s_axi_control through cocotbext-axi's AxiLiteMaster. Host code runs in a thread
started by ``cocotb.task.bridge``; every access re-enters the simulation through
``cocotb.task.resume``, so each MMIO read advances simulated time.

Cache-coherence checks (documented behaviour, see sim/README.md):

* Fresh allocations are poisoned in simulated DDR (``POISON_WORD`` = 0xDEADBEEF); the
  host copy starts zeroed. Forgetting ``sync_to_device()`` makes the kernel read
  poison, exactly as stale DDR on the board would.
* Starting the kernel (writing ap_start) while an input/inout pointer's buffer differs
  between host and DDR raises ``BufferSyncError`` and the kernel is not started.
* After the kernel finishes, its output/inout buffers are "device newer" until
  ``sync_from_device()``; any left so at the end of the host job produce a
  ``BufferSyncWarning`` (also returned in ``CosimResult.warnings``).
* A bus error response (RRESP/BRESP != OKAY) or a DPI glue error raises ``AxiBusError``
  at the AP_CTRL read that sees ap_done. The DDR model (``spynq_sim.bench.SimDdr``)
  answers DECERR outside simulated DDR and SLVERR in the guard regions: every allocation
  has one unreadable, unwritable page before it and, after the end of its data, the rest
  of its last page and one more page (a read may finish the 16-byte beat its data ends
  in; a write may not write a byte past the data); ``inject_bus_error``
  makes a buffer answer SLVERR or DECERR. ``AxiBusError.faults`` names the argument, the
  buffer and how far past its end (or before its start) each faulting access was.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from pynq import Device
from pynq.buffer import PynqBuffer

from spynq.hw.driver import description_dict, driver_class_for
from spynq.hw.interface import AP_CTRL, AP_DONE, AP_START, KernelInterface

IP_BASE = 0xA000_0000
POISON_WORD = 0xDEADBEEF
PAGE = 4096


class BufferSyncError(RuntimeError):
    """A buffer's host and device copies disagree where the hardware would need a sync."""


class BufferSyncWarning(UserWarning):
    """Kernel results were left in device memory without sync_from_device()."""


class AxiBusError(RuntimeError):
    """The kernel's m_axi master got an error response (or the DPI glue failed).

    ``faults``: one dict per faulting access range as SimDdr recorded it (op, address,
    nbytes, resp, resp_name, where = guard/injected/outside/unallocated and, inside DDR,
    arg, buffer, pointer, past_end / before_start in bytes); ``rresp`` / ``bresp``: the
    error response names the shell saw on R / B."""

    def __init__(self, msg: str, faults=(), rresp=(), bresp=()):
        super().__init__(msg)
        self.faults, self.rresp, self.bresp = list(faults), list(rresp), list(bresp)

    def __reduce__(self):  # keeps the attributes through the result pickle
        return (type(self), (str(self), self.faults, self.rresp, self.bresp))


RESP_NAMES = {1: "EXOKAY", 2: "SLVERR", 3: "DECERR"}
GUARD_WORD = 0x6D6D6D6D  # fills the guard regions in simulated DDR (the bus never reads or writes them)


@dataclass
class _Alloc:
    bo: int
    addr: int
    nbytes: int  # page-rounded size reserved in DDR
    used: int    # bytes of the array itself
    backing: np.ndarray  # uint8, the host copy (the PynqBuffer views it)
    shape: tuple
    dtype: np.dtype
    device_newer: bool = False
    pending_write: bool = False

    def describe(self) -> str:
        return f"buffer {self.shape} {self.dtype} at 0x{self.addr:x}"


@dataclass
class KernelRun:
    """Counters of one ap_start -> ap_done, read from the shell's instrumentation."""

    cycles: int
    read_cycles: int
    read_beats: int
    write_cycles: int
    write_beats: int
    bus_err: int
    err_count: int
    errors: list = field(default_factory=list)
    master_stalls: int = 0  # cycles R/B data waited for the shell's paused RREADY/BREADY
    faults: list = field(default_factory=list)  # SimDdr's fault records (see AxiBusError)
    rresp_seen: int = 0  # bit v set: an R beat with RRESP = v (v != OKAY) arrived in this run
    bresp_seen: int = 0  # the same for B responses


class SimDevice(Device):
    """pynq Device backed by the cocotb bench (``spynq_sim.bench.Bench``).

    Not registered for probing (no ``_probe_``): created by the bench per host job.
    """

    capabilities = {"REGISTER_RW": True}

    def __init__(self, bench, iface: KernelInterface, ip_base: int = IP_BASE):
        super().__init__("spynq-cosim")
        import cocotb.task

        self.name = "spynq co-simulation"
        self.bench = bench
        self.iface = iface
        self.ip_base = ip_base
        self._resume = cocotb.task.resume
        desc = description_dict(iface, ip_base, device=self)
        desc["driver"] = driver_class_for(iface.vlnv)
        self.ip_dict = {iface.top: desc}
        self.mem_dict, self.gpio_dict, self.hierarchy_dict = {}, {}, {}
        self.interrupt_controllers, self.interrupt_pins = {}, {}
        self._allocs: dict[int, _Alloc] = {}
        self._next_addr = bench.ddr.base  # the first allocation's leading guard page
        bench.ddr.clear_regions()
        bench.ddr.namer = self._name_alloc
        self._regs: dict[int, int] = {}
        self.runs: list[KernelRun] = []
        self.sync_warnings: list[str] = []

    # ---------------------------------------------------------------- MMIO
    def _ip_offset(self, address: int, length: int) -> int:
        off = address - self.ip_base
        if off < 0 or off + length > self.iface.control_bytes:
            raise MemoryError(f"MMIO access 0x{address:x} (+{length}) is outside {self.iface.top}'s "
                              f"s_axi_control window 0x{self.ip_base:x}+0x{self.iface.control_bytes:x}")
        return off

    def read_registers(self, address, length):
        off = self._ip_offset(address, length)
        data = self._resume(self.bench.lite_read)(off, length)
        if off == AP_CTRL and int.from_bytes(data[:4], "little") & AP_DONE:
            self._kernel_finished(self._resume(self.bench.read_run_counters)())
        return data

    def write_registers(self, address, data):
        off = self._ip_offset(address, len(data))
        data = bytes(data)
        for i in range(0, len(data) - 3, 4):
            self._regs[off + i] = int.from_bytes(data[i:i + 4], "little")
        if off == AP_CTRL and data[0] & AP_START:
            self._before_start()
        self._resume(self.bench.lite_write)(off, data)

    def _ptr(self, name: str) -> int:
        off = self.iface.offset(name)
        return self._regs.get(off, 0) | (self._regs.get(off + 4, 0) << 32)

    def _find(self, addr: int) -> _Alloc | None:
        for a in self._allocs.values():
            if a.addr <= addr < a.addr + a.nbytes:
                return a
        return None

    def _before_start(self) -> None:
        for arg in self.iface.pointers:
            alloc = self._find(self._ptr(arg.name))
            if alloc is None:
                continue
            if arg.direction in ("in", "inout"):
                off = self._ptr(arg.name) - alloc.addr
                host = alloc.backing[off:alloc.used].tobytes()
                dev = self.bench.ddr.peek(alloc.addr + off, len(host))
                if host != dev:
                    first = next(i for i in range(len(host)) if host[i] != dev[i])
                    raise BufferSyncError(
                        f"{self.iface.top}: argument {arg.name!r} ({alloc.describe()}) was changed on the "
                        f"host but not synced (first difference at byte {off + first}): "
                        "call sync_to_device() before starting the kernel")
        for arg in self.iface.pointers:
            if arg.direction in ("out", "inout"):
                alloc = self._find(self._ptr(arg.name))
                if alloc is not None:
                    alloc.pending_write = True

    def _kernel_finished(self, run: KernelRun) -> None:
        self.runs.append(run)
        for alloc in self._allocs.values():
            if alloc.pending_write:
                alloc.pending_write = False
                alloc.device_newer = True
        if run.bus_err:
            rresp = [n for v, n in RESP_NAMES.items() if run.rresp_seen >> v & 1]
            bresp = [n for v, n in RESP_NAMES.items() if run.bresp_seen >> v & 1]
            what = []
            if run.bus_err & 1:
                what.append(f"RRESP={'/'.join(rresp) or '?'} on a read")
            if run.bus_err & 2:
                what.append(f"BRESP={'/'.join(bresp) or '?'} on a write")
            if run.bus_err & 4:
                what.append("DPI glue error")
            ptrs = ", ".join(f"{a.name}=0x{self._ptr(a.name):x}" for a in self.iface.pointers)
            detail = "; ".join(run.errors) if run.errors else "no detail recorded"
            raise AxiBusError(f"{self.iface.top}: m_axi_gmem error ({', '.join(what)}; "
                              f"{run.err_count} error responses). Pointers: {ptrs}. Detail: {detail}",
                              run.faults, rresp, bresp)

    def _name_alloc(self, info: dict, op: str):
        """(name of the pointer argument that points into this allocation or its guards and
        moves data in direction `op`, its pointer), or (None, the buffer's address): for
        SimDdr's fault records."""
        dirs = ("in", "inout") if op == "read" else ("out", "inout")
        names = [a.name for a in self.iface.pointers
                 if a.direction in dirs and info["guard_lo"] <= self._ptr(a.name) < info["guard_hi"]]
        if not names:
            return None, info["lo"]
        return "/".join(names), self._ptr(names[0])

    def inject_bus_error(self, target, resp: str = "SLVERR", ops=("read", "write"), offset: int = 0,
                         nbytes: int | None = None) -> None:
        """Make the bus answer `resp` (SLVERR or DECERR) for every access to `target` (a
        buffer of this device, or an address) from byte `offset`, `nbytes` long (default: to
        the end of the buffer; 16 for an address), for the ops given; until the job ends."""
        addr = int(getattr(target, "physical_address", target))
        if nbytes is None:
            alloc = self._find(addr)
            nbytes = alloc.addr + alloc.used - addr - offset if alloc is not None else 16
        self.bench.ddr.inject(addr + offset, addr + offset + nbytes, resp, ops)

    # ---------------------------------------------------------------- buffers
    def allocate(self, shape, dtype, **kwargs):
        dtype = np.dtype(dtype)
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        nbytes = max(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, 1)
        size = -(-nbytes // PAGE) * PAGE
        data_end = -(-nbytes // 16) * 16  # reads move whole 16-byte beats: the last may reach past nbytes
        guard_lo = self._next_addr
        addr = guard_lo + PAGE   # one guard page before the buffer
        guard_hi = addr + size + PAGE  # the rest of its last page and one more page after it
        ddr = self.bench.ddr
        if guard_hi > ddr.base + ddr.size:
            raise MemoryError(f"simulated DDR full: cannot allocate {nbytes} bytes")
        self._next_addr = guard_hi
        backing = np.zeros(size, dtype=np.uint8)
        bo = len(self._allocs) + 1
        self._allocs[bo] = alloc = _Alloc(bo, addr, size, nbytes, backing, shape, dtype)
        ddr.add_alloc({"bo": bo, "lo": addr, "end": addr + nbytes, "hi": addr + data_end,
                       "guard_lo": guard_lo, "guard_hi": guard_hi,
                       "name": f"#{bo} {alloc.shape} {alloc.dtype} at 0x{addr:x}"})
        ddr.poke(guard_lo, np.full((guard_hi - guard_lo) // 4, GUARD_WORD, dtype="<u4").tobytes())
        ddr.poke(addr, np.full(size // 4, POISON_WORD, dtype="<u4").tobytes()[:nbytes])
        return PynqBuffer(shape, dtype, buffer=backing, offset=0, device=self,
                          device_address=addr, bo=bo, coherent=False)

    def flush(self, bo, offset, ptr, size):
        alloc = self._allocs[bo]
        self.bench.ddr.poke(alloc.addr + offset, alloc.backing[offset:offset + size].tobytes())

    def invalidate(self, bo, offset, ptr, size):
        alloc = self._allocs[bo]
        data = self.bench.ddr.peek(alloc.addr + offset, size)
        alloc.backing[offset:offset + size] = np.frombuffer(data, dtype=np.uint8)
        alloc.device_newer = False

    # ---------------------------------------------------------------- end of job
    def finish(self) -> list[str]:
        """Warn about kernel results never synced back; returns the warning texts."""
        for alloc in self._allocs.values():
            if alloc.device_newer:
                msg = (f"{self.iface.top}: {alloc.describe()} was written by the kernel but the host "
                       "never called sync_from_device(): the host copy is stale")
                warnings.warn(msg, BufferSyncWarning, stacklevel=2)
                self.sync_warnings.append(msg)
        return list(self.sync_warnings)
