"""LIF+ (BIDL Sec. 3.1.1), per-timestep BN, the SEW / MS / spiking ResNet blocks and Real
Spike's re-parameterisation (the review, Sec. 3.1-3.2): the checks B4, V5, V6 and V7 of
models_neurons.md, every LIF+ option against the behaviour its docstring states, numpy ==
jax forwards, and BPTT gradients against finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spynq import claims, nn
from spynq.claims import _common as C
from spynq.errors import SpynqValueError
from spynq.nn.layers import BatchNormTT
from spynq.nn.neurons import LIFPlus
from spynq.nn.residual import ResidualBlock, SpikeScale, fold_spike_scale


def rng(seed):
    return np.random.default_rng([11, seed])


def steps(layer, xs, params=None):
    """Drive a neuron layer step by step: (outputs, states, h) per step."""
    p = layer.init(None) if params is None else params
    state, outs, states = None, [], []
    ctx = nn.Ctx()
    layer.name = layer.name or "n"
    for t in range(len(xs)):
        ctx.t = t
        y, state = layer.step(p, state, xs[t], ctx)
        outs.append(y)
        states.append({k: np.array(v) for k, v in state.items()})
    return np.stack(outs), states, np.stack(ctx.records[layer.name]["h"])


@pytest.fixture(scope="module")
def ledger():
    return {r.claim.id: r for p in ("review", "bidl") for r in claims.run(p)}


# ---- ledger: the claims these builders made computable -----------------------------------

def test_ledger_claims_now_computed_and_matching(ledger):
    for k in ("bidl.lifplus", "review.bn_fold", "review.bn_per_t", "review.bn_per_t.one_set", "review.real_spike",
              "review.sew"):
        assert ledger[k].status == "matches", (k, ledger[k].note)
    assert "SEW [0.0, 1.0, 2.0]" in ledger["review.sew"].note


# ---- B4: LIF+ all default == BIDL's LIF -----------------------------------------------------

@pytest.mark.parametrize("kw", [{}, dict(alpha=0.75, beta=0.125, v_reset=-0.25, v_th=0.7), dict(reset="soft"),
                                dict(strict=True), dict(output="analog", tap="v", act="tanh")])
def test_lifplus_default_is_bidl_bitwise(kw):
    xs = C.inputs(21, dyadic=False)
    a, b = LIFPlus(**kw), nn.BIDL(**kw)
    assert a.init(None).keys() == b.init(None).keys()  # the same parameters, nothing extra
    sa, ha, va = C.run_layer(a, xs)
    sb, hb, vb = C.run_layer(b, xs)
    assert sa.sum() > 0
    for u, w in ((sa, sb), (ha, hb), (va, vb)):
        np.testing.assert_array_equal(u, w)
    oa = nn.Sequential(a).apply({a.name: a.init(None)}, xs)[0]
    ob = nn.Sequential(b).apply({b.name: b.init(None)}, xs)[0]
    np.testing.assert_array_equal(oa, ob)


# ---- LIF+ options behave as their docstring says ---------------------------------------------

def test_absolute_refractory_ignores_input_for_cntmax_steps():
    for cntmax in (10, 3):
        n = LIFPlus(alpha=1.0, refractory="absolute", cntmax=cntmax, v_th=0.5)
        xs = np.full((30, 1, 1), 0.6)  # fires at once whenever input is integrated
        s, st, h = steps(n, xs)
        t_sp = np.flatnonzero(s[:, 0, 0])
        assert t_sp[0] == 0 and np.all(np.diff(t_sp) == cntmax + 1), (cntmax, t_sp)
        # inside the window the membrane is the reset value, untouched by the input
        assert np.all(h[1:cntmax + 1] == 0.0) and st[cntmax]["cnt"][0, 0] == 0.0 and st[0]["cnt"][0, 0] == cntmax
    assert np.flatnonzero(steps(LIFPlus(alpha=1.0, v_th=0.5), xs)[0][:, 0, 0]).size == 30  # none: every step


def test_conductance_input_kernels():
    eps = 0.25
    pulse = np.zeros((12, 1, 1))
    pulse[0] = 1.0
    t = np.arange(12)
    _, st, _ = steps(LIFPlus(input_accum="COBE", eps=eps, v_th=1e9), pulse)
    np.testing.assert_allclose([s["g"][0, 0] for s in st], (1 - eps) ** t, rtol=1e-14)
    _, st, _ = steps(LIFPlus(input_accum="COBA", eps=eps, v_th=1e9), pulse)
    g = np.array([s["g"][0, 0] for s in st])
    np.testing.assert_allclose(g, math.e * eps * (t + 1) * (1 - eps) ** t, rtol=1e-13)  # alpha kernel
    assert set(np.flatnonzero(np.isclose(g, g.max(), rtol=1e-12))) == {2, 3}  # peak at t = 1/eps - 2, 1/eps - 1
    # e eps normalises the kernel: its peak tends to 1 (the continuous alpha function's) as eps -> 0
    pulse = np.zeros((120, 1, 1))
    pulse[0] = 1.0
    _, st, _ = steps(LIFPlus(input_accum="COBA", eps=0.02, v_th=1e9), pulse)
    g = np.array([s["g"][0, 0] for s in st])
    assert np.argmax(g) in (48, 49) and 1.0 < g.max() < 1.02


def test_reversal_voltage_scales_the_drive():
    xs = np.full((1, 1, 3), 0.4)
    for v_init, want in ((2.0, 0.0), (0.0, 2.0), (1.0, 1.0)):  # I = g (v_g - v), v_g = 2
        _, _, h = steps(LIFPlus(input_accum="COBE", rev_volt=True, v_g=2.0, v_th=1e9, v_init=v_init), xs)
        np.testing.assert_allclose(h[0] - v_init, 0.4 * want, rtol=1e-14)


@pytest.mark.parametrize("init,kw", [("EXI", dict(v_T=0.3, delta_T=0.1)), ("QDI", dict(v_c=0.3))])
def test_spike_initiation_is_a_runaway_above_its_critical_voltage(init, kw):
    # no input; QDI without leak (alpha = 1: the quadratic term is the leak), EXI with the
    # naive leak (alpha = 0.9: the exponential alone always runs away). Below the critical
    # voltage the membrane relaxes, above it the drift alone drives it to a spike.
    zero = np.zeros((40, 1, 2))
    make = lambda v0: LIFPlus(alpha=1.0 if init == "QDI" else 0.9, spike_init=init, v_th=1.0, k=0.5,  # noqa: E731
                              v_init=v0, **kw)
    assert make(0.0).specs.keys() >= {"k", *kw}
    below, above = steps(make(0.2), zero), steps(make(0.4), zero)
    vb = np.array([s["v"][0, 0] for s in below[1]])
    assert below[0].sum() == 0 and np.all(np.diff(vb) < 0) and vb[-1] < 0.1
    assert above[0][:, 0, 0].sum() == 1  # one spike, then reset to 0 and quiet


def test_adaptation_lengthens_the_intervals():
    xs = np.full((80, 1, 1), 0.2)
    isi = lambda n: np.diff(np.flatnonzero(steps(n, xs)[0][:, 0, 0]))  # noqa: E731
    plain = isi(LIFPlus(alpha=0.9))
    adt = isi(LIFPlus(alpha=0.9, trigger="ADT", eps_w=0.05, b=0.05))
    assert np.all(plain == plain[0])  # regular without adaptation
    assert adt[0] >= plain[0] and adt[-3:].mean() > adt[:3].mean() + 2  # spike-frequency adaptation
    rel = isi(LIFPlus(alpha=0.9, refractory="relative", eps_r=0.3, q_r=0.5, v_rr=-1.0))
    assert rel.min() > plain[0]  # harder to fire right after a spike


def test_subthreshold_coupling_pulls_towards_v_w():
    xs = np.full((200, 1, 1), 0.05)  # subthreshold drive
    v = lambda n: steps(n, xs)[1][-1]["v"][0, 0]  # noqa: E731
    v_plain = v(LIFPlus(alpha=0.9))
    v_sbt = v(LIFPlus(alpha=0.9, trigger="SBT", a=0.2, v_w=0.0, eps_w=0.1, b=0.0, k=0.5))
    assert 0.0 < v_sbt < v_plain
    # fixed point of v = alpha (v + x - w), w = (1 - eps) w + k a (v - v_w): w = k a v / eps
    w_star = 0.5 * 0.2 / 0.1
    assert v_sbt == pytest.approx(0.9 * 0.05 / (1 - 0.9 + 0.9 * w_star), rel=1e-6)


def test_decays():
    xs = C.inputs(22, dyadic=False)
    k = 0.3
    _, _, ve = C.run_layer(LIFPlus(decay="EXD", k=k, v_reset=-0.1), xs)
    _, _, vn = C.run_layer(LIFPlus(alpha=1 - k, beta=-0.1 * k, v_reset=-0.1), xs)
    np.testing.assert_allclose(ve, vn, rtol=1e-12, atol=1e-13)  # EXD is the naive decay reparametrised
    zero = np.zeros((10, 1, 2))
    _, st, _ = steps(LIFPlus(decay="LID", v_leak=0.1, v_init=0.35, v_th=9.0), zero)
    np.testing.assert_allclose([s["v"][0, 0] for s in st[:5]], [0.25, 0.15, 0.05, 0.0, 0.0], atol=1e-15)
    _, st, _ = steps(LIFPlus(decay="LID", v_leak=0.1, v_init=-0.25, v_th=9.0), zero)
    np.testing.assert_allclose([s["v"][0, 0] for s in st[:4]], [-0.15, -0.05, 0.0, 0.0], atol=1e-15)


def test_lifplus_bad_configurations():
    with pytest.raises(SpynqValueError, match="rev_volt"):
        LIFPlus(rev_volt=True)
    with pytest.raises(SpynqValueError, match="not used"):
        LIFPlus(delta_T=0.2)
    with pytest.raises(SpynqValueError, match="spike_init"):
        LIFPlus(spike_init="cubic")
    with pytest.raises(SpynqValueError, match="cntmax"):
        LIFPlus(refractory="absolute", cntmax=0)


# ---- V5: per-timestep BN -----------------------------------------------------------------------

def test_bntt_train_uses_each_steps_statistics_both_styles():
    T = 4
    net = nn.Sequential(nn.Conv2d(2, 3, 3, 1, 1), BatchNormTT(3, T), nn.LIF(2.0))
    p = net.init(3)
    bn = net.layers[1].name
    p[bn]["gamma"] = rng(1).uniform(0.5, 2, (T, 3))
    p[bn]["beta"] = rng(2).normal(size=(T, 3))
    xs = (rng(3).random((T, 5, 2, 6, 6)) < 0.5) * (1.0 + np.arange(T)).reshape(T, 1, 1, 1, 1)  # other scale per step
    z = nn.Sequential(net.layers[0]).apply({net.layers[0].name: p[net.layers[0].name]}, xs)[0]
    outs = {}
    for style, merge in (("layer", False), ("layer", True), ("step", False)):
        _, aux = net.apply(p, xs, train=True, style=style, merge_time=merge)
        outs[(style, merge)] = aux
    h = outs[("layer", False)].records["2_lif"]["h"]
    for o in outs.values():  # BNTT's train mode agrees across styles (shared BN's does not)
        np.testing.assert_allclose(o.records["2_lif"]["h"], h, rtol=1e-12, atol=1e-12)
        for k in ("mean", "var"):
            np.testing.assert_allclose(o.updates[bn][k], outs[("layer", False)].updates[bn][k], rtol=1e-12)
    # step t normalised by step t's batch statistics: per channel mean beta_t, std gamma_t
    y = h * 2.0  # LIF tau=2, decay_input, first step v = 0: h_0 = x_0 / 2; check step 0 only
    np.testing.assert_allclose(y[0].mean(axis=(0, 2, 3)), p[bn]["beta"][0], atol=1e-12)
    np.testing.assert_allclose(y[0].std(axis=(0, 2, 3)), p[bn]["gamma"][0] * np.sqrt(
        z[0].var(axis=(0, 2, 3)) / (z[0].var(axis=(0, 2, 3)) + 1e-5)), rtol=1e-9)
    up = outs[("layer", False)].updates[bn]["mean"]
    np.testing.assert_allclose(up, 0.1 * z.mean(axis=(1, 3, 4)), rtol=1e-12)  # row t: step t's batch mean
    with pytest.raises(SpynqValueError, match="steps"):
        net.apply(p, xs[:3])


def test_bntt_folds_into_T_sets_but_not_one():
    from spynq.claims.review import _bn_per_t_net

    conv_p, bn, bn_p, xs, z, y = _bn_per_t_net(False)
    sets = bn.fold(conv_p, bn_p)
    conv = nn.Conv2d(3, 4, 3, 1, 1)
    for t in range(bn.steps):
        np.testing.assert_allclose(conv.forward(sets[t], xs[t], nn.Ctx()), y[t], rtol=1e-12, atol=1e-12)
        others = [u for u in range(bn.steps) if u != t]
        assert all(np.max(np.abs(conv.forward(sets[t], xs[u], nn.Ctx()) - y[u])) > 1e-2 for u in others)
    # coinciding statistics: BNTT is the shared BN, one set folds it exactly
    conv_p, bn, bn_p, xs, z, y = _bn_per_t_net(True)
    shared = nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1), nn.BatchNorm(4))
    sp = {shared.layers[0].name: conv_p, shared.layers[1].name: {k: v[0] for k, v in bn_p.items()}}
    folded, fp = nn.fold_batchnorm(shared, sp)
    np.testing.assert_allclose(folded.apply(fp, xs)[0], y, rtol=1e-12, atol=1e-12)


# ---- V6: Real Spike ------------------------------------------------------------------------------

def test_fold_spike_scale_conv_and_linear():
    net = nn.Sequential(nn.LIF(2.0, v_th=0.5), SpikeScale(3), nn.Conv2d(3, 4, 3, 1, 1), nn.LIF(2.0, v_th=0.5),
                        nn.Flatten(), SpikeScale(4 * 5 * 5), nn.Linear(100, 6), nn.LIF(2.0, v_th=0.5))
    p = net.init(4)
    p["1_spikescale"]["a"] = rng(4).uniform(0.3, 2.0, 3)
    p["5_spikescale"]["a"] = rng(5).uniform(0.3, 2.0, 100)
    p["2_conv2d"]["w"] *= 3
    p["6_linear"]["w"] *= 3
    xs = rng(6).uniform(0, 1.2, (5, 2, 3, 5, 5))
    a, ra = net.apply(p, xs)
    folded, fp = fold_spike_scale(net, p)
    assert [type(l).__name__ for l in folded.layers] == ["LIF", "Conv2d", "LIF", "Flatten", "Linear", "LIF"]
    b, rb = folded.apply(fp, xs)
    assert a.sum() > 0
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ra.records["3_lif"]["h"], rb.records["3_lif"]["h"], rtol=1e-12, atol=1e-13)
    unscaled = dict(p, **{"1_spikescale": {"a": np.ones(3)}, "5_spikescale": {"a": np.ones(100)}})
    assert not np.allclose(net.apply(unscaled, xs)[1].records["3_lif"]["h"], ra.records["3_lif"]["h"])
    bad = nn.Sequential(SpikeScale(2), nn.Linear(3, 2))
    with pytest.raises(SpynqValueError, match="channels"):
        fold_spike_scale(bad, bad.init(0))


# ---- V7: residual blocks -------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["spiking", "sew", "ms"])
@pytest.mark.parametrize("c_out,stride", [(4, 1), (6, 2)])
def test_blocks_values_and_styles(variant, c_out, stride):
    net = nn.Sequential(ResidualBlock(4, c_out, stride, variant, neuron=lambda c: nn.LIF(2.0, v_th=0.5)))
    blk = net.layers[0]
    p = net.init(7)
    p[blk.name] = {k: v * 3 if k.endswith(".w") else v for k, v in p[blk.name].items()}
    xs = (rng(7).random((5, 2, 4, 8, 8)) < 0.5).astype(float)
    a, ra = net.apply(p, xs)
    b, rb = net.apply(p, xs, style="step")
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 2, c_out, 8 // stride, 8 // stride)
    assert all(r["s"].sum() > 0 for r in ra.records.values())
    vals = set(np.unique(a).tolist())
    if variant == "spiking":
        assert vals == {0.0, 1.0}
    elif variant == "sew":  # ADD of two spike maps
        assert vals == {0.0, 1.0, 2.0} if stride == 1 else vals <= {0.0, 1.0, 2.0}
    else:
        assert len(vals) > 10  # real values: the shortcut carries x, the branch BN outputs
    assert ("down_conv.w" in p[blk.name]) == (stride != 1 or c_out != 4)
    mask = net.trainable(p)[blk.name]
    assert not mask["bn1.mean"] and not mask["bn1.var"] and mask["bn1.gamma"] and mask["conv1.w"]


def test_block_with_bntt_collects_updates_under_flat_keys():
    T = 3
    net = nn.Sequential(ResidualBlock(2, 2, 1, "sew", bn=lambda c: BatchNormTT(c, T)))
    p = net.init(8)
    xs = (rng(8).random((T, 4, 2, 5, 5)) < 0.5).astype(float)
    _, aux = net.apply(p, xs, train=True)
    up = aux.updates[net.layers[0].name]
    assert set(up) == {"bn1.mean", "bn1.var", "bn2.mean", "bn2.var"}
    assert up["bn1.mean"].shape == (T, 2) and not np.allclose(up["bn1.mean"], 0)


# ---- numpy == jax, finite-difference gradients ----------------------------------------------------

LIFPLUS = {
    "default": dict(),
    "coba_rev": dict(input_accum="COBA", rev_volt=True),
    "cobe_relative": dict(input_accum="COBE", refractory="relative"),
    "exi_adt": dict(spike_init="EXI", trigger="ADT"),
    "qdi_sbt": dict(spike_init="QDI", trigger="SBT", alpha=0.8),
    "exd": dict(decay="EXD"),
    "lid_soft": dict(decay="LID", reset="soft"),
}


@pytest.fixture
def jnp(x64):
    import jax.numpy as jnp

    return jnp


@pytest.mark.parametrize("kind", sorted(LIFPLUS) + ["absolute"])
def test_lifplus_numpy_equals_jax(kind, jnp):
    kw = dict(refractory="absolute", cntmax=2) if kind == "absolute" else LIFPLUS[kind]
    net = nn.Sequential(nn.Linear(6, 5), LIFPlus(**kw), nn.Linear(5, 3), LIFPlus(**kw))
    p = net.init(9)
    for k in ("0_linear", "2_linear"):
        p[k]["w"] = p[k]["w"] * 3
    xs = (rng(9).random((8, 3, 6)) < 0.5).astype(float)
    a, ra = net.apply(p, xs)
    for scan in (False, True):
        b, rb = net.apply(p, jnp.asarray(xs), xp=jnp, scan=scan)
        np.testing.assert_array_equal(a, np.asarray(b))
        for k in ra.records:
            assert ra.records[k]["s"].sum() > 0, (kind, k)
            np.testing.assert_allclose(ra.records[k]["v"], np.asarray(rb.records[k]["v"]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(LIFPLUS))
def test_lifplus_bptt_matches_finite_differences(kind, jnp):
    # the absolute refractory counter is discrete (a smooth-surrogate spike would keep it
    # running forever): it has no gradient to check, so it is left out here
    from test_nn_grad import SMOOTH, fd_check

    make = lambda: LIFPlus(learn=True, surrogate=SMOOTH, **LIFPLUS[kind])  # noqa: E731
    net = nn.Sequential(nn.Linear(4, 5), make(), nn.Linear(5, 3), make())
    p = net.init(10)
    for k in ("0_linear", "2_linear"):
        # conductances stay >= 0 only with non-negative weights (LIFPlus doc, rev_volt)
        p[k]["w"] = np.abs(p[k]["w"]) if net.layers[1].rev_volt else p[k]["w"] * 2.5
    xs = rng(10).random((5, 2, 4)) * 1.5
    _, aux = net.apply(p, xs)
    assert max(float(np.abs(r["h"]).max()) for r in aux.records.values()) < 20  # a regime with finite numbers
    n, g = fd_check(net, p, xs, rng(11).normal(size=(5, 2, 3)), rtol=1e-4, atol=1e-7)
    assert n >= 2 * 4 + len(net.layers[1].specs)
    assert min(abs(float(g["1_lifplus"][k])) for k in net.layers[1].specs) > 0  # every constant learns


def test_blocks_and_bntt_bptt_match_finite_differences(jnp):
    from test_nn_grad import SMOOTH, fd_check

    T = 2
    neuron = lambda c: nn.LIF(tau=nn.Param(value=2.0), v_th=0.5, surrogate=SMOOTH)  # noqa: E731
    # one block (each new conv shape costs a jax compile): SEW with per-step BN inside
    net = nn.Sequential(SpikeScale(2), ResidualBlock(2, 2, 1, "sew", neuron=neuron, bn=lambda c: BatchNormTT(c, T)),
                        nn.GlobalAvgPool(), nn.TemporalAggregate("mean"), nn.Linear(2, 2))
    p = net.init(12)
    xs = rng(12).random((T, 2, 2, 4, 4)) * 2
    n, g = fd_check(net, p, xs, rng(13).normal(size=(2, 2)), train=True, n_coords=1, rtol=1e-4, atol=1e-7)
    assert n > 10
    assert np.abs(np.asarray(g["1_residualblock"]["conv2.w"])).sum() > 0
    assert np.abs(np.asarray(g["1_residualblock"]["bn1.gamma"])).sum() > 0
    assert np.abs(np.asarray(g["0_spikescale"]["a"])).sum() > 0


def test_training_path_forward_equals_numpy(jnp):
    # what spynq.nn.train.fit runs (jax, train mode, merge_time, lax.scan) on LIF+ inside
    # blocks and per-step BN, against the numpy step-by-step forward
    T = 3
    neuron = lambda c: LIFPlus(alpha=0.5, trigger="ADT", v_th=0.5)  # noqa: E731
    net = nn.Sequential(SpikeScale(2), ResidualBlock(2, 3, 2, "ms", neuron=neuron, bn=lambda c: BatchNormTT(c, T)),
                        nn.GlobalAvgPool(), nn.TemporalAggregate("mean"), nn.Linear(3, 2))
    p = net.init(14)
    xs = rng(14).random((T, 4, 2, 6, 6)) * 2
    a, ra = net.apply(p, xs, train=True)
    b, rb = net.apply(p, jnp.asarray(xs), xp=jnp, train=True, merge_time=True, scan=True)
    np.testing.assert_allclose(a, np.asarray(b), rtol=1e-10, atol=1e-12)
    for k in ra.records:
        assert ra.records[k]["s"].sum() > 0, k
        np.testing.assert_array_equal(ra.records[k]["s"], np.asarray(rb.records[k]["s"]))
    for k, v in ra.updates["1_residualblock"].items():
        np.testing.assert_allclose(v, np.asarray(rb.updates["1_residualblock"][k]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("variant", ["spiking", "sew", "ms"])
def test_a_blocks_parameter_count_is_its_convs_and_bn_affines(variant):
    """Learnable parameters of a block (nn_costs): conv kernels and BN gamma/beta, written
    out here from the block's shapes; running statistics and fixed neuron constants do not count."""
    from spynq import nn_costs

    c_in, c_out, T = 2, 4, 3
    block = ResidualBlock(c_in, c_out, 2, variant, bn=lambda c: BatchNormTT(c, T))
    convs = 9 * c_in * c_out + 9 * c_out * c_out + c_in * c_out  # conv1, conv2, 1x1 downsample
    bn_affine = 3 * 2 * T * c_out                                  # bn1, bn2, down_bn: gamma, beta per step
    assert nn_costs.count_params([block]) == convs + bn_affine
