"""Review of direct-learning deep SNNs (Frontiers survey): models_neurons.md sections
5.4-5.5, item 7 of section 8."""
from __future__ import annotations

import numpy as np

from . import _common as C
from .registry import Claim, Measured

PAPER = "review"
TITLE = "Review: direct training of deep SNNs"


def _k(i_of_n):
    def f():
        from ..nn import k_schedule

        n = 100
        return Measured(k_schedule(i_of_n(n), n, 1.0, 10.0), "K_min = 1, K_max = 10, N = 100 epochs")
    return f


def _k_monotone():
    from ..nn import k_schedule

    ks = [k_schedule(i, 100, 1.0, 10.0) for i in range(101)]
    return Measured(bool(np.all(np.diff(ks) > 0)), f"K(0..100) = {ks[0]:g} .. {ks[-1]:g}, K(99) = {ks[99]:.4f}")


def _phi_half():
    from ..nn import DynamicTanh

    vals = [float(DynamicTanh(k=k).primitive(np.asarray(0.0), np)) for k in (0.5, 1.0, 10.0, 1e3)]
    return Measured(all(v == 0.5 for v in vals), f"phi(V_th) for K = 0.5, 1, 10, 1000: {vals}")


def _phi_heaviside():
    from ..nn import DynamicTanh

    x = np.concatenate([-np.logspace(-2, 1, 50), np.logspace(-2, 1, 50)])
    errs = [float(np.max(np.abs(DynamicTanh(k=k).primitive(x, np) - (x > 0)))) for k in (10.0, 100.0, 1e4)]
    return Measured(errs[-1] < 1e-12 and errs[0] > errs[1] > errs[2],
                    f"max |phi - Heaviside| on 0.01 <= |x| <= 10 for K = 10, 100, 1e4: {', '.join(f'{e:.2g}' for e in errs)}")


def _if():
    from .. import nn

    # Eq.1 U = tau U + W O with the hard reset (AIA's form, lam = tau) at tau = 1, vs IF
    return C.same_dynamics(nn.AIA(lam=1.0, f="identity"), nn.BIDL(alpha=1.0, beta=0.0, v_th=1.0))


def _baseline_if():
    """V1 on the review's LIF baseline builder (spynq.nn.models.lif_baseline, tau = 1)
    against the same MLP of IF neurons (BIDL's procedure without leak)."""
    from .. import nn
    from ..nn import tasks
    from ..nn.models import lif_baseline

    net = lif_baseline.build(tau=1.0)
    p = net.init(0)
    ref = nn.Sequential(*[nn.BIDL(alpha=1.0, beta=0.0, v_th=1.0, name=l.name) if l.kind == "neuron" else
                          nn.Linear(l.n_in, l.n_out, name=l.name) for l in net.layers])
    rp = {l.name: (ref.layers[i].init(np.random.default_rng(0)) if l.kind == "neuron" else p[l.name])
          for i, l in enumerate(net.layers)}
    xs = np.swapaxes(tasks.load("digits_rate", T=8, n=60).x_train[:8], 0, 1)
    _, ra = net.apply(p, xs)
    _, rb = ref.apply(rp, xs)
    names = [l.name for l in net.neuron_layers]
    same = all(np.array_equal(ra.records[n]["s"], rb.records[n]["s"]) and
               np.array_equal(ra.records[n]["v"], rb.records[n]["v"]) for n in names)
    spikes = int(sum(ra.records[n]["s"].sum() for n in names))
    return Measured(same and spikes > 0, f"the baseline MLP at tau = 1 vs IF neurons: bitwise equal ({spikes} spikes)")


def _bn_fold():
    from .. import nn

    net = nn.Sequential(nn.Conv2d(3, 5, 3, 1, 1), nn.BatchNorm(5), nn.LIF(2.0))
    p = net.init(2)
    rng = np.random.default_rng(3)
    bn = net.layers[1].name
    p[bn] = {"gamma": rng.uniform(0.5, 2, 5), "beta": rng.normal(size=5), "mean": rng.normal(size=5),
             "var": rng.uniform(0.2, 3, 5)}
    folded, fp = nn.fold_batchnorm(net, p)
    xs = (rng.random((6, 2, 3, 7, 7)) < 0.4).astype(float)
    a, ra = net.apply(p, xs)
    b, rb = folded.apply(fp, xs)
    ka, kb = net.layers[2].name, folded.layers[1].name
    dh = float(np.max(np.abs(ra.records[ka]["h"] - rb.records[kb]["h"])))
    same = np.array_equal(a, b) and dh < 1e-12
    return Measured(bool(same) and len(folded.layers) == 2,
                    f"conv+BN (eval) vs the folded conv: spikes identical, max |dh| = {dh:.2g}, one layer fewer")


def _real_spike():
    from .. import nn
    from ..nn.base import Ctx

    conv = nn.Conv2d(4, 6, 3, 1, 1)
    rng = np.random.default_rng(5)
    p = conv.init(rng)
    a = rng.uniform(0.2, 2.0, 4)
    s = (rng.random((3, 4, 6, 6)) < 0.5).astype(float)
    ctx = Ctx()
    y1 = conv.forward(p, s * a.reshape(1, -1, 1, 1), ctx)
    y2 = conv.forward({"w": p["w"] * a.reshape(1, -1, 1, 1), "b": p["b"]}, s, ctx)
    d = float(np.max(np.abs(y1 - y2)))
    return Measured(d < 1e-12, f"max |conv(a_c s) - conv_{{W'}}(s)| = {d:.2g}")


def _multiply_free():
    from .. import nn
    from ..nn.base import Ctx
    from ..nn_costs import Linear, synops

    lin = nn.Linear(30, 7, bias=False)
    rng = np.random.default_rng(6)
    p = lin.init(rng)
    o = (rng.random((5, 30)) < 0.3).astype(float)
    y = lin.forward(p, o, Ctx())
    cols = np.stack([p["w"][:, r.astype(bool)].sum(axis=1) for r in o])
    d = float(np.max(np.abs(y - cols)))
    acs = synops(Linear(30, 7, bias=False), o)
    return Measured(d < 1e-12 and acs == int(o.sum()) * 7,
                    f"max |W o - column sums| = {d:.2g}; {acs} accumulates = spikes x fan-out, no multiply")


def claims() -> list:
    return [
        Claim("review.if", PAPER, "Sec. 2, Eq.1", "with tau = 1 the LIF of Eq.1 is IF (no leak)", True, compute=_if),
        Claim("review.if.network", PAPER, "Sec. 2, Eq.1", "the LIF baseline network (builder) at tau = 1 is the IF "
              "network", True, compute=_baseline_if),
        Claim("review.k.start", PAPER, "Sec. 3.1.2.1, Eq.6", "dynamic surrogate schedule: K(0) = K_min", 1.0,
              tol=1e-12, compute=_k(lambda n: 0)),
        Claim("review.k.end", PAPER, "Sec. 3.1.2.1, Eq.6", "K(N) = K_max", 10.0, tol=1e-12, compute=_k(lambda n: n)),
        Claim("review.k.monotone", PAPER, "Sec. 3.1.2.1, Eq.6", "K rises from K_min to K_max over training", True,
              compute=_k_monotone),
        Claim("review.phi.half", PAPER, "Sec. 3.1.2.1, Eq.5", "phi(V_th) = 0.5 for every K", True, compute=_phi_half),
        Claim("review.phi.heaviside", PAPER, "Sec. 3.1.2.1, Eq.5", "phi tends to the Heaviside step as K grows",
              True, compute=_phi_heaviside),
        Claim("review.multiply_free", PAPER, "Sec. 2", "binary spikes make the synaptic product multiply-free: W O "
              "is a sum of columns", True, compute=_multiply_free),
        Claim("review.bn_fold", PAPER, "Sec. 3.1.3 (BN)", "BN shared over time folds into the conv weights at "
              "inference", True, compute=_bn_fold),
        Claim("review.real_spike", PAPER, "Sec. 3.1.1 (Real Spike)", "a per-channel spike scale re-parameterises "
              "into the next conv's kernel", True, compute=_real_spike),
        Claim("review.bn_per_t", PAPER, "Sec. 3.1.3 (BNTT, TEBN)", "per-timestep BN folds into T weight sets, not "
              "one", True, out_of_reach="spynq.nn has no per-timestep BN layer"),
        Claim("review.sew", PAPER, "Sec. 3.2 (SEW ResNet)", "SEW ADD outputs lie in {0, 1, 2}", True,
              out_of_reach="no residual (SEW / MS) blocks in spynq.nn yet"),
        Claim("review.cited", PAPER, "Sec. 5.4", "numbers reported from cited works (0.68x synaptic ops, 2x fewer "
              "parameters, 94 % energy, 5,000 FPS, ...)", None,
              out_of_reach="they are the cited papers' results, with their models and data"),
    ]
