"""rtl/axi_perf_timer.v: register map agrees with Python; counts are exact (cocotb + Verilator).

The cocotb coroutines below run inside the simulator (this file is the cocotb test
module); the pytest functions build and launch that simulation and check the
Verilog localparams against spynq.hw.perf_timer without a simulator.

Timing convention: the test drives inputs and samples handshakes on falling edges,
so a value set at the falling edge after rising edge k is seen by the DUT at edge
k+1. `Edges.n` counts rising edges; a start or stop "at edge k" is then exact.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from spynq.hw import perf_timer as pt

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl" / "axi_perf_timer.v"
TOP = "axi_perf_timer"
STOP_W = 2  # two stop inputs exercise the OR of kernel interrupts


# ----------------------------------------------------------------------------------------
# Register map: Verilog localparams == Python definitions (no simulator needed)
# ----------------------------------------------------------------------------------------
def _verilog_localparams(text: str) -> dict[str, int]:
    out = {}
    pat = r"localparam\s+(?:\[[^\]]*\]\s*|integer\s+)?(\w+)\s*=\s*(?:(\d+)?'h([0-9A-Fa-f_]+)|(\d+))\s*;"
    for m in re.finditer(pat, text):
        name, _, hexval, decval = m.groups()
        out[name] = int(hexval.replace("_", ""), 16) if hexval else int(decval)
    return out


def test_timer_register_map_matches_python():
    params = _verilog_localparams(RTL.read_text())
    assert {k[5:]: v for k, v in params.items() if k.startswith("ADDR_")} == pt.REGISTERS
    assert {k[9:]: v for k, v in params.items() if k.startswith("BIT_CTRL_")} == pt.CTRL_BITS
    assert {k[11:]: v for k, v in params.items() if k.startswith("BIT_STATUS_")} == pt.STATUS_BITS
    assert params["ID_VALUE"] == pt.ID_VALUE
    assert pt.VLNV.split(":")[2] == TOP


def test_driver_reads_low_word_first_and_binds_to_vlnv():
    """The hardware latches HI when LO is read, so the driver must read LO first."""
    order = []

    class FakeMMIO:
        regs = {pt.REGISTERS["COUNT_LO"]: 7, pt.REGISTERS["COUNT_HI"]: 2, pt.REGISTERS["STATUS"]: 0}

        def read(self, offset, length=4):
            order.append(offset)
            return self.regs.get(offset, 0)

        def write(self, offset, value):
            order.append(("w", offset, value))

    timer = pt.PerfTimer.__new__(pt.PerfTimer)
    timer.mmio = FakeMMIO()
    assert timer.cycles == (2 << 32) | 7
    assert order == [pt.REGISTERS["COUNT_LO"], pt.REGISTERS["COUNT_HI"]]
    timer.start()
    assert order[-1] == ("w", pt.REGISTERS["CTRL"], 1 << pt.CTRL_BITS["START"])
    assert timer.wait_stopped() == (2 << 32) | 7
    assert pt.PerfTimer.bindto == [pt.VLNV]


def test_timer_lints_clean(verilator_env):
    import subprocess
    for stop_w in (1, 3):
        p = subprocess.run(["verilator", "--lint-only", "-Wall", f"-GSTOP_W={stop_w}", str(RTL)],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and "%Warning" not in p.stderr, p.stderr


# ----------------------------------------------------------------------------------------
# Simulation launcher
# ----------------------------------------------------------------------------------------
@pytest.mark.cosim
def test_timer_cocotb(verilator_env, tmp_path):
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    runner = get_runner("verilator")
    runner.build(sources=[RTL], hdl_toplevel=TOP, build_dir=tmp_path / "build",
                 parameters={"STOP_W": STOP_W}, build_args=["-Wall"], always=True)
    results = runner.test(hdl_toplevel=TOP, test_module=Path(__file__).stem,
                          test_dir=tmp_path / "run", build_dir=tmp_path / "build")
    # runner.test() returns normally when cocotb tests fail: read the results file.
    n_tests, n_failed = get_results(results)
    assert n_tests >= 6 and n_failed == 0, f"{n_failed}/{n_tests} cocotb tests failed, see {results}"


# ----------------------------------------------------------------------------------------
# cocotb tests (collected by cocotb, not pytest: their names do not start with test_)
# ----------------------------------------------------------------------------------------
try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import FallingEdge, RisingEdge
except ImportError:  # pytest-only environments still run the register-map check
    cocotb = None

if cocotb is not None:
    from cocotbext.axi import AxiLiteBus, AxiLiteMaster

    R = pt.REGISTERS

    class Edges:
        """Counts rising edges and records AXI-lite accept edges (seen on falling edges)."""

        def __init__(self, dut):
            self.dut, self.n = dut, 0
            self.writes: list[tuple[int, int]] = []  # (edge, address)
            self.reads: list[tuple[int, int]] = []
            cocotb.start_soon(self._count())
            cocotb.start_soon(self._watch())

        async def _count(self):
            while True:
                await RisingEdge(self.dut.s_axi_aclk)
                self.n += 1

        async def _watch(self):
            d = self.dut
            while True:
                await FallingEdge(d.s_axi_aclk)
                if d.s_axi_awvalid.value and d.s_axi_awready.value:
                    self.writes.append((self.n + 1, int(d.s_axi_awaddr.value)))
                if d.s_axi_arvalid.value and d.s_axi_arready.value:
                    self.reads.append((self.n + 1, int(d.s_axi_araddr.value)))

        async def until_falling_before(self, edge: int):
            """Return at the falling edge just before rising edge `edge`."""
            while True:
                await FallingEdge(self.dut.s_axi_aclk)
                if self.n + 1 >= edge:
                    assert self.n + 1 == edge, f"missed edge {edge} (now {self.n + 1})"
                    return

    async def setup(dut):
        Clock(dut.s_axi_aclk, 10, unit="ns").start()
        dut.trig_start.value = 0
        dut.trig_stop.value = 0
        dut.s_axi_aresetn.value = 0
        axi = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axi"), dut.s_axi_aclk,
                            dut.s_axi_aresetn, reset_active_level=False)
        edges = Edges(dut)
        for _ in range(4):
            await RisingEdge(dut.s_axi_aclk)
        await FallingEdge(dut.s_axi_aclk)
        dut.s_axi_aresetn.value = 1
        for _ in range(2):
            await RisingEdge(dut.s_axi_aclk)
        return axi, edges

    async def read64(axi, lo):
        low = await axi.read_dword(R[lo])
        return (await axi.read_dword(R[lo.replace("LO", "HI")]) << 32) | low

    async def pulse(dut, edges, signal, edge, value=1, width=3):
        """Make `signal` read `value` from rising edge `edge` for `width` edges."""
        await edges.until_falling_before(edge)
        signal.value = value
        for _ in range(width):
            await FallingEdge(dut.s_axi_aclk)
        signal.value = 0

    @cocotb.test()
    async def timer_id_and_reset_state(dut):
        axi, _ = await setup(dut)
        assert await axi.read_dword(R["ID"]) == pt.ID_VALUE
        assert await axi.read_dword(R["STATUS"]) == 0
        assert await read64(axi, "COUNT_LO") == 0

    @cocotb.test()
    async def timer_start_now_counts_exact_cycles(dut):
        axi, edges = await setup(dut)
        for n in (1, 2, 7, 100, 1234):
            start_write = len(edges.writes)

            async def stopper():
                while len(edges.writes) == start_write:  # wait for the CTRL accept edge
                    await FallingEdge(dut.s_axi_aclk)
                start_edge = edges.writes[start_write][0]
                await pulse(dut, edges, dut.trig_stop, start_edge + n, value=1)

            task = cocotb.start_soon(stopper())
            await axi.write_dword(R["CTRL"], 1 << pt.CTRL_BITS["START"])
            await task
            status = await axi.read_dword(R["STATUS"])
            assert status == 1 << pt.STATUS_BITS["TRIGGERED"], hex(status)
            assert await read64(axi, "COUNT_LO") == n

    @cocotb.test()
    async def timer_arm_waits_for_trig_start(dut):
        axi, edges = await setup(dut)
        await axi.write_dword(R["CTRL"], 1 << pt.CTRL_BITS["ARM"])
        assert await axi.read_dword(R["STATUS"]) == 1 << pt.STATUS_BITS["ARMED"]
        assert await axi.read_dword(R["CTRL"]) == 1 << pt.CTRL_BITS["ARM"]
        s = edges.n + 5
        await pulse(dut, edges, dut.trig_start, s, width=2)
        # second stop input (kernel 1's interrupt) ends the measurement
        await pulse(dut, edges, dut.trig_stop, s + 37, value=0b10)
        assert await axi.read_dword(R["STATUS"]) == 1 << pt.STATUS_BITS["TRIGGERED"]
        assert await read64(axi, "COUNT_LO") == 37

    @cocotb.test()
    async def timer_needs_a_rising_stop_edge(dut):
        """A kernel interrupt still high from an earlier run must not stop a new count."""
        axi, edges = await setup(dut)
        dut.trig_stop.value = 1
        await axi.write_dword(R["CTRL"], 1 << pt.CTRL_BITS["START"])
        start_edge = edges.writes[-1][0]
        for _ in range(10):
            await RisingEdge(dut.s_axi_aclk)
        assert await axi.read_dword(R["STATUS"]) == 1 << pt.STATUS_BITS["RUNNING"]
        await FallingEdge(dut.s_axi_aclk)
        dut.trig_stop.value = 0
        stop_edge = edges.n + 20
        await pulse(dut, edges, dut.trig_stop, stop_edge)
        assert await read64(axi, "COUNT_LO") == stop_edge - start_edge

    @cocotb.test()
    async def timer_software_stop(dut):
        axi, edges = await setup(dut)
        await axi.write_dword(R["CTRL"], 1 << pt.CTRL_BITS["START"])
        start_edge = edges.writes[-1][0]
        await axi.write_dword(R["CTRL"], 1 << pt.CTRL_BITS["STOP"])
        stop_edge = edges.writes[-1][0]
        assert await axi.read_dword(R["STATUS"]) == 0  # stopped, not by trigger
        # the STOP write's accept edge does not count
        assert await read64(axi, "COUNT_LO") == stop_edge - start_edge - 1

    @cocotb.test()
    async def timer_free_running_counter(dut):
        axi, edges = await setup(dut)
        a = await read64(axi, "FREE_LO")
        ea = [e for e, addr in edges.reads if addr == R["FREE_LO"]][-1]
        for _ in range(50):
            await RisingEdge(dut.s_axi_aclk)
        b = await read64(axi, "FREE_LO")
        eb = [e for e, addr in edges.reads if addr == R["FREE_LO"]][-1]
        assert b - a == eb - ea

    @cocotb.test()
    async def timer_64bit_read_is_snapshot_consistent(dut):
        """Reading COUNT_LO latches COUNT_HI, so a carry between the two reads is not seen."""
        axi, edges = await setup(dut)
        await axi.write_dword(R["CTRL"], 1 << pt.CTRL_BITS["START"])
        for k in range(12):  # move the 32-bit carry across the two-read window
            await FallingEdge(dut.s_axi_aclk)
            base = (1 << 32) - k
            dut.count.value = base
            deposit_edge = edges.n + 1
            v = await read64(axi, "COUNT_LO")
            lo_edge = [e for e, addr in edges.reads if addr == R["COUNT_LO"]][-1]
            assert v == base + (lo_edge - deposit_edge), (k, hex(v))
