"""The resource ledger (spynq.resources) against figures worked out by hand.

The tiny fixture kernel (tests/fixtures/ledger/tiny) has one array of each mapping
kind; its resources at TINY_LANES = 4 and 8, by hand from the rules in
spynq.resources (URAM288 4096x72, BRAM36/18 aspect ratios, DSP48E2 27x18 signed, the
m_axi buffers of hls/common/spynq_platform.h):
  big   [L][3000] u32, complete dim 1, uram    L banks x ceil(3000/4096)*ceil(32/72) = L URAM
  st    [L][16] ap_int<24>, complete, auto     384 b per bank -> LUTRAM 1 x 24 LUT: 24 L LUT
  wide  [600] ap_uint<40>, ram_2p bram         1K x 18 BRAM18: ceil(40/18) = 3 -> 1.5 BRAM36
  q     stream depth 2048 x (64+11+1) bits     2K x 9 BRAM18: ceil(76/9) = 9 -> 4.5 BRAM36
  acc   [L] i32, complete dim 0                32 L FF
  mul   L x (17 x 24): 1 DSP each; 2 x (33 x 33): 2 x 2 = 4 DSP each -> L + 8 DSP
        + 60 LUT / 100 FF per DSP
  rom   L x 256 x 32 ROMs, two per BRAM18 (512 x 36): L/2 x 0.5 BRAM36
  m_axi 8 outstanding x 64 beats x 128 b = 512 x 128 per direction: 2 x 2 BRAM36,
        + 2500 LUT / 3500 FF; s_axilite 300 LUT / 400 FF
L = 4: URAM 4, BRAM36 1.5 + 4.5 + 1 + 4 = 11, DSP 12, LUT 96 + 720 + 2800 = 3616,
       FF 128 + 1200 + 3900 = 5228.
L = 8: URAM 8, BRAM36 12, DSP 16, LUT 192 + 960 + 2800 = 3952, FF 256 + 1600 + 3900 = 5756.
"""
import json
import subprocess

import pytest

from spynq import overlays, resources
from spynq.cli import main
from spynq.hw.csim import ap_types_dir

from conftest import REPO, require_tool

TINY = REPO / "tests" / "fixtures" / "ledger" / "tiny"


@pytest.mark.parametrize("lanes, want", [
    (4, {"URAM": 4, "BRAM36": 11.0, "DSP": 12, "LUT": 3616, "FF": 5228}),
    (8, {"URAM": 8, "BRAM36": 12.0, "DSP": 16, "LUT": 3952, "FF": 5756}),
])
def test_tiny_kernel_by_hand(lanes, want):
    led = resources.kernel_ledger(str(TINY), {"TINY_LANES": lanes})
    assert led.total() == want
    by = {ln.what: ln.used for ln in led.lines if not ln.what.startswith("mul")}
    assert by["big"] == {"URAM": lanes} and by["st"] == {"LUT": 24 * lanes}
    assert by["wide"] == {"BRAM36": 1.5} and by["q"] == {"BRAM36": 4.5} and by["acc"] == {"FF": 32 * lanes}
    assert by["rom RUN"] == {"BRAM36": lanes / 4}
    assert "tiny_trips" not in by  # simulation-only declarations are not hardware


def test_tiny_kernel_is_real_cpp(tmp_path):
    """The fixture compiles, so the ledger is checked on code of the kernels' form."""
    require_tool("g++", "the fixture is compiled to check it is valid HLS C++")
    subprocess.run(["g++", "-std=c++14", "-fsyntax-only", "-w", f"-I{ap_types_dir()}",
                    f"-I{TINY}", str(TINY / "tiny_top.cpp")], check=True, timeout=120)


@pytest.mark.parametrize("a, b, n", [(17, 24, 1), (24, 17, 1), (27, 18, 1), (28, 18, 2), (33, 33, 4),
                                     (25, 25, 2), (65, 33, 6)])
def test_dsp_rule(a, b, n):
    assert resources.dsp(a, b) == n


@pytest.mark.parametrize("depth, width, n", [(4096, 72, 1), (4097, 72, 2), (4096, 73, 2), (3000, 23, 1)])
def test_uram_rule(depth, width, n):
    assert resources.uram(depth, width) == n


@pytest.mark.parametrize("depth, width, true_dual, n", [
    (512, 72, False, 1), (512, 72, True, 2), (2048, 32, False, 2), (16, 32, False, 0.5), (33792, 140, False, 132),
])
def test_bram_rule(depth, width, true_dual, n):
    assert resources.bram36(depth, width, true_dual) == n


def test_json_gives_used_and_available_per_overlay_and_kernel(capsys):
    main(["resources", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert set(out) == set(overlays.names())
    for name, ov in out.items():
        assert set(ov["kernels"]) == set(overlays.kernels(name))
        for r in resources.RESOURCES:
            assert ov["resources"][r]["available"] > 0 and ov["resources"][r]["used"] >= 0
            for k in ov["kernels"].values():
                assert set(k["resources"][r]) == {"used", "available"}
        assert all(rule["rule"] for k in ov["kernels"].values() for rule in k["rules"])
