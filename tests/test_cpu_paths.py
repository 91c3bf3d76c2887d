"""The fast numpy cpu paths (issue 12) against straightforward loop formulations, and the
float runs' clip flags.

Inputs are exactly representable (weights on the kernels' Q3.12 grid, decays on UQ0.16),
so every delivered sum is exact in float64 and the fast paths must give the same bits as
the loops below, whatever order they add in; the neuron updates after the sums are the
same float operations in the same order, so v_last / v_max must be bit-identical too.
The loops are the reference formulations as written before the rewrite (one np.where per
state per step, one Python-level addition per synaptic event)."""
import numpy as np
import pytest

from spynq.lif import LifLayer, LifNetwork, LifParams
from spynq.lif import reference as lif_ref
from spynq.lif.model import random_network
from spynq.snnwm import reference as snn_ref
from spynq.snnwm.model import ReadoutLayer, SnnwmNetwork, SnnwmParams, WindowLayer
from spynq.stm.model import LinearGaussian


def grid(rng, shape, lim=7.9, frac=12):
    return np.round(rng.uniform(-lim, lim, shape) * 2 ** frac) / 2 ** frac


def same(a, b):
    """Bit-identical arrays (same dtype, shape and bits; NaN-free here)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# --------------------------------------------------------------------------- LIF loops


def loop_delivery(spikes, w, d):
    """One addition per synaptic event, in event order, into the step it arrives at."""
    batch, T, _ = spikes.shape
    x = np.zeros((batch, T, w.shape[1]))
    for b, t, i in zip(*np.nonzero(spikes)):
        for j in range(w.shape[1]):
            dd = 0 if d is None else int(d[i] if d.ndim == 1 else d[i, j])
            if t + dd < T:
                x[b, t + dd, j] += float(w[i, j])
    return x


def loop_layer(layer, spikes_in):
    """The per-step formulation of the update order (deliver, integrate, fire, reset)."""
    p = layer.params
    x = loop_delivery(spikes_in, layer.weights, layer.delays)
    batch, T, n = x.shape
    v, cur = np.zeros((batch, n)), np.zeros((batch, n))
    ref = np.zeros((batch, n), np.int64)
    vmax, vmin = np.full((batch, n), -np.inf), np.full((batch, n), np.inf)
    out = np.zeros((batch, T, n), bool)
    i_out = np.zeros(batch, bool)
    for t in range(T):
        if p.beta is not None:
            cur = p.beta * cur + x[:, t]
            i_out |= ((cur < lif_ref.V_LO) | (cur > lif_ref.V_HI)).any(axis=1)
            u = cur
        else:
            u = x[:, t]
        active = ref == 0
        ref = np.where(active, ref, ref - 1)
        v = np.where(active, p.alpha * v + u, v)
        vmax = np.where(active, np.maximum(vmax, v), vmax)
        vmin = np.where(active, np.minimum(vmin, v), vmin)
        s = active & (v >= p.threshold)
        v = np.where(s, p.v_reset if p.reset == "zero" else v - p.threshold, v)
        ref = np.where(s, p.refractory, ref)
        out[:, t] = s
    v_out = ((vmax > lif_ref.V_HI) | (vmin < lif_ref.V_LO)).any(axis=1)
    flags = np.where(v_out, lif_ref.V_SAT, 0) | np.where(i_out, lif_ref.I_SAT, 0)
    return out, v, vmax, flags


@pytest.mark.parametrize("mode", ["synapse", "axonal", None])
def test_lif_delivery_equals_the_event_loop(mode):
    rng = np.random.default_rng(3)
    for trial in range(12):
        batch, T, n_in, n_out = int(rng.integers(2, 5)), int(rng.integers(1, 14)), int(rng.integers(1, 30)), \
            int(rng.integers(1, 40))
        s = rng.random((batch, T, n_in)) < rng.uniform(0.0, 0.7)
        if trial == 0:
            s[:] = False  # an empty raster
        elif trial == 1:
            s[1] = False  # an empty sample in a batch
        w = grid(rng, (n_in, n_out))
        d = None if mode is None else rng.integers(0, 128, n_in if mode == "axonal" else (n_in, n_out))
        got = lif_ref.delayed_input(s, w, d)
        assert same(got, loop_delivery(s, w, d)), (mode, trial)


def test_lif_delivery_chunks_and_integer_weights():
    """Many events across scatter chunks (a chunk of 1 event, of a few, of all), and the
    golden model's integer weights: the same sums in every case."""
    rng = np.random.default_rng(4)
    s = rng.random((3, 9, 17)) < 0.5
    wi = rng.integers(-(1 << 19), 1 << 19, (17, 6))  # Q3.12 << 4, as spynq.lif.golden passes them
    # delays < T - 1: early events take whole rows; up to 127: every event is late and
    # takes its first few synapses (one by one, or whole rows cut to width)
    for dmax in (3, 127):
        d = rng.integers(0, dmax + 1, (17, 6))
        want = loop_delivery(s, wi.astype(float), d)
        for chunk in (1, 6, 50, 1 << 20):
            assert same(lif_ref.delayed_input(s, wi, d, chunk=chunk), want), (dmax, chunk)


def test_lif_layers_equal_the_step_loop():
    rng = np.random.default_rng(5)
    cases = 0
    for beta in (None, 0.75):
        for reset in ("zero", "subtract"):
            for refractory in (0, 2):
                net = random_network(rng, [23, 19], "synapse", max_delay=127, weight_scale=4.0)
                layer = net.layers[0]
                layer.params = LifParams(alpha=0.8125, beta=beta, threshold=0.75, reset=reset, v_reset=0.25,
                                         refractory=refractory)
                s = rng.random((3, 40, 23)) < 0.3
                got = lif_ref.run_layer(layer, s, clip=True)
                want = loop_layer(layer, s)
                assert got[0].any() and not got[0].all()  # spikes that depend on the details
                for g, w_, name in zip(got, want, ("spikes", "v_last", "v_max", "flags")):
                    assert same(g, w_ if name != "flags" else w_.astype(np.int64)), (beta, reset, refractory, name)
                assert len(lif_ref.run_layer(layer, s)) == 3  # the default return is unchanged
                cases += 1
    assert cases == 8


def test_lif_network_equals_the_step_loop_on_mixed_layers():
    rng = np.random.default_rng(6)
    for trial in range(6):
        net = random_network(rng, [int(rng.integers(2, 30)) for _ in range(3)], "mixed", int(rng.integers(0, 128)))
        r = rng.random((int(rng.integers(2, 4)), int(rng.integers(1, 25)), net.n_in)) < 0.3
        res = lif_ref.run(net, r)
        s = r
        for k, layer in enumerate(net.layers):
            s, v, vmax, _ = loop_layer(layer, s)
            assert same(res.spikes[k], s) and same(res.v_last[k], v) and same(res.v_max[k], vmax), (trial, k)


def _one_neuron(w, beta=None, threshold=1.0, n_in=1):
    return LifNetwork([LifLayer(np.full((n_in, 1), w), None, LifParams(alpha=0.96875, beta=beta,
                                                                       threshold=threshold))])


def test_lif_clip_flags():
    r = np.ones((2, 60, 1), bool)
    r[1] = False  # the second sample gets no input: never out of range
    # V drifts to -7.9 / (1 - alpha) = -253 < -128: the kernel would saturate V
    res, c = lif_ref.run(_one_neuron(-7.9), r, clip=True)
    assert c.flags.tolist() == [lif_ref.V_SAT, 0] and c.layers.tolist() == [1, 0]
    assert res.v_last[0][0, 0] < -128  # the float result is not clipped, it says so
    # 20 inputs of -7.9 into a current state with beta 0.75: I -> -632, V further down
    r20 = np.ones((2, 30, 20), bool)
    r20[1] = False
    _, c = lif_ref.run(_one_neuron(-7.9, beta=0.75, n_in=20), r20, clip=True)
    assert c.flags.tolist() == [lif_ref.V_SAT | lif_ref.I_SAT, 0]
    # the same inputs with a weight that keeps I and V well inside the range
    _, c = lif_ref.run(_one_neuron(-0.05, beta=0.75, n_in=20), r20, clip=True)
    assert c.flags.tolist() == [0, 0] and c.layers.tolist() == [0, 0]
    # positive drive spikes and resets before it reaches 128: no flag
    _, c = lif_ref.run(_one_neuron(7.9, threshold=100.0), r, clip=True)
    assert c.flags.tolist() == [0, 0]
    # a second layer that clips while the first does not: bit 1 of the layer mask
    net = LifNetwork([LifLayer(np.full((1, 1), 2.0), None, LifParams(alpha=0.5, threshold=1.0)),
                      LifLayer(np.full((1, 1), -7.9), None, LifParams(alpha=0.96875))])
    _, c = lif_ref.run(net, r, clip=True)
    assert c.layers.tolist() == [2, 0] and c.per_layer[0].tolist() == [0, 0]
    assert c.per_layer[1].tolist() == [lif_ref.V_SAT, 0]


# --------------------------------------------------------------------------- SNNWM loops


def loop_collect(spikes, w2, segs):
    """x[b, n, i] = sum_k w2[k] s[b, e_n - k, i], one term at a time."""
    batch, T, n_in = spikes.shape
    x = np.zeros((batch, len(segs), n_in))
    for n, (_, _, e) in enumerate(segs):
        for k, w in enumerate(w2):
            if 0 <= e - k < T:
                x[:, n] += w * spikes[:, e - k]
    return x


def loop_stage(layer, spikes_in):
    """Per segment the current x W1 (row by row), per step the neuron update."""
    batch, T, _ = spikes_in.shape
    segs = snn_ref.segments(layer.mode, layer.L, T)
    x = loop_collect(spikes_in, layer.w2, segs)
    cur = np.stack([np.stack([x[b, n] @ layer.w1 for n in range(len(segs))]) for b in range(batch)])
    p = layer.params
    v = np.zeros((batch, layer.n_out))
    vmax, vmin = np.full(v.shape, -np.inf), np.full(v.shape, np.inf)
    out = np.zeros((batch, T, layer.n_out), bool)
    seg_of = snn_ref.step_segment(segs, T)
    for t in range(T):
        v = p.decay * v + cur[:, seg_of[t]]
        vmax, vmin = np.maximum(vmax, v), np.minimum(vmin, v)
        s = v >= p.threshold
        v = np.where(s, p.v_rest, v)
        out[:, t] = s
    i_out = ((cur < snn_ref.I_LO) | (cur > snn_ref.I_HI)).any(axis=(1, 2))
    v_out = ((vmax > snn_ref.V_HI) | (vmin < snn_ref.V_LO)).any(axis=1)
    flags = (np.where(v_out, snn_ref.V_SAT, 0) | np.where(i_out, snn_ref.I_SAT, 0)).astype(np.int64)
    return out, v, vmax, x, flags


@pytest.mark.parametrize("mode", ["window", "overlap"])
def test_snnwm_stages_equal_the_loops(mode):
    rng = np.random.default_rng(7)
    for trial in range(8):
        n_in, n_out, L, T = int(rng.integers(1, 40)), int(rng.integers(1, 30)), int(rng.integers(1, 7)), \
            int(rng.integers(1, 20))
        layer = WindowLayer(grid(rng, (n_in, n_out), 2.0), np.abs(grid(rng, L, 1.5)),
                            SnnwmParams.from_decay(0.8125, threshold=0.5, v_rest=0.125), mode)
        s = rng.random((int(rng.integers(2, 5)), T, n_in)) < rng.uniform(0.0, 0.6)
        if trial == 0:
            s[:] = False
        got = snn_ref.run_layer(layer, s, clip=True)
        want = loop_stage(layer, s)
        for g, w_, name in zip(got, want, ("spikes", "v_last", "v_max", "x", "flags")):
            assert same(g, w_), (mode, trial, name)
        assert len(snn_ref.run_layer(layer, s)) == 4  # the default return is unchanged


def test_snnwm_readout_equals_the_loop():
    rng = np.random.default_rng(8)
    ro = ReadoutLayer(grid(rng, (13, 5), 2.0), grid(rng, 9, 1.5))
    s = rng.random((3, 8, 13)) < 0.4
    segs = snn_ref.segments("readout", ro.K, 8)
    x = loop_collect(s, ro.w2, segs)
    o, xr, flags = snn_ref.run_readout(ro, s, clip=True)
    assert same(xr, x) and same(o, np.stack([x[b, 0] @ ro.w1 for b in range(3)]))
    assert flags.tolist() == [0, 0, 0]


def test_snnwm_clip_flags():
    T = 12
    r = np.ones((2, T, 64), bool)
    r[1] = False  # no input: no flag
    # V: a strong negative current, V -> I / (1 - decay) far below -128; I itself in range
    layer = WindowLayer(np.full((64, 1), -0.5), np.ones(4), SnnwmParams.from_decay(0.96875))
    _, c = snn_ref.run(SnnwmNetwork([layer]), r, clip=True)
    assert c.flags.tolist() == [snn_ref.V_SAT, 0] and c.layers.tolist() == [1, 0]
    # I: 64 inputs x 4 taps x 7.9 x 7.9 x ... pushed past 32768 with large w2 (window sums)
    big = WindowLayer(np.full((64, 1), -7.9), np.full(4, 7.9 * 4), SnnwmParams.from_decay(0.5))
    _, c = snn_ref.run(SnnwmNetwork([big]), r, clip=True)
    assert c.flags.tolist() == [snn_ref.V_SAT | snn_ref.I_SAT, 0]
    # the readout stage's current: its bit is stage len(layers)
    calm = WindowLayer(np.full((64, 4), 0.01), np.ones(2), SnnwmParams.from_decay(0.5, threshold=0.02))
    net = SnnwmNetwork([calm], ReadoutLayer(np.full((4, 3), 7.9), np.full(T + 1, 7.9 * 200)))
    res, c = snn_ref.run(net, r, clip=True)
    assert res.spikes[0][0].any()  # the readout sees spikes
    assert c.per_layer[0].tolist() == [0, 0] and c.per_layer[1].tolist() == [snn_ref.I_SAT, 0]
    assert c.layers.tolist() == [2, 0]
    # the same network with a small readout weight: nothing out of range
    net.readout.w2 = np.ones(T + 1)
    _, c = snn_ref.run(net, r, clip=True)
    assert c.flags.tolist() == [0, 0]


# --------------------------------------------------------------------------- STM normaliser


def stm_full_form(net, pops, ev):
    """infer_weights with every edge's likelihood matrix over all N parent samples (no
    distinct-value columns) and nothing cached: the formulation before the cache."""
    from spynq.stm import reference as R

    class Full(R._Edge):
        def __init__(self, child, parent, cs, ps):
            self.energy = R.edge_energy(child.dist)
            self.cs, self.ps, self.inv, self.counts = np.asarray(cs), np.asarray(ps), None, None
            self.rows = len(self.cs)
            self.L, self.saturated = R.normalised_likelihood(child, parent, cs, ps)

    orig = R.edge
    R.edge = lambda c, p, cs, ps, memo=None: Full(c, p, cs, ps)
    try:
        return R.infer_weights(net, pops, ev)
    finally:
        R.edge = orig


def test_stm_distinct_value_columns_and_cache_change_nothing_but_rounding():
    import stm_cases
    from spynq.stm import reference as R

    R.clear_cache()
    compact = 0
    for net, pops, ev in stm_cases.random_cases(25, seed=41):
        w, st = R.infer_weights(net, pops, ev)
        wf, stf = stm_full_form(net, pops, ev)
        assert np.array_equal(st, stf)
        np.testing.assert_allclose(w, wf, rtol=1e-12, atol=1e-15)  # sums reassociated
        w2, st2 = R.infer_weights(net, pops, ev)  # from the cache: the same matrices
        # (not always the same bits: BLAS may round a product differently for operands at
        # other addresses)
        np.testing.assert_allclose(w2, w, rtol=1e-13, atol=1e-16)
        assert np.array_equal(st2, st)
        compact += any(R.edge(n, n.parent, pops[n.name], pops[n.parent.name]).inv is not None
                       for n in net.post_order() if not n.observed and n.parent is not None)
    assert compact >= 3  # cases with discrete parents were among them


def test_stm_cache_is_keyed_on_the_populations(monkeypatch):
    from spynq.stm import reference as R
    from spynq.stm import workloads

    R.clear_cache()
    wl = workloads.multi_layer_causal()
    pops = wl.network.sample(300, seed=2)
    ev = wl.evidence(3, seed=1)
    built = []
    real = R._Edge.__init__
    monkeypatch.setattr(R._Edge, "__init__", lambda self, *a: (built.append(a[0].name), real(self, *a))[1])
    w1, _ = R.infer_weights(wl.network, pops, ev)
    n_edges = len(built)
    assert n_edges == 5  # B1, B2 -> A; C1, C2 -> B1; C3 -> B2
    w1b, _ = R.infer_weights(wl.network, pops, ev[:1])  # batch of 1: nothing rebuilt
    assert len(built) == n_edges
    np.testing.assert_allclose(w1b[0], w1[0], rtol=1e-12)
    pops["C1"][:] += 0.25  # changed in place: that edge (and only it) is rebuilt
    w2, _ = R.infer_weights(wl.network, pops, ev)
    assert built[n_edges:] == ["C1"] and not np.allclose(w2, w1)
    np.testing.assert_allclose(w2, stm_full_form(wl.network, pops, ev)[0], rtol=1e-12, atol=1e-15)
    wl.network.nodes["C2"].dist = LinearGaussian(0.8, 0.5, 0.9)  # a new likelihood for C2's edge
    w3, _ = R.infer_weights(wl.network, pops, ev)
    assert built[n_edges + 1:] == ["C2"]
    np.testing.assert_allclose(w3, stm_full_form(wl.network, pops, ev)[0], rtol=1e-12, atol=1e-15)


def test_stm_cache_is_bounded(monkeypatch):
    from spynq.stm import reference as R
    from spynq.stm import workloads

    R.clear_cache()
    wl = workloads.multi_layer_causal()
    pops = wl.network.sample(200, seed=2)
    monkeypatch.setattr(R, "CACHE_BYTES", 200 * 200 * 8 * 2)  # room for two of the three 200 x 200 matrices
    R.infer_weights(wl.network, pops, wl.evidence(2, seed=1))
    assert sum(e.nbytes for e in R._CACHE.values()) <= R.CACHE_BYTES and len(R._CACHE) >= 2


def test_stm_cache_is_safe_from_several_threads(monkeypatch):
    """Four threads on populations of their own, with a cache so small that every call
    evicts: each gets the answer a serial call gives."""
    from concurrent.futures import ThreadPoolExecutor

    from spynq.stm import reference as R
    from spynq.stm import workloads

    wl = workloads.multi_layer_causal()
    ev = wl.evidence(2, seed=1)
    jobs = [wl.network.sample(150, seed=s) for s in range(8)]
    R.clear_cache()
    serial = [R.infer_weights(wl.network, pops, ev)[0] for pops in jobs]
    monkeypatch.setattr(R, "CACHE_BYTES", 150 * 150 * 8 * 2)
    R.clear_cache()
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda pops: R.infer_weights(wl.network, pops, ev)[0], jobs))
            for g, w in zip(got, serial):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)
    assert sum(e.nbytes for e in R._CACHE.values()) <= R.CACHE_BYTES


def test_snnwm_collect_keeps_the_input_dtype_rules():
    """spynq.snnwm.conv feeds float feature maps (float32 too): w * s is rounded as before,
    in s's precision where numpy does so, and every tap adds in order."""
    rng = np.random.default_rng(9)
    for dtype in (np.float32, np.float64):
        s = (rng.random((3, 10, 7)) * 3).astype(dtype)  # not on any grid
        w2 = rng.normal(size=4)
        for mode in ("window", "overlap", "readout"):
            segs = snn_ref.segments(mode, 4, 10)
            assert same(snn_ref.collect(s, w2, segs), loop_collect(s, w2, segs)), (dtype, mode)
