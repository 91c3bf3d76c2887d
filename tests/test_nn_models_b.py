"""Models of issue 10 item 2 (PLIF + STCA, BIDL ConvLIF / LIAF) and issue 11 item 5 (BIDL
R-STDP, global-local co-learning): spynq.nn.attention, spynq.nn.models.{stca,bidl},
spynq.nn.rstdp."""
from __future__ import annotations

import numpy as np
import pytest

from spynq import nn
from spynq.errors import SpynqValueError
from spynq.nn import models, rstdp
from spynq.nn.attention import STCA, stca
from spynq.nn.models import bidl
from spynq.nn.models import stca as stca_model
from spynq.nn_costs import count_params


def rng(s):
    return np.random.default_rng(s)


def stca_params(C, seed=0):
    return STCA(C).init(rng(seed))


def features(T=6, B=3, C=8, H=4, W=4, seed=1):
    return rng(seed).normal(size=(T, B, C, H, W))


# ----------------------------------------------------------------------------- STCA


@pytest.mark.parametrize("C", [128, 256, 512])
def test_stca_has_3c2_parameters(C):
    assert count_params([STCA(C)]) == 3 * C * C


def test_stca_attention_is_row_stochastic_and_the_gate_in_0_1():
    xs = features()
    p = stca_params(8)
    for scale in ("one", "sqrt"):
        r = stca(p, xs, heads=4, scale=scale)
        att = r["att"]
        assert att.shape == (3, 4, 6, 6)
        assert np.all(att > 0)
        np.testing.assert_allclose(att.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
        assert r["gate"].shape == (6, 3, 8) and np.all((r["gate"] > 0) & (r["gate"] < 1))
        assert r["out"].shape == xs.shape
        np.testing.assert_array_equal(r["out"], xs * r["gate"][..., None, None])
        # R is the sum of the two global pools (Eq.5), recomputed here another way
        np.testing.assert_allclose(r["R"], xs.reshape(6, 3, 8, 16).mean(-1) + xs.reshape(6, 3, 8, 16).max(-1),
                                   rtol=1e-14)
    # the two scales differ (1/sqrt(C/heads) = 1/sqrt(2) on the scores)
    assert not np.allclose(stca(p, xs, scale="one")["att"], stca(p, xs, scale="sqrt")["att"])


def test_stca_attention_equals_the_per_head_softmax():
    xs = features(seed=3)
    p = stca_params(8, 4)
    r = stca(p, xs, heads=4)
    R = r["R"]
    for b in range(3):
        for h in range(4):
            sl = slice(2 * h, 2 * h + 2)
            q, k, v = ((R[:, b] @ p[w])[:, sl] for w in ("wq", "wk", "wv"))
            s = q @ k.T
            a = np.exp(s - s.max(1, keepdims=True))
            a /= a.sum(1, keepdims=True)
            np.testing.assert_allclose(r["att"][b, h], a, rtol=1e-12)
            np.testing.assert_allclose(r["A"][:, b, sl], a @ v, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_stca_is_exactly_equivariant_to_permuting_time(seed):
    T = 7
    xs = features(T=T, seed=10 + seed) * (1 + seed)
    p = stca_params(8, seed)
    perm = rng(20 + seed).permutation(T)
    a = stca(p, xs, scale="sqrt" if seed % 2 else "one")
    b = stca(p, xs[perm], scale="sqrt" if seed % 2 else "one")
    for k in ("R", "Q", "K", "V", "A", "gate", "out"):
        np.testing.assert_array_equal(b[k], a[k][perm], err_msg=k)
    np.testing.assert_array_equal(b["att"], a["att"][:, :, perm][:, :, :, perm])
    # [T, B, C] inputs (after a linear layer) too
    x3 = xs[..., 0, 0]
    np.testing.assert_array_equal(stca(p, x3[perm])["out"], stca(p, x3)["out"][perm])


def test_stca_limits():
    xs = features(seed=5)
    p = stca_params(8, 5)
    z = np.zeros((8, 8))
    r = stca(dict(p, wv=z), xs)  # W_V = 0: A = 0, pure pooled gating
    np.testing.assert_array_equal(r["A"], 0.0)
    np.testing.assert_array_equal(r["gate"], 1.0 / (1.0 + np.exp(-r["R"])))
    r = stca(dict(p, wq=z), xs)  # W_Q = 0: uniform attention, a_i = mean_j(r_j) W_V
    np.testing.assert_array_equal(r["att"], 1.0 / xs.shape[0])
    np.testing.assert_allclose(r["A"], np.broadcast_to((r["R"] @ p["wv"]).mean(0), r["A"].shape), rtol=1e-12)
    const = np.broadcast_to(xs[:1], xs.shape).copy()  # a time-constant input: a time-constant gate
    g = stca(p, const)["gate"]
    np.testing.assert_array_equal(g, np.broadcast_to(g[:1], g.shape))


def test_stca_layer_needs_the_time_axis():
    net = stca_model.build(channels=8, hidden=16, vote=2)
    p = net.init(0)
    xs = (rng(0).random((4, 2, 1, 8, 8)) < 0.4).astype(float)
    net.apply(p, xs)
    with pytest.raises(SpynqValueError, match="all T steps"):
        net.apply(p, xs, style="step")
    with pytest.raises(SpynqValueError, match="heads"):
        STCA(6, heads=4)


def test_stca_builder_placement():
    kinds = lambda net: [type(l).__name__ for l in net.layers[:12]]
    pre, post = stca_model.build(), stca_model.build(placement="post")
    assert kinds(pre)[5:8] == ["BatchNorm", "STCA", "PLIF"]     # Eq.4-12: Conv-BN-STCA-PLIF
    assert kinds(post)[5:8] == ["BatchNorm", "PLIF", "STCA"]    # Table 2's order
    assert not any(isinstance(l, STCA) for l in stca_model.build(attention=False).layers)
    assert all(isinstance(l, nn.PLIF) and l.specs["w"].learn and l.surrogate == nn.ATan(2.0)
               for l in pre.neuron_layers)
    out, _ = pre.apply(pre.init(0), (rng(1).random((5, 3, 1, 8, 8)) < 0.5).astype(float))
    assert out.shape == (3, 10)


def test_stca_paper_networks_count_as_the_note_derives():
    # note 7.5: conv + BN + FC + STCA (3 C^2 each), PLIF's a excluded; the N-MNIST FC
    # (17 M weights) is the slow part of the count, so only the smaller two here
    def total(net):
        from spynq.nn_costs import learnable_params

        r = rng(0)
        return sum(learnable_params(l, l.init(r)) for l in net.layers if not isinstance(l, nn.Neuron))

    assert total(stca_model.paper("cifar10dvs")) == 10_251_786
    assert total(stca_model.paper("cifar10dvs", attention=False)) == 9_268_746
    assert total(stca_model.paper("caltech")) == 7_356_928


# ----------------------------------------------------------------------------- BIDL


def test_bidl_without_norm_is_the_plain_procedure():
    xs = rng(2).uniform(-0.3, 1.2, size=(9, 3, 12))
    a = bidl.BIDLNorm(0.6, 0.05, v_th=0.5, norm=False, channels=12)
    b = nn.BIDL(0.6, 0.05, v_th=0.5)
    na, nb = nn.Sequential(a), nn.Sequential(b)
    ra = na.apply(na.init(0), xs)[1]
    rb = nb.apply(nb.init(0), xs)[1]
    for f in ("s", "h", "v"):
        np.testing.assert_array_equal(ra.records["0_bidlnorm"][f], rb.records["0_bidl"][f])


def _manual_bn_lif(xs, p, alpha, beta, vth, train, eps=1e-5, m=0.1):
    """Reference loop: V_m = BN(V + I), fire (>=), hard reset to 0, leak; running stats
    chained once per step in train mode."""
    V = np.zeros(xs.shape[1:])
    mean_r, var_r = p["bn_mean"].copy(), p["bn_var"].copy()
    S = []
    for t in range(xs.shape[0]):
        h = V + xs[t]
        if train:
            mu = h.mean(axis=(0, 2, 3))
            var = ((h - mu[None, :, None, None]) ** 2).mean(axis=(0, 2, 3))
            n = h.size // h.shape[1]
            mean_r, var_r = (1 - m) * mean_r + m * mu, (1 - m) * var_r + m * var * n / (n - 1)
        else:
            mu, var = p["bn_mean"], p["bn_var"]
        inv = p["bn_gamma"] / np.sqrt(var + eps)
        h = (h - mu[None, :, None, None]) * inv[None, :, None, None] + p["bn_beta"][None, :, None, None]
        s = (h - vth >= 0).astype(float)
        V = alpha * (h * (1 - s)) + beta
        S.append(s)
    return np.stack(S), mean_r, var_r


@pytest.mark.parametrize("train", [False, True])
def test_bidl_membrane_bn_follows_the_reference_order(train):
    C = 3
    layer = bidl.BIDLNorm(0.5, 0.0, v_th=0.5, channels=C)
    net = nn.Sequential(layer)
    p = net.init(0)
    q = p[layer.name]
    q.update(bn_gamma=np.array([1.0, 0.5, 2.0]), bn_beta=np.array([0.1, 0.0, -0.2]),
             bn_mean=np.array([0.2, -0.1, 0.0]), bn_var=np.array([0.5, 1.0, 2.0]))
    xs = rng(3).normal(0.3, 1.0, size=(6, 4, C, 3, 3))
    out, aux = net.apply(p, xs, train=train)
    s, mean_r, var_r = _manual_bn_lif(xs, q, 0.5, 0.0, 0.5, train)
    assert 0 < s.mean() < 1
    np.testing.assert_array_equal(aux.records[layer.name]["s"], s)  # the same operations in the same order
    if train:
        np.testing.assert_allclose(aux.updates[layer.name]["bn_mean"], mean_r, rtol=1e-12)
        np.testing.assert_allclose(aux.updates[layer.name]["bn_var"], var_r, rtol=1e-12)
    else:
        assert aux.updates == {}


def test_bidl_training_noise_only_in_train_mode():
    C = 4
    net = nn.Sequential(bidl.BIDLNorm(channels=C, noise=0.1), nn.TemporalAggregate("sum"))
    quiet = nn.Sequential(bidl.BIDLNorm(channels=C), nn.TemporalAggregate("sum"))
    p = net.init(0)
    xs = rng(4).normal(0.2, 1.0, size=(8, 5, C, 4, 4))
    np.testing.assert_array_equal(net.apply(p, xs)[0], quiet.apply(p, xs)[0])  # eval: no noise
    a = net.apply(p, xs, train=True, seed=1)[1].records["0_bidlnorm"]["h"]
    b = quiet.apply(p, xs, train=True, seed=1)[1].records["0_bidlnorm"]["h"]
    d = a - b
    assert np.all(d != 0)
    # the noise is N(0, 1) * 0.1 * std(V_m) per sample and channel: its spread is ~0.1 std
    ratio = d[0].std(axis=(2, 3)) / b[0].std(axis=(2, 3))
    assert 0.03 < ratio.mean() < 0.3
    np.testing.assert_array_equal(net.apply(p, xs, train=True, seed=1)[0], net.apply(p, xs, train=True, seed=1)[0])


@pytest.mark.parametrize("kind", ["convlif", "liaf"])
def test_bidl_builders(kind):
    net = bidl.build(kind, population=3) if kind == "convlif" else bidl.build(kind)
    p = net.init(0)
    xs = (rng(5).random((6, 4, 1, 8, 8)) < 0.4).astype(float)
    out, aux = net.apply(p, xs, train=True)
    assert out.shape == (4, 10)
    ev, aev = net.apply(p, xs)
    st, ast = net.apply(p, xs, style="step")  # IIM == EIM (eval mode: BN statistics fixed)
    np.testing.assert_array_equal(ev, st)
    y = aev.records[net.neuron_layers[0].name]["s"] if kind == "convlif" else net.layers[1].seq(
        p[net.layers[1].name], net.layers[0].seq(p[net.layers[0].name], xs, nn.Ctx()), nn.Ctx())
    if kind == "liaf":  # analog ReLU(V_m) output (memb_mode (0, relu))
        assert np.all(y >= 0) and not np.all((y == 0) | (y == 1))
        assert isinstance(net.layers[-2], nn.Linear)
    else:
        assert np.all((y == 0) | (y == 1))
        assert net.layers[-4].n_out == 30 and isinstance(net.layers[-2], stca_model.Voting)
    assert set(aux.updates) == {l.name for l in net.neuron_layers}
    # CSM with every channel's value equal reproduces ASM
    csm = bidl.build(kind, share="csm")
    pc = csm.init(0)
    pa = bidl.build(kind).init(0)
    for l in csm.layers:
        for k in ("alpha", "beta", "v_th"):
            if k in pc[l.name]:
                pc[l.name][k] = np.full_like(pc[l.name][k], pa[l.name][k])
    np.testing.assert_array_equal(csm.apply(pc, xs)[0], bidl.build(kind).apply(pa, xs)[0])


def test_models_registered():
    for name, paper in (("stca", "stca"), ("bidl_convlif", "bidl"), ("bidl_liaf", "bidl")):
        m = models.get(name)
        assert m.PAPER == paper and m.TASK == "digits_rate" and m.DEFAULTS["image"]
        net = m.build()
        assert net.apply(net.init(0), np.zeros((2, 1, 1, 8, 8)))[0].shape == (1, 10)
    assert any(isinstance(l, nn.LIAF) for l in models.get("bidl_liaf").build().layers)
    assert not any(isinstance(l, nn.LIAF) for l in models.get("bidl_convlif").build().layers)


# ----------------------------------------------------------------------------- numpy == jax


def test_numpy_forward_equals_jax_forward(x64):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    xs = features(seed=8)
    p = stca_params(8, 8)
    a = stca(p, xs)
    b = stca({k: jnp.asarray(v) for k, v in p.items()}, jnp.asarray(xs), xp=jnp)
    for k in ("att", "gate", "out"):
        np.testing.assert_allclose(np.asarray(b[k]), a[k], rtol=1e-12, atol=1e-14)
    # (eager JAX compiles every primitive on first use: one mode per network keeps this short;
    # train mode covers the batch statistics, eval mode the running ones)
    x5 = (rng(9).random((3, 3, 1, 8, 8)) < 0.4).astype(float)
    for net, modes in ((stca_model.build(), (True,)), (bidl.build("convlif"), (True,)), (bidl.build("liaf"), (False,))):
        p = net.init(1)
        for train in modes:
            o1, a1 = net.apply(p, x5, train=train)
            o2, a2 = net.apply(p, jnp.asarray(x5), xp=jnp, train=train)
            np.testing.assert_allclose(np.asarray(o2), o1, rtol=1e-10, atol=1e-12)
            for k in a1.records:
                assert np.mean(np.asarray(a2.records[k]["s"]) != a1.records[k]["s"]) == 0.0, k


# ----------------------------------------------------------------------------- R-STDP


def test_rstdp_traces_and_windows():
    rule = rstdp.RSTDP(classes=1, population=2, theta=0.95, eta=1.0)
    tr = rule.init_traces(3)
    z_in, z_out = np.zeros((1, 3)), np.zeros((1, 2))
    t0, t1 = 2, 6
    ltp = None
    for t in range(10):
        s_in = z_in.copy()
        s_out = z_out.copy()
        if t == t0:
            s_in[0, 1] = 1.0
        if t == t1:
            s_out[0, 0] = 1.0
        tr = rule.traces(tr, s_in, s_out)
        dw = rule.stdp(tr, s_in, s_out)
        if t0 <= t < t1:  # an isolated pre spike: the trace decays, no change
            assert tr[0][0, 1] == pytest.approx(rule.eta * rule.theta ** (t - t0), rel=1e-14)
            np.testing.assert_array_equal(dw, 0.0)
        if t == t1:
            ltp = dw
    want = np.zeros((3, 2))
    want[1, 0] = rule.theta ** (t1 - t0)  # LTP on that synapse only (the post trace has no pre partner)
    np.testing.assert_allclose(ltp, want, rtol=1e-14, atol=0)


def test_rstdp_reward_flips_ltp_for_the_wrong_class():
    rule = rstdp.RSTDP(classes=2, population=2, lr=1.0)
    s_out = np.array([[1.0, 0.0, 1.0, 0.0]])  # one neuron of each class fires
    tr = (np.array([[0.5, 0.0]]), s_out.copy())  # after an earlier spike of input 0 (trace 0.5)
    r = rule.reward(s_out, [0])
    np.testing.assert_array_equal(r, [[0.5, 0.5, -0.5, -0.5]])  # L - O per class, O = 1/2
    d = rule.delta(tr, np.zeros((1, 2)), s_out, [0])
    assert d[0, 0] > 0 and d[0, 2] < 0 and d[0, 2] == -d[0, 0]  # LTP for class 0, LTD for class 1
    np.testing.assert_array_equal(d[1], 0.0)


def _toy_net(pop=5, seed=1):
    net = nn.Sequential(nn.Linear(30, 3 * pop, bias=False), nn.BIDL(alpha=0.5, v_th=0.5), stca_model.Voting(pop),
                        nn.TemporalAggregate("mean"))
    p = net.init(seed)
    p["0_linear"]["w"] = rng(2).uniform(0, 0.3, (3 * pop, 30))
    return net, p


def test_rstdp_phase_moves_weights_in_the_rewarded_direction():
    task = rstdp.poisson_task(n_train=60, n_test=0)
    net, p = _toy_net()
    xs = np.swapaxes(task.x_train, 0, 1)
    rule = rstdp.RSTDP(classes=3, population=5, a_minus=0.1)  # the reference code's LTD/LTP ratio
    c0, o0 = rstdp.class_rates(net, p, xs, task.y_train, 5, 3)
    q, st = rstdp.local_phase(net, p, xs, task.y_train, rule)
    c1, o1 = rstdp.class_rates(net, q, xs, task.y_train, 5, 3)
    assert c1 - o1 > c0 - o0 + 0.3  # the correct population now fires far more than the others
    dw = (q["0_linear"]["w"] - p["0_linear"]["w"]).reshape(3, 5, 3, 10).mean(axis=(1, 3))  # [class out, class in]
    assert np.all(np.diag(dw) > dw[~np.eye(3, dtype=bool)].max())  # own-class inputs gain most
    assert np.all(dw[~np.eye(3, dtype=bool)] < 0)
    # the paper's equal LTP / LTD rates (a_minus = 1): both populations are depressed alike
    # (a silent correct neuron gets r = 1 on the LTD term alone; rstdp's docstring)
    q, _ = rstdp.local_phase(net, p, xs, task.y_train, rstdp.RSTDP(classes=3, population=5))
    c2, o2 = rstdp.class_rates(net, q, xs, task.y_train, 5, 3)
    assert c2 < c0 and o2 < o0 and abs((c2 - o2) - (c0 - o0)) < 0.05
    with pytest.raises(SpynqValueError, match="outputs"):
        rstdp.local_phase(net, p, xs, task.y_train, rstdp.RSTDP(classes=3, population=4))


def test_co_learning_alternates_and_improves_a_tiny_task():
    pytest.importorskip("jax")
    task = rstdp.poisson_task(n_train=192, n_test=90, seed=3, hi=0.3, lo=0.1)
    net = nn.Sequential(nn.Linear(30, 16), nn.BIDL(alpha=0.5, v_th=0.5), nn.Linear(16, 15, bias=False),
                        nn.BIDL(alpha=0.5, v_th=0.5), stca_model.Voting(5), nn.TemporalAggregate("mean"))
    p = net.init(4)
    rule = rstdp.RSTDP(classes=3, population=5, a_minus=0.1)
    res = rstdp.co_learn(net, p, task, rule, rounds=2, bptt_epochs=3, lr=1e-2, batch=32, loss="mse", log=None)
    phases = [r["phase"] for r in res["curve"]]
    assert phases == ["start", "bptt 1", "r-stdp 1", "bptt 2", "r-stdp 2"]
    acc = [r["test"] for r in res["curve"]]
    assert acc[0] < 0.7 and acc[-1] >= 0.9  # from 60 % (random weights) to 100 % here
    assert acc[2] >= acc[1] - 0.05  # the local phase keeps what BPTT learned (here it adds 3 points)
    assert not np.array_equal(res["params"]["2_linear"]["w"], p["2_linear"]["w"])
