"""The overlays overlays/zcu104 builds: each fits the XCZU7EV with margin by the resource
ledger, each names only parameters its kernels have, and the host plans its calls for
the limits of the overlay they run on."""
import numpy as np
import pytest

from spynq import overlays, resources
from spynq.hw import platform
from spynq.hw.cconfig import parameters
from spynq.lif import backends as lif_backends
from spynq.lif.encode import C as LIF_C

from lif_cases import random_network, random_rasters


@pytest.mark.parametrize("name", overlays.names())
def test_overlay_fits_with_margin(name):
    """<= 80 % of URAM, BRAM36 and DSP48E2, <= 70 % of LUT, by the resource ledger (FF
    never binds first). The first kernels' "all" overlay needed 192 URAM (review 4.1)."""
    total = resources.overlay_ledger(name)["total"]
    for r in ("URAM", "BRAM36", "DSP", "LUT"):
        assert total[r] <= platform.FIT_PCT[r] / 100 * platform.DEVICE[r], (name, r, total)


def test_one_overlay_per_kernel_and_one_with_all():
    from spynq.kernels import KERNELS

    sets = [set(overlays.kernels(n)) for n in overlays.names()]
    assert set(KERNELS) in sets
    for k in KERNELS:
        assert {k} in sets


@pytest.mark.parametrize("name", overlays.names())
def test_overlay_parameters_exist_in_the_kernels(name):
    for k in overlays.kernels(name):
        params = overlays.kernel_params(name, k)
        assert set(params) <= set(parameters(f"{k}/{k}_config.h")), (name, k)
        lim = overlays.limits(k, name)
        assert all(lim[p] == v for p, v in params.items())


def test_unknown_names_are_rejected_with_the_choices():
    with pytest.raises(ValueError, match="overlays.json has"):
        overlays.kernels("nope")
    with pytest.raises(ValueError, match="has no kernel"):
        overlays.kernel_params("stm", "snnwm")
    with pytest.raises(ValueError, match="no overlay parameter"):
        from spynq.hw.cconfig import read_constants
        read_constants("stm/stm_config.h", {"STM_NO_SUCH_PARAM": 1})


def test_bitfile_names_map_to_overlays():
    for n in overlays.names():
        assert overlays.from_bitfile(overlays.bitfile(n)) == n
    assert overlays.from_bitfile("/home/xilinx/base.bit") is None
    assert overlays.active() is None  # no board here


def test_call_plan_follows_the_kernel_limits():
    """A kernel with fewer synapse words and neurons per call (as a smaller overlay has)
    gets more, smaller calls, and the answer is bit for bit the same."""
    rng = np.random.default_rng(5)
    net = random_network(rng, [300, 200, 90, 20], "synapse", 30)
    r = random_rasters(rng, 3, 40, 300, 0.08)
    small = dict(LIF_C, LIF_MAX_SYN=16384, LIF_MAX_N=128, LIF_MAX_LAYERS=2)
    default_plan, small_plan = lif_backends.plan_calls(net), lif_backends.plan_calls(net, small)
    assert len(default_plan) == 1 and len(small_plan) > 3
    for call in small_plan:
        assert len(call) <= 2
        for k, cols in call:
            n = net.layers[k].n_out if cols is None else cols.stop - cols.start
            assert n <= 128
    a = lif_backends.run_fixed("golden", net, r, lif_backends.golden_call)
    b = lif_backends.run_fixed("golden", net, r, lif_backends.golden_call, limits=small)
    for x, y in zip(a.spikes + a.raw["v_last"], b.spikes + b.raw["v_last"]):
        np.testing.assert_array_equal(x, y)


def test_register_map_checked_against_the_hwh():
    """spynq.Overlay refuses a kernel whose .hwh register map (what pynq reads from it)
    puts an argument elsewhere than spynq's interface does."""
    from types import SimpleNamespace

    from spynq.hw.board import check_registers
    from spynq.stm.interface import STM_INTERFACE

    hwh = STM_INTERFACE.register_map()
    check_registers(SimpleNamespace(interface=STM_INTERFACE, _registers=hwh))
    shifted = {k: dict(v, address_offset=v["address_offset"] + (8 if k == "batch" else 0)) for k, v in hwh.items()}
    with pytest.raises(RuntimeError, match="batch"):
        check_registers(SimpleNamespace(interface=STM_INTERFACE, _registers=shifted))


def test_overlay_class_is_a_pynq_overlay_and_needs_a_bitstream(tmp_path):
    import pynq

    import spynq

    assert issubclass(spynq.Overlay, pynq.Overlay) and spynq.Overlay is spynq.Overlay
    with pytest.raises(FileNotFoundError, match="build_overlay.sh"):
        spynq.Overlay(tmp_path / "spynq_all.bit")
    (tmp_path / "base.bit").write_bytes(b"")
    with pytest.raises(ValueError, match="not a spynq overlay"):
        spynq.Overlay(tmp_path / "base.bit")


def test_off_the_board_session_and_energy_say_why():
    """No board here: the session falls back to the cpu backend and says so, and the
    energy column is None with the reason (pynq's own get_rails finds no PMBus)."""
    from spynq.hw import board, power

    backend, ol, why = board.session()
    assert (backend, ol) == ("cpu", None) and "cpu and golden" in why
    calls = []
    m = power.measure(lambda: calls.append(1), repeats=3)
    assert len(calls) == 3 and m["joules"] is None and m["watts"] is None and m["why"]
    assert not board.overlay_loaded()
