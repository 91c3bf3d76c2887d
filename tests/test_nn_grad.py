"""spynq.nn gradients (JAX, float64): the surrogate custom_vjp, BPTT through every neuron
type against central finite differences of the numpy forward (surrogates with
smooth=True make the network differentiable: forward = the surrogate's primitive), and
the gradient identities of the papers (AIA R1, DA-LIF at T = 1, detached reset)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spynq import nn
from spynq.nn import ops

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

pytestmark = pytest.mark.usefixtures("x64")  # float64 for the whole module

SMOOTH = nn.Sigmoid(alpha=4.0, smooth=True)
SURROGATES = [nn.Rectangular(1.0), nn.ATan(2.0), nn.Sigmoid(4.0), nn.DynamicTanh(3.0)]


def rng(seed):
    return np.random.default_rng([7, seed])


# ---- surrogates --------------------------------------------------------------------------

@pytest.mark.parametrize("sg", SURROGATES, ids=lambda s: type(s).__name__)
def test_spike_forward_is_heaviside_backward_is_the_surrogate(sg):
    x = np.concatenate([rng(1).normal(0, 1.0, 50), [0.0, -0.0, 0.4999, 0.5, -0.5]])
    g = rng(2).normal(size=x.shape)
    y, vjp = jax.vjp(lambda v: ops.spike(v, sg, jnp), jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(y), (x >= 0).astype(float))
    np.testing.assert_array_equal(np.asarray(ops.spike(jnp.asarray(x), sg, jnp, strict=True)), (x > 0).astype(float))
    np.testing.assert_array_equal(ops.spike(x, sg, np), (x >= 0).astype(float))
    np.testing.assert_allclose(np.asarray(vjp(jnp.asarray(g))[0]), g * sg.grad(x, np), rtol=1e-13, atol=1e-14)
    # grad is the derivative of primitive (what smooth=True runs forward)
    xs = np.linspace(-2, 2, 41) + 0.013
    fd = (sg.primitive(xs + 1e-6, np) - sg.primitive(xs - 1e-6, np)) / 2e-6
    np.testing.assert_allclose(fd, sg.grad(xs, np), rtol=1e-6, atol=1e-8)


def test_surrogate_shapes():
    r = nn.Rectangular(1.0)
    assert r.grad(np.array([-0.49, 0.0, 0.49]), np).tolist() == [1.0, 1.0, 1.0]
    assert r.grad(np.array([-0.5, 0.5, 0.7]), np).tolist() == [0.0, 0.0, 0.0]  # strict |x| < a/2
    assert nn.Rectangular(2.0).grad(np.array([0.9]), np).tolist() == [0.5]
    a = nn.ATan(2.0)
    assert a.grad(np.array(0.0), np) == pytest.approx(1.0)  # alpha / 2
    from scipy.integrate import quad

    assert quad(lambda v: a.grad(np.array(v), np), -np.inf, np.inf)[0] == pytest.approx(1.0, abs=1e-8)
    s = nn.Sigmoid(4.0)
    assert s.grad(np.array(0.0), np) == pytest.approx(1.0)  # alpha / 4
    d = nn.DynamicTanh(6.0)
    assert d.grad(np.array(0.0), np) == pytest.approx(3.0)  # K / 2
    assert d.primitive(np.array(0.0), np) == 0.5
    big = nn.DynamicTanh(1e4).primitive(np.array([-0.01, 0.01]), np)
    np.testing.assert_allclose(big, [0.0, 1.0], atol=1e-12)  # tends to the Heaviside


def test_dynamic_k_schedule():
    assert nn.k_schedule(0, 100, 1.0, 10.0) == 1.0
    assert nn.k_schedule(100, 100, 1.0, 10.0) == pytest.approx(10.0, abs=1e-12)
    assert round(nn.k_schedule(99, 100, 1.0, 10.0), 4) == 9.7724
    ks = [nn.k_schedule(i, 50, 2.0, 20.0) for i in range(50)]
    assert all(b > a for a, b in zip(ks, ks[1:]))
    assert nn.DynamicTanh.at_epoch(99, 100, 1.0, 10.0).k == nn.k_schedule(99, 100, 1.0, 10.0)


# ---- BPTT against finite differences -----------------------------------------------------

def P(value, **kw):
    return nn.Param(value=value, **kw)


GRAD_NEURONS = {
    "lif": lambda c: nn.LIF(tau=P(2.5), v_th=P(1.0), surrogate=SMOOTH),
    "lif_soft_nodecay": lambda c: nn.LIF(tau=P(2.0), decay_input=False, reset="soft", v_th=P(0.8),
                                         surrogate=SMOOTH),
    "lif_no_reset": lambda c: nn.LIF(tau=P(3.0), reset="none", surrogate=SMOOTH),
    "plif": lambda c: nn.PLIF(v_th=P(1.0), surrogate=SMOOTH),
    "plif_channel": lambda c: nn.PLIF(w=P(0.4, fn="sigmoid", per="channel"), channels=c, v_reset=-0.2,
                                      surrogate=SMOOTH),
    "dalif": lambda c: nn.DALIF(surrogate=SMOOTH),
    "dalif_channel": lambda c: nn.DALIF(alpha=P(0.6, fn="sigmoid", per="channel"),
                                        beta=P(0.3, fn="clip", per="channel"), channels=c, surrogate=SMOOTH),
    "aia_identity": lambda c: nn.AIA(lam=P(0.5), f="identity", surrogate=SMOOTH),
    "aia_quadratic": lambda c: nn.AIA(lam=P(0.4), f="quadratic", surrogate=SMOOTH),
    "aia_cached": lambda c: nn.AIA(f="cached", channels=c, surrogate=SMOOTH),
    "bidl_hard": lambda c: nn.BIDL(learn=True, v_reset=0.1, surrogate=SMOOTH),
    "bidl_soft_channel": lambda c: nn.BIDL(alpha=P(0.5, per="channel"), beta=P(0.02, per="channel"),
                                           v_th=P(0.5, per="channel"), reset="soft", channels=c,
                                           surrogate=SMOOTH),
    "liaf_tanh": lambda c: nn.LIAF(learn=True, act="tanh", surrogate=SMOOTH),
    "liaf_sigmoid_v": lambda c: nn.LIAF(learn=True, act="sigmoid", tap="v", surrogate=SMOOTH),
    "lnm": lambda c: nn.LNM(coeffs=(0.05, -0.4, 0.1), surrogate=SMOOTH),
}


def learnable(net, params):
    """(layer, name) of every leaf that gets a gradient."""
    mask = net.trainable(params)
    return [(l, k) for l in mask for k, on in mask[l].items() if on]


def fd_check(net, params, xs, loss_w, train=False, n_coords=4, seed=0, rtol=2e-5, atol=1e-8, jit=False):
    """jax.grad of sum(output * loss_w) vs central differences of the numpy forward at a
    few coordinates of every learnable leaf; returns the number of coordinates checked."""
    def loss_np(p):
        return float(np.sum(net.apply(p, xs, train=train, seed=seed)[0] * loss_w))

    def loss_jax(p):
        return jnp.sum(net.apply(p, jnp.asarray(xs), xp=jnp, train=train, seed=seed)[0] * loss_w)

    g = (jax.jit(jax.grad(loss_jax)) if jit else jax.grad(loss_jax))(params)
    r = rng(99)
    checked = 0
    for name, k in learnable(net, params):
        leaf = np.asarray(params[name][k])
        idx = [()] if leaf.ndim == 0 else [tuple(r.integers(0, s) for s in leaf.shape) for _ in range(n_coords)]
        for i in idx:
            eps = 1e-6
            hi = {a: dict(b) for a, b in params.items()}
            lo = {a: dict(b) for a, b in params.items()}
            hi[name][k] = leaf.copy()
            lo[name][k] = leaf.copy()
            if leaf.ndim == 0:
                hi[name][k] = np.array(leaf + eps)
                lo[name][k] = np.array(leaf - eps)
            else:
                hi[name][k][i] += eps
                lo[name][k][i] -= eps
            fd = (loss_np(hi) - loss_np(lo)) / (2 * eps)
            got = float(np.asarray(g[name][k])[i])
            assert got == pytest.approx(fd, rel=rtol, abs=atol), (name, k, i, got, fd)
            checked += 1
    # leaves that must not learn get exactly zero
    for l in net.layers:
        if isinstance(l, nn.Neuron):
            for k, spec in l.specs.items():
                if not spec.learn:
                    assert float(np.abs(np.asarray(g[l.name][k])).sum()) == 0.0
    return checked, g


@pytest.mark.parametrize("kind", sorted(GRAD_NEURONS))
def test_bptt_matches_finite_differences(kind):
    make = GRAD_NEURONS[kind]
    net = nn.Sequential(nn.Linear(4, 5), make(5), nn.Linear(5, 3), make(3))
    p = net.init(1)
    for q in (p["0_linear"], p["2_linear"]):
        q["w"] = q["w"] * 2.5
    xs = rng(3).random((6, 2, 4)) * 1.5
    w = rng(4).normal(size=(6, 2, 3))
    n, g = fd_check(net, p, xs, w)
    assert n >= 4 * 4 + 2
    neuron_grads = [np.abs(np.asarray(g["1_" + type(net.layers[1]).__name__.lower()][k])).sum()
                    for k, s in net.layers[1].specs.items() if s.learn]
    assert neuron_grads and min(neuron_grads) > 0  # the learnable neuron parameters do learn


@pytest.mark.parametrize("sg", [nn.Rectangular(1.0, smooth=True), nn.ATan(2.0, smooth=True),
                                nn.DynamicTanh(2.0, smooth=True)], ids=lambda s: type(s).__name__)
def test_bptt_with_other_surrogates(sg):
    net = nn.Sequential(nn.Linear(4, 5), nn.PLIF(surrogate=sg), nn.Linear(5, 3), nn.DALIF(surrogate=sg))
    p = net.init(2)
    p["0_linear"]["w"] = p["0_linear"]["w"] * 3
    xs = rng(5).random((5, 2, 4)) * 1.5
    fd_check(net, p, xs, rng(6).normal(size=(5, 2, 3)), rtol=1e-4, atol=1e-7)


def test_bptt_through_conv_bn_pool_dropout_aggregate():
    net = nn.Sequential(nn.Conv2d(1, 3, 3, 1, 1), nn.BatchNorm(3), nn.PLIF(surrogate=SMOOTH), nn.AvgPool2d(2),
                        nn.Conv2d(3, 2, 3, 1, 1, bias=False), nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(),
                        nn.Linear(2, 4), nn.LIAF(learn=True, act="tanh", surrogate=SMOOTH),
                        nn.TemporalAggregate("mean"), nn.Linear(4, 2))
    p = net.init(3)
    p["0_conv2d"]["w"] = p["0_conv2d"]["w"] * 3
    xs = rng(7).random((3, 2, 1, 4, 4))
    n, _ = fd_check(net, p, xs, rng(8).normal(size=(2, 2)), train=True, seed=11, n_coords=3, jit=True)
    assert n > 20


# ---- gradient identities of the papers ----------------------------------------------------

def weight_grad(neuron, xs, w0, loss_w):
    net = nn.Sequential(nn.Linear(xs.shape[-1], w0.shape[0], bias=False), neuron)
    f = lambda w: jnp.sum(net.apply({"0_linear": {"w": w}, net.layers[1].name: net.layers[1].init(None)},
                                    jnp.asarray(xs), xp=jnp)[0] * loss_w)
    return np.asarray(jax.grad(f)(jnp.asarray(w0)))


def test_aia_gradient_only_reading_scales_weight_gradients_by_x():
    # A5 at T = 1: dL/dw_ij(AIA R1) = x_i * dL/dw_ij(LIF), forward unchanged (Eq.5-7)
    xs = (rng(9).random((1, 3, 6)) < 0.6).astype(float)
    w0 = rng(10).normal(0.3, 0.6, size=(4, 6))
    lw = rng(11).normal(size=(1, 3, 4))
    g_aia = weight_grad(nn.AIA(f="grad"), xs, w0, lw)
    g_lif = weight_grad(nn.AIA(f="identity"), xs, w0, lw)
    x = xs[0] @ w0.T  # (B, out)
    want = np.einsum("bo,bi->oi", x * (lw[0] * nn.Rectangular(1.0).grad(x - 1.0, np)), xs[0])
    np.testing.assert_allclose(g_aia, want, rtol=1e-12, atol=1e-14)
    assert np.abs(g_lif).sum() > 0 and not np.allclose(g_aia, g_lif)
    np.testing.assert_allclose(g_lif, np.einsum("bo,bi->oi", lw[0] * nn.Rectangular(1.0).grad(x - 1.0, np), xs[0]),
                               rtol=1e-12, atol=1e-14)
    # A6: silent inputs give no weight gradient
    assert np.abs(weight_grad(nn.AIA(f="grad"), np.zeros_like(xs), w0, lw)).sum() == 0.0


def test_dalif_beta_has_no_gradient_at_one_step():
    # D3: H^0 = 0, so at T = 1 beta does not act; at T = 2 it does
    for T, zero in ((1, True), (2, False)):
        net = nn.Sequential(nn.Linear(3, 4), nn.DALIF())
        p = net.init(4)
        p["0_linear"]["w"] = p["0_linear"]["w"] * 4
        xs = jnp.asarray(rng(12).random((T, 5, 3)))
        g = jax.grad(lambda q: jnp.sum(net.apply(q, xs, xp=jnp)[1].records["1_dalif"]["h"] ** 2))(p)
        assert (float(g["1_dalif"]["beta"]) == 0.0) == zero
        assert float(g["1_dalif"]["alpha"]) != 0.0


def test_detach_reset_drops_the_reset_path():
    # one neuron, two steps, hard reset: dv1/dh0 = (1 - s0) - h0 s'(h0) attached,
    # (1 - s0) detached; h1 = beta v1 + alpha x1 (DA-LIF with raw alpha = beta = 1)
    sg = nn.Sigmoid(4.0)
    for detach in (False, True):
        neuron = nn.DALIF(alpha=1.0, beta=1.0, surrogate=sg, detach_reset=detach)
        net = nn.Sequential(neuron)
        p = net.init(0)

        def h1(x0):
            xs = jnp.stack([jnp.reshape(x0, (1, 1)), jnp.full((1, 1), 0.1)])
            return net.apply(p, xs, xp=jnp)[1].records["0_dalif"]["h"][1, 0, 0]

        for x0 in (0.7, 1.2):
            s0 = float(x0 >= 1.0)
            want = (1 - s0) - (0.0 if detach else x0 * float(sg.grad(np.array(x0 - 1.0), np)))
            assert float(jax.grad(h1)(x0)) == pytest.approx(want, rel=1e-12)


def test_non_learnable_parameters_get_no_gradient():
    net = nn.Sequential(nn.Linear(3, 4), nn.BIDL(alpha=0.4, learn=False, surrogate=SMOOTH))
    p = net.init(5)
    xs = jnp.asarray(rng(13).random((4, 2, 3)) * 2)
    g = jax.grad(lambda q: jnp.sum(net.apply(q, xs, xp=jnp)[0]))(p)
    assert all(float(g["1_bidl"][k]) == 0.0 for k in ("alpha", "beta", "v_th"))
    assert np.abs(np.asarray(g["0_linear"]["w"])).sum() > 0


def test_scan_equals_the_unrolled_loop():
    # Sequential.apply(scan=True): neuron layers under jax.lax.scan (training speed)
    net = nn.Sequential(nn.Linear(4, 6), nn.PLIF(surrogate=nn.ATan()), nn.Linear(6, 3),
                        nn.AIA(f="cached", channels=3), nn.TemporalAggregate("sum"))
    p = net.init(6)
    p["0_linear"]["w"] = p["0_linear"]["w"] * 4
    p["2_linear"]["w"] = p["2_linear"]["w"] * 4
    xs = jnp.asarray(rng(14).random((5, 2, 4)) < 0.5, dtype=jnp.float64)

    def f(q, scan):
        out, aux = net.apply(q, xs, xp=jnp, scan=scan)
        return jnp.sum(out ** 2), aux

    (la, aux_a), ga = jax.value_and_grad(lambda q: f(q, False), has_aux=True)(p)
    (lb, aux_b), gb = jax.value_and_grad(lambda q: f(q, True), has_aux=True)(p)
    assert float(la) == pytest.approx(float(lb), rel=1e-12)
    for k in aux_a.records:
        assert np.asarray(aux_a.records[k]["s"]).sum() > 0
        np.testing.assert_array_equal(np.asarray(aux_a.records[k]["s"]), np.asarray(aux_b.records[k]["s"]))
        np.testing.assert_allclose(np.asarray(aux_a.records[k]["v"]), np.asarray(aux_b.records[k]["v"]), rtol=1e-12,
                                   atol=1e-12)
    for k in ga:
        for kk in ga[k]:
            np.testing.assert_allclose(np.asarray(ga[k][kk]), np.asarray(gb[k][kk]), rtol=1e-10, atol=1e-12)
    assert float(np.abs(np.asarray(ga["3_aia"]["beta"])).sum()) > 0


def test_scan_passes_the_time_index():
    class Drift(nn.Neuron):  # a time-varying charge: h = v + x + c[t]
        def __init__(self, **kw):
            super().__init__(**kw)
            self.specs["c"] = nn.Param(value=0.0)

        def charge(self, q, v, x, xp, ctx):
            return v + x + xp.asarray(np.arange(6.0) / 10)[ctx.t]

    net = nn.Sequential(Drift(v_th=0.7))
    p = net.init(0)
    xs = jnp.asarray(rng(15).random((6, 2, 3)) * 0.3)
    a = net.apply(p, xs, xp=jnp)[1].records["0_drift"]["h"]
    b = net.apply(p, xs, xp=jnp, scan=True)[1].records["0_drift"]["h"]
    assert np.asarray(net.apply(p, xs, xp=jnp)[0]).sum() > 0
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-13)
