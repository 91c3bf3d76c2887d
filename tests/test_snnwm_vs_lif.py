"""With L = 1 and W2 = [1] an SNNWM layer (window or overlap mode) is the plain per-step LIF
engine with the same W1 and no delays: random networks run through spynq.lif (golden,
cpu) and spynq.snnwm (golden, csim, cpu) give identical spikes, v_last and v_max, bit for
bit between the fixed-point tiers."""
import numpy as np
import pytest

from spynq import lif, snnwm
from spynq.lif.model import random_network as lif_random_network
from spynq.lif.model import random_rasters
from spynq.snnwm import SnnwmNetwork, SnnwmParams, WindowLayer


def as_snnwm(net: lif.LifNetwork, modes) -> SnnwmNetwork:
    layers = []
    for layer, mode in zip(net.layers, modes):
        p = layer.params
        assert p.beta is None and p.reset == "zero" and p.refractory == 0 and layer.delays is None
        layers.append(WindowLayer(layer.weights, [1.0], SnnwmParams.from_decay(p.alpha, p.threshold, p.v_reset), mode))
    return SnnwmNetwork(layers)


def cases(n=25, seed=31):
    rng = np.random.default_rng(seed)
    for i in range(n):
        sizes = [int(rng.integers(1, 150))] + [int(rng.integers(1, 130)) for _ in range(int(rng.integers(1, 5)))]
        net = lif_random_network(rng, sizes, None, weight_scale=float(rng.uniform(1, 6)), current=False,
                                 reset="zero", refractory=0)
        if i % 5 == 0:  # saturation
            first = net.layers[0]
            first.weights = np.where(rng.random(first.weights.shape) < 0.5, 7.5, -7.5)
            first.params = lif.LifParams(alpha=64880 / 65536, threshold=127.0, v_reset=first.params.v_reset)
        density = 0.0 if i % 7 == 0 else 1.0 if i % 11 == 0 else float(rng.uniform(0.02, 0.5))
        r = random_rasters(rng, int(rng.integers(1, 4)), int(rng.integers(1, 60)), net.n_in, density)
        yield net, r, [str(m) for m in rng.choice(["window", "overlap"], len(net.layers))]


def test_decay_grid_round_trips():
    for q in (1, 100, 32768, 65000, 65535):
        assert round(SnnwmParams.from_decay(q / 65536).decay * 65536) == q


def test_l1_window_unit_is_the_lif_engine():
    saturated = 0
    for i, (net, r, modes) in enumerate(cases()):
        sw = as_snnwm(net, modes)
        lg = lif.run(net, r, "golden")
        sg, sc = snnwm.run(sw, r, "golden"), snnwm.run(sw, r, "csim")
        for k in range(len(net.layers)):
            for s in (sg, sc):
                np.testing.assert_array_equal(lg.spikes[k], s.spikes[k], err_msg=f"case {i} layer {k} {s.backend}")
                np.testing.assert_array_equal(lg.raw["v_last"][k], s.raw["v_last"][k])
                np.testing.assert_array_equal(lg.raw["v_max"][k], s.raw["v_max"][k])
                np.testing.assert_array_equal(lg.layer_status[k], s.stage_status[k])  # the same bit: V_SAT
            saturated += int(np.any(lg.layer_status[k]))
        lc, scpu = lif.run(net, r, "cpu"), snnwm.run(sw, r, "cpu")
        for k in range(len(net.layers)):
            np.testing.assert_array_equal(lc.spikes[k], scpu.spikes[k])
            np.testing.assert_allclose(lc.v_last[k], scpu.v_last[k], rtol=0, atol=1e-9)
            np.testing.assert_allclose(lc.v_max[k], scpu.v_max[k], rtol=0, atol=1e-9)
    assert saturated >= 3


@pytest.mark.parametrize("mode", ["window", "overlap"])
def test_l1_counts_equal_per_step_lif(mode):
    """With L = 1 the window unit touches V every step, like the per-step LIF, and its
    W1 products are one per (input spike, neuron): the LIF's synaptic accumulates."""
    rng = np.random.default_rng(5)
    net = lif_random_network(rng, [40, 30], None, current=False, reset="zero", refractory=0)
    r = random_rasters(rng, 2, 20, 40, 0.2)
    res = snnwm.run(as_snnwm(net, [mode]), r, "csim")
    want = snnwm.counts.per_step_lif_counts(r, 30)
    assert res.counts[0]["v_reads"] == want["v_reads"] and res.counts[0]["v_writes"] == want["v_writes"]
    assert res.counts[0]["mac"] == want["mac"] and res.counts[0]["add"] == int(r.sum())
