"""P3 (learnable axonal delays + local skip connections): kernels, the delay op and its
sign-corrected gradient (finite differences), numpy == jax forward, losses, Table 4
parameter counts, and a short training run where delay learning beats fixed delays."""
import functools

import numpy as np
import pytest

from spynq.learning import axonal as A

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

pytestmark = pytest.mark.usefixtures("x64")  # float64 for the whole module


def test_kernels_peak_where_the_note_says():
    eps = A.srm_kernel(5.0, 40)
    nu = A.refractory_kernel(5.0, 2.0, 10.0, 40)
    assert int(np.argmax(eps)) == 5 and eps[5] == pytest.approx(1.0, abs=1e-15)
    assert int(np.argmin(nu)) == 5 and nu[5] == pytest.approx(-20.0, abs=1e-13)
    assert eps[0] == 0.0 and nu[0] == 0.0  # causal, one step of latency
    n = A.kernel_length(5.0)
    assert A.srm_kernel(5.0, n + 1)[n] < 1e-3 <= A.srm_kernel(5.0, n)[n - 2]


def test_slayer_surrogate_primitive_is_the_integral_of_its_gradient():
    s = A.slayer_surrogate(10.0)
    x = np.linspace(-40, 40, 8001)
    d = jax.vmap(jax.grad(lambda v: s.primitive(v, jnp)))(jnp.asarray(x))
    assert np.max(np.abs(np.asarray(d) - s.grad(x, np))) < 1e-15
    assert s.primitive(np.array([-1e3]), np)[0] == pytest.approx(0.0) and s.primitive(np.array([1e3]), np)[0] == pytest.approx(2.0)


def test_delay_forward_shifts_clips_and_rounds():
    T, N = 12, 4
    s = np.zeros((T, 1, N))
    s[2, 0, :] = 1
    d = np.array([0.0, 2.6, 40.0, -3.0])  # round -> 3, clip to theta_d = 8, clip to 0
    out = A.axonal_delay(s, d, theta_d=8, rounding="round")
    assert [int(np.argmax(out[:, 0, i])) for i in range(N)] == [2, 5, 10, 2]
    out = A.axonal_delay(s, d, theta_d=8, rounding="floor")
    assert int(np.argmax(out[:, 0, 1])) == 4
    far = A.axonal_delay(s, np.full(N, 10.0), theta_d=20)  # shifted past the end: lost
    assert far.sum() == 0
    oj = A.axonal_delay(jnp.asarray(s), jnp.asarray(d), 8, "round", xp=jnp)
    assert np.array_equal(np.asarray(oj), A.axonal_delay(s, d, 8, "round"))


def _trains(seed=0, T=30, B=3, N=5):
    rng = np.random.default_rng(seed)
    return (rng.random((T, B, N)) < 0.3).astype(np.float64), rng.standard_normal((T, B, N))


def test_delay_gradient_is_the_right_derivative_of_the_interpolated_delay():
    s, g = _trains()
    d = np.array([0.0, 1.0, 3.0, 7.0, 12.0])
    @functools.partial(jax.jit, static_argnums=(1, 2))
    def f(dd, mode, sign="corrected"):
        return jnp.sum(A.axonal_delay(jnp.asarray(s), dd, 20, mode, sign, jnp) * g)

    rule = np.asarray(jax.grad(f)(jnp.asarray(d), "round"))
    # finite difference of the linearly interpolated delay, from the right (it is linear in
    # the fractional part, so the one-sided difference is exact up to rounding)
    h = 1e-3
    fd = np.array([(f(jnp.asarray(d + h * np.eye(5)[i]), "interp") - f(jnp.asarray(d), "interp")) / h for i in range(5)])
    assert np.max(np.abs(rule - fd)) < 1e-9 and np.max(np.abs(rule)) > 1.0
    paper = np.asarray(jax.grad(f)(jnp.asarray(d), "round", "paper"))
    assert np.array_equal(paper, -rule)  # eq. 12 as printed: the opposite sign


def test_delay_gradient_to_the_input_is_the_reverse_shift():
    s, g = _trains(1)
    d = jnp.asarray([0.0, 2.0, 4.0, 1.0, 9.0])
    gs = jax.grad(lambda x: jnp.sum(A.axonal_delay(x, d, 20, "round", xp=jnp) * g))(jnp.asarray(s))
    want = np.zeros_like(g)
    for i, k in enumerate([0, 2, 4, 1, 9]):
        want[: g.shape[0] - k, :, i] = g[k:, :, i]
    assert np.array_equal(np.asarray(gs), want)


def _tiny(local=True, rounding="interp", smooth=True):
    sur = A.slayer_surrogate(10.0, smooth=smooth)
    return A.AxonalSNN(n_in=6, n_out=3, hidden=(5, 4), vad=True, local=local, tau_s=2.0, tau_r=2.0, theta=10.0,
                       theta_d=10, rounding=rounding, surrogate=sur, w_scale=6.0)


def _tiny_inputs():
    rng = np.random.default_rng(3)
    return (rng.random((25, 2, 6)) < 0.25).astype(np.float64), np.array([0, 2])


@pytest.fixture(scope="module")
def interp_net():
    """The tiny smooth network with fractional delays and its compiled (loss, gradient)
    (one compile shared by the two tests below). The loss is eq. 7 alone: L_Mem holds
    the spikes fixed (eq. 13), which finite differences of the smooth forward would not."""
    net = _tiny()
    xs, ys = _tiny_inputs()
    vg = jax.jit(jax.value_and_grad(
        lambda p_: A.spike_count_loss(net.apply(p_, xs, xp=jnp, scan=True)[0], ys, 4.0, 1.0, jnp)))
    return net, xs, ys, vg


def _set(p, d0, d1):
    p = jax.tree_util.tree_map(np.array, p)
    p["vad0"]["d"], p["vad1"]["d"] = np.array(d0, float), np.array(d1, float)
    return p


def _nudge(p, layer, key, idx, h):
    q = jax.tree_util.tree_map(np.array, p)
    q[layer][key][idx] += h
    return q


def test_bptt_gradient_of_weights_and_delays_matches_finite_differences(interp_net):
    """Smooth forward (the surrogate's primitive) and fractional delays: the whole network
    is differentiable, so jax's BPTT gradient (through the local module, the refractory
    feedback and both delays) must equal central differences."""
    net, xs, ys, vg = interp_net
    p = _set(net.init(1), [0.5, 1.3, 2.7, 0.2, 4.4], [1.6, 0.4, 3.5, 2.2])
    g = vg(p)[1]
    h = 1e-6
    for layer, key, idx in [("vad0", "d", (2,)), ("vad1", "d", (0,)), ("vad1", "d", (3,)), ("fc0", "w", (1, 2)),
                            ("local1", "w", (0, 3)), ("out", "b", (1,))]:
        fd = (float(vg(_nudge(p, layer, key, idx, h))[0]) - float(vg(_nudge(p, layer, key, idx, -h))[0])) / (2 * h)
        an = float(np.asarray(g[layer][key])[idx])
        assert abs(fd - an) <= 1e-5 * max(1.0, abs(fd)), (layer, key, idx, fd, an)
    assert abs(float(np.asarray(g["vad0"]["d"])[2])) > 1e-4  # the delays do reach the loss


def test_rounded_delay_gradient_is_the_right_derivative_at_integers(interp_net):
    """At integer delays the rounded op's forward is the interpolated op's, and its
    sign-corrected backward-difference gradient is the interpolated network's right
    derivative: checked by one-sided differences through the whole (smooth) network.
    (Delays inside (0, theta_d): at a clip bound the one-sided derivative is another.)"""
    net, xs, ys, vg = interp_net
    p = _set(net.init(2), [1, 1, 3, 2, 5], [2, 6, 4, 1])
    rnd = _tiny(rounding="round")
    g = jax.jit(jax.grad(lambda p_: A.spike_count_loss(rnd.apply(p_, xs, xp=jnp, scan=True)[0], ys, 4.0, 1.0,
                                                       jnp)))(p)
    assert float(vg(p)[0]) == pytest.approx(float(A.spike_count_loss(rnd.apply(p, xs)[0], ys, 4.0, 1.0)), rel=1e-12)
    h, f0 = 1e-7, float(vg(p)[0])
    for layer, i in [("vad0", 0), ("vad0", 2), ("vad0", 4), ("vad1", 1), ("vad1", 3)]:
        right = (float(vg(_nudge(p, layer, "d", (i,), h))[0]) - f0) / h
        an = float(np.asarray(g[layer]["d"])[i])
        assert abs(right - an) <= 1e-4 * max(1.0, abs(right)), (layer, i, right, an)
    assert np.abs(np.asarray(g["vad0"]["d"])).max() > 1e-3


def test_numpy_and_jax_forwards_give_the_same_spikes():
    net = A.AxonalSNN(n_in=12, n_out=4, hidden=(16, 8), vad=True, local=True, theta_d=20, w_scale=5.0)
    p = net.init(0)
    p["vad0"]["d"] = np.random.default_rng(0).uniform(0, 15, 16)
    p["vad1"]["d"] = np.random.default_rng(1).uniform(0, 15, 8)
    xs = (np.random.default_rng(2).random((40, 3, 12)) < 0.1).astype(np.float64)
    out, rec = net.apply(p, xs)
    oj, rj = jax.jit(lambda q, x: net.apply(q, x, xp=jnp, scan=True))(p, xs)
    assert out.sum() > 0 and rec["local1"]["s"].sum() > 0
    for k in rec:
        assert np.array_equal(rec[k]["s"], np.asarray(rj[k]["s"])), k
    res = net.run(np.swapaxes(xs, 0, 1), p)
    assert np.array_equal(res.counts[-1], out.sum(axis=0).astype(int))


def test_losses():
    out = np.zeros((5, 1, 3))
    out[[0, 1, 2], 0, 1] = 1  # 3 spikes on class 1, none elsewhere
    assert A.spike_count_loss(out, np.array([1]), 4.0, 1.0) == pytest.approx(0.5 * (1 + 1 + 1))
    u = np.random.default_rng(0).normal(10, 2, out.shape)
    out[3, 0, 0] = 1
    ys = np.array([1])
    g = jax.grad(lambda uu: A.suppressed_loss(jnp.asarray(out), uu, ys, 10.0, 0.995, jnp))(jnp.asarray(u))
    mask = np.array([1.0, 0.0, 1.0])
    assert np.allclose(np.asarray(g), out * mask * (u - 9.95))  # eq. 13, only false classes at their spikes


TABLE4 = [("ntidigits", "plain128", 26251), ("ntidigits", "local128", 59275), ("ntidigits", "d128", 26507),
          ("ntidigits", "dl128", 59531), ("shd", "plain128", 108820), ("shd", "local128", 141844),
          ("shd", "d128", 109076), ("shd", "dl128", 142100), ("shd", "dl256", 210580)]


@pytest.mark.parametrize("dataset,arch,count", TABLE4)
def test_table4_parameter_counts(dataset, arch, count):
    assert A.count_params(A.build_table2(arch, dataset).init(0)) == count


def test_learning_the_delays_alone_lowers_the_loss_and_the_printed_sign_does_not():
    """Only the delays learn (weights frozen at init) on the two-event timing task: with
    the corrected gradient the spike-count loss falls and the delays grow; with eq. 12's
    printed sign it rises. (The with/without-delay-learning accuracy comparison runs in
    the ledger, claim axonal.toy_vad_gain, and `python -m spynq.learning.axonal toy`.)"""
    x, y, T = A.timing_task(96, seed=1, n_events=2, group=8, gap=(22, 26))
    data = (x, y, x[:16], y[:16])
    loss = {}
    for sign in ("corrected", "paper"):
        net = A.AxonalSNN(n_in=x.shape[2], n_out=2, hidden=(16,), vad=True, theta_d=40, delay_sign=sign)
        cfg = A.TrainConfig(epochs=3, batch=32, lr_delay=1.0, learn_weights=False, true_count=10, false_count=2)
        p, h = A.train(net, data, cfg, progress=None, measure=False)
        loss[sign] = (h[0]["loss"], h[-1]["loss"])
        assert np.array_equal(p["fc0"]["w"], net.init(0)["fc0"]["w"])  # weights untouched
        if sign == "corrected":
            assert max(d.max() for d in net.delays(p)) >= 5
    assert loss["corrected"][1] < 0.9 * loss["corrected"][0], loss
    assert loss["paper"][1] > loss["paper"][0], loss
