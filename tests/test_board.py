"""On a ZCU104 with the spynq overlay: the FPGA agrees bit for bit with the golden model.
Skips everywhere else (no board here or in CI)."""
import numpy as np
import pytest

from spynq.hw.board import OVERLAY_BIT, load_overlay

pytestmark = pytest.mark.board


@pytest.fixture(scope="module")
def overlay():
    if not OVERLAY_BIT.exists():
        pytest.skip(f"{OVERLAY_BIT.name} not built (needs Vivado) and no board here")
    try:
        return load_overlay()
    except Exception as e:  # not a PYNQ board
        pytest.skip(f"cannot load the overlay here: {e}")


def test_stm_fpga_matches_golden(overlay):
    from spynq.stm import backends, workloads

    for build in workloads.ALL:
        wl = build()
        pops, ev = wl.network.sample(1000, seed=0), wl.evidence(8, seed=1)
        fpga = backends.infer(wl.network, pops, ev, "fpga", ol=overlay)
        golden = backends.infer(wl.network, pops, ev, "golden")
        np.testing.assert_array_equal(fpga.raw_weights, golden.raw_weights)
        np.testing.assert_array_equal(fpga.status, golden.status)
