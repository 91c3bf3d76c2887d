"""BIDL (Wu et al., Front. Neurosci. 2023): models_neurons.md sections 6.3 and 6.7,
items 1, 5, 6, 10 and 15 of section 8."""
from __future__ import annotations

import numpy as np

from . import _common as C
from .registry import Claim, Measured

PAPER = "bidl"
TITLE = "BIDL: brain-inspired deep learning framework"


def _ops(row):
    return row[0] + row[1]


def _fig4_ratio(num, den, what="ops"):
    def f():
        from ..nn_costs import bidl_fig4

        t = bidl_fig4()
        pick = {"ops": _ops, "add": lambda r: r[1], "weights": lambda r: r[2]}[what]
        a, b = pick(t[num]), pick(t[den])
        note = f"{num} {what} {a:,} / {den} {b:,} (T=8, H=W=16, C=K=64, U=I=J=3)"
        if what == "add":
            note += f"; MUL+ADD ratio {_ops(t[num]) / _ops(t[den]):.4g}"
        return Measured(a / b, note)
    return f


def _formulas():
    from ..nn_costs import bidl_ops, bidl_table1

    shapes = [(8, 16, 16, 64, 64, 3, 3, 3), (3, 5, 7, 4, 2, 2, 5, 5), (1, 1, 1, 1, 1, 1, 1, 1), (10, 6, 6, 8, 3, 3, 3, 3)]
    bad = [s for s in shapes if bidl_ops(*s) != bidl_table1(*s)]
    return Measured(not bad, f"{len(shapes)} settings (T,H,W,C,K,U,I,J) compared; mismatches: {bad or 'none'}")


# -- the reference code's architectures (note 6.7 [REFCODE]) as spynq.nn layers: dense MACs


def _dvs128():
    from .. import nn

    return nn.Sequential(nn.BatchNorm(2), nn.Conv2d(2, 64, 3, 2, 1), nn.BIDL(), nn.Conv2d(64, 128, 3, 2, 1), nn.BIDL(),
                         nn.Conv2d(128, 256, 3, 2, 1), nn.BIDL(), nn.Flatten(), nn.Linear(6400, 256), nn.BIDL(),
                         nn.Linear(256, 11), nn.BIDL(), nn.TemporalAggregate("mean")), (2, 40, 40), 60


def _cifar10dvs():
    from .. import nn

    L = [nn.Conv2d(2, 32, 5, 2, 2), nn.BIDL(), nn.MaxPool2d(2)]
    for c in (32, 64, 128, 256):
        L += [nn.Conv2d(c, 2 * c, 3, 1, 1), nn.BIDL(), nn.MaxPool2d(2)]
    # Linear-ReLU-Linear head per step (the ReLU does no MACs and is left out)
    L += [nn.Flatten(), nn.Linear(2048, 512), nn.Linear(512, 10), nn.TemporalAggregate("mean")]
    return nn.Sequential(*L), (2, 128, 128), 10


def _luna16():
    from .. import nn

    L = []
    for ci, co in ((1, 32), (32, 64), (64, 128)):
        L += [nn.Conv2d(ci, co, 3, 1, 1), nn.BIDL(), nn.MaxPool2d(2)]
    L += [nn.Flatten(), nn.Linear(2048, 512), nn.Linear(512, 128), nn.Linear(128, 2), nn.TemporalAggregate("mean")]
    return nn.Sequential(*L), (1, 32, 32), 8


def _dense_gops(build):
    def f():
        from ..nn_costs import shapes_of, totals

        net, shape, T = build()
        macs = totals(shapes_of(net, shape, T))["dense_macs"]
        return Measured(macs / 1e9, f"{macs:,} dense conv + linear MACs over T={T}, the reference code's layer list "
                                    f"built from spynq.nn (input {shape})")
    return f


# -- neuron procedure identities on spynq.nn.BIDL


def _closed_form():
    """Eq.6-10 with a hard reset vs V^t = alpha ((1 - F)(V + I) + F V_reset) + beta."""
    from .. import nn

    alpha, beta, vth, v0 = 0.75, 0.125, 0.5, -0.25
    layer = nn.BIDL(alpha, beta, v_th=vth, v_reset=v0)
    xs = C.inputs(1)
    s, h, v = C.run_layer(layer, xs)
    V = np.zeros(xs.shape[1:])
    vs, fs = [], []
    for t in range(xs.shape[0]):
        F = (V + xs[t] >= vth).astype(float)
        V = alpha * ((1 - F) * (V + xs[t]) + F * v0) + beta
        vs.append(V)
        fs.append(F)
    dv = float(np.max(np.abs(np.stack(vs) - v)))
    return Measured(bool(np.array_equal(np.stack(fs), s)) and dv == 0.0,
                    f"{int(s.sum())} spikes; max |V - closed form| = {dv:g}")


def _euler():
    """Eq.2 (Euler step of Eq.1, the input index shifted to t as in Eq.6) against the
    framework's procedure with alpha = 1 - dt/tau, beta = dt V_rest / tau and the input
    gain r = R dt / (alpha tau) (no spikes: V_th out of reach)."""
    from .. import nn

    dt, tau, R, v_rest = 1.0, 5.0, 2.0, -0.3
    alpha, beta = 1 - dt / tau, dt * v_rest / tau
    r = R * dt / (alpha * tau)
    xs = C.inputs(9, dyadic=False)
    _, _, v = C.run_layer(nn.BIDL(alpha, beta, v_th=1e9), r * xs)
    V, ref = np.zeros(xs.shape[1:]), []
    for t in range(xs.shape[0]):
        V = V + dt / tau * (-V + v_rest + R * xs[t])
        ref.append(V)
    d = float(np.max(np.abs(np.stack(ref) - v)))
    return Measured(d < 1e-12, f"dt = 1, tau = 5, R = 2, V_rest = -0.3: max |procedure - Euler| = {d:.2g}")


def _rmp_conservation():
    from .. import nn

    vth = 0.5
    layer = nn.BIDL(alpha=1.0, beta=0.0, v_th=vth, reset="soft")
    xs = C.inputs(2, scale=0.5)
    s, h, v = C.run_layer(layer, xs)
    resid = v[-1] + vth * s.sum(axis=0) - xs.sum(axis=0)
    r = float(np.max(np.abs(resid)))
    return Measured(r == 0.0, f"max |V^T + V_th sum F - sum I| = {r:g} over {resid.size} neurons, {int(s.sum())} spikes "
                              "(dyadic inputs: exact)")


def _iim_eim():
    from .. import nn

    net = nn.Sequential(nn.Conv2d(2, 4, 3, 1, 1), nn.BIDL(alpha=0.5), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 6), nn.LIAF(alpha=0.5), nn.Linear(6, 3), nn.BIDL(),
                        nn.TemporalAggregate("sum"))
    p = net.init(3)
    xs = (np.random.default_rng(4).random((9, 2, 2, 8, 8)) < 0.3).astype(float)
    a, aa = net.apply(p, xs, style="layer")
    b, ab = net.apply(p, xs, style="step")
    same = np.array_equal(a, b) and all(np.array_equal(aa.records[k][f], ab.records[k][f])
                                        for k in aa.records for f in ("s", "h", "v"))
    return Measured(bool(same), "conv-BIDL-pool-FC-LIAF-FC-BIDL-accumulator, T=9: outputs, spikes and states of "
                                "layer-outer (IIM) and time-outer (EIM) iteration compared bitwise; the "
                                "accumulator's last value is the sum")


def _csm_asm():
    from .. import nn
    from ..nn import Param

    ch = 3
    asm = nn.BIDL(alpha=0.6, beta=0.05, v_th=0.5)
    csm = nn.BIDL(alpha=Param(value=0.6, per="channel", learn=False), beta=Param(value=0.05, per="channel", learn=False),
                  v_th=Param(value=0.5, per="channel", learn=False), channels=ch)
    xs = C.inputs(5, N=ch * 16).reshape(C.T_STEPS, C.BATCH, ch, 4, 4)
    sa, ha, va = C.run_layer(asm, xs)
    sc, hc, vc = C.run_layer(csm, xs)
    same = np.array_equal(sa, sc) and np.array_equal(va, vc)
    return Measured(bool(same), f"[T, B, C, H, W] input, {int(sa.sum())} spikes; per-channel values all equal")


def _lifplus_default():
    """B4: LIF+ with every stage at its default (CUB input, no refractory, naive
    initiation, trigger and decay) against nn.BIDL, bitwise, in four settings: the
    reference code's defaults, a hard reset to V_reset != 0 with other alpha / beta, the
    soft reset (RMP), and per-channel (CSM) parameters on [T, B, C, H, W] inputs."""
    from .. import nn
    from ..nn import Param
    from ..nn.neurons import LIFPlus

    ch = 3
    csm = lambda: dict(alpha=Param(value=0.4, per="channel"), beta=Param(value=0.02, per="channel"),  # noqa: E731
                       v_th=Param(value=0.6, per="channel"), channels=ch)
    cases = [({}, C.inputs(11)), (dict(alpha=0.75, beta=0.125, v_reset=-0.25), C.inputs(12)),
             (dict(reset="soft"), C.inputs(13)),
             ("csm", C.inputs(14, N=ch * 16).reshape(C.T_STEPS, C.BATCH, ch, 4, 4))]
    spikes, worst, same = 0, 0.0, True
    for kw, xs in cases:
        a, b = (LIFPlus(**csm()), nn.BIDL(**csm())) if kw == "csm" else (LIFPlus(**kw), nn.BIDL(**kw))
        sa, ha, va = C.run_layer(a, xs)
        sb, hb, vb = C.run_layer(b, xs)
        same = same and all(np.array_equal(u, w) for u, w in ((sa, sb), (ha, hb), (va, vb)))
        worst = max(worst, float(np.max(np.abs(va - vb))))
        spikes += int(sa.sum())
    return Measured(bool(same) and spikes > 0, f"{len(cases)} settings (reference defaults, hard reset to -0.25, "
                                               f"RMP, CSM conv maps): spikes, h and v bitwise equal ({spikes} spikes, "
                                               f"max |dv| = {worst:g}); the reference code's own default integrates "
                                               "otherwise (spynq.nn.neurons.LIFPlus)")


# -- R-STDP (Sec. 5.3, note 6.5 / 6.7 B10, B11) on spynq.nn.rstdp


def _rstdp_population():
    from .. import nn
    from ..nn.rstdp import RSTDP, split_last_linear

    rule = RSTDP(classes=11, population=7)
    net = nn.Sequential(nn.Linear(256, rule.n_out, bias=False), nn.BIDL())
    k, _ = split_last_linear(net)
    w = net.init(0)[net.layers[k].name]["w"]
    return Measured(rule.n_out, f"11 classes x 7 neurons; the plastic FCLIF weight W is {w.shape[1]} x {w.shape[0]} "
                                "(the text's 256 x 11 is per class, note 6.5)")


def _trace_window(what):
    def f():
        from ..nn.rstdp import RSTDP

        rule = RSTDP(classes=1, population=1)  # the paper's theta = 0.95, eta = 1
        tr = rule.init_traces(1)
        t0, t1 = 2, 6
        quiet, ltp = True, None
        for t in range(t1 + 1):
            s_in = np.array([[1.0 if t == t0 else 0.0]])
            s_out = np.array([[1.0 if t == t1 else 0.0]])
            tr = rule.traces(tr, s_in, s_out)
            dw = rule.stdp(tr, s_in, s_out)
            if t0 <= t < t1:
                quiet = quiet and abs(tr[0][0, 0] - rule.eta * rule.theta ** (t - t0)) < 1e-15 and not dw.any()
            ltp = float(dw[0, 0])
        if what == "decay":
            return Measured(bool(quiet), "pre spike at t0 = 2, no post spike: t_in(t) = eta theta^(t - t0) for "
                                         "t = 2..5 and DeltaW = 0")
        return Measured(ltp, "pre spike at t0 = 2, post spike at t1 = 6, traces updated before use: DeltaW = "
                             "t_in(t1) S_out(t1)")
    return f


def _reward_flip():
    from ..nn.rstdp import RSTDP

    rule = RSTDP(classes=2, population=2, lr=1.0)
    s_out = np.array([[1.0, 0.0, 1.0, 0.0]])  # one neuron of each class fires after an earlier pre spike
    tr = (np.array([[0.95]]), s_out.copy())
    d = rule.delta(tr, np.zeros((1, 1)), s_out, [0])
    return Measured(bool(d[0, 0] > 0 > d[0, 2]), f"label 0, one of 2 neurons per class firing: r = L - O = (0.5, "
                                                  f"-0.5); update {d[0, 0]:+g} (class 0), {d[0, 2]:+g} (class 1)")


def _toy(a_minus):
    def f():
        from .. import nn
        from ..nn.models.stca import Voting
        from ..nn.rstdp import RSTDP, class_rates, local_phase, poisson_task

        task = poisson_task(n_train=60, n_test=0)
        net = nn.Sequential(nn.Linear(30, 15, bias=False), nn.BIDL(alpha=0.5, v_th=0.5), Voting(5),
                            nn.TemporalAggregate("mean"))
        p = net.init(1)
        p["0_linear"]["w"] = np.random.default_rng(2).uniform(0, 0.3, (15, 30))
        xs = np.swapaxes(task.x_train, 0, 1)
        c0, o0 = class_rates(net, p, xs, task.y_train, 5, 3)
        q, _ = local_phase(net, p, xs, task.y_train, RSTDP(classes=3, population=5, a_minus=a_minus))
        c1, o1 = class_rates(net, q, xs, task.y_train, 5, 3)
        return Measured(bool(c1 - o1 > c0 - o0 + 0.1),
                        f"3 classes of 10 Poisson inputs (rate 0.4 own class, 0.05 others), 3 x 5 BIDL outputs, one "
                        f"pass over 60 samples, lr 1e-3, a_minus {a_minus:g}: rate of the correct population "
                        f"{c0:.3f} -> {c1:.3f}, of the others {o0:.3f} -> {o1:.3f}")
    return f


def _noise():
    from ..nn.rstdp import inject_noise

    x = np.zeros((4, 2, 2, 40, 40))  # [B, T, C, H, W] as the DVS128 inputs
    bad = 0
    for ratio in (0.0, 0.05, 0.3, 1.0):
        y = inject_noise(x, ratio, seed=1)
        bad += int(np.sum(y.sum(axis=(-2, -1)) != np.floor(ratio * 40 * 40)))
    return Measured(bad == 0, f"ratios 0, 0.05, 0.3, 1 on 40 x 40 frames: {bad} channel-frames with another count "
                              "than floor(ratio W H)")


def claims() -> list:
    L = [
        Claim("bidl.fig4.conv3d", PAPER, "Sec. 2.2, Fig.4", "ConvLIAF needs 3x fewer operations (MUL+ADD) than "
              "Conv3D", 3.0, tol=0.5, compute=_fig4_ratio("Conv3D", "ConvLIAF"), unit="x"),
        Claim("bidl.fig4.convlstm", PAPER, "Sec. 2.2, Fig.4", "ConvLIAF needs 8x fewer operations than ConvLSTM", 8.0,
              tol=0.5, compute=_fig4_ratio("ConvLSTM", "ConvLIAF"), unit="x"),
        Claim("bidl.fig4.convlif_conv3d", PAPER, "Sec. 2.2, Fig.4", "ConvLIF too: 3x fewer than Conv3D (its ops are "
              "additions: ADD ratio)", 3.0, tol=0.5, compute=_fig4_ratio("Conv3D", "ConvLIF", "add"), unit="x"),
        Claim("bidl.fig4.convlif_convlstm", PAPER, "Sec. 2.2, Fig.4", "ConvLIF: 8x fewer than ConvLSTM (ADD ratio)",
              8.0, tol=0.5, compute=_fig4_ratio("ConvLSTM", "ConvLIF", "add"), unit="x"),
        Claim("bidl.fig4.conv2d", PAPER, "Sec. 2.2, Fig.4", "ConvLIAF's computation is not significantly different "
              "from time-distributed Conv2D (ratio 1; tolerance 5 %, ours)", 1.0, tol=0.05,
              compute=_fig4_ratio("ConvLIAF", "Conv2D"), unit="x"),
        Claim("bidl.fig4.params", PAPER, "Fig.4 caption", "ConvLIF/ConvLIAF have the parameters of Conv2D (ratio 1)",
              1.0, tol=0.0, compute=_fig4_ratio("ConvLIF", "Conv2D", "weights"), unit="x"),
        Claim("bidl.table1.formulas", PAPER, "Table 1", "MUL / ADD / weight formulas of ConvLIAF, ConvLIF, Conv2D, "
              "Conv3D, ConvLSTM follow from per-output op counts", True, compute=_formulas),
        Claim("bidl.table3.dvs128", PAPER, "Table 3", "DVS128 Gesture ConvLIF: 1.0 G ops (ADD = MUL: dense MACs)", 1.0,
              tol=0.05, compute=_dense_gops(_dvs128), unit="G"),
        Claim("bidl.table3.cifar10dvs", PAPER, "Table 3", "CIFAR10-DVS: 0.84 G ops", 0.84, tol=0.005,
              compute=_dense_gops(_cifar10dvs), unit="G",
              why_differs="the dense conv + linear MACs of the reference code's layer list fall short of the print; "
                          "what else the paper counts (neuron, BN, pooling ops?) is not stated"),
        Claim("bidl.table3.luna16", PAPER, "Table 3", "Luna16Cls: 0.089 G ops", 0.089, tol=0.0005,
              compute=_dense_gops(_luna16), unit="G",
              why_differs="the dense MACs of the reference code's layer list fall short of the print; what else "
                          "the paper counts is not stated"),
        Claim("bidl.table3.jester_half", PAPER, "Sec. 5.1 / Table 3", "Jester v1 consumes half the computation of "
              "the LSTM approach (7.8 / 14.7; 'half' read as 0.5 +- 0.05)", 0.5, tol=0.05,
              compute=lambda: round(7.8 / 14.7, 4), kind="arithmetic"),
        Claim("bidl.table3.cifar_4x", PAPER, "Sec. 5.1 / Table 3", "CIFAR10-DVS: computation reduced by more than 4 "
              "times against Wu 2021 (3.8 / 0.84 > 4)", True,
              compute=lambda: Measured(3.8 / 0.84 > 4, f"3.8 / 0.84 = {3.8 / 0.84:.3f}"), kind="arithmetic"),
        Claim("bidl.table3.imdb_7pct", PAPER, "Sec. 5.1 / Table 3", "IMDB: only 7 % of the LSTM's computation "
              "(0.0024 / 0.4)", 0.07, tol=0.005, compute=lambda: 0.0024 / 0.4, kind="arithmetic",
              why_differs="the ratio of Table 3's own numbers is an order of magnitude below the text's 7 % "
                          "(note E21)"),
        Claim("bidl.table3.imdb_loss", PAPER, "Sec. 5.1 / Table 3", "IMDB: less than 3 % accuracy loss against the "
              "LSTM (85.7 - 82.9 < 3)", True,
              compute=lambda: Measured(85.7 - 82.9 < 3, f"85.7 - 82.9 = {85.7 - 82.9:.1f}"), kind="arithmetic"),
        Claim("bidl.table3.luna_smallest", PAPER, "Sec. 5.1 / Table 3", "Luna16Cls: the smallest cost of the table "
              "(0.089 vs 0.14, 26)", True, compute=lambda: 0.089 < min(0.14, 26.0), kind="arithmetic"),
        Claim("bidl.neuron.closed_form", PAPER, "Eq.6-10", "integrate, fire, hard reset, leak equals V^t = alpha "
              "((1 - F)(V + I) + F V_reset) + beta", True, compute=_closed_form),
        Claim("bidl.neuron.euler", PAPER, "Eq.2-5", "alpha = 1 - dt/tau, beta = dt V_rest / tau, r = R dt / (alpha "
              "tau) make the procedure the Euler step of Eq.1", True, compute=_euler),
        Claim("bidl.neuron.rmp", PAPER, "Eq.9", "soft reset (RMP) with alpha = 1, beta = 0 conserves charge: V^T + "
              "V_th sum F = sum I", True, compute=_rmp_conservation),
        Claim("bidl.iim_eim", PAPER, "Sec. 4, Fig.7", "internal (IIM) and external (EIM) iteration give the same "
              "numbers; the accumulator equals the sum", True, compute=_iim_eim),
        Claim("bidl.csm_asm", PAPER, "Sec. 2.1", "channel sharing (CSM) with equal values reproduces all sharing "
              "(ASM)", True, compute=_csm_asm),
        Claim("bidl.lifplus", PAPER, "Sec. 3.1.1, Table 4", "LIF+ all default (A..E = 0) is equivalent to LIF", True,
              compute=_lifplus_default),
        Claim("bidl.rstdp.population", PAPER, "Sec. 5.3", "R-STDP on the last FCLIF layer: 7 neurons x 11 classes = "
              "77 population outputs", 77, compute=_rstdp_population),
        Claim("bidl.rstdp.trace", PAPER, "Eq.12-13 (note B10)", "an isolated pre spike: t_in = eta theta^(t - t0), "
              "no weight change", True, compute=_trace_window("decay")),
        Claim("bidl.rstdp.ltp", PAPER, "Eq.12-13 (note B10)", "a post spike 4 steps after a pre spike: LTP = theta^4 = "
              "0.95^4", 0.95 ** 4, tol=1e-15, compute=_trace_window("ltp")),
        Claim("bidl.rstdp.reward", PAPER, "Sec. 5.3 (note B10)", "the population reward r = L - O turns LTP into LTD "
              "for a wrong-class neuron", True, compute=_reward_flip),
        Claim("bidl.rstdp.toy", PAPER, "Sec. 5.3 (note B10)", "R-STDP raises the correct population's rate against "
              "the others on class-dependent Poisson inputs (the paper's rates: lr 1e-3, equal LTP / LTD)", True,
              compute=_toy(1.0),
              why_differs="with equal LTP and LTD rates a silent correct-class neuron gets r = 1 on the LTD term "
                          "alone (pre spike x its post trace), so both populations are depressed alike; the "
                          "reference code's LTD / LTP ratio 1e-4 / 1e-3 separates them (bidl.rstdp.toy_refcode)"),
        Claim("bidl.rstdp.toy_refcode", PAPER, "Sec. 5.3 (note B10)", "the same with the reference code's rates "
              "(LTD 0.1 x LTP)", True, compute=_toy(0.1)),
        Claim("bidl.rstdp.noise", PAPER, "Sec. 5.3 (note B11)", "noise protocol: n = floor(alpha W H) pixels per "
              "channel per frame set to 1", True, compute=_noise),
        Claim("bidl.rstdp.fig11", PAPER, "Sec. 5.3, Fig.11", "BPTT + R-STDP co-learning (77 outputs) is more robust "
              "to input noise than BPTT with 11 or 77 outputs", True,
              out_of_reach="DVS128 Gesture and the BPTT-trained network; Fig.11 prints curves, no numbers (the "
                           "co-learning procedure itself runs here: spynq.nn.rstdp.co_learn)"),
        Claim("bidl.table3.jester", PAPER, "Table 3", "Jester v1 ResNet18-LIAF: 7.8 G ops", 7.8, unit="G",
              out_of_reach="the backbone's exact layer list is not given (paper or reference code)"),
        Claim("bidl.acc", PAPER, "Table 3, Table 4, Fig.11", "accuracies: Jester 93.7 / 95.0, DVS128 94.6 / 95.1, "
              "CIFAR10-DVS 68.2, Luna16 90.4, IMDB 82.9 %; LIF+ variants", 94.6, unit="%",
              out_of_reach="the data sets (Jester, DVS128, CIFAR10-DVS, Luna16, IMDB) and 20-200-epoch GPU training"),
    ]
    return L
