"""Deployment of a trained P3 network (spynq.learning.axonal.AxonalSNN) to the LIF kernel
(issue 11, items 1 and 6): the SRM neurons mapped to the kernel's current-based LIF, the
learned axonal delays to its integer delays, and the approximation measured.

The mapping, per SRM population (fc<i>, out):

* PSP kernel. The kernel's current-based neuron (I = beta I + x, V = alpha V + I) answers
  one input delivered at step 1 with h[k] = sum_{j<k} alpha^(k-1-j) beta^j. With equal
  decays alpha = beta = a this is k a^(k-1), and eps[k] = (k/tau) e^(1 - k/tau) is
  exactly (e a / tau) h[k] for a = e^(-1/tau): the SRM kernel is the kernel's LIF with
  both decays e^(-1/tau_s), one step of extra delay (eps(0) = 0: the SRM answers a spike
  one step late, the kernel's delay 0 acts in the spike's step) and the weight scale
  c = e a / tau. The kernel takes alpha = beta (nothing in lif_delay_config.h forbids
  it), so no unequal-decay fit is needed; with a rounded to UQ0.16 the scale is the
  least-squares one (psp_fit). The mismatch left is that rounding (psp_fit reports it).
* Refractory kernel. nu (a negative alpha-shaped kernel added to the future membrane;
  the SRM has no reset) has no kernel counterpart: the kernel resets (to v_reset or by
  subtracting the threshold) and holds V for `refractory` steps. fit_reset picks, per
  layer, the reset mode, v_reset and refractory steps whose spikes agree best (spike
  coincidence within +-1 step, below) with the SRM layer's on calibration inputs, each
  layer driven by the SRM's own input spikes (teacher forcing). An approximation: its
  cost is measured, not assumed.
* Delays. The VAD delay d_hat (eq. 5, an integer) of hidden layer i delays every synapse
  out of its neurons: the kernel's axonal delay of layer i+1's inputs is d_hat + 1 (the
  1 is the PSP latency above; the network input gets delay 1). Delays above the ring's
  127 are refused (NotDeployable) unless clip_delays=True clips them (counted).
* Bias. The SRM bias is added to u at every step; the kernel has no bias, only spike
  inputs. deploy's bias neuron (a neuron firing at every step, delay 0) feeds a constant
  x_b into the current, which reaches V as a ramp to x_b / (1 - a)^2 (about 3 tau_s steps):
  x_b = g b (1 - a)^2 matches the steady state, not the first steps. A bias neuron cannot
  exist with refractory steps (it would pause): then the biases are dropped (reported).
* Scale. Spikes are invariant under scaling u, theta, v_reset by g > 0: g is the largest
  value with the weights inside Q3.12 (|w| < 8) and the calibration states below 100
  (Q7.16: |V| < 128).
* The local skip module (eq. 6) is not deployable: s_d + s_hat sends layer i's delayed
  spikes past its local population to layer i+1, a skip connection, and the kernel's
  network is a chain of layers (each layer reads only the previous one). A model trained
  with local=True raises NotDeployable; one trained without it exports as it is.

Parameters are put on the kernel's grids before export (weights Q3.12, decays UQ0.16,
threshold and v_reset Q7.16), so the float LIF model (the Sequential, or the LifNetwork on
the cpu backend) and golden differ only by the rounding of the decay products in the loop
(spynq.nn.deploy.float_bound). Fine-tuning (finetune) trains that float LIF model (the
weights; delays and neuron constants fixed) with the P3 loss, through axonal.train.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpynqValueError
from ..lif.encode import C
from ..nn import deploy
from ..nn.delays import DelayedLinear
from ..nn.deploy import KernelLIF, NotDeployable
from ..nn.network import Sequential
from . import axonal as A

MAX_DELAY = C["LIF_RING"] - 1
W_Q = float(1 << C["LIF_W_FRAC"])
D_Q = float(1 << C["LIF_DECAY_FRAC"])
V_Q = float(1 << C["LIF_V_FRAC"])
STATE_LIMIT = 100.0  # calibration states kept below this (Q7.16: |V| < 128)
REFRACTORY_GRID = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16)
V_RESET_GRID = (0.0, -0.5, -1.0, -2.0)  # zero reset: v_reset in units of theta


def _q(v, scale):
    return np.round(np.asarray(v, float) * scale) / scale


# ----------------------------------------------------------------------------- the PSP


def lif_psp(alpha: float, beta: float, n: int) -> np.ndarray:
    """V of the kernel's current-based neuron for one unit input delivered at step 1:
    h[0] = 0, h[k] = sum_{j<k} alpha^(k-1-j) beta^j (float)."""
    h, v, i = np.zeros(int(n)), 0.0, 0.0
    for k in range(1, int(n)):
        i = beta * i + (1.0 if k == 1 else 0.0)
        v = alpha * v + i
        h[k] = v
    return h


def psp_fit(tau: float, n: int | None = None) -> dict:
    """alpha = beta = e^(-1/tau) rounded to UQ0.16, the least-squares weight scale c of
    c h against eps, and the mismatch relative to eps's peak (1): max and RMS over the
    SRM kernel's length (axonal.kernel_length)."""
    n = A.kernel_length(tau) if n is None else int(n)
    eps = A.srm_kernel(tau, n)
    a = float(_q(math.exp(-1.0 / tau), D_Q))
    h = lif_psp(a, a, n)
    c = float(h @ eps / (h @ h))
    err = c * h - eps
    return {"alpha": a, "beta": a, "scale": c, "scale_exact": math.e * math.exp(-1.0 / tau) / tau,
            "max_rel": float(np.max(np.abs(err))), "rms_rel": float(np.sqrt(np.mean(err ** 2))), "n": n}


def psp_best_pair(tau: float, grid: int = 60) -> tuple[float, float, float]:
    """(alpha, beta, rms) of the best least-squares fit of c h(alpha, beta) to eps over a
    grid of decay pairs (unequal ones included): the check that equal decays are the
    kernel's closest PSP."""
    n = A.kernel_length(tau)
    eps = A.srm_kernel(tau, n)
    best = (0.0, 0.0, np.inf)
    for a, b in itertools.combinations_with_replacement(np.linspace(0.5, 0.99, grid), 2):
        h = lif_psp(a, b, n)
        c = h @ eps / (h @ h)
        r = float(np.sqrt(np.mean((c * h - eps) ** 2)))
        if r < best[2]:
            best = (float(a), float(b), r)
    return best


# ----------------------------------------------------------------------------- spike agreement


def coincidence(a, b, tol: int = 1) -> float:
    """Spike-train agreement of a and b ([T, ...] or (batch, T, ...) with time on `axis`
    0): F1 of the spikes of each matched by one of the other within +-tol steps
    (1 for equal trains and for two silent ones)."""
    a, b = np.asarray(a) != 0, np.asarray(b) != 0

    def near(x):
        out = x.copy()
        for k in range(1, tol + 1):
            out[k:] |= x[:-k]
            out[:-k] |= x[k:]
        return out

    na, nb = a.sum(), b.sum()
    if na + nb == 0:
        return 1.0
    rec = (a & near(b)).sum() / na if na else 0.0
    prec = (b & near(a)).sum() / nb if nb else 0.0
    return float(2 * prec * rec / (prec + rec)) if prec + rec else 0.0


# ----------------------------------------------------------------------------- the mapping


@dataclass
class LayerMap:
    """One SRM population as a kernel layer: reset ("subtract" | "zero"), v_reset in units
    of theta, refractory steps, and the teacher-forced coincidence it reached."""
    name: str
    reset: str = "subtract"
    v_reset: float = 0.0
    refractory: int = 0
    fit_score: float | None = None


@dataclass
class Export:
    """A trained AxonalSNN as the kernel runs it: seq/seq_params, the float LIF model
    (spynq.nn Sequential of DelayedLinear + KernelLIF, parameters on the kernel's grids);
    lif, the LifNetwork (deploy.to_lif_network) and its deploy.Report; scale g; the layer
    maps; what was approximated (info)."""
    seq: Sequential
    seq_params: dict
    lif: object
    report: object
    scale: float
    layers: list
    info: dict = field(default_factory=dict)

    def rasters(self, x) -> np.ndarray:
        """(batch, T, n_in) input spikes -> what the LifNetwork takes (the bias column)."""
        r = np.asarray(x) != 0
        return deploy.with_bias_input(r) if self.report.bias_input else r


def _names(net) -> list:
    return [f"fc{i}" for i in range(len(net.hidden))] + ["out"]


def check_deployable(net: A.AxonalSNN, params: dict) -> None:
    if not isinstance(net, A.AxonalSNN):
        raise SpynqValueError(f"net: an AxonalSNN, got {type(net).__name__}")
    if net.local or any(k.startswith("local") for k in params):
        raise NotDeployable("the local skip module (eq. 6) sends s_d + s_hat, a skip past the local population, to "
                            "the next layer; the LIF kernel runs a chain of layers (each reads only the previous "
                            "one), so a model trained with local=True does not deploy (train it with local=False)")
    if net.n_in + 1 > C["LIF_MAX_IN"]:
        raise NotDeployable(f"n_in {net.n_in}: the kernel takes at most {C['LIF_MAX_IN'] - 1} inputs here")


def kernel_delays(net: A.AxonalSNN, params: dict, clip: bool = False) -> tuple[list, int]:
    """The kernel's axonal delays of each layer's inputs (PSP latency 1 + the VAD delay of
    the neurons they come from) and how many were clipped to MAX_DELAY (clip=True; else
    NotDeployable names the layer, the delay and the limit)."""
    ds = net.delays(params) if net.vad else [np.zeros(h, int) for h in net.hidden]
    out, clipped = [np.ones(net.n_in, np.int64)], 0
    for i, d in enumerate(ds):
        k = np.asarray(d, np.int64) + 1
        if k.max(initial=0) > MAX_DELAY:
            if not clip:
                raise NotDeployable(f"vad{i}: delay {int(k.max()) - 1} (+1 PSP latency = {int(k.max())}) > "
                                    f"{MAX_DELAY}, the kernel's ring; export with clip_delays=True to clip it")
            clipped += int(np.sum(k > MAX_DELAY))
            k = np.minimum(k, MAX_DELAY)
        out.append(k)
    return out, clipped


def _threshold(theta: float, g: float) -> float:
    return float(_q(g * theta, V_Q))


def _sequential(names, theta, params, maps, delays, g: float, psp: dict, bias: bool):
    """The float LIF model of populations `names` (parameters on the kernel's grids)."""
    layers, q = [], {}
    c = psp["scale"]
    a = psp["alpha"]
    for nm, m, d in zip(names, maps, delays):
        w = np.clip(_q(g * c * np.asarray(params[nm]["w"], float), W_Q), deploy.W_MIN, deploy.W_MAX)
        syn = DelayedLinear(w.shape[1], w.shape[0], d, bias=bias, name=f"{nm}_syn")
        th = _threshold(theta, g)
        # the SRM's surrogate (eq. 10, SLAYER's constants) at the scaled threshold
        neu = KernelLIF(a, psp["beta"], v_th=th, reset="soft" if m.reset == "subtract" else "hard",
                        v_reset=float(_q(g * m.v_reset * theta, V_Q)), refractory=m.refractory, name=nm,
                        surrogate=A.slayer_surrogate(th))
        layers += [syn, neu]
        q[syn.name] = {"w": w}
        if bias:
            q[syn.name]["b"] = _q(g * np.asarray(params[nm]["b"], float) * (1 - a) * (1 - psp["beta"]), W_Q)
        q[neu.name] = neu.init(np.random.default_rng(0))
    return Sequential(*layers), q


def _srm_inputs(net, params, xs):
    """Per population: (its input spikes [T, B, n] undelayed, its own SRM spikes), numpy."""
    _, rec = net.apply(params, xs)
    srcs = [xs] + [rec[f"fc{i}"]["s"] for i in range(len(net.hidden))]
    return [(s, rec[nm]["s"]) for s, nm in zip(srcs, _names(net))], rec


def count_agreement(a, b) -> float:
    """1 - sum |n_a - n_b| / sum (n_a + n_b) over the spike counts of a and b ([T, ...],
    counted over time): 1 for equal counts everywhere (and for two silent trains)."""
    na, nb = np.asarray(a).sum(axis=0), np.asarray(b).sum(axis=0)
    tot = float(np.sum(na + nb))
    return 1.0 - float(np.sum(np.abs(na - nb))) / tot if tot else 1.0


SCORES = {"count": count_agreement, "coincidence": coincidence}


def fit_reset(net, params, x_calib, delays, psp, refractory_grid=REFRACTORY_GRID, v_reset_grid=V_RESET_GRID,
              bias: bool = True, score: str = "count") -> list:
    """Per population, the (reset, v_reset, refractory) of the kernel whose spikes agree
    best with the SRM's (score "count": count_agreement, the readout's quantity, or
    "coincidence"), each layer driven by the SRM's input spikes. Candidates are scored with
    the biases fed as a current (bias=True); export drops them when a layer has refractory
    steps, so the fit is slightly optimistic there."""
    xs = np.swapaxes(np.asarray(x_calib, float), 0, 1)
    pairs, _ = _srm_inputs(net, params, xs)
    out = []
    cands = [("subtract", 0.0)] + [("zero", v) for v in v_reset_grid]
    for k, (nm, (s_in, s_srm), d) in enumerate(zip(_names(net), pairs, delays)):
        best = None
        for (reset, vr), r in itertools.product(cands, refractory_grid):
            m = LayerMap(nm, reset, vr, int(r))
            seq, q = _sequential([nm], net.theta, params, [m], [d], 1.0, psp, bias)
            o, _ = seq.apply(q, s_in)
            sc = SCORES[score](s_srm, o)
            if best is None or sc > best.fit_score + 1e-12:
                best = LayerMap(nm, reset, vr, int(r), sc)
        out.append(best)
    return out


def _bias_weight(theta: float, m: LayerMap, psp: dict) -> float:
    """A bias neuron's input weight at g = 1 (deploy.bias_weight without its margin)."""
    return theta * (1.0 + (abs(psp["alpha"] * m.v_reset) if m.reset == "zero" else 0.0))


def _bias_state(theta: float, m: LayerMap, psp: dict) -> float:
    """The largest state of a layer's bias neuron at g = 1 (deploy.bias_weight's estimate,
    without its 2^-8 margin): linear in g."""
    w_b = _bias_weight(theta, m, psp)
    u = w_b / (1.0 - psp["beta"])
    v = abs(m.v_reset) * theta + u if m.reset == "zero" else (u - theta) / (1.0 - psp["alpha"]) + theta
    return max(u, v)


def export(net: A.AxonalSNN, params: dict, x_calib, *, clip_delays: bool = False, maps: list | None = None,
           scale: float | None = None, bias: str = "auto", score: str = "count") -> Export:
    """The kernel network of a trained AxonalSNN (module docstring). x_calib (batch, T,
    n_in): inputs for the reset fit and the scale (the training set, or part of it).
    maps: per population LayerMaps (None: fit_reset). bias "auto" keeps the biases
    where a bias neuron can carry them (no refractory steps), "drop" drops them."""
    check_deployable(net, params)
    if bias not in ("auto", "drop"):
        raise SpynqValueError(f"bias {bias!r}: 'auto' or 'drop'")
    t0 = time.perf_counter()
    psp = psp_fit(net.tau_s)
    delays, clipped = kernel_delays(net, params, clip_delays)
    b_max = max(float(np.max(np.abs(params[nm]["b"]), initial=0.0)) for nm in _names(net))
    if maps is None:
        maps = fit_reset(net, params, x_calib, delays, psp, bias=True, score=score)
    use_bias = bias == "auto" and b_max > 0 and all(m.refractory == 0 for m in maps)
    xs = np.swapaxes(np.asarray(x_calib, float), 0, 1)
    if scale is None:  # g = 1 run: states scale with g, spikes do not
        seq1, q1 = _sequential(_names(net), net.theta, params, maps, delays, 1.0, psp, use_bias)
        _, aux = seq1.apply(q1, xs)
        st = max(float(np.max(np.abs(np.asarray(aux.records[nm]["h"])[np.isfinite(aux.records[nm]["h"])]),
                              initial=0.0)) for nm in _names(net))
        w1 = max(float(np.max(np.abs(psp["scale"] * np.asarray(params[nm]["w"], float)))) for nm in _names(net))
        scale = min(deploy.W_MAX / w1, STATE_LIMIT / max(st, net.theta))
        if use_bias:  # a bias neuron's input weight and state (deploy.bias_weight) grow with g too
            w_b = max(_bias_weight(net.theta, m, psp) for m in maps)
            scale = min(scale, 0.99 * deploy.W_MAX / w_b,
                        0.95 * STATE_LIMIT / max(_bias_state(net.theta, m, psp) for m in maps))
    seq, q = _sequential(_names(net), net.theta, params, maps, delays, float(scale), psp, use_bias)
    lif, report = deploy.to_lif_network(seq, q)
    info = {"psp": psp, "delays_clipped": clipped, "max_delay": int(max(int(d.max()) for d in delays)),
            "bias": "kept (bias neuron)" if use_bias else ("none" if b_max == 0 else "dropped"),
            "bias_dropped_max_over_theta": 0.0 if use_bias else b_max / net.theta,
            "layers": [vars(m) for m in maps], "scale": float(scale), "seconds": time.perf_counter() - t0}
    return Export(seq, q, lif, report, float(scale), maps, info)


# ----------------------------------------------------------------------------- measuring


def compare(net, params, exp: Export, x, y, backend: str = "golden", batch: int = 256) -> dict:
    """Accuracy of the float SRM, the float LIF model and the kernel backend on (x, y), and
    per population the spike agreement (coincidence, +-1 step) SRM vs float LIF, SRM vs
    backend, float LIF vs backend (and the fraction of spike bits that differ there)."""
    from ..lif import backends

    x = np.asarray(x, float)
    res = {"n": int(len(x)), "backend": backend}
    srm_s, lif_s, hw_s = [], [], []
    acc = {"srm": [], "lif_float": [], backend: []}
    t_hw = 0.0
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        xs = np.swapaxes(xb, 0, 1)
        out, rec = net.apply(params, xs)
        o, aux = exp.seq.apply(exp.seq_params, xs)
        t0 = time.perf_counter()
        r = backends.run(exp.lif, exp.rasters(xb), backend=backend)
        t_hw += time.perf_counter() - t0
        names = _names(net)
        srm_s.append([np.swapaxes(rec[nm]["s"], 0, 1) != 0 for nm in names])
        lif_s.append([np.swapaxes(np.asarray(aux.records[nm]["s"]), 0, 1) != 0 for nm in names])
        hw_s.append([s[..., :n] for s, n in zip(r.spikes, [*net.hidden, net.n_out])])
        acc["srm"].append(A.predict(out))
        acc["lif_float"].append(A.predict(o))
        acc[backend].append(np.argmax(hw_s[-1][-1].sum(axis=1), axis=-1))
    res["accuracy"] = {k: float(np.mean(np.concatenate(v) == np.asarray(y))) for k, v in acc.items()}
    layers = []
    for k, nm in enumerate(_names(net)):
        s, f, h = (np.concatenate([b[k] for b in L]) for L in (srm_s, lif_s, hw_s))
        sw, fw, hw = (np.swapaxes(v, 0, 1) for v in (s, f, h))  # time first for coincidence
        layers.append({"name": nm, "srm_spikes": int(s.sum()), "lif_spikes": int(f.sum()), "hw_spikes": int(h.sum()),
                       "srm_vs_lif": coincidence(sw, fw), "srm_vs_hw": coincidence(sw, hw),
                       "srm_vs_lif_counts": count_agreement(sw, fw), "srm_vs_hw_counts": count_agreement(sw, hw),
                       "lif_vs_hw": coincidence(fw, hw), "lif_vs_hw_bits_differ": float(np.mean(f != h))})
    res["layers"] = layers
    res["seconds_backend"] = t_hw
    return res


# ----------------------------------------------------------------------------- fine-tuning


class _LifModel:
    """The float LIF model in axonal.train's interface (apply -> (out, records with
    "out" u), no VAD): only the synapse parameters train; the neuron constants and the
    delays stay the export's."""

    def __init__(self, exp: Export, net: A.AxonalSNN):
        self.seq, self.exp = exp.seq, exp
        self.fixed = {k: v for k, v in exp.seq_params.items() if not k.endswith("_syn")}
        self.vad, self.n_out, self.hidden = False, net.n_out, ()
        self.theta = _threshold(net.theta, exp.scale)  # L_Mem's u_theta = lambda_u theta, scaled
        self.out_name = _names(net)[-1]

    def init(self, seed=0):
        return {k: dict(v) for k, v in self.exp.seq_params.items() if k.endswith("_syn")}

    def delays(self, params):
        return []

    def apply(self, params, xs, *, xp=np, scan=False, **_):
        o, aux = self.seq.apply({**self.fixed, **params}, xs, xp=xp, scan=scan)
        h = aux.records[self.out_name]["h"]  # -inf at refractory steps (no spike there): 0 for L_Mem
        return o, {"out": {"s": o, "u": xp.where(xp.isfinite(h), h, 0.0)}}


def finetune(net: A.AxonalSNN, exp: Export, data, cfg: A.TrainConfig | None = None, progress=None) -> Export:
    """Train the exported float LIF model's weights (and biases, where kept) with the P3
    loss (axonal.train, Adam BPTT through the KernelLIF surrogate), then export again
    (weights back on the Q3.12 grid, clipped to its range)."""
    cfg = cfg or A.TrainConfig(epochs=5, lr=0.003, learn_delays=False)
    model = _LifModel(exp, net)
    p, hist = A.train(model, data, cfg, progress=progress, params=model.init())
    q = dict(exp.seq_params)
    for k, v in p.items():
        q[k] = {kk: np.clip(_q(np.asarray(vv, float), W_Q), deploy.W_MIN, deploy.W_MAX) for kk, vv in v.items()}
    lif, report = deploy.to_lif_network(exp.seq, q)
    info = dict(exp.info, finetune={"epochs": cfg.epochs, "lr": cfg.lr, "history": hist})
    return Export(exp.seq, q, lif, report, exp.scale, exp.layers, info)


# ----------------------------------------------------------------------------- entry points

DEPLOY_JSON = "build/learning/axonal_deploy.json"
N_CALIB = 128  # training samples for the reset fit and the scale


def finetune_config(exp: Export, epochs: int, seed: int = 0) -> A.TrainConfig:
    """The toy's training settings for the float LIF model: its weight lr scaled like the
    weights (g c) and divided by 10 (a fine-tune, not a new training)."""
    lr = 0.1 * A.TOY_TRAIN["lr"] * exp.scale * exp.info["psp"]["scale"]
    return A.TrainConfig(epochs=int(epochs), lr=lr, learn_delays=False, seed=seed)


def deploy_run(net, params, data, *, finetune_epochs: int = 0, backend: str = "golden", clip_delays: bool = False,
               seed: int = 0, progress=print) -> dict:
    """Export a trained network, compare float SRM / float LIF / backend on the test set,
    optionally fine-tune the LIF model and compare again. A JSON-ready dict."""
    xtr, ytr, xte, yte = data
    t0 = time.perf_counter()
    e = export(net, params, xtr[:N_CALIB], clip_delays=clip_delays)
    t_export = time.perf_counter() - t0
    row = {"export": e.info, "report": str(e.report), "exact": e.report.exact, "seconds_export": t_export,
           "compare": compare(net, params, e, xte, yte, backend)}
    acc = row["compare"]["accuracy"]
    if progress:
        progress(f"export: {e.info['layers']}, scale {e.scale:.4g}, bias {e.info['bias']}; PSP mismatch max "
                 f"{e.info['psp']['max_rel']:.2g} rms {e.info['psp']['rms_rel']:.2g} of the peak; test accuracy "
                 f"SRM {100 * acc['srm']:.1f} %, float LIF {100 * acc['lif_float']:.1f} %, {backend} "
                 f"{100 * acc[backend]:.1f} %  ({t_export:.1f} s)")
        for L in row["compare"]["layers"]:
            progress(f"  {L['name']:4s} spikes SRM {L['srm_spikes']} LIF {L['lif_spikes']} {backend} {L['hw_spikes']}; "
                     f"SRM vs LIF coincidence {L['srm_vs_lif']:.3f} counts {L['srm_vs_lif_counts']:.3f}; LIF vs "
                     f"{backend} bits differ {L['lif_vs_hw_bits_differ']:.2g}")
    # the unfitted mapping (subtract reset, no refractory steps, biases kept): what the fit buys
    plain = export(net, params, xtr[:N_CALIB], clip_delays=clip_delays,
                   maps=[LayerMap(nm, "subtract", 0.0, 0) for nm in _names(net)])
    pc = compare(net, params, plain, xte, yte, backend)
    row["plain_subtract"] = {"accuracy": pc["accuracy"], "bias": plain.info["bias"],
                             "srm_vs_lif_counts": [L["srm_vs_lif_counts"] for L in pc["layers"]],
                             "srm_vs_lif": [L["srm_vs_lif"] for L in pc["layers"]]}
    if progress:
        progress(f"  unfitted mapping (subtract reset, no refractory): {backend} {100 * pc['accuracy'][backend]:.1f} %, "
                 f"SRM vs LIF counts {', '.join(f'{v:.3f}' for v in row['plain_subtract']['srm_vs_lif_counts'])}")
    if finetune_epochs:
        t0 = time.perf_counter()
        f = finetune(net, e, data, finetune_config(e, finetune_epochs, seed))
        hist = f.info["finetune"]["history"]
        row["finetuned"] = {"epochs": int(finetune_epochs), "lr": f.info["finetune"]["lr"], "exact": f.report.exact,
                            "loss": [h["loss"] for h in hist], "seconds": time.perf_counter() - t0,
                            "compare": compare(net, params, f, xte, yte, backend)}
        fa = row["finetuned"]["compare"]["accuracy"]
        if progress:
            progress(f"fine-tuned {finetune_epochs} epochs (loss {hist[0]['loss']:.4g} -> {hist[-1]['loss']:.4g}): "
                     f"float LIF {100 * fa['lif_float']:.1f} %, {backend} {100 * fa[backend]:.1f} %  "
                     f"({row['finetuned']['seconds']:.0f} s)")
    return row


def _stats(v) -> dict:
    a = np.asarray(v, float)
    return {"values": [float(x) for x in a], "mean": float(a.mean()), "std": float(a.std())}


def toy_deploy(seeds=range(5), toy_json: str | None = None, out: str | None = "", finetune_epochs: int = 2,
               backend: str = "golden", progress=print) -> dict:
    """deploy_run on the trained D networks toy_table kept (axonal.toy_params_path), one
    per seed, on that seed's test set; the summary (mean, std over seeds) to `out`
    ("": axonal_deploy.json next to toy_json, where the ledger's toy claim reads it)."""
    import json
    import os

    toy_json = toy_json or A.TOY_JSON
    if out == "":
        out = os.path.join(os.path.dirname(toy_json) or ".", os.path.basename(DEPLOY_JSON))
    rows = []
    for s in seeds:
        path = A.toy_params_path(toy_json, int(s))
        if not os.path.exists(path):
            raise SpynqValueError(f"{path}: no trained D network of seed {s}; run `python -m spynq train axonal toy "
                                  f"--seeds {max(seeds) + 1}` first")
        if progress:
            progress(f"seed {s}:")
        rows.append(dict(seed=int(s), **deploy_run(A.toy_net(), A.load_params(path), A.toy_data(int(s)),
                                                   finetune_epochs=finetune_epochs, backend=backend, seed=int(s),
                                                   progress=progress)))
    summ = {k: _stats([r["compare"]["accuracy"][k] for r in rows]) for k in ("srm", "lif_float", backend)}
    summ["plain_subtract_" + backend] = _stats([r["plain_subtract"]["accuracy"][backend] for r in rows])
    if finetune_epochs:
        summ["finetuned_" + backend] = _stats([r["finetuned"]["compare"]["accuracy"][backend] for r in rows])
    summ["psp_max_rel"] = rows[0]["export"]["psp"]["max_rel"]
    summ["psp_rms_rel"] = rows[0]["export"]["psp"]["rms_rel"]
    for key in ("srm_vs_lif", "srm_vs_lif_counts", "lif_vs_hw_bits_differ"):
        summ[key] = {L["name"]: _stats([r["compare"]["layers"][k][key] for r in rows])["mean"]
                     for k, L in enumerate(rows[0]["compare"]["layers"])}
    res = {"backend": backend, "seeds": [int(s) for s in seeds], "summary": summ, "runs": rows}
    if out:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w") as fh:
            json.dump(res, fh, indent=1)
    if progress:
        progress(f"{len(rows)} seeds: SRM {100 * summ['srm']['mean']:.1f} +- {100 * summ['srm']['std']:.1f} %, float "
                 f"LIF {100 * summ['lif_float']['mean']:.1f} +- {100 * summ['lif_float']['std']:.1f} %, {backend} "
                 f"{100 * summ[backend]['mean']:.1f} +- {100 * summ[backend]['std']:.1f} %")
    return res
