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
    """V6 on spynq.nn.residual: LIF -> SpikeScale (Real Spike's a_c s) -> conv -> LIF vs
    the network fold_spike_scale makes (a_c moved into the conv kernel, binary spikes in)."""
    from .. import nn
    from ..nn.residual import SpikeScale, fold_spike_scale

    net = nn.Sequential(nn.LIF(2.0, v_th=0.5), SpikeScale(4), nn.Conv2d(4, 6, 3, 1, 1), nn.LIF(2.0, v_th=0.5))
    p = net.init(5)
    rng = np.random.default_rng(5)
    p[net.layers[1].name]["a"] = rng.uniform(0.2, 2.0, 4)
    p[net.layers[2].name]["w"] = p[net.layers[2].name]["w"] * 3
    folded, fp = fold_spike_scale(net, p)
    xs = rng.uniform(0, 1.2, (6, 3, 4, 6, 6))
    a, ra = net.apply(p, xs)
    b, rb = folded.apply(fp, xs)
    ka, kb = net.layers[3].name, folded.layers[2].name
    dh = float(np.max(np.abs(ra.records[ka]["h"] - rb.records[kb]["h"])))
    n = int(a.sum())
    return Measured(bool(np.array_equal(a, b)) and dh < 1e-12 and n > 0 and len(folded.layers) == 3,
                    f"LIF-scale-conv-LIF vs the folded conv on binary spikes (a_c in [0.2, 2]): {n} output spikes "
                    f"identical, max |dh| = {dh:.2g}")


def _bn_per_t_net(stats_equal: bool, T: int = 5, seed: int = 7):
    """conv + per-timestep BN (eval, random per-step statistics and affine; the same row
    repeated when stats_equal) on spikes: (conv params, BN layer, BN params, conv outputs
    z [T, ...], BN outputs y [T, ...])."""
    from .. import nn
    from ..nn.layers import BatchNormTT

    net = nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1), BatchNormTT(4, T))
    p = net.init(seed)
    rng = np.random.default_rng(seed)
    rows = {"gamma": rng.uniform(0.5, 2, (T, 4)), "beta": rng.normal(size=(T, 4)), "mean": rng.normal(size=(T, 4)),
            "var": rng.uniform(0.2, 3, (T, 4))}
    bn = net.layers[1]
    p[bn.name] = {k: np.tile(v[:1], (T, 1)) if stats_equal else v for k, v in rows.items()}
    xs = (rng.random((T, 2, 3, 7, 7)) < 0.4).astype(float)
    y, _ = net.apply(p, xs)
    z, _ = nn.Sequential(net.layers[0]).apply({net.layers[0].name: p[net.layers[0].name]}, xs)
    return p[net.layers[0].name], bn, p[bn.name], xs, z, y


def _bn_per_t():
    """V5, second half: per-timestep BN folds exactly into T conv weight sets."""
    from ..nn.base import Ctx
    from ..nn.layers import Conv2d

    conv_p, bn, bn_p, xs, _, y = _bn_per_t_net(False)
    sets = bn.fold(conv_p, bn_p)
    conv = Conv2d(3, 4, 3, 1, 1)
    yf = np.stack([conv.forward(sets[t], xs[t], Ctx()) for t in range(len(sets))])
    d = float(np.max(np.abs(yf - y)))
    distinct = len({np.asarray(s["w"]).tobytes() for s in sets})
    return Measured(d < 1e-12 and distinct == bn.steps,
                    f"conv + BNTT (T = {bn.steps}, eval) vs conv with folded set t at step t: max |dy| = {d:.2g}; "
                    f"{distinct} distinct weight sets")


def _bn_per_t_one_set():
    """V5: no single folded set reproduces per-timestep BN unless the steps' statistics
    coincide. The best single set is, per output channel, the least-squares affine map
    y = s z + c over all steps of the conv output z (a folded conv computes exactly s z +
    c): its residual is 0 only if every step uses the same affine map."""
    def best_single_residual(stats_equal):
        _, _, _, _, z, y = _bn_per_t_net(stats_equal)
        worst = 0.0
        for c in range(z.shape[2]):
            zc, yc = z[:, :, c].ravel(), y[:, :, c].ravel()
            A = np.stack([zc, np.ones_like(zc)], axis=1)
            coef = np.linalg.lstsq(A, yc, rcond=None)[0]
            worst = max(worst, float(np.max(np.abs(A @ coef - yc))))
        return worst

    r_diff, r_same = best_single_residual(False), best_single_residual(True)
    return Measured(r_diff > 1e-2 and r_same < 1e-10,
                    f"best single folded set (least squares per channel), max |error|: {r_diff:.3g} with per-step "
                    f"statistics, {r_same:.2g} when they coincide")


def _sew_ms():
    """V7 on spynq.nn.residual: a SEW block (ADD) fed spikes outputs values in {0, 1, 2};
    the spiking-ResNet block outputs {0, 1}; the MS block's output minus its real input
    equals its branch (SN-conv-BN-SN-conv-BN, built separately from plain layers), whose
    convs see only spikes."""
    from .. import nn
    from ..nn.residual import ResidualBlock

    rng = np.random.default_rng(8)
    spikes = (rng.random((6, 2, 4, 8, 8)) < 0.5).astype(float)
    real = rng.normal(0, 1, (6, 2, 4, 8, 8))
    neuron = lambda c: nn.LIF(2.0, v_th=0.5)  # noqa: E731
    vals = {}
    for variant, xs in (("sew", spikes), ("spiking", spikes), ("ms", real)):
        net = nn.Sequential(ResidualBlock(4, 4, 1, variant, neuron=neuron))
        blk = net.layers[0]
        p = net.init(8)
        p[blk.name] = {n: v * 3 if n.endswith(".w") else v for n, v in p[blk.name].items()}
        out, aux = net.apply(p, xs)
        vals[variant] = sorted(float(v) for v in np.unique(out))
    roles = ["sn1", "conv1", "bn1", "sn2", "conv2", "bn2"]
    branch = nn.Sequential(neuron(4), nn.Conv2d(4, 4, 3, 1, 1, bias=False), nn.BatchNorm(4), neuron(4),
                           nn.Conv2d(4, 4, 3, 1, 1, bias=False), nn.BatchNorm(4))
    bp = {l.name: blk._p(p[blk.name], r) for l, r in zip(branch.layers, roles)}
    f, _ = branch.apply(bp, real)
    d = float(np.max(np.abs(out - (real + f))))
    conv_in = sorted({float(v) for r in ("sn1", "sn2") for v in np.unique(aux.records[f"{blk.name}.{r}"]["s"])})
    frac = float(np.mean(out != np.round(out)))
    ok = vals["sew"] == [0.0, 1.0, 2.0] and vals["spiking"] == [0.0, 1.0] and d == 0.0 and conv_in == [0.0, 1.0]
    return Measured(ok, f"output values: SEW {vals['sew']}, spiking ResNet {vals['spiking']}; MS block on real "
                        f"inputs: max |out - (x + branch(x))| = {d:g}, its convs see {conv_in}, {frac:.0%} of its "
                        "outputs non-integer")


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
        Claim("review.bn_per_t", PAPER, "Sec. 3.1.3 (BNTT, TEBN)", "per-timestep BN folds into T weight sets", True,
              compute=_bn_per_t),
        Claim("review.bn_per_t.one_set", PAPER, "Sec. 3.1.3 (BNTT, TEBN)", "per-timestep BN 'can not fold the BN "
              "parameters into the weights': no single weight set unless the steps' statistics coincide", True,
              compute=_bn_per_t_one_set),
        Claim("review.sew", PAPER, "Sec. 3.2 (SEW / MS ResNet)", "SEW ADD outputs lie in {0, 1, 2} (not binary); the "
              "MS shortcut keeps real values", True, compute=_sew_ms),
        Claim("review.cited", PAPER, "Sec. 5.4", "numbers reported from cited works (0.68x synaptic ops, 2x fewer "
              "parameters, 94 % energy, 5,000 FPS, ...)", None,
              out_of_reach="they are the cited papers' results, with their models and data"),
    ]
