"""STCA-SNN (Li and Yang): models_neurons.md section 7.6, items 8 and 12 of section 8."""
from __future__ import annotations

import math

import numpy as np

from . import _common as C
from .registry import Claim, Measured, OutOfReach

PAPER = "stca"
TITLE = "STCA-SNN: temporal-channel joint self-attention"



def _module_params():
    from ..nn.attention import STCA
    from ..nn_costs import count_params

    got = {c: count_params([STCA(c)]) for c in (128, 256, 512)}
    ok = all(n == 3 * c * c for c, n in got.items())
    return Measured(got[128] if ok else -1, "spynq.nn.attention.STCA: " + ", ".join(f"C = {c}: {n:,}" for c, n in
                                                                                   got.items()))


def _paper_total(name, attention=True):
    def f():
        from .. import nn
        from ..nn.models import stca as M
        from ..nn_costs import learnable_params

        net = M.paper(name, attention=attention)
        r = np.random.default_rng(0)
        per = {}
        for l in net.layers:
            if isinstance(l, nn.Neuron):
                continue  # PLIF's a (one per layer) is not in the note's count
            kind = type(l).__name__
            per[kind] = per.get(kind, 0) + learnable_params(l, l.init(r))
        return Measured(sum(per.values()), "spynq.nn.models.stca.paper(%r): " % name +
                        ", ".join(f"{k} {v:,}" for k, v in per.items()))
    return f


def _features(seed, T=7, B=3, C=8):
    return np.random.default_rng(seed).normal(size=(T, B, C, 4, 4))


def _attention():
    from ..nn.attention import STCA, stca

    bad = []
    for seed in range(3):
        p = STCA(8).init(np.random.default_rng(seed))
        xs = _features(seed)
        r = stca(p, xs)
        a = r["att"]
        if a.shape != (3, 4, 7, 7) or np.any(a < 0) or np.max(np.abs(a.sum(-1) - 1)) > 1e-14:
            bad.append(f"attention rows (seed {seed})")
        if not np.all((r["gate"] > 0) & (r["gate"] < 1)) or r["out"].shape != xs.shape:
            bad.append(f"gate / shape (seed {seed})")
    return Measured(not bad, "3 random [T=7, B=3, C=8, 4, 4] inputs, 4 heads: attention [B, 4, 7, 7] rows >= 0 "
                             f"summing to 1 within 1e-14, gate in (0, 1), output shape kept; {bad or 'no violation'}")


def _equivariance():
    from ..nn.attention import STCA, stca

    worst = 0
    for seed in range(4):
        p = STCA(8).init(np.random.default_rng(seed))
        xs = _features(10 + seed)
        perm = np.random.default_rng(20 + seed).permutation(xs.shape[0])
        a, b = stca(p, xs), stca(p, xs[perm])
        worst += sum(int(np.sum(b[k] != a[k][perm])) for k in ("R", "A", "gate", "out"))
        worst += int(np.sum(b["att"] != a["att"][:, :, perm][:, :, :, perm]))
    return Measured(worst == 0, f"4 random inputs and step permutations: {worst} entries of R, A, f, the attention "
                                "and the output differ from the permuted originals (bitwise; sums over steps in "
                                "sorted order)")


def _limits():
    from ..nn.attention import STCA, stca

    p = STCA(8).init(np.random.default_rng(5))
    xs = _features(5)
    z = np.zeros((8, 8))
    r0 = stca(dict(p, wv=z), xs)
    ok_v = np.array_equal(r0["A"], np.zeros_like(r0["A"])) and np.array_equal(r0["gate"], 1 / (1 + np.exp(-r0["R"])))
    r1 = stca(dict(p, wq=z), xs)
    ok_q = bool(np.all(r1["att"] == 1.0 / xs.shape[0]))
    g = stca(p, np.broadcast_to(xs[:1], xs.shape).copy())["gate"]
    ok_c = bool(np.all(g == g[:1]))
    return Measured(bool(ok_v and ok_q and ok_c), f"W_V = 0 -> f = sigmoid(R): {ok_v}; W_Q = 0 -> uniform 1/T: "
                                                  f"{ok_q}; time-constant input -> time-constant f: {ok_c}")


def _fd():
    C.need_jax()
    import jax
    import jax.numpy as jnp
    from jax.experimental import enable_x64

    from ..nn.attention import STCA, stca

    xs = _features(12, T=4, B=2)
    p = STCA(8).init(np.random.default_rng(12))
    w = np.random.default_rng(13).normal(size=xs.shape)
    f = lambda q: float(np.sum(stca(q, xs)["out"] * w))
    with enable_x64():  # float64 for the comparison, without changing the process's setting
        g = jax.grad(lambda q: jnp.sum(stca(q, jnp.asarray(xs), xp=jnp)["out"] * w))(
            {k: jnp.asarray(v) for k, v in p.items()})
        g = {k: np.asarray(v) for k, v in g.items()}
    worst, eps = 0.0, 1e-6
    for k in ("wq", "wk", "wv"):
        for idx in ((0, 0), (3, 5), (7, 2)):
            hi, lo = {a: v.copy() for a, v in p.items()}, {a: v.copy() for a, v in p.items()}
            hi[k][idx] += eps
            lo[k][idx] -= eps
            fd = (f(hi) - f(lo)) / (2 * eps)
            worst = max(worst, abs(float(g[k][idx]) - fd) / max(abs(fd), 1e-6))
    return Measured(worst, "JAX gradient of sum(w * out) vs central differences (eps 1e-6) of the numpy forward, "
                           "9 coordinates of W_Q, W_K, W_V: largest relative gap")


def _mse_zero():
    from ..nn import train

    y = np.eye(4)[[2]]
    ok = [float(train.task_loss("mse", y.copy(), y, np)) == 0.0]
    for r in ([[0, 0, 0.9, 0]], [[0.1, 0, 1, 0]], [[0, 0, 0, 0]]):
        ok.append(float(train.task_loss("mse", np.array(r, float), y, np)) > 0)
    return Measured(all(ok), "spynq.nn.train's 'mse' on aggregated rates: 0 for the one-hot rates, > 0 for a "
                             "rate 0.9 on the target, 0.1 elsewhere, or silence")


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
              "C = 128 / 256 / 512; the value: C = 128)", 49_152, compute=_module_params),
        Claim("stca.params.nmnist", PAPER, "Table 2 (note 7.5)", "N-MNIST network at 34x34: 17,181,440 parameters "
              "(conv, BN, FC without bias, one STCA; PLIF's a not counted)", 17_181_440, compute=_paper_total("nmnist")),
        Claim("stca.params.cifar10dvs", PAPER, "Table 2 (note 7.5)", "CIFAR10-DVS VGG11-like at 48x48: 10,251,786 "
              "parameters (two STCA modules: 983,040)", 10_251_786, compute=_paper_total("cifar10dvs")),
        Claim("stca.params.cifar10dvs_vanilla", PAPER, "Table 2 (note 7.5)", "the same network without STCA: "
              "9,268,746", 9_268_746, compute=_paper_total("cifar10dvs", attention=False)),
        Claim("stca.params.caltech", PAPER, "Table 2 (note 7.5)", "N-Caltech 101 network at 48x48: 7,356,928",
              7_356_928, compute=_paper_total("caltech")),
        Claim("stca.attention", PAPER, "Eq.9-12", "T x T row-stochastic attention, gate f in (0, 1), output shape = "
              "input shape", True, compute=_attention),
        Claim("stca.equivariance", PAPER, "Eq.5-12", "exact equivariance to permuting time steps (no positional "
              "encoding)", True, compute=_equivariance),
        Claim("stca.limits", PAPER, "Eq.9-12 (note C3)", "W_V = 0 gives pure pooled gating sigma(R); W_Q = 0 uniform "
              "attention; a time-constant input a time-constant gate", True, compute=_limits),
        Claim("stca.grad", PAPER, "Sec. 3.4 (note C7)", "BPTT through the module: autodiff gradient = finite "
              "differences (relative gap <= 1e-5)", 0.0, tol=1e-5, compute=_fd),
        Claim("stca.loss.mse", PAPER, "Eq.13 (note C8)", "the spike-rate MSE is 0 iff the target's rate is 1 and all "
              "others 0", True, compute=_mse_zero),
        Claim("stca.acc", PAPER, "Tables 3-4, Fig.4", "N-MNIST 99.67, CIFAR10-DVS 81.6, N-Caltech 101 80.88 %; "
              "ablations", 81.6, unit="%", out_of_reach="the DVS data sets and 500-1000-epoch GPU training"),
    ]
