"""spynq.nn forward: neuron charge rules against hand-written loops, the issue's limiting
cases, synaptic layers against naive loops, the two iteration styles, BN folding, the
numpy forward against the JAX forward (float64: spikes identical, real values to 1e-12
relative: numpy and XLA may round exp/tanh/sums differently in the last bit), and that
spynq.nn imports and runs without jax."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from spynq import nn
from spynq.errors import SpynqValueError
from spynq.lif.result import LifResult



def rng(seed):
    return np.random.default_rng([20261202, seed])  # one stream per use: tests run in any order


def currents(T=12, B=3, N=7, scale=1.5, seed=0):
    return rng(seed).normal(0.4, scale, size=(T, B, N))


def run_neuron(neuron, xs, params=None, style="layer"):
    net = nn.Sequential(neuron)
    p = net.init(0) if params is None else params
    out, aux = net.apply(p, xs, style=style)
    return out, aux.records[neuron.name]


# ---- hand-written references (the papers' equations, loops over t) ----------------------

def ref_lif(xs, tau, v_th=1.0, v_reset=0.0, decay_input=True, reset="hard"):
    v = np.full(xs.shape[1:], v_reset if reset == "hard" else 0.0)
    vr = v_reset if reset == "hard" else 0.0
    S, V = [], []
    for x in xs:
        h = v + (x - (v - vr)) / tau if decay_input else v - (v - vr) / tau + x
        s = (h >= v_th).astype(float)
        v = h * (1 - s) + v_reset * s if reset == "hard" else (h - v_th * s if reset == "soft" else h)
        S.append(s)
        V.append(v)
    return np.array(S), np.array(V)


def ref_if(xs, v_th=1.0):
    v = np.zeros(xs.shape[1:])
    S, V = [], []
    for x in xs:
        h = v + x
        s = (h >= v_th).astype(float)
        v = h * (1 - s)
        S.append(s)
        V.append(v)
    return np.array(S), np.array(V)


@pytest.mark.parametrize("decay_input", [True, False])
@pytest.mark.parametrize("reset", ["hard", "soft", "none"])
def test_lif_matches_the_spikingjelly_equations(decay_input, reset):
    xs = currents()
    v_reset = -0.25 if reset == "hard" else 0.0
    out, rec = run_neuron(nn.LIF(tau=3.0, decay_input=decay_input, reset=reset, v_reset=v_reset), xs)
    s, v = ref_lif(xs, 3.0, v_reset=v_reset, decay_input=decay_input, reset=reset)
    assert s.sum() > 0
    np.testing.assert_array_equal(out, s)
    np.testing.assert_array_equal(rec["v"], v)


def test_tie_convention_ge_by_default_strict_selectable():
    # IF-like BIDL (alpha 1, beta 0) driven to exactly v_th = 0.5 at t = 1
    xs = np.array([[[0.25]], [[0.25]], [[0.0]]])
    out, _ = run_neuron(nn.BIDL(alpha=1.0, beta=0.0), xs)
    assert out[:, 0, 0].tolist() == [0.0, 1.0, 0.0]
    out, _ = run_neuron(nn.BIDL(alpha=1.0, beta=0.0, strict=True), xs)
    assert out[:, 0, 0].tolist() == [0.0, 0.0, 0.0]


# ---- limiting cases of issue 10 ----------------------------------------------------------

@pytest.mark.parametrize("tau", [2.0, 3.0])
def test_dalif_with_lif_decays_equals_lif(tau):
    xs = currents()
    out, rec = run_neuron(nn.DALIF(alpha=1.0 / tau, beta=1.0 - 1.0 / tau), xs)
    s, v = ref_lif(xs, tau)
    assert s.sum() > 0
    np.testing.assert_array_equal(out, s)
    np.testing.assert_allclose(rec["v"], v, rtol=1e-13, atol=1e-14)


def test_dalif_alpha_beta_one_is_if():
    xs = currents()
    out, rec = run_neuron(nn.DALIF(alpha=1.0, beta=1.0), xs)
    s, v = ref_if(xs)
    assert s.sum() > 0
    np.testing.assert_array_equal(out, s)
    np.testing.assert_array_equal(rec["v"], v)


def test_dalif_default_init_is_tanh_of_one():
    p = nn.Sequential(nn.DALIF()).init(0)["0_dalif"]
    q = nn.DALIF().values(p, np, 2)
    assert abs(float(q["alpha"]) - 0.7615941559557649) < 1e-15 and abs(float(q["beta"]) - 0.7615941559557649) < 1e-15


@pytest.mark.parametrize("tau", [2.0, 1.7])
def test_plif_with_fixed_tau_equals_lif(tau):
    xs = currents()
    plif = nn.PLIF(w=nn.Param(value=1.0 / tau, fn="sigmoid", learn=False))
    out, rec = run_neuron(plif, xs)
    s, v = ref_lif(xs, tau)
    assert s.sum() > 0
    np.testing.assert_array_equal(out, s)
    np.testing.assert_allclose(rec["v"], v, rtol=1e-12, atol=1e-13)
    assert float(nn.Sequential(nn.PLIF(tau0=2.0)).init(0)["0_plif"]["w"]) == 0.0  # tau0 = 2 -> w = 0


@pytest.mark.parametrize("f", ["identity", "grad"])
def test_aia_without_association_equals_lif(f):
    # u = lam u (1 - o) + x is LIF with decay_input=False, lam = 1 - 1/tau
    xs = currents()
    out, rec = run_neuron(nn.AIA(lam=0.5, f=f), xs)
    s, v = ref_lif(xs, 2.0, decay_input=False)
    assert s.sum() > 0
    np.testing.assert_array_equal(out, s)
    np.testing.assert_allclose(rec["v"], v, rtol=1e-13, atol=1e-14)


def test_aia_quadratic_and_cached_change_the_forward():
    xs = currents()
    base, _ = run_neuron(nn.AIA(f="identity"), xs)
    quad, rq = run_neuron(nn.AIA(f="quadratic"), xs)
    h0 = rq["h"][0]
    np.testing.assert_allclose(h0, 0.5 * xs[0] ** 2)
    cached = nn.AIA(f="cached", beta=nn.Param(value=1.5, per="channel"), channels=7)
    _, rc = run_neuron(cached, xs)
    np.testing.assert_allclose(rc["h"][0], 1.5 * xs[0])
    one, _ = run_neuron(nn.AIA(f="cached"), xs)  # beta = 1 at init: LIF
    np.testing.assert_array_equal(one, base)


@pytest.mark.parametrize("tau", [2.0, 3.0])
def test_lnm_with_linear_polynomial_equals_lif(tau):
    xs = currents()
    out, rec = run_neuron(nn.LNM(coeffs=(0.0, -1.0 / tau)), xs)
    s, v = ref_lif(xs, tau, decay_input=False)
    assert s.sum() > 0
    np.testing.assert_array_equal(out, s)
    np.testing.assert_allclose(rec["v"], v, rtol=1e-13, atol=1e-14)


def test_lnm_quadratic_term_and_clip():
    xs = np.full((2, 1, 1), 0.25)
    _, rec = run_neuron(nn.LNM(coeffs=(0.0, 0.0, 2.0), v_th=10.0), xs)
    assert rec["h"][:, 0, 0].tolist() == [0.25, 0.25 + 2 * 0.25 ** 2 + 0.25]
    _, rec = run_neuron(nn.LNM(coeffs=(0.0, 0.0, 2.0), v_th=10.0, v_clip=0.5), xs)
    assert rec["h"][:, 0, 0].tolist() == [0.25, 0.5]


def test_bidl_soft_reset_conserves_charge():
    # alpha = 1, beta = 0, RMP: V_T + V_th * (spikes) = sum of inputs, exactly (dyadic values)
    I = rng(1).integers(-4, 12, size=(40, 4, 9)) / 16.0
    net = nn.Sequential(nn.BIDL(alpha=1.0, beta=0.0, v_th=0.5, reset="soft"))
    out, aux = net.apply(net.init(0), I)
    assert out.sum() > 100
    np.testing.assert_array_equal(aux.records["0_bidl"]["v"][-1] + 0.5 * out.sum(axis=0), I.sum(axis=0))


def test_bidl_hard_reset_closed_form():
    # B2: V^t = alpha ((1 - F) (V^{t-1} + I) + F V_reset) + beta
    I = currents()
    out, rec = run_neuron(nn.BIDL(alpha=0.3, beta=0.05, v_th=0.5, v_reset=-0.1), I)
    v = np.zeros(I.shape[1:])
    for t in range(I.shape[0]):
        F = (v + I[t] >= 0.5).astype(float)
        np.testing.assert_array_equal(out[t], F)
        v = 0.3 * ((1 - F) * (v + I[t]) + F * -0.1) + 0.05
        np.testing.assert_allclose(rec["v"][t], v, rtol=1e-14, atol=1e-15)


def test_liaf_taps_and_activation():
    I = currents()
    _, rec = run_neuron(nn.BIDL(), I)
    for tap, want in (("h", rec["h"]), ("v", rec["v"]), ("h-vth", rec["h"] - 0.5)):
        out, _ = run_neuron(nn.LIAF(tap=tap), I)
        np.testing.assert_array_equal(out, np.maximum(want, 0.0))
    out, _ = run_neuron(nn.LIAF(tap="h", act="tanh"), I)
    np.testing.assert_array_equal(out, np.tanh(rec["h"]))


def test_per_channel_equal_values_equal_per_layer():
    # B8: CSM with all channel values equal reproduces ASM, on [B, N] and [B, C, H, W]
    for shape in ((10, 2, 6), (10, 2, 6, 3, 3)):
        I = rng(2).normal(0.3, 1.0, size=shape)
        asm, ra = run_neuron(nn.BIDL(alpha=0.6, beta=0.01, learn=True), I)
        csm = nn.BIDL(alpha=nn.Param(value=0.6, per="channel"), beta=nn.Param(value=0.01, per="channel"),
                      v_th=nn.Param(value=0.5, per="channel"), channels=6)
        out, rc = run_neuron(csm, I)
        np.testing.assert_array_equal(out, asm)
        np.testing.assert_array_equal(rc["v"], ra["v"])


def test_per_channel_values_act_on_their_channel():
    I = np.ones((3, 1, 2, 2, 2))
    lif = nn.DALIF(alpha=nn.Param(value=0.5, per="channel"), beta=nn.Param(value=0.0, per="channel"),
                   channels=2)
    p = {"0_dalif": lif.init(None)}
    p["0_dalif"]["alpha"] = np.array([0.5, 2.0])
    out, _ = run_neuron(lif, I, p)
    assert out[:, 0, 0].max() == 0 and out[:, 0, 1].min() == 1


def test_param_parametrisations():
    assert nn.Param(value=0.25, fn="sigmoid").init_raw() == pytest.approx(np.log(1 / 3))
    assert nn.Param(value=0.5, fn="tanh").init_raw() == pytest.approx(np.arctanh(0.5))
    for bad in (dict(value=1.5, fn="tanh"), dict(value=0.0, fn="sigmoid"), dict(value=2.0, fn="clip"),
                dict(value=1.0, fn="softplus"), dict()):
        with pytest.raises(SpynqValueError):
            nn.Param(**bad).init_raw()
    with pytest.raises(SpynqValueError):
        nn.Sequential(nn.DALIF(alpha=nn.Param(value=0.5, per="channel"))).init(0)  # no channels=


# ---- synaptic layers against naive loops ------------------------------------------------

def naive_conv(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    y = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w) + b
    return y


def naive_pool(x, k, s, red):
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    y = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            y[:, :, i, j] = red(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return y


@pytest.mark.parametrize("k,stride,pad", [(3, 1, 1), (3, 2, 1), (5, 2, 2), (2, 2, 0)])
def test_conv2d_im2col_equals_naive(k, stride, pad):
    conv = nn.Conv2d(3, 4, k, stride, pad)
    p = conv.init(np.random.default_rng(1))
    x = rng(3).normal(size=(2, 3, 9, 8))
    np.testing.assert_allclose(conv.forward(p, x, nn.Ctx()), naive_conv(x, p["w"], p["b"], stride, pad),
                               rtol=1e-12, atol=1e-13)


def test_pools_and_flatten_equal_naive():
    x = rng(4).normal(size=(2, 3, 8, 7))
    ctx = nn.Ctx()
    np.testing.assert_allclose(nn.AvgPool2d(2).forward({}, x, ctx), naive_pool(x, 2, 2, np.mean), rtol=1e-14)
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2).forward({}, x, ctx), naive_pool(x, 3, 2, np.max))
    np.testing.assert_allclose(nn.GlobalAvgPool().forward({}, x, ctx), x.mean(axis=(2, 3)), rtol=1e-14)
    np.testing.assert_array_equal(nn.GlobalMaxPool().forward({}, x, ctx), x.max(axis=(2, 3)))
    np.testing.assert_array_equal(nn.Flatten().forward({}, x, ctx), x.reshape(2, -1))


def test_linear_is_x_wT_plus_b():
    lin = nn.Linear(5, 3)
    p = lin.init(np.random.default_rng(2))
    x = rng(5).normal(size=(4, 5))
    np.testing.assert_allclose(lin.forward(p, x, nn.Ctx()), np.einsum("bi,oi->bo", x, p["w"]) + p["b"], rtol=1e-14)
    assert np.abs(p["w"]).max() <= 1 / np.sqrt(5)


def test_batchnorm_train_statistics_over_time_and_batch():
    bn = nn.BatchNorm(3, momentum=0.1)
    p = bn.init(None)
    xs = rng(6).normal(2.0, 3.0, size=(4, 5, 3, 2, 2))
    ctx = nn.Ctx(train=True)
    y = bn.seq(p, xs, ctx)
    m = xs.mean(axis=(0, 1, 3, 4))
    v = xs.var(axis=(0, 1, 3, 4))
    np.testing.assert_allclose(y, (xs - m.reshape(1, 1, 3, 1, 1)) / np.sqrt(v.reshape(1, 1, 3, 1, 1) + 1e-5),
                               rtol=1e-12, atol=1e-12)
    n = 4 * 5 * 2 * 2
    np.testing.assert_allclose(ctx.updates[None]["mean"], 0.1 * m)
    np.testing.assert_allclose(ctx.updates[None]["var"], 0.9 + 0.1 * v * n / (n - 1))


def test_temporal_aggregate_modes():
    xs = rng(7).normal(size=(6, 2, 4))
    for mode, want in (("sum", xs.sum(0)), ("mean", xs.mean(0)), ("last", xs[-1])):
        agg = nn.TemporalAggregate(mode)
        np.testing.assert_allclose(agg.seq({}, xs, nn.Ctx()), want, rtol=1e-14)
        st, y = None, None
        for t in range(6):
            y, st = agg.step({}, st, xs[t], nn.Ctx())
        np.testing.assert_array_equal(y, agg.seq({}, xs, nn.Ctx()))  # accumulator == aggregate


def test_dropout_mask_shared_over_time():
    xs = np.ones((5, 3, 40))
    d = nn.Sequential(nn.Dropout(0.25))
    y, _ = d.apply(d.init(0), xs, train=True, seed=7)
    assert set(np.unique(y)) == {0.0, 1.0 / 0.75}
    assert (y == y[0]).all()  # the same zeros at every step
    assert 0.1 < (y[0] == 0).mean() < 0.4
    y2, _ = d.apply(d.init(0), xs, train=True, seed=8)
    assert not np.array_equal(y, y2)
    ye, _ = d.apply(d.init(0), xs, train=False, seed=7)
    np.testing.assert_array_equal(ye, xs)


# ---- the network: both iteration styles, BN folding, run() ---------------------------------

def conv_net():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, 1, 1), nn.BatchNorm(4), nn.PLIF(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, 2, 1, bias=False), nn.BatchNorm(6), nn.BIDL(learn=True), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(6 * 2 * 2, 8), nn.LIAF(), nn.Linear(8, 5), nn.DALIF(),
        nn.TemporalAggregate("mean"), nn.Linear(5, 3))


def drive(params, gain=3.0):
    for name, p in params.items():
        if "w" in p:
            p["w"] = p["w"] * gain
    return params


def conv_params(net, seed=0, gain=3.0):
    p = drive(net.init(seed), gain)
    rng = np.random.default_rng(seed + 1)
    for name, q in p.items():
        if "mean" in q:  # non-trivial running statistics
            q["mean"] = rng.normal(0, 0.3, q["mean"].shape)
            q["var"] = rng.uniform(0.5, 2.0, q["var"].shape)
            q["gamma"] = rng.uniform(0.5, 1.5, q["gamma"].shape)
            q["beta"] = rng.normal(0, 0.2, q["beta"].shape)
    return p


def test_layer_by_layer_equals_step_by_step():
    net = conv_net()
    p = conv_params(net)
    xs = (rng(8).random((8, 3, 2, 8, 8)) < 0.4).astype(float)
    for train in (False, True):
        if train:  # BN train statistics are per step in step style: compare without BN
            net = nn.Sequential([l for l in conv_net().layers if not isinstance(l, nn.BatchNorm)])
            p = drive(net.init(3))
        a, aux_a = net.apply(p, xs, train=train, seed=5, style="layer")
        b, aux_b = net.apply(p, xs, train=train, seed=5, style="step")
        assert a.shape == (3, 3)
        np.testing.assert_array_equal(a, b)
        assert aux_a.records.keys() == aux_b.records.keys()
        for k in aux_a.records:
            for f in ("s", "h", "v"):
                np.testing.assert_array_equal(aux_a.records[k][f], aux_b.records[k][f])
        assert all(aux_a.records[k]["s"].sum() > 0 for k in aux_a.records)


class AddStep(nn.Layer):
    """A time-varying map layer (as Oli's W_t): adds w[t] using ctx.t."""

    def init(self, rng):
        return {"w": np.arange(1.0, 9.0) / 8}

    def forward(self, p, x, ctx):
        return x + p["w"][ctx.t]


def test_time_index_reaches_time_varying_layers():
    net = nn.Sequential(AddStep(), nn.LIF(), AddStep(), nn.TemporalAggregate("sum"))
    p = net.init(0)
    xs = rng(18).normal(size=(8, 2, 3))
    a, _ = net.apply(p, xs)
    b, _ = net.apply(p, xs, style="step")
    np.testing.assert_array_equal(a, b)
    out, aux = nn.Sequential(AddStep()).apply({"0_addstep": p["0_addstep"]}, xs)
    np.testing.assert_array_equal(out, xs + (np.arange(1.0, 9.0) / 8).reshape(8, 1, 1))


def test_neuron_input_checks():
    with pytest.raises(SpynqValueError, match="wants"):
        nn.Sequential(nn.LIF()).apply({"0_lif": nn.LIF().init(None)}, np.zeros((2, 1, 3, 4)))
    n = nn.DALIF(alpha=nn.Param(value=0.5, per="channel"), channels=4)
    with pytest.raises(SpynqValueError, match="channels"):
        nn.Sequential(n).apply({n.name or "0_dalif": n.init(None)}, np.zeros((2, 1, 3)))


def test_step_api_streams_one_step_at_a_time():
    net = nn.Sequential(nn.Linear(6, 5), nn.LIF(), nn.Linear(5, 2), nn.AIA(f="identity"))
    p = drive(net.init(1))
    xs = rng(9).random((7, 2, 6)) < 0.5
    xs = xs.astype(float)
    whole, _ = net.apply(p, xs)
    state, ctx = net.reset_state(), nn.Ctx()
    ys = []
    for t in range(7):
        y, state = net.step(p, state, xs[t], ctx)
        ys.append(y)
    np.testing.assert_array_equal(np.stack(ys), whole)
    again, _ = net.apply(p, xs)  # a new call starts from the reset state
    np.testing.assert_array_equal(again, whole)


def test_batchnorm_fold_equals_unfolded_eval():
    net = conv_net()
    p = conv_params(net)
    index = [l.index for l in net.layers]
    folded, fp = nn.fold_batchnorm(net, p)
    assert [l.index for l in net.layers] == index  # net untouched (dropout masks key on the index)
    assert len(folded.layers) == len(net.layers) - 2
    assert not any(isinstance(l, nn.BatchNorm) for l in folded.layers)
    xs = (rng(10).random((6, 2, 2, 8, 8)) < 0.4).astype(float)
    a, aux_a = net.apply(p, xs)
    b, aux_b = folded.apply(fp, xs)
    for k in aux_a.records:
        np.testing.assert_array_equal(aux_a.records[k]["s"], aux_b.records[k]["s"])
        np.testing.assert_allclose(aux_a.records[k]["h"], aux_b.records[k]["h"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # linear + BN1d too
    lin = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm(3))
    lp = conv_params(lin)
    f2, fp2 = nn.fold_batchnorm(lin, lp)
    x = rng(11).normal(size=(2, 5, 4))
    np.testing.assert_allclose(lin.apply(lp, x)[0], f2.apply(fp2, x)[0], rtol=1e-12, atol=1e-12)


def test_run_returns_lifresult_fields():
    net = nn.Sequential(nn.Linear(16, 12), nn.LIF(), nn.Linear(12, 4), nn.PLIF())
    p = drive(net.init(0), 4.0)
    rasters = rng(12).random((5, 9, 16)) < 0.3  # (batch, T, n) like spynq.lif
    res = net.run(rasters, p)
    assert isinstance(res, LifResult) and res.backend == "cpu"
    assert [s.shape for s in res.spikes] == [(5, 9, 12), (5, 9, 4)]
    assert res.info["layers"] == ["1_lif", "3_plif"] and res.info["ran_on"] == ["cpu", "cpu"]
    out, aux = net.apply(p, np.swapaxes(rasters, 0, 1).astype(float))
    for l, name in enumerate(res.info["layers"]):
        r = aux.records[name]
        np.testing.assert_array_equal(res.spikes[l], np.swapaxes(r["s"], 0, 1) == 1)
        np.testing.assert_array_equal(res.counts[l], r["s"].sum(0))
        np.testing.assert_array_equal(res.v_last[l], r["v"][-1])
        np.testing.assert_array_equal(res.v_max[l], r["h"].max(0))
    assert res.counts[-1].sum() > 0
    assert res.predict().shape == (5,)
    with pytest.raises(SpynqValueError, match="choose one of"):
        net.run(rasters, p, backend="gpu")
    for bad in (rasters[0], rasters[:, :0], np.full((5, 9, 16), np.nan)):
        with pytest.raises(SpynqValueError):
            net.run(bad, p)


def test_trainable_mask():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm(4), nn.DALIF(), nn.Linear(4, 2), nn.BIDL(),
                        nn.LIF(tau=nn.Param(value=2.0)))
    m = net.trainable(net.init(0))
    assert m["0_linear"] == {"w": True, "b": True}
    assert m["1_batchnorm"] == {"gamma": True, "beta": True, "mean": False, "var": False}
    assert m["2_dalif"] == {"v_th": False, "alpha": True, "beta": True}
    assert m["4_bidl"] == {"v_th": False, "alpha": False, "beta": False}
    assert m["5_lif"] == {"v_th": False, "tau": True}


def test_container_rejects_bad_layouts():
    with pytest.raises(SpynqValueError):
        nn.Sequential(nn.Linear(2, 2), nn.TemporalAggregate(), nn.LIF())
    with pytest.raises(SpynqValueError):
        nn.Sequential(nn.Linear(2, 2, name="a"), nn.Linear(2, 2, name="a"))
    with pytest.raises(SpynqValueError):
        nn.LIF(reset="zero")


# ---- numpy forward == JAX forward --------------------------------------------------------

NEURONS = {
    "lif": lambda: nn.LIF(tau=2.5),
    "lif_nodecay_soft": lambda: nn.LIF(tau=2.0, decay_input=False, reset="soft"),
    "plif": lambda: nn.PLIF(),
    "dalif": lambda: nn.DALIF(),
    "aia_grad": lambda: nn.AIA(),
    "aia_quadratic": lambda: nn.AIA(f="quadratic"),
    "aia_cached": lambda: nn.AIA(f="cached"),
    "bidl_soft": lambda: nn.BIDL(reset="soft", learn=True),
    "liaf": lambda: nn.LIAF(),
    "lnm": lambda: nn.LNM(v_clip=4.0),
}


@pytest.fixture
def jnp(x64):
    import jax.numpy as jnp

    return jnp


def assert_same(a_np, a_jax, spikes=False):
    b = np.asarray(a_jax)
    assert b.dtype == np.float64
    if spikes:
        np.testing.assert_array_equal(a_np, b)
    else:
        np.testing.assert_allclose(a_np, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(NEURONS))
def test_numpy_forward_equals_jax_forward_fc(kind, jnp):
    net = nn.Sequential(nn.Linear(10, 8), NEURONS[kind](), nn.Linear(8, 4), NEURONS[kind]())
    p = drive(net.init(4), 8.0)
    xs = (rng(13).random((10, 3, 10)) < 0.4).astype(float)
    a, aux_a = net.apply(p, xs)
    b, aux_b = net.apply(p, jnp.asarray(xs), xp=jnp)
    assert_same(a, b, spikes=net.layers[-1].output == "spike")
    for k in aux_a.records:
        assert aux_a.records[k]["s"].sum() > 0, k
        assert_same(aux_a.records[k]["s"], aux_b.records[k]["s"], spikes=True)
        assert_same(aux_a.records[k]["h"], aux_b.records[k]["h"])
        assert_same(aux_a.records[k]["v"], aux_b.records[k]["v"])


@pytest.mark.parametrize("train", [False, True])
def test_numpy_forward_equals_jax_forward_conv(train, jnp):
    # every synaptic layer: conv (im2col vs lax.conv), BN (train / eval), pools, dropout,
    # flatten, linear, aggregation
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, 1, 1), nn.BatchNorm(4), nn.PLIF(), nn.AvgPool2d(2),
        nn.Conv2d(4, 6, 3, 1, 1), nn.BatchNorm(6), nn.LIF(), nn.MaxPool2d(2), nn.Dropout(0.2),
        nn.Conv2d(6, 6, 3, 2, 1), nn.DALIF(), nn.GlobalAvgPool(), nn.Linear(6, 5), nn.LIAF(),
        nn.TemporalAggregate("sum"), nn.Linear(5, 3))
    p = conv_params(net, 2, gain=8.0)
    xs = (rng(14).random((6, 2, 2, 12, 12)) < 0.4).astype(float)
    a, aux_a = net.apply(p, xs, train=train, seed=3)
    b, aux_b = net.apply(p, jnp.asarray(xs), xp=jnp, train=train, seed=3)
    assert_same(a, b)
    for k in aux_a.records:
        assert aux_a.records[k]["s"].sum() > 0, k
        assert_same(aux_a.records[k]["s"], aux_b.records[k]["s"], spikes=True)
        assert_same(aux_a.records[k]["h"], aux_b.records[k]["h"])
    if train:
        for k in aux_a.updates:
            for f in ("mean", "var"):
                assert_same(aux_a.updates[k][f], aux_b.updates[k][f])


@pytest.mark.parametrize("k,stride,pad", [(3, 1, 1), (3, 2, 1), (5, 1, 2)])
def test_conv_and_pools_numpy_equal_lax(k, stride, pad, jnp):
    from spynq.nn import ops

    x = rng(15).normal(size=(2, 3, 10, 9))
    w = rng(16).normal(size=(4, 3, k, k))
    np.testing.assert_allclose(ops.conv2d(x, w, stride, pad, np), np.asarray(ops.conv2d(jnp.asarray(x), jnp.asarray(w),
                               stride, pad, jnp)), rtol=1e-12, atol=1e-12)
    for f in (ops.avg_pool2d, ops.max_pool2d):
        np.testing.assert_allclose(f(x, k, stride, np), np.asarray(f(jnp.asarray(x), k, stride, jnp)), rtol=1e-13)


def test_structural_layers_numpy_equal_jax(jnp):
    x = rng(17).normal(size=(4, 2, 3, 5, 5))
    for layer in (nn.GlobalMaxPool(), nn.GlobalAvgPool(), nn.Flatten(), nn.TemporalAggregate("sum"),
                  nn.TemporalAggregate("mean"), nn.TemporalAggregate("last")):
        a = layer.seq({}, x, nn.Ctx())
        b = layer.seq({}, jnp.asarray(x), nn.Ctx(jnp))
        assert_same(a, b)


# ---- no jax needed -----------------------------------------------------------------------

def test_import_and_forward_without_jax():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "jax" or name.startswith("jax.") or name.startswith("jaxlib"):
                    raise ImportError("jax blocked for this test")
        sys.meta_path.insert(0, Block())
        import numpy as np
        from spynq import nn
        net = nn.Sequential(nn.Conv2d(1, 2, 3, 1, 1), nn.BatchNorm(2), nn.PLIF(), nn.Flatten(),
                            nn.Linear(32, 3), nn.DALIF(), nn.Dropout(0.5))
        res = net.run(np.random.default_rng(0).random((2, 4, 1, 4, 4)) < 0.5, train=True)
        assert res.backend == "cpu" and res.spikes[0].shape == (2, 4, 2, 4, 4)
        try:
            import jax
        except ImportError:
            pass
        else:
            raise SystemExit("jax was importable")
        assert not any(m == "jax" or m.startswith("jax.") for m in sys.modules)
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


BOARD_NET = """
net = nn.Sequential(nn.Conv2d(2, 4, 3, 1, 1), nn.BatchNorm(4), nn.PLIF(), nn.MaxPool2d(2), nn.Dropout(0.3),
                    nn.Flatten(), nn.Linear(64, 10), nn.DALIF(), nn.Linear(10, 6), nn.AIA(f="cached", channels=6),
                    nn.Linear(6, 5), nn.LIAF(), nn.Linear(5, 4), nn.LNM(), nn.Linear(4, 3), nn.BIDL(reset="soft"),
                    nn.TemporalAggregate("mean"))
p = net.init(0)
r = np.random.default_rng(0).random((3, 6, 2, 8, 8)) < 0.4
"""


def test_forward_on_the_board_python_stack():
    """The numpy path on the PYNQ image's stack (CPython 3.10, numpy 1.21.5): the venv that
    tests/test_board_image.py builds under build/board-image/, when it is there; the
    spikes there equal the spikes here."""
    import tempfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    pys = sorted((repo / "build" / "board-image").glob("py3.10*/bin/python"))
    if not pys:
        pytest.skip("no board-image venv (tests/test_board_image.py builds it)")
    code = "import sys, numpy as np\nfrom spynq import nn\n" + BOARD_NET + textwrap.dedent("""
        assert sys.version_info[:2] == (3, 10) and np.__version__ == "1.21.5", (sys.version, np.__version__)
        a = net.run(r, p, train=True, seed=2)
        b = net.run(r, p, style="step")
        f, fp = nn.fold_batchnorm(net, p)
        c = f.run(r, fp)
        assert all(np.array_equal(x, y) for x, y in zip(b.spikes, c.spikes))
        assert "jax" not in sys.modules
        np.save(sys.argv[1], np.concatenate([s.ravel() for s in b.spikes]))
    """)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "spikes.npy"
        res = subprocess.run([str(pys[-1]), "-c", code, str(out)], capture_output=True, text=True, timeout=300,
                             env={"PYTHONPATH": str(repo / "host"), "PATH": "/usr/bin:/bin"}, cwd=d)
        assert res.returncode == 0, res.stderr
        board = np.load(out)
    env = {"nn": nn, "np": np}
    exec(BOARD_NET, env)
    b = env["net"].run(env["r"], env["p"], style="step")
    here = np.concatenate([s.ravel() for s in b.spikes])
    assert here.sum() > 0
    np.testing.assert_array_equal(board, here)


def test_jax_is_a_training_extra_not_a_runtime_dependency():
    import tomllib
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    proj = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    assert not any(d.lower().startswith(("jax", "jaxlib")) for d in proj["dependencies"])
    assert any(d.startswith("jax") for d in proj["optional-dependencies"]["train"])
    pins = [l.split("==") for l in (repo / "requirements.txt").read_text().splitlines() if l.startswith(("jax", "numpy"))]
    pins = dict(pins)
    assert pins["numpy"] == "1.26.4" and pins["jax"] == pins["jaxlib"]
