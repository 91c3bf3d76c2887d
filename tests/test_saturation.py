"""Saturation is reported (issue 9, item 3): the LIF and SNNWM kernels write per sample
and layer what they clipped (status words after each sample's readouts), identically in
golden and csim (and in cosim: its bit-exact cases saturate, checked below); the API
warns once per call; batches larger than one call takes run as consecutive calls."""
import warnings

import numpy as np
import pytest

import lif_cases
import snnwm_cases
from spynq.errors import SpynqSaturationWarning
from spynq.lif import backends as lb, encode as le
from spynq.lif.model import LifLayer, LifNetwork, LifParams
from spynq.snnwm import backends as sb, encode as se
from spynq.snnwm.model import ReadoutLayer, SnnwmNetwork, SnnwmParams, WindowLayer

LV, LI = le.C["LIF_SS_V_SAT"], le.C["LIF_SS_I_SAT"]
SV, SI = se.C["SNNWM_SS_V_SAT"], se.C["SNNWM_SS_I_SAT"]
FIXED = ("golden", "csim")


def _run(run, net, r, backend):
    """(result, the SpynqSaturationWarnings the call raised)."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = run(net, r, backend)
    return res, [x for x in w if issubclass(x.category, SpynqSaturationWarning)]


def _lif_review_net():
    """The review's case: one pulse on 64 inputs of weight 7.9 into threshold 100 with
    subtract reset takes V to 505.6 (4 spikes in float), past the Q7.16 range; a second,
    current-based layer whose current state saturates."""
    return LifNetwork([LifLayer(np.full((64, 2), 7.9), None, LifParams(alpha=0.9, threshold=100, reset="subtract")),
                       LifLayer(np.full((2, 3), 7.5), None, LifParams(alpha=0.5, beta=0.99, threshold=127.0))])


def test_lif_flags_the_clipped_layer_and_sample():
    r = np.zeros((3, 40, 64), bool)
    r[0, 0] = True        # sample 0: the pulse, V clips in layer 0
    r[2, 0, :3] = True    # sample 2: 23.7 stays in range
    r[1, ::2] = True      # sample 1: layer 0 fires every step, layer 1's current state passes 128
    for backend in FIXED:
        res, w = _run(lb.run, _lif_review_net(), r, backend)
        assert res.layer_status[0].tolist() == [LV, LV, 0], backend
        assert res.layer_status[1].tolist()[1] & LI, backend
        assert res.layer_status[1][2] == 0 and res.status[2] == 0
        assert res.counts[0][0, 0] == 1  # the clipped answer the flag warns about (4 in float)
        assert len(w) == 1 and "layer 0" in str(w[0].message) and "of 3 samples" in str(w[0].message)


def test_lif_in_range_raises_no_warning():
    r = np.zeros((2, 10, 64), bool)
    r[:, 0, :3] = True
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpynqSaturationWarning)
        for backend in FIXED:
            res = lb.run(_lif_review_net(), r, backend)
            assert not res.status.any()


def test_random_cases_saturate_so_the_tier_comparisons_cover_the_status_words():
    """csim and cosim are compared with golden word for word, status words included:
    their case lists must hold cases with each flag set."""
    from spynq.lif import golden as lg
    from spynq.snnwm import golden as sg

    seen = set()
    for cases, dec in ((lif_cases.random_cases(60), "lif"), (lif_cases.small_cases(60), "lif"),
                       (snnwm_cases.random_cases(60), "snnwm"), (snnwm_cases.small_cases(60), "snnwm")):
        for net, r in cases:
            if dec == "lif":
                out = lg.run(*lif_cases.packed(net, r))
                st = le.decode_out(out, net.sizes, r.shape[1], r.shape[0])["status"]
            else:
                out = sg.run(*snnwm_cases.packed(net, r))
                st = se.decode_out(out, net.sizes, r.shape[1], r.shape[0], net.readout is not None)["status"]
            bits = int(np.bitwise_or.reduce(np.concatenate(st))) if st else 0
            seen |= {(dec, b) for b in (1, 2) if bits & b}
    assert {("lif", LV), ("snnwm", SV), ("snnwm", SI)} <= seen, seen


def _snnwm_net(readout_only: bool):
    if readout_only:  # o = 7.9 * sum over 40 taps of 7.9 * 60 inputs: about 1.5e5 > 32768
        return SnnwmNetwork([], ReadoutLayer(np.full((60, 3), 7.9), np.full(40, 7.9)))
    return SnnwmNetwork([WindowLayer(np.full((60, 4), 7.9), np.full(8, 7.9), SnnwmParams(tau=2.0, threshold=127.0))])


@pytest.mark.parametrize("readout_only", [False, True], ids=["window-layer", "readout"])
def test_snnwm_flags_membrane_and_readout_clipping(readout_only):
    net = _snnwm_net(readout_only)
    T = 39 if readout_only else 16
    r = np.zeros((2, T, 60), bool)
    r[0] = True  # sample 0 clips, sample 1 has no input
    for backend in FIXED:
        res, w = _run(sb.run, net, r, backend)
        assert res.stage_status[0].tolist() == [SI if readout_only else SV, 0], backend
        assert len(w) == 1 and "stage 0" in str(w[0].message)
    if readout_only:
        assert res.readout[0, 0] == pytest.approx(32768 - 2 ** -16)  # the clipped value


def test_batches_larger_than_one_call_run_in_chunks():
    """A kernel that takes 2 samples per call: the same answer in consecutive calls."""
    rng = np.random.default_rng(3)
    lnet, lr = lif_cases.random_case(rng, 5)  # a saturating case
    lr = np.concatenate([lr] * 3)[:5]
    whole = lb.run_fixed("golden", lnet, lr, lb.golden_call)
    split = lb.run_fixed("golden", lnet, lr, lb.golden_call, limits=dict(le.C, LIF_MAX_BATCH=2))
    assert split.info["calls"] == 3 * whole.info["calls"] and split.raw["batch_chunk"] == 2
    for k in range(len(lnet.layers)):
        for a, b in ((whole.spikes, split.spikes), (whole.counts, split.counts), (whole.raw["v_max"], split.raw["v_max"]),
                     (whole.layer_status, split.layer_status)):
            np.testing.assert_array_equal(a[k], b[k])
    snet, sr = snnwm_cases.random_case(np.random.default_rng(4), 5)
    sr = np.concatenate([sr] * 5)[:5]
    whole = sb.run_fixed("golden", snet, sr, sb.golden_call)
    split = sb.run_fixed("golden", snet, sr, sb.golden_call, limits=dict(se.C, SNNWM_MAX_BATCH=2))
    assert split.info["calls"] == 3 and split.counts == whole.counts
    for a, b in ((whole.spikes, split.spikes), (whole.stage_status, split.stage_status)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_cpu_reports_where_the_fixed_tiers_clip():
    """The float path sets the kernel's bits where its value left the kernel's range: on
    the review's LIF case and on the SNNWM window layer and readout, the same samples and
    layers as golden; its numbers are the unclipped ones (4 spikes, not 1)."""
    r = np.zeros((3, 40, 64), bool)
    r[0, 0] = True
    r[2, 0, :3] = True
    r[1, ::2] = True
    cpu, w = _run(lb.run, _lif_review_net(), r, "cpu")
    gold = lb.run(_lif_review_net(), r, "golden")
    for k in range(2):
        np.testing.assert_array_equal(cpu.layer_status[k], gold.layer_status[k])
    assert cpu.counts[0][0, 0] == 4 and len(w) == 1 and "fixed tiers would clip" in str(w[0].message)
    for readout_only in (False, True):
        net = _snnwm_net(readout_only)
        sr = np.zeros((2, 39 if readout_only else 16, 60), bool)
        sr[0] = True
        cpu, w = _run(sb.run, net, sr, "cpu")
        assert cpu.stage_status[0].tolist() == sb.run(net, sr, "golden").stage_status[0].tolist()
        assert len(w) == 1
