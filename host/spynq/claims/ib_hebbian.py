"""Information-bottleneck (HSIC) three-factor Hebbian rule with a working-memory
reservoir (P6 of models_delays_learning_mapping.md, sections 6.1-6.7 and the cross-paper
list, item 10), computed with spynq.learning.ib_hebbian."""
from __future__ import annotations

import json
import os

import numpy as np

from .registry import Claim, Measured

PAPER = "ib_hebbian"
TITLE = "Information-bottleneck Hebbian rule with working memory"

BIG = "MNIST / CIFAR-10 (downloads) and 15-30 seeds of per-sample training"


def _identity():
    """The note's check: ReLU dense layer, N = 8, sigma_x = 0.7, sigma_y = 0.5,
    sigma_z = 1, gamma = 2; eq. 7's update against central differences of the diagonal
    loss in W with the past outputs frozen. Returns the largest difference."""
    from ..learning import ib_hebbian as I

    rng = np.random.default_rng(0)
    x, y = rng.random((8, 3)), np.eye(3)[rng.integers(0, 3, 8)]
    W, b = rng.standard_normal((4, 3)), 0.3 * rng.standard_normal(4)
    zp = np.maximum(rng.standard_normal((7, 4)), 0.0)

    def loss(W_):
        return I.diag_loss(x, y, np.vstack([np.maximum(W_ @ x[0] + b, 0.0), zp]), 2.0, 0.7, 0.5, 1.0)

    u = W @ x[0] + b
    dW, _ = I.dense_update(I.modulator(x, y, np.vstack([np.maximum(u, 0), zp]), 2.0, 0.7, 0.5, 1.0), u, x[0])
    h = 1e-6
    fd = np.array([[(loss(W + h * np.eye(4)[i][:, None] * np.eye(3)[j]) - loss(W - h * np.eye(4)[i][:, None] *
                                                                               np.eye(3)[j])) / (2 * h)
                    for j in range(3)] for i in range(4)])
    err = float(np.max(np.abs(dW - fd)))
    return Measured(err, f"max |eq. 7 - central difference| over the 4x3 weights (largest entry "
                         f"{np.max(np.abs(dW)):.3g}, {(u > 0).sum()} of 4 units active)")


def _ineq():
    from ..learning import ib_hebbian as I

    rng = np.random.default_rng(0)
    for k in range(100):
        x, z = rng.random((8, 5)), rng.random((8, 4))
        a, b = I.hsic(x, z, 0.5, 0.5), I.hsic_diag(x, z, 0.5, 0.5)
        if a > b:
            return Measured(False, f"random draw {k} (N = 8, sigma = 0.5): trace form {a:.4g} > diagonal form {b:.4g}")
    return Measured(True, "no counterexample in 100 random draws")


def _cached(task):
    from ..learning import ib_hebbian as I
    from .registry import OutOfReach

    if not os.path.exists(I.TOY_JSON):
        raise OutOfReach(f"not run yet: `python -m spynq.learning.ib_hebbian toy` (about 15 minutes for 5 seeds "
                         f"here) writes "
                         f"{I.TOY_JSON}, which this claim reads")
    with open(I.TOY_JSON) as fh:
        return json.load(fh)[task]


def _acc(r):
    return f"{100 * r['mean']:.1f} +- {100 * r['std']:.1f} %"


def _toy(task):
    """Final test accuracy over the seeds of the toy table at Table 3's settings, from the
    JSON `python -m spynq.learning.ib_hebbian toy` computes (too long for the ledger)."""
    def f():
        from ..learning import ib_hebbian as I

        r = _cached(task)
        a, b = r["rule"], r["last_only"]
        extra = []
        if "modes" in a:
            extra.append("the same nets read from rest / as a stream / at the fixed point of eq. 10: " + " / ".join(
                _acc(a["modes"][m]) for m in ("rest", "stream", "steady")))
        for name, what in (("rule_sample_ce", "the readout on the current sample's cross-entropy only"),
                           ("bp", "back-propagation on the same net and stream")):
            if name in r:
                extra.append(f"{what}: {_acc(r[name])}" + (f" (fixed point {_acc(r[name]['modes']['steady'])})"
                                                           if "modes" in r[name] else ""))
        return Measured(100 * a["mean"], f"{_acc(a)} test (each sample from rest, 20 ms, the output averaged over "
                                         f"the last 10 ms) over {len(a['acc'])} seeds, 25 epochs (per seed "
                                         f"{[round(100 * v) for v in a['acc']]}); only the last layer learning: "
                                         f"{_acc(b)}; " + "; ".join(extra) + f"; from {I.TOY_JSON}")
    return f


def _digits():
    """Table 4's MLP claim on the digits stand-in, from `python -m spynq.learning.ib_hebbian digits`."""
    from ..learning import ib_hebbian as I
    from .registry import OutOfReach

    if not os.path.exists(I.DIGITS_JSON):
        raise OutOfReach(f"not run yet: `python -m spynq.learning.ib_hebbian digits` (about 5 minutes for 3 seeds "
                         f"here) writes "
                         f"{I.DIGITS_JSON}, which this claim reads")
    with open(I.DIGITS_JSON) as fh:
        r = json.load(fh)
    a, bp, lo = r["rule"], r["bp"], r["last_only"]
    gap = 100 * (bp["mean"] - a["mean"])
    return Measured(bool(a["mean"] > 0.91 and gap <= 7.0),
                    f"sklearn digits (1500 train / 297 test, 64-128-64-10): the rule {_acc(a)}, BP {_acc(bp)} (gap "
                    f"{gap:.1f} points), only the last layer {_acc(lo)}, over {len(a['acc'])} seeds, "
                    f"{r['settings']['epochs']} epochs at Table 4's MNIST settings; from {I.DIGITS_JSON}")


def _hsic_falls():
    """L_HSIC (eq. 5, trace form, on the held-out samples) of every hidden layer after
    the last epoch vs after the first, for every seed of both toy tasks (the toy table)."""
    from .registry import OutOfReach

    rows, falls = [], True
    for task in ("linear", "xor"):
        r = _cached(task)["rule"]
        if "l_hsic_first_last" not in r:
            raise OutOfReach("the toy table predates the L_HSIC record: rerun `python -m spynq.learning.ib_hebbian toy`")
        for first, last in r["l_hsic_first_last"]:
            falls = falls and all(b < a for a, b in zip(first, last))
            rows.append(f"{task} {[round(v, 3) for v in first]} -> {[round(v, 3) for v in last]}")
    init = []
    for task in ("linear", "xor"):
        c = _cached(task)["rule"].get("curves")
        if c:
            H = np.asarray([cc["l_hsic"] for cc in c])  # seeds x epochs x layers
            low = [int(np.argmin(H[:, :, l].mean(0))) for l in range(H.shape[2])]
            init.append(f"{task}: below the untrained net's at the end in {int((H[:, -1] < H[:, 0]).sum())} of "
                        f"{H[:, 0].size} (seed, layer) cases, the mean lowest at epoch {low} and rising after")
    bp = []
    for task in ("linear", "xor"):
        b = _cached(task).get("bp")
        if b and "l_hsic_first_last" in b:
            f_ = np.mean([v[0] for v in b["l_hsic_first_last"]], 0)
            l_ = np.mean([v[1] for v in b["l_hsic_first_last"]], 0)
            bp.append(f"{task} {[round(float(v), 3) for v in f_]} -> {[round(float(v), 3) for v in l_]}")
    return Measured(bool(falls), "L_HSIC per hidden layer, epoch 1 -> last, the rule, per seed: " + "; ".join(rows)
                    + ("; back-propagation on the same nets (mean over seeds): " + "; ".join(bp) if bp else "")
                    + ("; against epoch 0: " + "; ".join(init) if init else ""))


def _reservoir():
    """The reservoir experiment (Table 2's settings at a smaller reservoir), from the JSON
    `python -m spynq.learning.ib_hebbian reservoir` writes (minutes of FORCE/RLS)."""
    from ..learning import ib_hebbian as I
    from .registry import OutOfReach

    if not os.path.exists(I.RESERVOIR_JSON):
        raise OutOfReach(f"not run yet: `python -m spynq.learning.ib_hebbian reservoir` writes {I.RESERVOIR_JSON}")
    with open(I.RESERVOIR_JSON) as fh:
        r = json.load(fh)
    during = ""
    if "per_epoch" in r:
        during = (f"; while learning (last pass) correlation {r['per_epoch'][-1][0]:.3f}, NRMSE "
                  f"{r['per_epoch'][-1][1]:.3f}; the training samples replayed with learning off "
                  f"{r['replay'][0]:.3f} / {r['replay'][1]:.3f}; RLS every {r.get('learn_every', 1)} steps")
    return Measured(bool(r["corr"] > 0.9), f"test correlation of predicted and true xi {r['corr']:.3f}, NRMSE "
                                           f"{r['nrmse']:.3f} ({r['neurons']} neurons, {r['samples']} sklearn digits "
                                           f"x {r['epochs']} passes, {r['samples']} new test samples, learning off)"
                                           + during)


def claims() -> list:
    return [
        Claim("ib_hebbian.eq7.gradient", PAPER, "eq. 7 (note 6.2)", "the three-factor update is the exact gradient of "
              "the diagonal HSIC loss with the past outputs held fixed (|difference| to finite differences)", 0.0,
              tol=1e-9, compute=_identity),
        Claim("ib_hebbian.eq2.inequality", PAPER, "eq. 2", "HSIC trace form <= the diagonal form", True,
              compute=_ineq, why_differs="not an inequality in general (note 6.1): the diagonal form is the "
                                         "approximation the rule is built on"),
        Claim("ib_hebbian.toy.linear", PAPER, "Sec. 3.2, Fig. 4", "linearly separable task, 1 hidden layer of 4: "
              "nearly 100 % test accuracy", 100.0, tol=3.0, unit="%", compute=_toy("linear"),
              why_differs="eq. 7 and eq. 10 as printed (no LayerNorm, eq. 4's kernel, exact xi from the N-sample "
                          "buffer); the hidden code the rule learns is linearly separable (an offline logistic "
                          "readout on it: 100 % on seeds 0-2) and the same nets score higher at eq. 10's fixed "
                          "point (the note), but a 20 ms "
                          "hold from rest is 4 tau_m: the two cascaded leaky layers have not settled, and the "
                          "readout's bias leads the lagging hidden drive. The separating line, init and the "
                          "readout's memory-window cross-entropy (the authors' code) are our choices"),
        Claim("ib_hebbian.toy.xor", PAPER, "Sec. 3.2, Fig. 4", "noisy XOR, hidden layers of 10 and 4: nearly 100 % "
              "test accuracy", 100.0, tol=3.0, unit="%", compute=_toy("xor"),
              why_differs="the hidden layers limit it (back-propagation on the same net, stream and hold reaches "
                          "~100 %): at gamma = 10 every c_p of eq. 7 is about -gamma/2, nearly the same for every "
                          "sample, so the diagonal rule mostly spreads the hidden codes apart and carries little "
                          "label information; cluster noise (sd 0.1) and init are ours"),
        Claim("ib_hebbian.toy.hsic_falls", PAPER, "Sec. 3.2, Fig. 4 right", "the HSIC bottleneck (eq. 5) decreases "
              "in every layer during training", True, compute=_hsic_falls,
              why_differs="L_HSIC falls over the first 1-4 epochs and then rises again (figure "
                          "build/learning/ib_toy_hsic.png): the rule descends the diagonal approximation; at gamma = "
                          "10 every c_p is negative (-5.8 to -2.5 on memories of both tasks), so it mostly spreads "
                          "the hidden codes apart and the trace-form L_HSIC need not fall"),
        Claim("ib_hebbian.reservoir", PAPER, "Sec. 3.1, Fig. 3", "a reservoir trained with FORCE computes xi closely "
              "and keeps doing so after learning stops (here: test correlation > 0.9)", True, compute=_reservoir,
              why_differs="the readout tracks xi while learning and keeps doing so with learning off on the "
                          "training sequence, but not on new samples: xi depends on the last N = 10 samples (200 ms "
                          "of 84-dimensional input), and the fit does not generalise beyond the 100 training "
                          "samples; the input and feedback scales are not given (ours: inputs U(-0.1, 0.1), no "
                          "feedback)"),
        Claim("ib_hebbian.mnist", PAPER, "Sec. 3.3, Fig. 5", "MNIST MLP above 91 % (within 7 % of BP)", 91.0, unit="%",
              out_of_reach="MNIST is a download (ib_hebbian.mnist_digits runs the sklearn-digits stand-in)"),
        Claim("ib_hebbian.mnist_digits", PAPER, "Sec. 3.3, Fig. 5, Table 4 (stand-in)", "the FC(128)-FC(64)-FC(10) "
              "MLP trained by the rule is above 91 % and within 7 points of BP (here on sklearn's 8x8 digits, the "
              "stand-in for MNIST)", True, compute=_digits,
              why_differs="sklearn digits (1,797 8x8 images, 1,500 for training), not MNIST (60,000 28x28): "
                          "Table 4's MNIST settings (N = 8, gamma = 2, sigma_x 0.5 on 64 rather than 784 inputs) were "
                          "tuned for MNIST; fewer seeds than the paper's 30"),
        Claim("ib_hebbian.cifar", PAPER, "Sec. 3.3, Fig. 5", "CIFAR-10 CNN about 61 % (39 % training the last layer "
              "only)", 61.0, unit="%", out_of_reach=BIG),
        Claim("ib_hebbian.memory", PAPER, "Sec. 3.4, Fig. 6", "CIFAR-10 accuracy grows logarithmically with the "
              "effective batch N", True, out_of_reach=BIG),
    ]
