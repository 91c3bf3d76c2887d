"""The issue-10 model builders Oli-N, AIA, DA-LIF, LNM and the review's LIF baseline
(spynq.nn.models), their limiting cases on the built networks, numpy == JAX forwards,
Oli-N's precomputed inference and L_reg, AIA's fold of beta into W, and the training
machinery (spynq.nn.train / tasks, `spynq train`): a short seeded run that learns, and
a checkpoint that `run` loads."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from spynq import nn
from spynq.nn import models, tasks, train
from spynq.nn.models import aia, dalif, lif_baseline, lnm, oli

MINE = ("oli", "aia", "dalif", "lnm", "lif_baseline")


def raw(v):
    return nn.Param(value=v, fn="raw", learn=False)


def swap_neurons(net, make):
    """A copy of net (an nn.Sequential) with every neuron layer replaced by make(layer)
    under the same name (so the same params pytree drives both)."""
    layers = []
    for l in net.layers:
        if l.kind == "neuron":
            n = make(l)
            n.name = l.name
            layers.append(n)
        else:
            layers.append(copy.copy(l))
    return nn.Sequential(*layers)


def neuron_params(net, params):
    return {l.name: l.init(np.random.default_rng(0)) if l.kind == "neuron" else params[l.name] for l in net.layers}


def records(net, params, xs, **kw):
    _, aux = net.apply(params, xs, **kw)
    return {k: {f: np.asarray(v) for f, v in r.items()} for k, r in aux.records.items()}


def assert_same(ra, rb, names, exact=True):
    fired = 0
    for n in names:
        np.testing.assert_array_equal(ra[n]["s"], rb[n]["s"])
        fired += int(ra[n]["s"].sum())
        if exact:
            np.testing.assert_array_equal(ra[n]["v"], rb[n]["v"])
        else:
            np.testing.assert_allclose(ra[n]["v"], rb[n]["v"], rtol=0, atol=1e-12)
    assert fired > 0, "the comparison needs spikes"


def digits_xs(T=8, B=6, image=False, seed=0):
    t = tasks.load("digits_rate", T=T, seed=seed, n=60, image=image)
    return np.swapaxes(t.x_train[:B], 0, 1)


def first_xs(T=8, B=6):
    t = tasks.load("first", T=T, n=40)
    return np.swapaxes(t.x_train[:B], 0, 1)


# ---------------------------------------------------------------- registry and tasks

def test_registered_with_paper_task_defaults():
    for name in MINE:
        m = models.get(name)
        assert m.TASK in tasks.TASKS and m.PAPER in ("oli", "aia", "dalif", "lnm", "review")
        assert {"epochs", "lr", "T"} <= set(m.DEFAULTS)


def test_tasks_codes():
    r = tasks.load("digits_rate", T=16, seed=1)
    assert r.x_train.shape[1:] == (16, 64) and len(r.x_train) + len(r.x_test) == 1797
    assert set(np.unique(r.x_train)) == {0.0, 1.0}
    lat = tasks.load("digits_latency", T=8, image=True)
    assert lat.shape == (1, 8, 8)
    assert lat.x_train.sum(axis=1).max() == 1.0  # one spike per pixel at most
    f = tasks.load("first", T=8, n=300, seed=2)
    x = np.concatenate([f.x_train, f.x_test])
    y = np.concatenate([f.y_train, f.y_test])
    g = x.shape[2] // 2
    first_a = np.array([np.argmax(s[:, :g].sum(1) >= 9) < np.argmax(s[:, g:].sum(1) >= 9) for s in x])
    assert np.mean(first_a == (y == 0)) > 0.97  # the label is the group whose volley comes first
    np.testing.assert_array_equal(tasks.load("first", T=8, n=300, seed=2).x_train, f.x_train)  # seeded


# ---------------------------------------------------------------- Oli-N

def _oli(gain=6.0, seed=0):
    net = oli.build()
    p = net.init(seed)
    for l in net.layers:
        p[l.name]["w"] = gain * p[l.name]["w"]  # enough current to spike
    return net, p


def _perturb(net, p, seed=3):
    rng = np.random.default_rng(seed)
    for l in net.layers:
        for k in ("ha_w", "hc_w"):
            p[l.name][k] = rng.normal(0.0, 0.3, p[l.name][k].shape)
    return p


def test_oli_identity_modulation_is_lif():
    """O1: at init the heads give A = c = 1 (f^A, f^V identity, U the masked sum / mean):
    the Oli-SNN equals the LIF network with the same W bit for bit."""
    net, p = _oli()
    twin, tp = oli.lif_twin(net, p)
    xs = first_xs()
    assert_same(records(net, p, xs), records(twin, tp, xs), ["oli1", "oli2"])
    w_t, c_t = net.layers[0].timed(p["oli1"], np)
    assert np.array_equal(w_t, np.repeat(p["oli1"]["w"][None], 8, 0)) and np.all(c_t == 1.0)


def test_oli_precomputed_inference_equals_online_and_stores_T_vectors():
    """O2: the inference form ({W_t, c_t}, no Oli) gives the same outputs as the online
    Oli; both iteration styles agree; what it stores beyond LIF is T (M + 1) n_out."""
    net, p = _oli()
    p = _perturb(net, p)
    xs = first_xs()
    inet, ip = net.inference(p)
    ra = records(net, p, xs)
    assert_same(ra, records(inet, ip, xs), ["oli1", "oli2"])
    assert_same(ra, records(net, p, xs, style="step"), ["oli1", "oli2"])
    w_t = ip["oli1"]["w_t"]
    assert w_t.shape == (8, 48, 32) and not np.allclose(w_t[0], w_t[-1])  # time-varying weights
    assert "lstm_wx" not in ip["oli1"] and net.stored_per_layer() == {"oli1": 8 * 5 * 48, "oli2": 8 * 5 * 2}


def test_oli_lreg():
    """O3: L_reg (Eq.13) = -sum KL(F_{t-1} || F_t) <= 0, = 0 when consecutive modulations
    are equal (at init), < 0 once they differ; regularizer = lambda L_reg."""
    net, p = _oli()
    l = net.layers[0]
    assert l.l_reg(p["oli1"], np) == 0.0
    p = _perturb(net, p)
    v = l.l_reg(p["oli1"], np)
    assert v < 0.0
    _, aux = net.apply(p, first_xs())
    total = net.regularizer(p, aux, np)
    assert total == pytest.approx(oli.LAMBDA * (v + net.layers[1].l_reg(p["oli2"], np)), rel=1e-12)
    masks = net.phases(p)  # the SNM step trains W, b; the OM step the Oli parameters
    assert masks[0]["oli1"]["w"] and not masks[0]["oli1"]["lstm_wx"]
    assert masks[1]["oli1"]["lstm_wx"] and not masks[1]["oli1"]["w"]


# ---------------------------------------------------------------- AIA

def _aia_lif(l):
    # AIA Eq.2: u = lam u (1 - o) + x is LIF without input decay, 1 - 1/tau = lam
    return nn.LIF(tau=1.0 / (1.0 - 0.5), decay_input=False, surrogate=nn.Rectangular(1.0))


@pytest.mark.parametrize("f", ["identity", "cached", "grad"])
def test_aia_association_off_is_lif(f):
    """The built AIA network with the association off (f = x), the cached variant at
    beta = 1, and R1 (forward unchanged) equal the same network of LIF neurons."""
    net = aia.build(f=f)
    p = net.init(0)
    ref = swap_neurons(net, _aia_lif)
    rp = neuron_params(ref, p)
    xs = digits_xs(image=True)
    names = [l.name for l in net.neuron_layers]
    assert_same(records(net, p, xs), records(ref, rp, xs), names)


def test_aia_fold_beta_into_w():
    """Cached AIA: BN folded into the conv, beta into its weights (w' = beta w, b' = beta b)
    gives the same spikes with no extra parameters (A3)."""
    net = aia.build()
    p = aia.varied_params(net)
    fnet, fp = net.inference(p)
    assert not any(isinstance(l, nn.BatchNorm) for l in fnet.layers)
    assert all(l.f == "identity" and "beta" not in fp[l.name] for l in fnet.neuron_layers)
    xs = digits_xs(image=True)
    assert_same(records(net, p, xs), records(fnet, fp, xs), [l.name for l in net.neuron_layers], exact=False)
    from spynq.nn_costs import count_params

    assert count_params(fnet) < count_params(net)  # beta and BN gone; only the conv biases


# ---------------------------------------------------------------- DA-LIF

def test_dalif_limits_on_the_built_network():
    """alpha = 1/tau, beta = 1 - 1/tau gives the LIF network (to rounding: 0.5 v + 0.5 x
    vs v + (x - v)/2); alpha = beta = 1 the IF network (exactly)."""
    xs = digits_xs(image=True)
    for make, other, exact in ((lambda: nn.DALIF(alpha=raw(0.5), beta=raw(0.5)), lambda l: nn.LIF(2.0), False),
                               (lambda: nn.DALIF(alpha=raw(1.0), beta=raw(1.0)),
                                lambda l: nn.BIDL(alpha=1.0, beta=0.0, v_th=1.0), True)):
        net = dalif.build(neuron=make)
        p = net.init(0)
        for l in net.layers:
            if isinstance(l, nn.Conv2d):
                p[l.name]["w"] = 8 * p[l.name]["w"]  # every layer fires
        ref = swap_neurons(net, other)
        ra, rb = records(net, p, xs), records(ref, neuron_params(ref, p), xs)
        names = [l.name for l in net.neuron_layers]
        assert all(ra[n]["s"].sum() > 0 for n in names)
        assert_same(ra, rb, names, exact=exact)
    d = dalif.build()
    learn = d.trainable(d.init(0))
    assert all(learn[l.name] == {"v_th": False, "alpha": True, "beta": True} for l in d.neuron_layers)


# ---------------------------------------------------------------- LNM, review

def test_lnm_linear_polynomial_is_lif():
    net = lnm.build(coeffs=(0.0, -0.5), v_clip=None, learn=False)
    p = net.init(0)
    for l in net.layers:
        if isinstance(l, nn.Linear):
            p[l.name]["w"] = 4 * p[l.name]["w"]
    ref = swap_neurons(net, lambda l: nn.LIF(2.0, decay_input=False))
    assert_same(records(net, p, first_xs()), records(ref, neuron_params(ref, p), first_xs()),
                [l.name for l in net.neuron_layers])


def test_review_baseline_tau_one_is_if_and_k_schedule():
    net = lif_baseline.build(tau=1.0)
    p = net.init(0)
    ref = swap_neurons(net, lambda l: nn.BIDL(alpha=1.0, beta=0.0, v_th=1.0))
    xs = digits_xs()
    assert_same(records(net, p, xs), records(ref, neuron_params(ref, p), xs), [l.name for l in net.neuron_layers])
    assert net.on_epoch(0, 10) and net.neuron_layers[0].surrogate.k == lif_baseline.K_MIN
    net.on_epoch(9, 10)
    assert net.neuron_layers[1].surrogate.k == pytest.approx(nn.k_schedule(9, 10, 1.0, 10.0))


# ---------------------------------------------------------------- numpy == JAX

@pytest.mark.parametrize("name", MINE)
def test_numpy_forward_equals_jax_forward(name):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    from jax.experimental import enable_x64

    m = models.get(name)
    # the builders' code at smaller sizes (the XLA compile time grows with the graph)
    small = {"oli": {"n_in": 32, "hidden": 8, "T": 8, "lstm_layers": 2}, "aia": {"channels": (4, 4, 4)},
             "dalif": {"channels": (4, 4, 4)}, "lnm": {"hidden": (16,)}, "lif_baseline": {"hidden": 16}}[name]
    net = m.build(**small)
    p = net.init(0)
    if name in ("oli", "lnm"):
        for l in net.layers:
            if "w" in p[l.name]:
                p[l.name]["w"] = 5 * p[l.name]["w"]
        if name == "oli":
            p = _perturb(net, p)
    image = m.DEFAULTS.get("image", False)
    xs = first_xs(B=4) if m.TASK == "first" else digits_xs(B=3, image=image)
    ra = records(net, p, xs)
    with enable_x64():  # jitted, as training runs it (op-by-op dispatch of a conv net takes a minute)
        f = jax.jit(lambda q, x: net.apply(q, x, xp=jnp, scan=True, merge_time=True)[1].records)
        rb = {k: {f_: np.asarray(v) for f_, v in r.items()} for k, r in f(p, jnp.asarray(xs)).items()}
    assert_same(ra, rb, [l.name for l in net.neuron_layers], exact=False)


# ---------------------------------------------------------------- training

def test_train_learns_and_checkpoint_round_trip(tmp_path, capsys):
    """`spynq train lnm`: a short seeded run that learns (test accuracy from chance to
    well above), one progress line per epoch, a checkpoint + curves; `run` loads it
    and gives the trained network's outputs."""
    pytest.importorskip("jax")
    from spynq.cli import main

    assert main(["train", "lnm", "--epochs", "4", "--seed", "0", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("epoch ") == 4 and "c2 = " in out
    meta = json.loads((tmp_path / "lnm.json").read_text())
    assert meta["before"]["test"] < 0.6 and meta["after"]["test"] > 0.85
    assert (tmp_path / "lnm_curves.png").stat().st_size > 1000
    params, _ = train.load_checkpoint(tmp_path / "lnm.npz")
    net = lnm.build(**meta["build"])
    xs = tasks.load("first", T=8, n=50, seed=5).x_test
    got = train.run(tmp_path / "lnm.npz", xs)
    want = net.run(xs, params)
    for a, b in zip(got.spikes, want.spikes):
        np.testing.assert_array_equal(a, b)
    assert sum(int(c.sum()) for c in got.counts) > 0
    fresh = net.run(xs, net.init(0))  # the trained parameters, not the initial ones
    assert any(not np.array_equal(a, b) for a, b in zip(got.spikes, fresh.spikes))
    assert main(["train", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(n in listed for n in MINE)
    assert main(["train", "nosuch"]) == 2


@pytest.mark.parametrize("name", ["oli", "aia"])
def test_checkpoint_runs_the_inference_form(tmp_path, name):
    """run() of an Oli / AIA checkpoint executes the inference form (precomputed W_t /
    beta folded into W) and gives the online network's spikes."""
    m = models.get(name)
    net = m.build(**m.DEFAULTS["build"])
    p = net.init(2)
    if name == "oli":
        p = _perturb(net, p)
        for l in net.layers:
            p[l.name]["w"] = 6 * p[l.name]["w"]
        xs = tasks.load("first", T=8, n=30).x_test
    else:
        xs = tasks.load("digits_rate", T=8, n=60, image=True).x_test
    train.save_checkpoint(tmp_path / "m.npz", p, {"model": name, "build": m.DEFAULTS["build"]})
    got = train.run(tmp_path / "m.npz", xs)
    want = net.run(xs, p)
    assert sum(int(c.sum()) for c in want.counts) > 0
    for a, b in zip(got.spikes, want.spikes):
        np.testing.assert_array_equal(a, b)
    net2, p2, _ = train.load_model(tmp_path / "m.npz")
    assert type(net2) is nn.Sequential and all("lstm_wx" not in d and "beta" not in d for d in p2.values())


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        train.load_checkpoint(tmp_path / "none.npz")
    net = lnm.build()
    train.save_checkpoint(tmp_path / "x.npz", net.init(0), {"model": "dalif", "build": {}})
    with pytest.raises(ValueError, match="do not match"):
        train.load_model(tmp_path / "x.npz")
