"""SNNWM model: validation, the .npz format, the segment semantics of window/overlap mode
and the readout (by hand), the op and membrane-access counts (ratio L against the
per-step LIF), and the stated cpu-vs-golden bound."""
import numpy as np
import pytest

from spynq.snnwm import ReadoutLayer, SnnwmNetwork, SnnwmParams, WindowLayer, counts, encode, reference, run
from spynq.snnwm.model import random_network, random_rasters

# cpu (float) vs golden (fixed point) on quantized networks: the golden model rounds the
# product once per segment (<= 2^-17) and the leak every step (<= 2^-17), so before the
# first diverging spike |V_cpu - V_golden| stays below ~2^-16 / (1 - decay). Stated bound:
# at most CPU_SPIKE_MISMATCH of all spikes differ, v_last differs by at most CPU_V_ABS
# where a layer's spikes agree, and the readout by at most CPU_O_ABS where its input agrees.
CPU_SPIKE_MISMATCH = 1e-3
CPU_V_ABS = 2e-3
CPU_O_ABS = 2.0**-16


def one(w, L, mode, tau=2.0, theta=1.0, v_rest=0.0):
    return SnnwmNetwork([WindowLayer(np.array([[w]]), L, SnnwmParams(tau, theta, v_rest), mode)])


def test_segments():
    assert reference.segments("window", 4, 10) == [(0, 4, 3), (4, 4, 7), (8, 2, 11)]
    assert reference.segments("overlap", 3, 3) == [(0, 1, 0), (1, 1, 1), (2, 1, 2)]
    assert reference.segments("readout", 7, 5) == [(4, 0, 4)]


def test_algorithm1_by_hand():
    """L = 2, W2 = [0.5, 1]: window n gets I = w1 (0.5 s(2n+1) + 1 s(2n)) for both steps."""
    net = one(1.0, [0.5, 1.0], "window", tau=1 / np.log(2), theta=1.2)  # decay 0.5
    r = np.zeros((1, 6, 1), bool)
    r[0, [0, 3], 0] = True  # window 0: s(0) weighted 1; window 1: s(3) weighted 0.5
    for backend in ("cpu", "golden"):
        res = run(net, r, backend)
        # V: 1.0, 1.5 (spike -> 0) | 0.5, 0.75 | 0.375, 0.1875
        assert res.spikes[0][0, :, 0].tolist() == [False, True, False, False, False, False]
        assert res.v_max[0][0, 0] == pytest.approx(1.5)
        assert res.v_last[0][0, 0] == pytest.approx(0.1875)
        assert res.counts[0] == {"mac": 2, "add": 2, "v_reads": 3, "v_writes": 3}


def test_overlap_by_hand_and_window_equals_overlap_at_window_end():
    net = one(1.0, [1.0, 0.5], "overlap", tau=1 / np.log(2), theta=10.0)
    r = np.zeros((1, 4, 1), bool)
    r[0, 1, 0] = True  # I(t) = s(t) + 0.5 s(t-1): 0, 1, 0.5, 0
    res = run(net, r, "golden")
    assert res.v_max[0][0, 0] == pytest.approx(1.0) and res.v_last[0][0, 0] == pytest.approx((0.5 + 0.5) * 0.5)
    rng = np.random.default_rng(2)
    s = rng.random((2, 12, 5)) < 0.4
    w2 = rng.normal(size=3)
    xw = reference.collect(s, w2, reference.segments("window", 3, 12))
    xo = reference.collect(s, w2, reference.segments("overlap", 3, 12))
    np.testing.assert_array_equal(xw, xo[:, 2::3])


def test_readout_eq9_by_hand():
    rng = np.random.default_rng(4)
    T, n_in = 7, 5
    ro = ReadoutLayer(np.round(rng.normal(size=(n_in, 3)) * 4096) / 4096, np.round(rng.normal(size=T + 1) * 4096) / 4096)
    s = rng.random((2, T, n_in)) < 0.5
    want = sum(ro.w2[k] * (s[:, T - 1 - k].astype(float) @ ro.w1) for k in range(T))  # delay T adds nothing
    for backend in ("cpu", "golden"):
        res = run(SnnwmNetwork([], ro), s, backend)
        np.testing.assert_allclose(res.readout, want, atol=2.0**-16)
        assert res.spikes == [] and res.counts[0]["v_reads"] == 0


@pytest.mark.parametrize("L", [1, 2, 4, 8, 3, 5])
def test_membrane_access_ratio_is_L(L):
    rng = np.random.default_rng(L)
    T = 24
    net = random_network(rng, [64, 48], L, "window")
    r = random_rasters(rng, 3, T, 64, 0.1)
    res = run(net, r, "golden")
    lif = counts.per_step_lif_counts(r, 48)
    n_win = -(-T // L)
    assert res.counts[0]["v_reads"] == res.counts[0]["v_writes"] == 3 * n_win * 48
    ratio = lif["v_reads"] / res.counts[0]["v_reads"]
    assert ratio == T / n_win  # = L when L divides T; the partial last window rounds up
    if T % L == 0:
        assert ratio == L
    assert res.counts[0]["add"] == int(r.sum())  # each spike is added once, into its window
    assert res.counts[0]["mac"] <= lif["mac"]  # a window's nonzero inputs <= its spikes


def test_validation_messages():
    with pytest.raises(ValueError, match="tau"):
        SnnwmParams(tau=0).validate()
    with pytest.raises(ValueError, match="mode"):
        one(1.0, [1.0], "sliding")
    with pytest.raises(ValueError, match="w2"):
        SnnwmNetwork([WindowLayer(np.ones((2, 2)), np.ones((2, 2)), SnnwmParams(2.0))])
    with pytest.raises(ValueError, match="n_in=3"):
        SnnwmNetwork([WindowLayer(np.ones((2, 2)), [1.0], SnnwmParams(2.0))], ReadoutLayer(np.ones((3, 2)), [1.0]))
    with pytest.raises(ValueError, match="at least one"):
        SnnwmNetwork([])
    with pytest.raises(ValueError, match="Q3.12"):
        encode.pack_network(one(9.0, [1.0], "window"))
    with pytest.raises(ValueError, match="Q3.12"):
        encode.pack_network(one(1.0, [8.5], "window"))
    with pytest.raises(ValueError, match="rounds to 1.0 in UQ0.16"):
        encode.pack_network(one(1.0, [1.0], "window", tau=1e7))
    big = random_network(np.random.default_rng(0), [600, 600], 2)
    with pytest.raises(ValueError, match="W1 words"):
        encode.pack_network(big)
    with pytest.raises(ValueError, match="n_in=4"):
        run(random_network(np.random.default_rng(0), [4, 3]), np.zeros((1, 5, 3), bool), "cpu")
    with pytest.raises(ValueError, match="needs T"):
        random_network(np.random.default_rng(0), [4, 3], readout=True)


def test_npz_round_trip(tmp_path):
    net = random_network(np.random.default_rng(3), [10, 7, 5, 3], 4, "mixed", readout=True, T=9)
    path = tmp_path / "net.npz"
    net.save_npz(path)
    back = SnnwmNetwork.load_npz(path)
    assert back.sizes == net.sizes and back.readout.K == 10
    for a, b in zip(net.layers, back.layers):
        np.testing.assert_array_equal(a.w1, b.w1)
        np.testing.assert_array_equal(a.w2, b.w2)
        assert a.params == b.params and a.mode == b.mode
    np.testing.assert_array_equal(net.readout.w2, back.readout.w2)
    with np.load(path) as z:
        assert int(z["format_version"]) == 1
    np.savez(tmp_path / "bad.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a spynq SNNWM"):
        SnnwmNetwork.load_npz(tmp_path / "bad.npz")


def test_cpu_within_stated_bound_of_golden():
    rng = np.random.default_rng(11)
    spikes = mismatched = 0
    for i in range(12):
        T = 40
        net = random_network(rng, [int(rng.integers(5, 80)), int(rng.integers(3, 60)), int(rng.integers(2, 20)), 4],
                             int(rng.integers(1, 9)), "mixed", readout=True, T=T)
        r = random_rasters(rng, 3, T, net.n_in, 0.1)
        c, g = run(net, r, "cpu"), run(net, r, "golden")
        same = np.ones(3, bool)
        for k in range(len(net.layers)):
            spikes += c.spikes[k].sum()
            mismatched += (c.spikes[k] != g.spikes[k]).sum()
            same &= (c.spikes[k] == g.spikes[k]).all(axis=(1, 2))
            assert np.all(np.abs(c.v_last[k] - g.v_last[k])[same] <= CPU_V_ABS)
        assert np.all(np.abs(c.readout - g.readout)[same] <= CPU_O_ABS)
        for kc, kg in zip(c.counts, g.counts):
            assert kc["v_reads"] == kg["v_reads"]
    assert spikes > 1000
    assert mismatched <= CPU_SPIKE_MISMATCH * spikes, (mismatched, spikes)
