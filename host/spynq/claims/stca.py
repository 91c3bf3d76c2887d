"""STCA-SNN (Li and Yang): models_neurons.md section 7.6, items 8 and 12 of section 8."""
from __future__ import annotations

import math

import numpy as np

from . import _common as C
from .registry import Claim, Measured, OutOfReach

PAPER = "stca"
TITLE = "STCA-SNN: temporal-channel joint self-attention"

NOT_YET = "the STCA module is not in spynq.nn yet (it comes with the model builders)"


def _tau0():
    from .. import nn
    from ..nn.params import effective

    layer = nn.PLIF(tau0=2.0)
    p = layer.init(np.random.default_rng(0))
    k = float(effective(layer.specs["w"], p["w"], np, 2))
    return Measured(1.0 / k, f"stored a = {float(p['w']):g}, k = sigmoid(a) = {k:g}")


def _fixed_k():
    from .. import nn
    from ..nn import Param

    return C.same_dynamics(nn.PLIF(w=Param(value=0.5, fn="sigmoid", learn=False)), nn.LIF(tau=2.0))


def _k_limits():
    from .. import nn
    from ..nn import Param

    xs = C.inputs(8)
    _, h_hi, _ = C.run_layer(nn.PLIF(w=Param(raw=40.0, fn="sigmoid", learn=False)), xs)
    s_lo, h_lo, v_lo = C.run_layer(nn.PLIF(w=Param(raw=-40.0, fn="sigmoid", learn=False), v_init=0.25), xs)
    d_hi = float(np.max(np.abs(h_hi - xs)))           # memoryless: H = X + V_reset (V_reset = 0)
    d_lo = float(np.max(np.abs(h_lo - 0.25)))         # input ignored, V held
    return Measured(d_hi < 1e-12 and d_lo < 1e-12 and not s_lo.any(),
                    f"a = +40: max |H - X| = {d_hi:.2g}; a = -40: max |H - V_0| = {d_lo:.2g}")


def _atan(what):
    def f():
        from ..nn import ATan

        sg = ATan(alpha=2.0)
        if what == "peak":
            return Measured(float(sg.grad(np.asarray(0.0), np)), "alpha = 2 (SpikingJelly's default; the paper gives none)")
        try:
            from scipy.integrate import quad
        except ImportError:
            raise OutOfReach("needs scipy (quadrature)") from None
        val, err = quad(lambda x: float(sg.grad(np.asarray(x), np)), -math.inf, math.inf)
        return Measured(val, f"quadrature over R (error estimate {err:.1g})")
    return f


def claims() -> list:
    return [
        Claim("stca.plif.tau0", PAPER, "Table 1, Sec. 3.2", "tau_0 = 2.0 with tau = 1/k(a), k = sigmoid: a starts at "
              "0", 2.0, tol=1e-12, compute=_tau0),
        Claim("stca.plif.fixed", PAPER, "Sec. 3.2", "PLIF with a fixed k is LIF with tau = 1/k", True,
              compute=_fixed_k),
        Claim("stca.plif.limits", PAPER, "Sec. 3.2", "k -> 1: memoryless (H = X + V_reset); k -> 0: input ignored, V "
              "held", True, compute=_k_limits),
        Claim("stca.atan.peak", PAPER, "Sec. 3.4", "ATan surrogate sigma'(0) = alpha / 2", 1.0, tol=1e-12,
              compute=_atan("peak")),
        Claim("stca.atan.integral", PAPER, "Sec. 3.4", "the ATan surrogate is the derivative of a 0 -> 1 step: "
              "integral 1", 1.0, tol=1e-8, compute=_atan("integral")),
        Claim("stca.text.cifar", PAPER, "Sec. 4.2", "0.9 % over TCJA-SNN on CIFAR10-DVS (81.6 vs 80.7)", 0.9,
              tol=0.005, compute=lambda: C.delta(80.7, 81.6), kind="arithmetic"),
        Claim("stca.text.caltech", PAPER, "Sec. 4.2", "2.38 % over TCJA-SNN on N-Caltech 101 (80.88 vs 78.5)", 2.38,
              tol=0.005, compute=lambda: C.delta(78.5, 80.88), kind="arithmetic"),
        Claim("stca.params.module", PAPER, "Eq.10-11", "3C^2 parameters per module (49,152 / 196,608 / 786,432 for "
              "C = 128 / 256 / 512)", None, out_of_reach=NOT_YET),
        Claim("stca.attention", PAPER, "Eq.9-12", "T x T row-stochastic attention, gate f in (0, 1), output shape = "
              "input shape", True, out_of_reach=NOT_YET),
        Claim("stca.equivariance", PAPER, "Eq.5-12", "exact equivariance to permuting time steps (no positional "
              "encoding)", True, out_of_reach=NOT_YET),
        Claim("stca.acc", PAPER, "Tables 3-4, Fig.4", "N-MNIST 99.67, CIFAR10-DVS 81.6, N-Caltech 101 80.88 %; "
              "ablations", 81.6, unit="%", out_of_reach="the DVS data sets and 500-1000-epoch GPU training"),
    ]
