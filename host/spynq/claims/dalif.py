"""DA-LIF (Zhang, Yu, Zhang, Wang): models_neurons.md section 3.5, items 2, 3, 13, 14 of
section 8."""
from __future__ import annotations

import numpy as np

from . import _common as C
from .registry import Claim, Measured

PAPER = "dalif"
TITLE = "DA-LIF: Dual Adaptive Leaky Integrate-and-Fire model"

# Table III rows as printed: (dataset, T, ACs, MACs, Params (M), Energy (mJ))
TABLE3 = (("cifar100", 4, 143.31e6, 56.55e6, 11.3, 0.3891),
          ("imagenet", 4, 1.33e9, 974.86e6, 11.7, 5.6814),
          ("cifar10dvs", 16, 1.42e9, 863.85e6, 11.2, 5.2517))


def _energy(acs, macs):
    from ..nn_costs import energy_mj

    return lambda: Measured(energy_mj(macs, acs), "E = MACs * 4.6 pJ + ACs * 0.9 pJ (45 nm) on the table's op counts")


def _ratio():
    from ..nn_costs import E_AC_PJ, E_MAC_PJ

    return Measured(E_MAC_PJ / E_AC_PJ, f"E_MAC / E_AC = {E_MAC_PJ} pJ / {E_AC_PJ} pJ")


def _raw(v):
    from ..nn import Param

    return Param(value=v, fn="raw", learn=False)


def _lif_limit():
    from .. import nn

    out = []
    for tau in (2.0, 4.0):
        out.append(C.same_dynamics(nn.DALIF(alpha=_raw(1 / tau), beta=_raw(1 - 1 / tau)), nn.LIF(tau=tau),
                                   C.inputs(0, scale=0.75 * tau)))
    ok = all(m.value for m in out)
    return Measured(ok, "tau = 2, 4: " + "; ".join(m.note for m in out))


def _if_limit():
    from .. import nn

    # IF with a hard reset to 0: BIDL's procedure with no leak (alpha = 1, beta = 0)
    return C.same_dynamics(nn.DALIF(alpha=_raw(1.0), beta=_raw(1.0)), nn.BIDL(alpha=1.0, beta=0.0, v_th=1.0))


def _aia_limit():
    from .. import nn

    return C.same_dynamics(nn.DALIF(alpha=_raw(1.0), beta=_raw(0.5)), nn.AIA(lam=0.5, f="identity"))


def _surrogate():
    from ..nn import DALIF

    sg = DALIF().surrogate
    x = np.linspace(-1.0, 1.0, 2001)  # x = V - V_th
    g = np.asarray(sg.grad(x, np))
    inside = np.abs(x) < 0.5
    ok = bool(np.all(g[inside] == 1.0) and np.all(g[~inside] == 0.0))
    return Measured(ok, f"1 on |V - V_th| < 0.5 ({int(inside.sum())} points), 0 elsewhere (edges: strict, note 3.2)")


def _t1_beta():
    from .. import nn

    xs = C.inputs(T=1)
    m = C.same_dynamics(nn.DALIF(beta=_raw(0.1)), nn.DALIF(beta=_raw(0.9)), xs)
    note = m.note
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return Measured(m.value, note + " (gradient not checked: no jax)")
    layer = nn.DALIF()
    net = nn.Sequential(layer)
    p = net.init(0)

    def loss(braw):
        q = {layer.name: dict(p[layer.name], beta=braw)}
        out, aux = net.apply(q, jnp.asarray(xs), xp=jnp)
        return jnp.sum(aux.records[layer.name]["h"])

    g = float(jax.grad(loss)(jnp.asarray(1.0)))
    return Measured(m.value and g == 0.0, note + f"; d(sum h)/d beta = {g:g} (jax)")


def _overhead():
    from .. import nn
    from ..nn_costs import learnable_params

    layer = nn.DALIF()
    return Measured(learnable_params(layer, layer.init(np.random.default_rng(0))),
                    "learnable entries of one spynq.nn.DALIF layer (alpha, beta; v_th fixed)")


def _overhead_network():
    """D6 on the DA-LIF builder (spynq.nn.models.dalif): learnable parameters beyond the
    same network with fixed-decay LIF neurons, per spiking layer."""
    from .. import nn
    from ..nn.models import dalif
    from ..nn_costs import count_params

    net = dalif.build()
    ref = dalif.build(neuron=lambda: nn.LIF(2.0))
    k = len(net.neuron_layers)
    extra = count_params(net) - count_params(ref)
    return Measured(extra / k, f"{count_params(net):,} vs {count_params(ref):,} learnable: {extra} extra over {k} "
                               "spiking layers")


def _params(in_ch, classes, stem, what):
    from .. import nn

    def f():
        n = C.count(C.resnet18_layers(in_ch, classes, stem, neuron=nn.DALIF))
        return Measured(n / 1e6, f"{n:,} = {what} built from spynq.nn layers, + 2 x 17 DA-LIF decays")
    return f


def claims() -> list:
    L = []
    for name, T, acs, macs, params, e in TABLE3:
        L.append(Claim(f"dalif.energy.{name}", PAPER, "Table III", f"energy per sample, {name} T={T}", e, tol=5e-5,
                       compute=_energy(acs, macs), unit="mJ"))
    L.append(Claim("dalif.energy.ratio", PAPER, "Sec. IV (Table III text)",
                   "each synaptic operation in an ANN equates to roughly five in an SNN (E_MAC / E_AC)", 5.0, tol=0.5,
                   compute=_ratio))
    L.append(Claim("dalif.params.imagenet", PAPER, "Table III", "Params, ImageNet (ResNet-18 assumed: the table "
                   "names no network)", 11.7, tol=0.05, compute=_params(3, 1000, "imagenet", "ResNet-18 (ImageNet)"),
                   unit="M"))
    L.append(Claim("dalif.params.cifar10dvs", PAPER, "Table III", "Params, CIFAR10-DVS (CIFAR-style ResNet-18, "
                   "2 input channels, 10 classes, assumed)", 11.2, tol=0.05,
                   compute=_params(2, 10, "cifar", "CIFAR ResNet-18, 2 in, 10 classes"), unit="M"))
    L.append(Claim("dalif.params.cifar100", PAPER, "Table III", "Params, CIFAR-100 (CIFAR-style ResNet-18, "
                   "100 classes, assumed)", 11.3, tol=0.05,
                   compute=_params(3, 100, "cifar", "CIFAR ResNet-18, 100 classes"), unit="M",
                   why_differs="neither the CIFAR ResNet-18 with 100 classes nor ResNet-19 (12.72M, note 3.5) has "
                               "11.3M: the network of this row is unknown (note E14)"))
    L.append(Claim("dalif.limit.lif", PAPER, "Eq.4 vs Eq.9", "alpha = 1/tau, beta = 1 - 1/tau gives vanilla LIF "
                   "(V_rest = 0) exactly", True, compute=_lif_limit))
    L.append(Claim("dalif.limit.if", PAPER, "Eq.9", "alpha = beta = 1 gives the IF neuron with hard reset", True,
                   compute=_if_limit))
    L.append(Claim("dalif.limit.aia", PAPER, "Eq.9 vs AIA Eq.2", "alpha = 1, beta = lambda gives u = lambda u "
                   "(1 - o) + x (the AIA baseline)", True, compute=_aia_limit))
    L.append(Claim("dalif.surrogate", PAPER, "Eq.11", "rectangular surrogate, a = 1: gradient 1 within 0.5 of the "
                   "threshold, 0 outside", True, compute=_surrogate))
    L.append(Claim("dalif.limit.t1", PAPER, "Sec. IV-D (ablation)", "at T = 1 beta has no effect (H^0 = 0) and its "
                   "gradient is 0", True, compute=_t1_beta))
    L.append(Claim("dalif.overhead", PAPER, "Sec. III (Eq.9)", "minimal additional parameters: 2 per spiking layer",
                   2, compute=_overhead))
    L.append(Claim("dalif.overhead.network", PAPER, "Sec. III (Eq.9)", "the DA-LIF network (scaled VGG builder) has "
                   "2 learnable parameters per spiking layer more than its LIF twin", 2, compute=_overhead_network))
    L.append(Claim("dalif.text.resnet20", PAPER, "Sec. IV-B", "1.28 % improvement on CIFAR-100, ResNet-20, T = 2 "
                   "(72.07 vs MPBN 70.79)", 1.28, tol=0.005, compute=lambda: C.delta(70.79, 72.07), kind="arithmetic"))
    L.append(Claim("dalif.text.dvs171", PAPER, "Sec. IV-C", "1.71 % improvement on CIFAR10-DVS", 1.71,
                   out_of_reach="the baseline is not named and no pair of Table II rows gives 1.71 (best prior STSA "
                                "79.93 gives 2.49, MPBN ResNet-20 78.70 gives 3.72): unverifiable (note E13)"))
    L.append(Claim("dalif.ops.table3", PAPER, "Table III", "ACs and MACs per sample (e.g. 143.31M ACs, CIFAR-100)",
                   143.31, unit="M", out_of_reach="needs the trained networks' firing rates (nn_costs.costs counts "
                                                  "them from any run; the training is CIFAR/ImageNet scale)"))
    L.append(Claim("dalif.acc.table1", PAPER, "Table I", "static accuracies, e.g. ImageNet ResNet-34 T=4 70.58 %",
                   70.58, unit="%", out_of_reach="1000-epoch CIFAR and 320-epoch ImageNet training on GPUs"))
    L.append(Claim("dalif.acc.table2", PAPER, "Table II", "neuromorphic accuracies, e.g. DVS128 Gesture VGG-11 T=16 "
                   "98.61 %", 98.61, unit="%", out_of_reach="CIFAR10-DVS / DVS128 data sets and GPU training"))
    L.append(Claim("dalif.acc.ablation", PAPER, "Fig.1a, Fig.2", "decays add up to 1.84 %; alpha +0.76, beta +0.37, "
                   "both +1.28 (CIFAR-100 ResNet-20)", 1.84, unit="%",
                   out_of_reach="CIFAR-100 training runs of ResNet-20 with and without each decay"))
    return L
