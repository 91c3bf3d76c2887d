"""The paper's four STM workloads: exact posteriors vs brute force, sampled posteriors vs
exact on the cpu and golden backends, and the figures (fast: no cosim, no g++)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from spynq.stm import exact, figures
from spynq.stm import workloads as W
from spynq.stm.backends import infer
from spynq.stm.model import Categorical, Uniform
from spynq.stm.result import ST_BAD_NET, ST_SATURATED, ST_ZERO_SUM

CAUSAL = [b.__name__ for b in W.CAUSAL]
MULTI = [b.__name__ for b in W.MULTISENSORY]


# ----------------------------------------------------------------------------- brute force
def _lik(dist, child, parent):
    return np.exp(dist.log_likelihood(child, parent))


def grid_likelihood(network, y, root_values, half_width=9.0, n=1201):
    """P(evidence | root) by nested grid integration over every hidden non-root node.

    Independent of exact.leaf_gaussian: it only uses each node's own log_likelihood.
    Grids cover each node's prior range generously (means +- half_width).
    """
    col = {v.name: j for j, v in enumerate(network.evidence_nodes)}

    def message(node, x):  # P(evidence below node | parent = x), x: (m,)
        if node.observed:
            return _lik(node.dist, y[col[node.name]], x)
        g = np.linspace(-half_width, half_width, n)
        below = np.ones(n)
        for c in node.children:
            below = below * message(c, g)
        dens = _lik(node.dist, g[None, :], x[:, None])  # (m, n)
        return integrate.trapezoid(dens * below[None, :], g, axis=1)

    root_values = np.asarray(root_values)
    out = np.ones(len(root_values))
    for c in network.root_node.children:
        out = out * message(c, root_values)
    return out


def test_exact_two_layer_matches_quad():
    wl = W.two_layer_causal()
    net = wl.network
    ev = wl.evidence(4, seed=7)
    post = exact.discrete_posterior(net, ev)
    prior = np.asarray(net.root_node.dist.probs)
    for k, y in enumerate(ev):
        lik = np.ones(3)
        for a in range(3):
            for j, leaf in enumerate(net.evidence_nodes):
                b = leaf.parent
                f = lambda x: _lik(b.dist, x, a) * _lik(leaf.dist, y[j], x)  # noqa: E731
                lik[a] *= integrate.quad(f, -12, 12, epsabs=1e-13)[0]
        brute = prior * lik / (prior * lik).sum()
        np.testing.assert_allclose(post[k], brute, atol=1e-8)
    assert np.all(post.sum(axis=1) == pytest.approx(1.0))


@pytest.mark.parametrize("name", CAUSAL)
def test_exact_discrete_matches_grid(name):
    wl = W.by_name(name)
    net = wl.network
    ev = wl.evidence(3, seed=11)
    post = exact.discrete_posterior(net, ev)
    prior = np.asarray(net.root_node.dist.probs)
    for k, y in enumerate(ev):
        lik = grid_likelihood(net, y, np.arange(len(prior)))
        np.testing.assert_allclose(post[k], prior * lik / (prior * lik).sum(), atol=1e-6)


def test_exact_multi_layer_keeps_shared_parent_correlation():
    """I1 and I2 share B1: treating the leaves as independent given A must be wrong."""
    c, _, S = exact.leaf_gaussian(W.multi_layer_causal().network, 0)
    assert S[0, 1] > 0.5 and S[0, 2] == 0.0 and S[1, 2] == 0.0


@pytest.mark.parametrize("name", MULTI)
def test_exact_uniform_root_matches_quad(name):
    wl = W.by_name(name)
    net = wl.network
    lo, hi = net.root_node.dist.low, net.root_node.dist.high
    ev = wl.evidence(3, seed=5)
    stds = [v.dist.std for v in net.evidence_nodes]
    edge = np.full((1, len(stds)), hi - 0.3)  # cues at the edge: the truncation matters
    ev = np.vstack([ev, edge, edge - (hi - lo) + 0.6])
    post = exact.continuous_posterior(net, ev)
    mean, sd = post.mean(), post.std()
    edges = np.linspace(lo, hi, 9)
    mass = post.bin_mass(edges)
    for k, y in enumerate(ev):
        f = lambda s: np.prod([_lik(v.dist, y[j], s) for j, v in enumerate(net.evidence_nodes)])  # noqa: E731
        pts = [float(np.clip(exact.cue_combination(y, stds)[0], lo, hi))]
        z = integrate.quad(f, lo, hi, points=pts, epsabs=0, epsrel=1e-11, limit=200)[0]
        m1 = integrate.quad(lambda s: s * f(s), lo, hi, points=pts, epsabs=0, epsrel=1e-11, limit=200)[0] / z
        m2 = integrate.quad(lambda s: (s - m1) ** 2 * f(s), lo, hi, points=pts, epsabs=0, epsrel=1e-11,
                            limit=200)[0] / z
        assert mean[k] == pytest.approx(m1, abs=1e-7)
        assert sd[k] == pytest.approx(np.sqrt(m2), rel=1e-6)
        bins = [integrate.quad(f, a, b, epsabs=1e-300, epsrel=1e-10, limit=200)[0] / z
                for a, b in zip(edges[:-1], edges[1:])]
        np.testing.assert_allclose(mass[k], bins, atol=1e-8)
        grid = np.linspace(lo, hi, 4001)
        dens = post.pdf(grid)[k]
        assert integrate.trapezoid(dens, grid) == pytest.approx(1.0, abs=1e-4)
    # the edge sets are truncated: their mean is pulled inside, away from the cue mean
    assert mean[-2] < hi - 0.3 and mean[-1] > lo + 0.3
    # away from the edges: the textbook precision-weighted cue combination
    m0, s0 = exact.cue_combination(ev[0], stds)
    if lo + 5 * s0 < m0 < hi - 5 * s0:
        assert mean[0] == pytest.approx(m0, abs=1e-6) and sd[0] == pytest.approx(s0, rel=1e-6)


def test_truncated_moments_match_scipy_in_the_tails():
    from scipy import stats

    a = np.array([-3.0, -1.0, 0.5, 30.0, -40.0, -100.0, -2.0])
    b = np.array([3.0, 2.0, 0.7, 60.0, -35.0, 100.0, 8.0])
    mu, var = exact.truncated_std_normal_moments(a, b)
    m_ref, v_ref = stats.truncnorm.stats(a, b, moments="mv")
    np.testing.assert_allclose(mu, m_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(var, v_ref, rtol=1e-6)


# ----------------------------------------------------------------------------- generators
@pytest.mark.parametrize("name", CAUSAL + MULTI)
def test_evidence_generator_is_seeded_and_in_range(name):
    wl = W.by_name(name)
    a, b, c = wl.evidence(50, seed=3), wl.evidence(50, seed=3), wl.evidence(50, seed=4)
    assert a.shape == (50, len(wl.network.evidence_nodes))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(np.abs(a) < 1000)  # far inside Q16.16
    assert wl.truth(50, seed=3).shape == (50,)
    for node in wl.network.nodes.values():  # every std well above the kernel's ~1e-3 floor
        for s in np.atleast_1d(getattr(node.dist, "stds", getattr(node.dist, "std", 1.0))):
            assert s >= 0.1


@pytest.mark.parametrize("name", CAUSAL)
def test_causal_posterior_is_calibrated_and_not_trivial(name):
    """Generator and exact posterior agree: E_I[P(a|I)] = prior, E[max P] = accuracy."""
    wl = W.by_name(name)
    n = 20000
    ev, truth = wl.evidence(n, seed=21), wl.truth(n, seed=21)
    post = exact.discrete_posterior(wl.network, ev)
    np.testing.assert_allclose(post.mean(axis=0), wl.network.root_node.dist.probs, atol=0.015)
    assert post.max(axis=1).mean() == pytest.approx(np.mean(post.argmax(axis=1) == truth), abs=0.015)
    # informative but uncertain
    med = np.median(post.max(axis=1))
    assert 0.6 < med < 0.95
    assert np.mean(post.max(axis=1) > 0.999) < 0.1


@pytest.mark.parametrize("name", MULTI)
def test_multisensory_posterior_is_calibrated(name):
    wl = W.by_name(name)
    n = 20000
    ev, truth = wl.evidence(n, seed=8), wl.truth(n, seed=8)
    post = exact.continuous_posterior(wl.network, ev)
    r = truth - post.mean()
    sd = post.std()
    assert abs(r.mean()) < 4 * sd.mean() / np.sqrt(n)
    assert np.mean(r**2) == pytest.approx(np.mean(sd**2), rel=0.05)


# ----------------------------------------------------------------------------- sampled vs exact
N_EV = 60


@pytest.fixture(scope="module")
def causal_errors():
    """errors[name][backend][N] = list over sample seeds; plus golden-vs-cpu differences."""
    runs = {"cpu": {100: (0, 1, 2), 500: (0, 1, 2), 2000: (0, 1, 2)}, "golden": {100: (0,), 2000: (0, 1)}}
    out = {}
    for name in CAUSAL:
        wl = W.by_name(name)
        ev = wl.evidence(N_EV, seed=99)
        p = exact.discrete_posterior(wl.network, ev)
        errs = {b: {} for b in runs}
        diff, status = [], []
        for n in (100, 500, 2000):
            for seed in (0, 1, 2):
                pops = wl.network.sample(n, seed=seed + 10 * n)
                res = {}
                for b in runs:
                    if seed in runs[b].get(n, ()):
                        res[b] = infer(wl.network, pops, ev, b)
                        errs[b].setdefault(n, []).append(exact.posterior_error(res[b].posterior(), p))
                if "golden" in res:
                    diff.append(np.abs(res["golden"].posterior() - res["cpu"].posterior()).max())
                    status.append(res["golden"].status)
        out[name] = {"errors": errs, "diff": max(diff), "status": np.concatenate(status)}
    return out


@pytest.mark.parametrize("name", CAUSAL)
def test_causal_error_falls_with_samples(name, causal_errors):
    e = causal_errors[name]["errors"]["cpu"]
    m = {n: np.mean(v) for n, v in e.items()}
    assert m[2000] < m[500] < m[100]
    assert m[2000] < 0.5 * m[100]  # ~1/sqrt(N) would give 0.22


@pytest.mark.parametrize("backend", ["cpu", "golden"])
@pytest.mark.parametrize("name", CAUSAL)
def test_causal_error_at_2000_samples_below_002(name, backend, causal_errors):
    e = causal_errors[name]["errors"][backend][2000]
    print(f"{name} {backend}: mean |P_hat - P| at 2000 samples = {e}")
    assert len(e) >= 2 and max(e) < 0.02


@pytest.mark.parametrize("name", CAUSAL)
def test_golden_tracks_cpu(name, causal_errors):
    """Fixed point changes the posterior by far less than the sampling error."""
    d = causal_errors[name]
    assert d["diff"] < 1e-3
    assert np.all(d["status"] & (ST_ZERO_SUM | ST_SATURATED | ST_BAD_NET) == 0)
    e = d["errors"]
    assert np.mean(e["golden"][2000]) == pytest.approx(np.mean(e["cpu"][2000][:2]), abs=1e-3)


@pytest.mark.parametrize("name", MULTI)
def test_multisensory_mean_within_tolerance(name):
    """1000 sample neurons (the paper's number): posterior mean within 0.15 posterior std on
    average and 0.5 std at worst, on cpu and golden; the error falls with N."""
    wl = W.by_name(name)
    ev = wl.evidence(100, seed=31)
    post = exact.continuous_posterior(wl.network, ev)
    m, sd = post.mean(), post.std()
    rel = {}
    for n in (200, 1000, 4000):
        rel[n] = []
        for seed in (0, 1, 2):
            pops = wl.network.sample(n, seed=seed)
            for b in (("cpu", "golden") if n == 1000 and seed == 0 else ("cpu",)):
                r = infer(wl.network, pops, ev, b)
                e = np.abs(r.mean() - m) / sd
                if n == 1000:
                    print(f"{name} {b} seed {seed}: mean |err|/std {e.mean():.4f}, max {e.max():.4f}")
                    assert e.mean() < 0.15 and e.max() < 0.5
                if b == "cpu":
                    rel[n].append(e.mean())
    assert np.mean(rel[4000]) < np.mean(rel[1000]) < np.mean(rel[200])


# ----------------------------------------------------------------------------- figures
def test_error_figure_is_written(tmp_path):
    png = tmp_path / "err.png"
    d = figures.error_vs_samples(sizes=(100, 400), backends=("cpu", "golden"), seeds=(0, 1), n_evidence=20,
                                 out_png=png)
    assert png.exists() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(d["workloads"]) == set(CAUSAL)
    for per in d["workloads"].values():
        for r in per.values():
            e = np.asarray(r["errors"])
            assert e.shape == (2, 2) and np.all(np.isfinite(e)) and np.all(e > 0)
            assert np.all(np.asarray(r["seconds"]) > 0)


def test_multisensory_figure_is_written(tmp_path):
    png = tmp_path / "ms.png"
    d = figures.multisensory(n_samples=1000, n_evidence=60, out_png=png)
    assert png.exists() and png.stat().st_size > 10_000
    for name in MULTI:
        w = d["workloads"][name]
        for b in ("cpu", "golden"):
            r = w[b]
            assert np.all(np.isfinite(r["mean"])) and np.isfinite(r["tv"])
            assert r["rel_error"] < 0.15 and r["tv"] < 0.3
            assert r["flags"]["zero_sum"] == 0


def test_workload_kinds():
    for build in W.CAUSAL:
        assert isinstance(build().network.root_node.dist, Categorical)
    for build in W.MULTISENSORY:
        assert isinstance(build().network.root_node.dist, Uniform)
    with pytest.raises(ValueError):
        W.by_name("nope")
