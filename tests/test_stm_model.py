"""The network API, sampling, and the cpu (float) vs golden (fixed-point) bound."""
import numpy as np
import pytest
from scipy import stats

from spynq.stm import backends, encode
from spynq.stm.model import (CPT, Categorical, Gaussian, LinearGaussian, Network, StateGaussian,
                             Uniform)
from spynq.stm.result import ST_SATURATED, ST_UNDERFLOW, ST_ZERO_SUM

from stm_cases import random_cases

# cpu vs golden: on rows no tier flags, the L1 distance of the root weight vectors is below
# this. Sources: Q16.16 samples/evidence (|error| <= 2^-17, times r = 1/(sqrt2 std) <= 7 in
# the random networks), UQ1.31 truncations, and the 2^-16-step exp tables. Measured max over
# the 200 random networks: ~5e-4.
CPU_GOLDEN_L1 = 2e-3


def chain():
    net = Network("chain")
    a = net.root("A", Categorical([0.2, 0.8]))
    b = net.add("B", a, StateGaussian([-2.0, 2.0], [1.0, 1.0]))
    net.add("I", b, LinearGaussian(1.0, 0.0, 0.5), observed=True)
    return net


def test_api_errors_are_clear():
    net = Network()
    with pytest.raises(TypeError, match="prior must be"):
        net.root("A", LinearGaussian(1, 0, 1))
    a = net.root("A", Categorical([0.5, 0.5]))
    with pytest.raises(ValueError, match="already has root"):
        net.root("B", Gaussian(0, 1))
    with pytest.raises(TypeError, match="does not take a discrete parent"):
        net.add("B", a, LinearGaussian(1, 0, 1))
    with pytest.raises(ValueError, match="3 parent states"):
        net.add("B", a, StateGaussian([0, 1, 2], [1, 1, 1]))
    i = net.add("I", a, CPT([[0.9, 0.1], [0.1, 0.9]]), observed=True)
    with pytest.raises(ValueError, match="evidence nodes must be leaves"):
        net.add("J", i, CPT([[1, 0], [0, 1]]))
    with pytest.raises(ValueError, match="duplicate"):
        net.add("I", a, CPT([[1, 0], [0, 1]]))
    with pytest.raises(ValueError, match="must be a state"):
        net.evidence_array({"I": [2]})
    with pytest.raises(ValueError, match="missing"):
        net.evidence_array({})
    with pytest.raises(ValueError, match="Gaussian std=0: must be finite and > 0"):
        Gaussian(0, 0)


def test_encoder_rejects_what_the_kernel_cannot_hold():
    net = chain()
    with pytest.raises(ValueError, match="takes 1..4096"):
        encode.pack_network(net, net.sample({"A": 5000, "B": 10}))
    big = Network()
    r = big.root("S", Uniform(0, 1))
    big.add("X", r, LinearGaussian(1, 0, 1e-7), observed=True)
    with pytest.raises(ValueError, match="1/\\(sqrt2 std\\)"):
        encode.pack_network(big, big.sample(4))
    with pytest.raises(ValueError, match="outside the Q15.16 range"):
        encode.pack_evidence(net, {"I": [1e6]})


def test_populations_follow_the_marginal_prior():
    pops = chain().sample(20000, seed=3)
    assert abs(np.mean(pops["A"]) - 0.8) < 0.01
    # B is a two-component mixture: compare its CDF with the exact marginal
    cdf = lambda x: 0.2 * stats.norm.cdf(x, -2, 1) + 0.8 * stats.norm.cdf(x, 2, 1)  # noqa: E731
    assert stats.kstest(pops["B"], cdf).pvalue > 1e-3


def test_cpu_matches_exact_posterior_of_a_chain():
    net = chain()
    pops = net.sample(4000, seed=11)
    ev = np.array([[-1.0], [0.3], [2.5]])
    post = backends.infer(net, pops, ev, "cpu").posterior()
    lik = np.stack([stats.norm.pdf(ev[:, 0], m, np.sqrt(1 + 0.25)) for m in (-2, 2)], axis=1) * [0.2, 0.8]
    exact = lik / lik.sum(axis=1, keepdims=True)
    assert np.abs(post - exact).max() < 0.03


def test_cpu_and_golden_within_stated_bound():
    worst, compared = 0.0, 0
    for net, pops, ev in random_cases(120, seed=77):
        g = backends.infer(net, pops, ev, "golden")
        f = backends.infer(net, pops, ev, "cpu")
        clean = (g.status & (ST_ZERO_SUM | ST_SATURATED | ST_UNDERFLOW)) == 0
        if clean.any():
            worst = max(worst, np.abs(g.weights[clean] - f.weights[clean]).sum(axis=1).max())
            compared += int(clean.sum())
    assert compared > 100
    assert worst < CPU_GOLDEN_L1


def test_unknown_backend_is_refused_with_the_choices():
    net = chain()
    with pytest.raises(ValueError, match=r"unknown backend 'gpu'; choose from \('auto', 'cpu'"):
        backends.infer(net, net.sample(4), {"I": [0.0]}, "gpu")
