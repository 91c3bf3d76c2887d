"""cocotb test module: runs unchanged host code against the generated kernel shell.

Launched by ``spynq_sim.runner`` (never by hand). The job pickle named by
``$SPYNQ_COSIM_JOB`` lists host jobs ("module:function", args, kwargs, options); each
job gets a reset DUT and a fresh ``SimDevice``, runs in a thread via
``cocotb.task.bridge`` and re-enters the simulation for every MMIO access via
``cocotb.task.resume``. Each job's result (return value or exception, per-run cycle
counters, bus errors, sync warnings) is pickled to ``<result_dir>/job-<i>.pkl`` as soon
as the job ends, and ``<result_dir>/started`` names the job running: if the simulator
dies, the runner keeps the finished jobs and knows which one killed it.

Bus models: cocotbext-axi ``AxiLiteMaster`` on s_axi_control and an ``AxiSlave`` on
m_axi_gmem backed by ``SimDdr`` (accesses outside simulated DDR answer DECERR; guard
regions around every allocation and unallocated DDR SLVERR; injected faults either), with
random backpressure on every channel of both; with ``master_backpressure`` > 0 the
shell's own RREADY/BREADY drop at random too (its sim_r_pause/sim_b_pause).
"""
from __future__ import annotations

import faulthandler
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

from .device import RESP_NAMES

# A crash of the simulator (a kernel adapter's SIGSEGV, an abort) leaves the Python stacks
# in the log, whose tail the runner reports; cocotbext-axi's DeprecationWarnings at every
# reset would otherwise fill that tail.
faulthandler.enable(all_threads=True)
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.")

CLK_NS = 4  # 250 MHz, only for waveforms; all results are in cycles
DDR_BASE = 0x4000_0000
DDR_SIZE = 64 << 20
RESP_VALUE = {v: k for k, v in RESP_NAMES.items()}


class BusFault(Exception):
    """Raised by SimDdr for an access the bus answers with an error response `resp`."""

    def __init__(self, resp: int, msg: str):
        super().__init__(msg)
        self.resp = resp


class SimDdr:
    """Simulated DDR window [base, base+size) used as the AxiSlave target.

    Every bus access is checked (host peek/poke are not): outside the window no slave
    decodes the address (DECERR); inside it, an access must lie in the data of a live
    allocation: the guard regions around each allocation (registered by SimDevice) and
    unallocated DDR answer SLVERR; `inject` makes a range answer SLVERR or DECERR. Each
    fault is recorded (contiguous beats of one fault merged) with the buffer it hit."""

    def __init__(self, base: int = DDR_BASE, size: int = DDR_SIZE):
        self.base, self.size = base, size
        self.mem = mmap.mmap(-1, size)
        self.faults: list[dict] = []
        self.allocs: list[dict] = []    # {lo, end (of the data), hi (end rounded up to a beat), guard_lo, guard_hi, name}
        self.injected: list[dict] = []  # {lo, hi, resp, ops}
        self.namer = None               # (alloc, op) -> (argument name or None, its pointer): SimDevice
        self.pending = {"read": None, "write": None}  # resp of the access that just failed

    def clear_regions(self) -> None:
        self.allocs.clear()
        self.injected.clear()

    def add_alloc(self, info: dict) -> None:
        self.allocs.append(info)

    def inject(self, lo: int, hi: int, resp: str, ops=("read", "write")) -> None:
        if resp not in ("SLVERR", "DECERR"):
            raise ValueError(f"inject: resp must be SLVERR or DECERR, not {resp!r}")
        self.injected.append({"lo": lo, "hi": hi, "resp": RESP_VALUE[resp], "ops": tuple(ops)})

    def _classify(self, op: str, address: int, length: int) -> dict | None:
        end = address + length
        alloc = next((a for a in self.allocs if a["guard_lo"] <= address < a["guard_hi"]), None)
        for f in self.injected:
            if op in f["ops"] and address < f["hi"] and f["lo"] < end:
                return {"resp": f["resp"], "where": "injected", "alloc": alloc}
        if address < self.base or end > self.base + self.size:
            return {"resp": 3, "where": "outside",
                    "what": f"outside simulated DDR [0x{self.base:x}, 0x{self.base + self.size:x}): no slave decodes it"}
        if alloc is None:
            return {"resp": 2, "where": "unallocated", "what": "in simulated DDR that no allocation holds"}
        # reads move whole beats (the last one may reach into the page slack after the data);
        # a write's strobes say exactly which bytes it changes, so it must stay in the data
        if alloc["lo"] <= address and end <= (alloc["hi"] if op == "read" else alloc["end"]):
            return None
        return {"resp": 2, "where": "guard", "alloc": alloc}

    def _fault(self, op: str, address: int, length: int) -> None:
        c = self._classify(op, address, length)
        if c is None:
            return
        last = self.faults[-1] if self.faults else None
        if (last is not None and last["op"] == op and last["address"] + last["nbytes"] == address
                and last["resp"] == c["resp"] and last["_key"] == (c["where"], id(c.get("alloc")))):
            last["nbytes"] += length  # the next beat of the same fault
        else:
            rec = {"op": op, "address": address, "nbytes": length, "resp": c["resp"],
                   "resp_name": RESP_NAMES[c["resp"]], "where": c["where"], "_key": (c["where"], id(c.get("alloc")))}
            if c.get("alloc") is not None:
                a = c["alloc"]
                arg, ptr = self.namer(a, op) if self.namer else (None, a["lo"])
                rec.update(arg=arg, buffer=a["name"], pointer=ptr, buffer_bytes=a["end"] - a["lo"],
                           past_end=max(address, a["end"]) - a["end"] if address >= a["lo"] else None,
                           before_start=a["lo"] - address if address < a["lo"] else None)
            else:
                rec["what"] = c.get("what", "")
            self.faults.append(rec)
        self.pending[op] = c["resp"]
        raise BusFault(c["resp"], fault_text(self.faults[-1]))

    # AxiSlave target interface (bus accesses, one beat or one strobed byte range at a time)
    async def read(self, address: int, length: int) -> bytes:
        self._fault("read", address, length)
        off = address - self.base
        return self.mem[off:off + length]

    async def write(self, address: int, data: bytes) -> None:
        a = next((a for a in self.allocs if a["lo"] <= address < a["end"] < address + len(data)), None)
        if a is not None:  # the words inside the buffer land, the rest faults
            keep = a["end"] - address
            await self.write(address, data[:keep])
            address, data = a["end"], data[keep:]
        self._fault("write", address, len(data))
        off = address - self.base
        self.mem[off:off + len(data)] = data

    # host-side access (cache flush / invalidate), no simulated time
    def peek(self, address: int, length: int) -> bytes:
        off = address - self.base
        return self.mem[off:off + length]

    def poke(self, address: int, data: bytes) -> None:
        off = address - self.base
        self.mem[off:off + len(data)] = data


def fault_text(f: dict) -> str:
    """One line naming the access, the buffer/argument it hit and the response."""
    beats = f["nbytes"] // 16
    size = f"{f['nbytes']} bytes" + (f" ({beats} beats)" if beats > 1 else "")
    head = f"m_axi {f['op']} of {size} at 0x{f['address']:x}"
    resp = f"{'RRESP' if f['op'] == 'read' else 'BRESP'}={f['resp']} {f['resp_name']}"
    if "buffer" not in f:
        return f"{head} is {f['what']}: {resp}"
    arg = f"argument {f['arg']!r}" if f["arg"] else "a buffer no pointer argument points into"
    rel = f["address"] - f["pointer"]
    pos = f"beat {rel // 16} of {arg}" if f["arg"] and rel >= 0 else arg
    buf = f"{f['buffer']} ({f['buffer_bytes']} bytes)"
    if f["where"] == "injected":
        return f"{head}: {pos}, {buf}: injected {resp}"
    if f["past_end"] is not None:
        side = f"{f['past_end']} bytes past the end of"
    else:
        side = f"{f['before_start']} bytes before the start of"
    return f"{head}: {pos}, {side} its buffer {buf}: guard region, {resp}"


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
        self._answer_with_fault_resp()
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

    def _answer_with_fault_resp(self) -> None:
        """cocotbext-axi answers SLVERR for any exception of the target; make the R beat /
        B response carry the response SimDdr chose (DECERR or SLVERR) instead. Its slave
        handles one beat (R) or one burst (B) at a time, so the pending value is that one's."""
        ddr = self.ddr
        for op, chan in (("read", self.axi.read_if.r_channel), ("write", self.axi.write_if.b_channel)):
            field = "rresp" if op == "read" else "bresp"

            def send(obj, _send=chan.send, op=op, field=field):
                resp = ddr.pending[op]
                ddr.pending[op] = None
                if resp is not None and int(getattr(obj, field)) != 0:
                    setattr(obj, field, resp)
                return _send(obj)
            chan.send = send
        # quiet the slave's "Read/Write operation failed" warning per faulting beat: SimDdr records them
        self.axi.read_if.log.setLevel(logging.ERROR)
        self.axi.write_if.log.setLevel(logging.ERROR)

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
        self.ddr.pending.update(read=None, write=None)

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
        faults = [{k: v for k, v in f.items() if k != "_key"} for f in self.ddr.faults]
        errors = [fault_text(f) for f in faults] + self._dpi_errors()
        self.ddr.faults.clear()
        return KernelRun(cycles=int(d.sim_cyc_total.value), read_cycles=int(d.sim_cyc_read.value),
                         read_beats=int(d.sim_beats_read.value), write_cycles=int(d.sim_cyc_write.value),
                         write_beats=int(d.sim_beats_write.value), bus_err=int(d.sim_bus_err.value),
                         err_count=int(d.sim_err_count.value), errors=errors,
                         master_stalls=int(d.sim_master_stalls.value), faults=faults,
                         rresp_seen=int(d.sim_rresp_seen.value), bresp_seen=int(d.sim_bresp_seen.value))


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
    out_dir = spec["result_dir"]
    for i, job in enumerate(spec["jobs"]):
        # "started" first: if the simulator dies in this job, the runner knows which one
        _write_atomic(os.path.join(out_dir, "started"), str(i).encode())
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
            except (Exception, SystemExit) as e:  # noqa: BLE001  (reported to the caller)
                exc, tb = _picklable_exc(e), traceback.format_exc()
            device.finish()
        # let in-flight bus traffic settle before the next reset
        await ClockCycles(dut.ap_clk, 2)
        result = {
            "value": value, "exc": exc, "traceback": tb,
            "runs": [vars(r) for r in device.runs],
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught
                         if issubclass(w.category, UserWarning)],
            "sim_cycles": bench.cycle() - start_cycle,
            "wall_s": time.monotonic() - t0,
        }
        try:
            data = pickle.dumps(result)
        except Exception as e:  # noqa: BLE001  (an unpicklable return value fails this job only)
            result.update(value=None, exc=RuntimeError(f"the host job's result cannot be pickled: {e!r}"))
            data = pickle.dumps(result)
        # one file per job, complete or absent: a later crash cannot lose or corrupt it
        _write_atomic(os.path.join(out_dir, f"job-{i:05d}.pkl"), data)


def _write_atomic(path: str, data: bytes) -> None:
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
