"""P4 W-TCRL (spynq.learning.wtcrl): the population latency encoder (times within the
stated interval, one spike per encoding neuron), the STDP fixed point reached in
simulation against eq. 4, the windows, the inhibition schedule, decoding and a short
unsupervised run on 8x8 digit patches."""
import math

import numpy as np
import pytest

from spynq.learning import wtcrl as W

P = W.Params()


def test_encoder_one_spike_per_neuron_within_the_interval():
    a = np.linspace(P.lo, P.hi, 57)[:, None]
    first, count = W.encode(P, a)                      # Euler, dt = 0.1 ms, over the whole 25 ms period
    assert (count == 1).all()
    t = first * P.dt
    assert t.min() >= 6.9 - 1e-9 and t.max() <= 12.3 + 1e-9 and t.max() < P.T_on
    tc = W.spike_times(P, a)                           # closed form -tau ln(1 - theta/A)
    assert tc.min() == pytest.approx(10 * math.log(2), abs=1e-12)
    assert tc.max() <= 12.2955
    # the Euler grid time is within one step of the closed form
    assert np.abs(t - tc).max() < P.dt
    A = W.activations(P, np.array([0.45]))[0]
    np.testing.assert_allclose(A, [0.8007, 0.8825, 0.9460, 0.9862, 1.0, 0.9862, 0.9460, 0.8825, 0.8007, 0.7066],
                               atol=5e-5)
    np.testing.assert_allclose(W.encode(P, np.array([[0.45]]))[0][0] * P.dt, [9.8, 8.4, 7.5, 7.1, 6.9, 7.1, 7.5, 8.4, 9.8, 12.3], atol=1e-9)


def test_stdp_windows_and_closed_form():
    c, ac = W.windows(P)
    assert round(c, 3) == 2.993 and round(ac, 3) == 9.901
    np.testing.assert_allclose(W.w_star(P, [0, 0.5, 1.0, 1.5, 2.0, 2.5]),
                               [0.2, 0.5193, 0.7366, 0.8846, 0.9853, 1.0], atol=5e-5)


def test_stdp_fixed_point_reached_in_simulation():
    """One pattern presented repeatedly with the post spike pinned at 8.5 ms: causal
    synapses (pre at 6.9-8.5 ms) converge to w* = min(1, 1.2 - e^{-dt/1.3}) on the
    simulated dt, anti-causal ones (pre after the post spike, within the y window) to 0,
    early ones outside the x window keep their initial weight."""
    q = W.replace_params(P, a_plus=0.12, a_minus=0.72)      # faster; the fixed point does not depend on a+-
    Wf, steps, post = W.single_pattern(q, np.array([0.45, 0.2]), 120, post_step=85)
    dt = (post - steps) * P.dt
    causal = (dt >= 0) & (dt < W.windows(P)[0])
    anti = dt < 0
    assert causal.sum() >= 8 and anti.sum() >= 6
    assert np.abs(Wf[causal] - W.w_star(P, dt[causal])).max() < 1e-5
    assert Wf[anti].max() == 0.0
    assert np.all(Wf[dt >= W.windows(P)[0]] == 0.7)


def test_free_running_neuron_approaches_the_fixed_point():
    """Without pinning, the post time settles within a grid step and the weights sit
    near w* of the simulated timing."""
    q = W.replace_params(P, a_plus=0.03, a_minus=0.18)
    Wf, steps, post = W.single_pattern(q, np.array([0.45]), 250)
    dt = (post - steps) * P.dt
    causal = (dt >= 0) & (dt < W.windows(P)[0])
    assert causal.any() and np.abs(Wf[causal] - W.w_star(P, dt[causal])).max() < 0.05


def test_inhibition_schedule_and_parameters():
    net = W.WTCRL(P, 25, 16)
    assert net.theta == 62.5 and net.c_min == 562.5 and net.c_max == 5687.5     # MNIST k = 25 (note 4.5)
    tau_w = P.T * 60000 / 3
    assert net.w_lat(tau_w) == -net.c_min
    net.t_train = P.T * 60000
    assert net.w_lat(tau_w) / net.c_max == pytest.approx(-0.9551, abs=5e-5)
    assert net.w_lat(None) == -net.c_max


def test_circular_decoding():
    w = np.zeros(10)
    w[4] = 1.0
    assert W.decode_weights(P, w)[0] == pytest.approx(0.45, abs=1e-12)
    for a, want in ((0.45, 0.45), (0.3, 0.3), (0.97, 0.96948)):
        assert W.decode_weights(P, W.activations(P, np.array([a]))[0])[0] == pytest.approx(want, abs=5e-6)


def test_unsupervised_digits_reduce_rms_and_spikes():
    Xtr, Xte = W.digit_patches()
    assert Xtr.shape == (6000, 16)
    Xte = Xte[:30]
    test = (Xte, W.pre_steps_of(P, Xte))
    net = W.WTCRL(P, 16, 8, seed=0)
    before = W.evaluate(net, *test)
    W.train(net, Xtr, 120, seed=0)
    after = W.evaluate(net, *test)
    assert after["rms"] < 0.75 * before["rms"]
    assert after["sparsity"] < before["sparsity"]
    assert 0.0 <= after["incoherence_10"] <= after["incoherence_5"] <= 1.0


def test_seed_stats_aggregates_every_metric_per_m():
    """The multi-seed summary the command writes: mean and std per metric and m, over the
    per-seed rows only (other entries of the summary are ignored)."""
    rng = np.random.default_rng(3)
    summary = {"settings": {"iters": 10}}
    for m in (16, 32):
        for s in range(3):
            summary[f"m{m}_s{s}"] = {"m": m, "seed": s, "seconds": 1.0,
                                     "before": {k: float(rng.random()) for k in W.METRICS},
                                     "after": {k: float(rng.random()) for k in W.METRICS}}
    st = W.seed_stats(summary)
    assert set(st) == {"m16", "m32"} and st["m32"]["seeds"] == [0, 1, 2] and st["m16"]["seconds"] == 3.0
    for m in (16, 32):
        for k in W.METRICS:
            v = [summary[f"m{m}_s{s}"]["after"][k] for s in range(3)]
            assert st[f"m{m}"]["after"][k]["mean"] == pytest.approx(np.mean(v), abs=1e-15)
            assert st[f"m{m}"]["after"][k]["std"] == pytest.approx(np.std(v), abs=1e-15)
            assert st[f"m{m}"]["after"][k]["values"] == v
