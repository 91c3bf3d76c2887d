"""P5 SpikeProp with learned delays (spynq.learning.spikeprop): the exact event-based
forward pass, the weight and delay gradients against finite differences, the encoders,
the decoding rule and short training runs (Iris subset, spike-time XOR)."""
import math

import numpy as np
import pytest

from spynq.learning import spikeprop as sp


def _tiny(seed=3):
    cfg = sp.Config(sizes=(4, 5, 2), dtdv="exact", vdot_min=0.0, w_gain=2.0, revive=0.0)
    rng = np.random.default_rng(seed)
    p = sp.init(cfg, seed)
    x = rng.uniform(0, 6, (3, 4))
    x[:, 0] = 0.0
    x[1, 2] = np.inf                                   # an input that does not spike
    d = np.array([[12.0, np.inf], [np.inf, 14.0], [13.0, 15.0]])
    return cfg, p, x, d


def test_v_norm_makes_the_psp_peak_one():
    for tm, ts in ((10.0, 2.5), (5.0, 2.0), (8.0, 1.0)):
        srm = sp.SRM(tau_m=tm, tau_s=ts)
        x = np.linspace(1e-4, 40, 400001)
        assert abs(srm.K(x).max() - 1.0) < 1e-9
        assert abs(x[np.argmax(srm.K(x))] - srm.x_peak) < 1e-3
    assert round(sp.SRM(10.0, 2.5).v_norm, 5) == 2.11653
    assert round(sp.SRM(5.0, 2.0).v_norm, 5) == 3.07003


def test_first_spike_is_the_first_threshold_crossing():
    """Against a brute-force scan of V on a 2 us grid: the exact time lies in the grid
    step where V first reaches theta, and V(t_spike) = theta."""
    srm = sp.SRM()
    rng = np.random.default_rng(0)
    t_in = rng.uniform(0, 8, (6, 7))
    t_in[0, :3] = np.inf
    W = rng.uniform(-0.3, 0.8, (7, 4))
    D = rng.uniform(0, 5, (7, 4))
    t, vmax, tpk = sp.layer_forward(srm, t_in, W, D)
    h = 2e-3
    grid = np.arange(0, srm.t_end, h)
    x = grid[:, None, None, None] - t_in[None, :, :, None] - D[None, None]           # [G, B, Ni, N]
    V = np.einsum("gbin,in->gbn", srm.K(x), W)
    up = V >= srm.theta
    assert up.any() and (~up.any(0)).any()                       # some fire, some stay silent
    for b, j in np.ndindex(6, 4):
        if up[:, b, j].any():
            k = np.argmax(up[:, b, j])
            assert grid[k] - h <= t[b, j] <= grid[k]
        else:
            assert t[b, j] == np.inf
        # the exact peak is at least the grid's and within one grid step's slope of it
        assert -1e-12 <= vmax[b, j] - max(V[:, b, j].max(), 0.0) < 1e-3
    fired = np.isfinite(t)
    Vt = sp.potential(srm, np.where(fired, t, 0.0), t_in, W, D)
    assert np.abs(Vt[fired] - srm.theta).max() < 1e-9


@pytest.mark.parametrize("which", ["W", "D"])
def test_gradients_match_finite_differences(which):
    """dE/dw and dE/dd (eqs. 5-15, eq. 6's dt/dV) of a 4-5-2 network with per-synapse
    delays, both layers, against central differences of the exact spike-time loss."""
    cfg, p, x, d = _tiny()
    E, dW, dD, ts = sp.gradients(cfg, p, x, d)
    assert np.isfinite(ts[2]).all() and np.isfinite(ts[1]).sum() >= 8   # all outputs fire: a smooth loss
    G = dW if which == "W" else dD
    h = 1e-6
    for l in range(2):
        num = np.zeros_like(G[l])
        for idx in np.ndindex(G[l].shape):
            q = {"W": [w.copy() for w in p["W"]], "D": [e.copy() for e in p["D"]]}
            q[which][l][idx] += h
            ep = sp.loss(cfg, q, x, d)
            q[which][l][idx] -= 2 * h
            em = sp.loss(cfg, q, x, d)
            num[idx] = (ep - em) / (2 * h)
        assert np.abs(G[l]).max() > 1.0
        np.testing.assert_allclose(G[l], num, atol=1e-5 * np.abs(num).max())


def test_eq16_is_sign_corrected():
    """With eq. 16's dt/dV (negative, corrected) a gradient step moves a late target spike
    earlier; the printed positive sign would move it later."""
    cfg = sp.Config(sizes=(4, 5, 2), dtdv="eq16", w_gain=2.0, revive=0.0)
    _, p, x, _ = _tiny()
    ts, _ = sp.forward(cfg, p, x)
    d = np.stack([ts[2][:, 0] - 1.0, ts[2][:, 1]], 1)          # output 0 one ms too late
    E, dW, dD, _ = sp.gradients(cfg, p, x, d)
    q = {"W": [w - 1e-3 * g for w, g in zip(p["W"], dW)], "D": p["D"]}
    t_new, _ = sp.forward(cfg, q, x)
    assert (t_new[2][:, 0] < ts[2][:, 0]).all()
    assert sp.loss(cfg, q, x, d) < E
    cap = math.exp(-2 * cfg.m16 ** 2 / cfg.tau16)
    assert abs(sp._dtdv(cfg, np.ones(1), np.array([cfg.srm.theta]))[0] + cap) < 1e-15
    assert round(cap, 5) == 0.92312 and round(float(-sp._dtdv(cfg, np.ones(1), np.array([1.5]))[0]), 5) == 0.60653


def test_revive_pushes_a_dead_hidden_neuron_up():
    """revive > 0 (ours): a hidden neuron silent for the whole batch gets weight increases
    toward firing; revive = 0 leaves it without gradient (SpikeProp)."""
    cfg, p, x, d = _tiny()
    ts, _ = sp.forward(cfg, p, x)
    dead = ~np.isfinite(ts[1]).any(0)
    assert dead.any()
    _, dW0, _, _ = sp.gradients(cfg, p, x, d)
    assert np.all(dW0[0][:, dead] == 0)
    _, dW1, _, _ = sp.gradients(sp.replace(cfg, revive=1.0), p, x, d)
    assert np.all(dW1[0][:, dead] <= 0) and np.any(dW1[0][:, dead] < 0)
    np.testing.assert_array_equal(dW1[0][:, ~dead], dW0[0][:, ~dead])


def test_population_and_latency_encoders():
    lo, hi = np.array([0.0, 1.0]), np.array([1.0, 3.0])
    x = np.array([[0.0, 1.0], [0.5, 2.0], [1.0, 3.0], [0.3, 2.9]])
    t = sp.population_encode(x, lo, hi, m=6, t_max=10.0, r_min=0.1)
    assert t.shape == (4, 2 * 6 + 1) and (t[:, 0] == 0).all()       # the reference neuron
    fin = t[np.isfinite(t)]
    assert fin.min() >= 0 and fin.max() <= 9.0 + 1e-12               # r >= 0.1 -> t <= 9 ms
    mu, sig = sp.gaussian_fields(lo, hi, 6)
    np.testing.assert_allclose(mu[0], [-0.125, 0.125, 0.375, 0.625, 0.875, 1.125])
    assert sig[0] == pytest.approx(1 / 6)
    # the field centred nearest to the value spikes first
    assert np.argmin(t[1, 1:7]) == np.argmin(np.abs(mu[0] - 0.5))
    assert (np.isfinite(t[:, 1:]).sum(1) < 12).all()                 # far fields stay silent
    L = sp.latency_encode(np.array([0.0, 0.25, 1.0]), t_max=10.0)
    assert L[0] == np.inf and L[1] == 7.5 and L[2] == 0.0


def test_decoding_rules():
    cfg = sp.Config(sizes=(2, 3), decode="paper")
    # hand-built output layer: neuron 1 fires alone for sample 0, nobody fires for sample 1
    W = np.array([[0.2, 2.0, 0.3], [0.2, 0.0, 0.6]])
    p = {"W": [W], "D": [np.zeros((2, 3))]}
    x = np.array([[0.0, 0.0], [np.inf, 1.0]])
    assert list(sp.predict(cfg, p, x)) == [1, 2]                      # sample 1: highest peak potential
    p2 = {"W": [np.array([[2.0, 2.0, 0.0], [0.0, 0.0, 0.0]])], "D": [np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])]}
    assert sp.predict(cfg, p2, x[:1])[0] == -1                         # two fire: no class under "paper"
    assert sp.predict(sp.Config(sizes=(2, 3), decode="first"), p2, x[:1])[0] == 0


def test_iris_trains_with_delays_quickly():
    data = sp.dataset("iris", 0)
    assert data["x_train"].shape == (75, 25) and data["x_test"].shape == (75, 25)
    # the paper's plain gradient descent and eq. 16 (the defaults), 60 of its 1,000 epochs
    cfg = sp.config("iris", epochs=60, learn_delays=True, revive=0.0)
    assert cfg.optimizer == "sgd" and cfg.dtdv == "eq16"
    p0 = sp.init(cfg, 0)
    acc0 = sp.accuracy(cfg, p0, data["x_train"], data["y_train"])
    D0 = [d.copy() for d in p0["D"]]
    out = sp.train(cfg, data, seed=0, params=p0)
    acc = sp.accuracy(cfg, out["params"], data["x_test"], data["y_test"])
    assert acc0 < 0.5 and acc > 0.85
    moved = max(np.abs(a - b).max() for a, b in zip(out["params"]["D"], D0))
    assert moved > 0.5 and min(d.min() for d in out["params"]["D"]) >= 0.0


def test_breast_cancer_split_matches_the_paper():
    data = sp.dataset("cancer", 1)
    assert len(data["y_train"]) == 285 and np.bincount(data["y_train"]).tolist() == [179, 106]
    assert len(data["y_test"]) == 569 - 285 and np.bincount(data["y_test"]).tolist() == [357 - 179, 212 - 106]


def test_xor_spike_times():
    data = sp.xor_dataset()
    cfg = sp.config("xor", epochs=300)
    out = sp.train(cfg, data, seed=1)
    assert out["history"]["loss"][-1] < 0.2 * out["history"]["loss"][0]
    assert sp.xor_correct(cfg, out["params"], data) == 4


def test_deadline_outputs_only_err_when_early():
    """nt_deadline (ours): a non-target output is wrong only if it fires before t_nt; silent
    or later costs nothing (no jump in E at the silence boundary), and the gradient with
    these errors is still the gradient of the loss (central differences)."""
    cfg, p, x, _ = _tiny()
    ts, (vmax, tpk) = sp.forward(cfg, p, x)
    t = ts[2]
    assert np.isfinite(t).all()
    # output 0 targeted 1 ms late, output 1 a deadline: 1 ms after its spike (an error), 1 ms
    # before it (none)
    d = np.stack([t[:, 0] + 1.0, np.where([True, False, True], t[:, 1] + 1.0, t[:, 1] - 1.0)], 1)
    late_ok = np.zeros_like(d, bool)
    late_ok[:, 1] = True
    g, _ = sp.errors(cfg, t, vmax, tpk, d, late_ok)
    np.testing.assert_allclose(g[:, 0], -1.0, atol=1e-12)
    np.testing.assert_allclose(g[:, 1], [-1.0, 0.0, -1.0], atol=1e-12)
    silent = np.where([[False, True]] * 3, np.inf, t)
    assert sp.errors(cfg, silent, vmax, tpk, d, late_ok)[0][:, 1].tolist() == [0.0, 0.0, 0.0]
    _, dW, _, _ = sp.gradients(cfg, p, x, d, late_ok)
    h = 1e-6
    for idx in np.ndindex(p["W"][0].shape):
        q = {"W": [w.copy() for w in p["W"]], "D": p["D"]}
        q["W"][0][idx] += h
        ep = sp.loss(cfg, q, x, d, late_ok)
        q["W"][0][idx] -= 2 * h
        num = (ep - sp.loss(cfg, q, x, d, late_ok)) / (2 * h)
        assert abs(num - dW[0][idx]) < 1e-5 * max(1.0, abs(num))


def test_sgd_is_plain_gradient_descent_and_options_are_checked():
    """The default optimiser is eqs. 5/7's p -= eta dE/dp (one step, by hand); bad names are
    rejected naming the value."""
    cfg = sp.config("iris", epochs=1, batch=75, learn_delays=True, revive=0.0)
    assert cfg.optimizer == "sgd"
    data = sp.dataset("iris", 2)
    p0 = sp.init(cfg, 2)
    desired = sp.class_targets(cfg, data["y_train"], 3)
    _, dW, dD, _ = sp.gradients(cfg, p0, data["x_train"], desired, desired != cfg.t_d)
    out = sp.train(cfg, {"x_train": data["x_train"], "y_train": data["y_train"]}, seed=2, params=sp.init(cfg, 2))
    for l in range(2):
        np.testing.assert_allclose(out["params"]["W"][l], p0["W"][l] - cfg.lr_w * dW[l] / 75, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out["params"]["D"][l], np.clip(p0["D"][l] - cfg.lr_d * dD[l] / 75, 0, cfg.d_max),
                                   rtol=0, atol=1e-12)
    from spynq.errors import SpynqValueError

    with pytest.raises(SpynqValueError, match="rmsprop"):
        sp.train(sp.replace(cfg, optimizer="rmsprop"), data)
    with pytest.raises(SpynqValueError, match="median"):
        sp.dataset("cancer", 0, features="median")


def test_wdbc_attribute_groups():
    """The 'worst' group (default) and the 'mean' group are different columns of WDBC with
    the same split; each encodes 10 attributes x 6 fields + 1."""
    a, b = sp.dataset("cancer", 0), sp.dataset("cancer", 0, features="mean")
    assert sp.DATA["cancer"]["features"] == "worst"
    assert a["x_train"].shape == b["x_train"].shape == (285, 61)
    np.testing.assert_array_equal(a["y_train"], b["y_train"])
    assert not np.array_equal(a["x_train"], b["x_train"])
