"""cocotb test module: runs unchanged host code against the generated kernel shell.

Launched by ``spynq_sim.runner`` (never by hand). The job pickle named by
``$SPYNQ_COSIM_JOB`` lists host jobs ("module:function", args, kwargs, options); each
job gets a reset DUT and a fresh ``SimDevice``, runs in a thread via
``cocotb.task.bridge`` and re-enters the simulation for every MMIO access via
``cocotb.task.resume``. Results (return value or exception, per-run cycle counters,
bus errors, sync warnings) are pickled to the job's ``result_file``.

Bus models: cocotbext-axi ``AxiLiteMaster`` on s_axi_control and an ``AxiSlave`` on
m_axi_gmem backed by ``SimDdr`` (accesses outside simulated DDR answer SLVERR), with
random backpressure on every channel of both; with ``master_backpressure`` > 0 the
shell's own RREADY/BREADY drop at random too (its sim_r_pause/sim_b_pause).
"""
from __future__ import annotations

import importlib
import logging
import mmap
import os
import pickle
import random
import sys
import time
import traceback
import warnings

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiSlave

CLK_NS = 4  # 250 MHz, only for waveforms; all results are in cycles
DDR_BASE = 0x4000_0000
DDR_SIZE = 64 << 20


class SimDdr:
    """Simulated DDR window [base, base+size) used as the AxiSlave target."""

    def __init__(self, base: int = DDR_BASE, size: int = DDR_SIZE):
        self.base, self.size = base, size
        self.mem = mmap.mmap(-1, size)
        self.faults: list[str] = []

    def _check(self, address: int, length: int, what: str) -> int:
        off = address - self.base
        if off < 0 or off + length > self.size:
            msg = (f"{what} of {length} bytes at 0x{address:x} is outside simulated DDR "
                   f"[0x{self.base:x}, 0x{self.base + self.size:x}): SLVERR")
            self.faults.append(msg)
            raise IndexError(msg)
        return off

    # AxiSlave target interface (bus accesses)
    async def read(self, address: int, length: int) -> bytes:
        off = self._check(address, length, "m_axi read")
        return self.mem[off:off + length]

    async def write(self, address: int, data: bytes) -> None:
        off = self._check(address, len(data), "m_axi write")
        self.mem[off:off + len(data)] = data

    # host-side access (cache flush / invalidate), no simulated time
    def peek(self, address: int, length: int) -> bytes:
        off = address - self.base
        return self.mem[off:off + length]

    def poke(self, address: int, data: bytes) -> None:
        off = address - self.base
        self.mem[off:off + len(data)] = data


class Bench:
    def __init__(self, dut, iface, *, backpressure: float = 0.2, seed: int = 1,
                 master_backpressure: float = 0.0):
        self.dut, self.iface = dut, iface
        # cocotbext-axi logs every burst at INFO: keep the log (and the sim) quiet
        logging.getLogger(f"cocotb.{dut._name}").setLevel(logging.WARNING)
        Clock(dut.ap_clk, CLK_NS, unit="ns").start()
        self.ddr = SimDdr()
        self.axi = AxiSlave(AxiBus.from_prefix(dut, "m_axi_gmem"), dut.ap_clk, dut.ap_rst_n,
                            target=self.ddr, reset_active_level=False)
        self.lite = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axi_control"), dut.ap_clk,
                                  dut.ap_rst_n, reset_active_level=False)
        self.rng = random.Random(seed)
        self.backpressure = backpressure
        self.master = [dut.sim_r_pause, dut.sim_b_pause] if master_backpressure > 0 else []
        if backpressure > 0 or self.master:
            chans = [self.axi.read_if.ar_channel, self.axi.read_if.r_channel,
                     self.axi.write_if.aw_channel, self.axi.write_if.w_channel,
                     self.axi.write_if.b_channel,
                     self.lite.read_if.ar_channel, self.lite.read_if.r_channel,
                     self.lite.write_if.aw_channel, self.lite.write_if.w_channel,
                     self.lite.write_if.b_channel]
            # one coroutine drives every channel's pause flag (cocotbext-axi's per-channel
            # pause generators would cost one coroutine per channel per cycle)
            cocotb.start_soon(self._drive_pauses(chans if backpressure > 0 else [], backpressure,
                                                 master_backpressure))
        self.max_cycle = None
        self.err_file = os.environ.get("SPYNQ_DPI_ERROR_FILE")
        self._err_pos = 0

    async def _drive_pauses(self, chans, p: float, p_master: float) -> None:
        rnd = self.rng.random
        edge = RisingEdge(self.dut.ap_clk)
        while True:
            for ch in chans:
                ch.pause = rnd() < p
            for sig in self.master:
                sig.value = int(rnd() < p_master)
            await edge

    def cycle(self) -> int:
        return int(get_sim_time(unit="ns") // CLK_NS)

    async def reset(self, hang: bool = False) -> None:
        self.dut.ap_rst_n.value = 0
        self.dut.sim_hang.value = 1 if hang else 0
        await ClockCycles(self.dut.ap_clk, 8)
        self.dut.ap_rst_n.value = 1
        await ClockCycles(self.dut.ap_clk, 4)
        self.ddr.faults.clear()

    def _check_limit(self) -> None:
        if self.max_cycle is not None and self.cycle() > self.max_cycle:
            raise TimeoutError(f"co-simulation passed its max_cycles limit at cycle {self.cycle()} "
                               "(the host job did not finish)")

    async def lite_read(self, offset: int, length: int) -> bytes:
        self._check_limit()
        resp = await self.lite.read(offset, length)
        return bytes(resp.data)

    async def lite_write(self, offset: int, data: bytes) -> None:
        self._check_limit()
        await self.lite.write(offset, data)

    def _dpi_errors(self) -> list[str]:
        if not self.err_file or not os.path.exists(self.err_file):
            return []
        with open(self.err_file) as f:
            f.seek(self._err_pos)
            text = f.read()
            self._err_pos = f.tell()
        return [line for line in text.splitlines() if line.strip()]

    async def read_run_counters(self):
        from .device import KernelRun

        d = self.dut
        errors = list(self.ddr.faults) + self._dpi_errors()
        self.ddr.faults.clear()
        return KernelRun(cycles=int(d.sim_cyc_total.value), read_cycles=int(d.sim_cyc_read.value),
                         read_beats=int(d.sim_beats_read.value), write_cycles=int(d.sim_cyc_write.value),
                         write_beats=int(d.sim_beats_write.value), bus_err=int(d.sim_bus_err.value),
                         err_count=int(d.sim_err_count.value), errors=errors,
                         master_stalls=int(d.sim_master_stalls.value))


def _load_callable(spec: str):
    mod, _, name = spec.partition(":")
    obj = importlib.import_module(mod)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _picklable_exc(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


@cocotb.test()
async def run_host_jobs(dut):
    """Run every host job of $SPYNQ_COSIM_JOB and pickle the results."""
    import pynq

    from .device import SimDevice

    with open(os.environ["SPYNQ_COSIM_JOB"], "rb") as f:
        spec = pickle.load(f)
    for p in spec.get("sys_path", []):
        if p not in sys.path:
            sys.path.insert(0, p)
    iface = spec["interface"]
    bench = Bench(dut, iface, backpressure=spec.get("backpressure", 0.2), seed=spec.get("seed", 1),
                  master_backpressure=spec.get("master_backpressure", 0.0))
    results = []
    for job in spec["jobs"]:
        await bench.reset(hang=job.get("hang", False))
        start_cycle = bench.cycle()
        mc = job.get("max_cycles")
        bench.max_cycle = None if mc is None else start_cycle + int(mc)
        fn = _load_callable(job["callable"])  # first: it may register drivers (bindto)
        device = SimDevice(bench, iface)
        pynq.Device.active_device = device
        t0 = time.monotonic()
        value = exc = tb = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", DeprecationWarning)  # cocotb/cocotbext internals
            warnings.simplefilter("ignore", ResourceWarning)     # pynq on x86
            try:
                value = await cocotb.task.bridge(fn)(device, *job.get("args", ()), **job.get("kwargs", {}))
            except Exception as e:  # noqa: BLE001  (reported to the caller)
                exc, tb = _picklable_exc(e), traceback.format_exc()
            device.finish()
        # let in-flight bus traffic settle before the next reset
        await ClockCycles(dut.ap_clk, 2)
        results.append({
            "value": value, "exc": exc, "traceback": tb,
            "runs": [vars(r) for r in device.runs],
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught
                         if issubclass(w.category, UserWarning)],
            "sim_cycles": bench.cycle() - start_cycle,
            "wall_s": time.monotonic() - t0,
        })
    with open(spec["result_file"], "wb") as f:
        pickle.dump(results, f)
