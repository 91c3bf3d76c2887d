"""Deployment of spynq.nn networks to the LIF kernel (issue 10 item 3, issue 11 item 6).

A *unit* is a synaptic layer followed directly by a neuron layer whose update is the
kernel's (hls/lif_delay/lif_delay_config.h: V = alpha V + u, optional current
I = beta I + x, spike V >= threshold, reset to v_reset or by subtraction, V starts at 0):

  synapse   Linear, DelayedLinear (spynq.nn.delays: per-synapse delays stay per synapse,
            per-input delays become axonal delays; delays 0..LIF_RING-1 = 127). A bias
            is folded exactly (below, "bias neuron").
  neuron    kernel alpha          kernel beta   weights x       reset
  LIF       1 - 1/tau             -             1 (decay_input=False), 1/tau (True)
  PLIF      1 - k, k=sigmoid(w)   -             1 or k, as LIF (tau fixed at inference)
  DALIF     beta                  -             alpha (folded into the weights)
  AIA       lam                   -             1 (f identity / grad), beta (f cached)
  KernelLIF alpha                 beta or none  1 (the kernel's neuron in float, below)
            each with reset hard (to v_reset) or soft, ``>=``, spike output, one value
            per layer (per-channel values only if all equal; a per-channel weight
            factor is folded per column), leak towards 0 (v_rest = 0) and V0 = 0.

The float model of a unit equals the kernel's maths; what the fixed-point kernel changes
is only the encoder's (spynq.lif.encode, reused here): weights rounded to Q3.12 (and
clipped here to [-8, 8 - 2^-12], reported), decays to UQ0.16, threshold and v_reset to
Q7.16, and every decay product rounded to 2^-16 with states saturated at |V| < 128.
``to_lif_network`` reports each of these errors; ``float_bound`` is the rigorous bound of
the loop rounding on exactly representable parameters.

Bias neuron. The kernel has no bias input, so a run with a bias gets one more input, a
column of ones appended to the raster, and one more neuron per layer that fires at every
step (weight w_b from the previous bias source, delay 0, the layer's own parameters:
w_b >= threshold + |alpha v_reset| + 2^-8 makes V >= threshold at every step in float and
in fixed point). Its spikes carry the layer's bias row to the next layer in the same step:
exactly the nn bias, rounded to Q3.12 like a weight. Not with refractory steps (the bias
neuron would pause), nor where its membrane could reach the Q7.16 range. to_lif_network's
Report.bias_input says whether the LifNetwork wants that ones column (with_bias_input);
its last neuron per layer is then the bias neuron.

Not mapped (the layer stays on the cpu path, info["notes"] says why): BIDL and LIAF
(leak after the reset: spikes would match for beta = 0, v_last would not), LNM, strict
``>`` thresholds, reset "none", analog outputs, leaks towards v_rest != 0, per-neuron
decays or thresholds, conv layers, and an FC layer whose input is not a spike train.
The limits checked here are the default kernel's (LIF_MAX_IN, LIF_RING); larger layers
are split into calls by spynq.lif.backends.plan_calls.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpynqValueError
from ..lif import encode
from ..lif.encode import C
from ..lif.model import LifLayer, LifNetwork, LifParams
from .base import Ctx
from .delays import DelayedLinear
from .layers import Dropout, Flatten, Linear, TemporalAggregate
from .neurons import AIA, DALIF, LIF, PLIF, Neuron
from .ops import spike, stop_gradient
from .params import as_param

W_FRAC = C["LIF_W_FRAC"]
W_MIN = -float(1 << (C["LIF_W_BITS"] - 1 - W_FRAC))                    # -8
W_MAX = ((1 << (C["LIF_W_BITS"] - 1)) - 1) / float(1 << W_FRAC)         # 8 - 2^-12
MAX_DELAY = C["LIF_RING"] - 1
PASS = (Flatten, Dropout)  # identity on a [B, N] spike train (Dropout in eval mode)


class KernelLIF(Neuron):
    """The LIF kernel's neuron in float (spynq.lif.model.LifParams, the kernel's update
    order): with a current state I = beta I + x, u = I (else u = x); refractory r > 0:
    r -= 1, V held, no spike; else h = alpha V + u, s = h >= v_th; reset hard (V = v_reset)
    or soft (V -= v_th), r = refractory. V = I = r = 0 at the start of a sample. LIF with
    the current state is the double-exponential (current-based) synapse of issue 11."""

    def __init__(self, alpha=0.9, beta=None, *, v_th=1.0, reset: str = "hard", v_reset: float = 0.0,
                 refractory: int = 0, **kw):
        super().__init__(v_th=v_th, v_reset=v_reset, reset=reset, **kw)
        if self.reset not in ("hard", "soft"):
            raise SpynqValueError(f"KernelLIF reset {reset!r}: the kernel resets 'hard' or 'soft'")
        self.specs["alpha"] = as_param(alpha)
        if beta is not None:
            self.specs["beta"] = as_param(beta)
        self.refractory = int(refractory)
        if not 0 <= self.refractory <= C["LIF_MAX_REFRACTORY"]:
            raise SpynqValueError(f"KernelLIF refractory {refractory}: 0..{C['LIF_MAX_REFRACTORY']}")

    def initial_state(self, x, xp):
        z = xp.zeros(x.shape, dtype=x.dtype)
        return (z, z, z)  # V, I, refractory steps left

    def step(self, p, state, x, ctx: Ctx):
        xp = ctx.xp
        if state is None:
            self._check_input(x)
            state = self.initial_state(x, xp)
        v, cur, ref = state
        q = self.values(p, xp, x.ndim)
        if "beta" in q:
            cur = q["beta"] * cur + x
            u = cur
        else:
            u = x
        h = q["alpha"] * v + u
        if self.refractory:
            active = (ref <= 0).astype(x.dtype)
            h = xp.where(active > 0, h, v)
            s = spike(h - q["v_th"], self.surrogate, xp, self.strict) * active
            h_seen = xp.where(active > 0, h, -xp.inf)  # v_max: integrated steps only, as the kernel
        else:
            s = spike(h - q["v_th"], self.surrogate, xp, self.strict)
            h_seen = h
        sr = stop_gradient(s, xp) if self.detach_reset else s
        r = h * (1.0 - sr) + self.v_reset * sr if self.reset == "hard" else h - q["v_th"] * sr
        if self.refractory:
            ref = xp.where(active > 0, s * self.refractory, ref - 1.0)
        ctx.record(self.name, s, h_seen, r)
        return s, (r, cur, ref)


class NotDeployable(SpynqValueError):
    """A layer the LIF kernel cannot compute (the message says why)."""


@dataclass
class Unit:
    """A synaptic layer and its neuron layer, as one kernel layer (float values)."""
    syn: Linear
    neuron: Neuron
    params: LifParams
    weights: np.ndarray  # (n_in, n_out) float, the weight factor folded in, not clipped
    delays: np.ndarray | None
    mapping: str
    bias: np.ndarray | None = None  # (n_out,) float, the weight factor folded in
    w_bias: float | None = None     # the bias neuron's input weight (Q3.12), None: no bias neuron possible
    why_no_bias: str = ""


def _scalar(v, what: str) -> float:
    a = np.asarray(v, float)
    if a.size and np.all(a == a.ravel()[0]):
        return float(a.ravel()[0])
    raise NotDeployable(f"{what} differs per neuron; the kernel takes one value per layer")


def _factor(v, n: int) -> np.ndarray:
    a = np.asarray(v, float)
    return np.broadcast_to(a if a.ndim else a.reshape(()), (n,)).astype(float)


def _v0(neuron: Neuron) -> float:
    return neuron.v_init if neuron.v_init is not None else neuron.v_rest_default


def neuron_params(neuron: Neuron, p: dict, n: int) -> tuple[dict, np.ndarray, str]:
    """(LifParams fields, weight factor per neuron (n,), description) of a neuron layer
    whose update the kernel computes; NotDeployable otherwise."""
    kind = type(neuron)
    if kind not in (LIF, PLIF, DALIF, AIA, KernelLIF):
        raise NotDeployable(f"{kind.__name__}: not an update the LIF kernel computes")
    if neuron.output != "spike":
        raise NotDeployable("analog output")
    if neuron.strict:
        raise NotDeployable("strict '>' threshold (the kernel fires on V >= threshold)")
    if neuron.reset not in ("hard", "soft"):
        raise NotDeployable(f"reset {neuron.reset!r} (the kernel resets hard or soft)")
    q = neuron.values(p, np, 2)
    fields = {"threshold": _scalar(q["v_th"], "v_th"),
              "reset": "zero" if neuron.reset == "hard" else "subtract",
              # soft reset: v_reset unused (KernelLIF keeps it, so LifParams round-trip)
              "v_reset": neuron.v_reset if neuron.reset == "hard" or kind is KernelLIF else 0.0}
    if kind is KernelLIF:
        fields.update(alpha=_scalar(q["alpha"], "alpha"),
                      beta=_scalar(q["beta"], "beta") if "beta" in q else None, refractory=neuron.refractory)
        return fields, np.ones(n), "KernelLIF"
    if _v0(neuron) != 0.0:
        raise NotDeployable(f"initial membrane {_v0(neuron)} (the kernel starts at 0)")
    if kind in (LIF, PLIF):
        if neuron._vr() != 0.0:
            raise NotDeployable(f"leak towards v_rest={neuron._vr()} (the kernel leaks towards 0)")
        k = _scalar(q["w"], "1/tau") if kind is PLIF else 1.0 / _scalar(q["tau"], "tau")
        fields["alpha"] = 1.0 - k
        scale, desc = (np.full(n, k), "decay_input: 1/tau folded into the weights") if neuron.decay_input else \
            (np.ones(n), "decay_input=False")
        return fields, scale, f"{kind.__name__} ({desc})"
    if kind is DALIF:
        fields["alpha"] = _scalar(q["beta"], "DA-LIF beta")
        return fields, _factor(q["alpha"], n), "DALIF (alpha folded into the weights)"
    # AIA: u = lam u (1 - o) + f(x)
    if neuron.f == "quadratic":
        raise NotDeployable("AIA f quadratic (not linear in the input)")
    fields["alpha"] = _scalar(q["lam"], "AIA lam")
    if neuron.f == "cached":
        return fields, _factor(q["beta"], n), "AIA cached (beta folded into the weights)"
    return fields, np.ones(n), f"AIA (f {neuron.f}: forward x)"


def make_unit(syn, neuron, p_syn: dict, p_neuron: dict) -> Unit:
    if type(syn) not in (Linear, DelayedLinear):
        raise NotDeployable(f"{type(syn).__name__} is not a fully connected layer")
    if syn.n_in + 1 > C["LIF_MAX_IN"]:  # + 1: room for a bias input
        raise NotDeployable(f"{syn.name}: {syn.n_in} inputs, the kernel takes at most {C['LIF_MAX_IN'] - 1} here")
    fields, scale, desc = neuron_params(neuron, p_neuron, syn.n_out)
    params = LifParams(**fields)
    try:
        params.validate(neuron.name)
        encode.decay_q(params.alpha, "alpha")
        if params.beta is not None:
            encode.decay_q(params.beta, "beta")
        if encode.state_q(params.threshold, "threshold") <= 0:
            raise SpynqValueError(f"threshold {params.threshold} rounds to 0 in Q7.16")
        encode.state_q(params.v_reset, "v_reset")
    except SpynqValueError as e:
        raise NotDeployable(f"{neuron.name}: {e}") from None
    delays = None
    if isinstance(syn, DelayedLinear):
        if syn.max_delay > MAX_DELAY:
            raise NotDeployable(f"{syn.name}: delay {syn.max_delay} > {MAX_DELAY} (the kernel's ring)")
        delays = syn.delays.copy() if syn.mode == "axonal" else syn.delays.T.copy()
    w = np.asarray(p_syn["w"], float).T * scale[None, :]
    bias = np.asarray(p_syn["b"], float) * scale if "b" in p_syn and np.any(np.asarray(p_syn["b"]) != 0) else None
    w_bias, why = bias_weight(params)
    if bias is not None and w_bias is None:
        raise NotDeployable(f"{syn.name}: a bias, {why}")
    return Unit(syn, neuron, params, w, delays, desc, bias, w_bias, why)


def bias_weight(p: LifParams) -> tuple[float | None, str]:
    """(w_b, "") for a bias neuron of a layer with params p: the smallest Q3.12 weight with
    w_b >= threshold + |alpha v_reset| + 2^-8, so that V >= threshold at every step (zero
    reset: V = alpha v_reset + u, u >= w_b; subtract: V - threshold >= 0 stays, V >= u);
    the margin covers the rounding of alpha v_reset and of the parameters. (None, why)
    where the kernel cannot hold it."""
    if p.refractory:
        return None, "refractory steps (a bias neuron would pause)"
    need = p.threshold + (abs(p.alpha * p.v_reset) if p.reset == "zero" else 0.0) + 2.0 ** -8
    w_b = np.ceil(need * (1 << W_FRAC)) / (1 << W_FRAC)
    if w_b > W_MAX:
        return None, f"a bias neuron needs an input weight {need:.4g} > {W_MAX}"
    u = w_b / (1.0 - p.beta) if p.beta is not None else w_b  # the largest input current
    v = abs(p.v_reset) + u if p.reset == "zero" else (u - p.threshold) / (1.0 - p.alpha) + p.threshold
    if max(u, v) > 100.0:  # keep clear of the Q7.16 range (|V| < 128)
        return None, f"a bias neuron's state would reach {max(u, v):.4g} (Q7.16: |V| < 128)"
    return float(w_b), ""


def with_bias_input(rasters) -> np.ndarray:
    """(batch, T, n) spikes -> (batch, T, n + 1) with the last input always on (the input
    of a LifNetwork whose Report.bias_input is True)."""
    r = np.asarray(rasters, bool)
    return np.concatenate([r, np.ones(r.shape[:-1] + (1,), bool)], axis=-1)


@dataclass
class Segment:
    """Consecutive layers of a Sequential (indices) run on one backend; kernel segments
    hold their units (layers between units are PASS layers, identities there)."""
    where: str
    layers: list
    units: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _joins(units: list, unit: Unit) -> bool:
    """A unit continues a kernel run unless the run would need bias neurons (some unit has
    a bias) that one of its layers cannot hold: then a new run starts (kernel to kernel)."""
    both = units + [unit]
    return not any(u.bias is not None for u in both) or all(u.w_bias is not None for u in both)


def _spiking_source(net, i: int) -> bool | None:
    """Whether the input of layer i is a spike train: True after a spiking neuron (through
    PASS layers), None at the network input (known only at run time), False otherwise."""
    j = i - 1
    while j >= 0 and isinstance(net.layers[j], PASS):
        j -= 1
    if j < 0:
        return None
    lj = net.layers[j]
    return lj.kind == "neuron" and getattr(lj, "output", None) == "spike"


def segments(net, params: dict, backend: str = "golden", train: bool = False) -> list[Segment]:
    """Split a Sequential into maximal runs of kernel units (on `backend`) and the rest
    (cpu). Why a candidate unit stayed on cpu is in the cpu segment's notes. A kernel run
    continues over PASS layers (flatten of [B, N], eval-mode dropout) between units."""
    layers = net.layers
    segs: list[Segment] = []
    pending: list = []  # PASS layers after the last unit of a kernel run

    def cpu(idx: int, note: str | None = None):
        if not segs or segs[-1].where != "cpu":
            segs.append(Segment("cpu", []))
        segs[-1].layers.append(idx)
        if note:
            segs[-1].notes.append(note)

    def flush():
        for k in pending:
            cpu(k)
        pending.clear()

    i, n, aggregated = 0, len(layers), False
    while i < n:
        l = layers[i]
        unit, note = None, None
        if backend != "cpu" and not aggregated and isinstance(l, Linear) and i + 1 < n and \
                layers[i + 1].kind == "neuron":
            if _spiking_source(net, i) is False:
                note = f"{l.name}: its input is not a spike train"
            else:
                try:
                    unit = make_unit(l, layers[i + 1], params[l.name], params[layers[i + 1].name])
                except NotDeployable as e:
                    note = str(e)
        if unit is not None:
            if segs and segs[-1].where == backend and _joins(segs[-1].units, unit):
                segs[-1].layers += pending
                pending.clear()
            else:
                flush()
                segs.append(Segment(backend, []))
            segs[-1].layers += [i, i + 1]
            segs[-1].units.append(unit)
            i += 2
            continue
        if segs and segs[-1].where == backend and backend != "cpu" and isinstance(l, PASS) and \
                not (isinstance(l, Dropout) and train and l.p > 0):
            pending.append(i)
        else:
            flush()
            cpu(i, note)
        aggregated = aggregated or isinstance(l, TemporalAggregate)
        i += 1
    flush()
    return segs


# ---- export -------------------------------------------------------------------------


@dataclass
class Report:
    """What the export approximated, per kernel layer (float -> the encoder's fixed point):
    weights clipped to [-8, 8 - 2^-12] (count, largest change) and rounded to Q3.12
    (largest error), alpha / beta rounded to UQ0.16, threshold / v_reset to Q7.16 (errors),
    the delays' mode and maximum, the mapping of the nn layers, and loop_bound, the
    membrane error the loop's rounding alone can reach (float_bound)."""
    layers: list
    bias_input: bool = False  # the LifNetwork takes with_bias_input(rasters); last neuron per layer = bias

    @property
    def exact(self) -> bool:
        """Every parameter on the kernel's grid: the only float-vs-fixed difference left is
        the rounding of the decay products in the loop (float_bound)."""
        keys = ("w_clipped", "w_round", "alpha_err", "beta_err", "threshold_err", "v_reset_err")
        return all(not r[k] for r in self.layers for k in keys)

    def __str__(self) -> str:
        rows = []
        for r in self.layers:
            rows.append(f"{r['layers']}: {r['mapping']}; weights clipped {r['w_clipped']} (max {r['w_clip_max']:.3g}), "
                        f"rounding <= {r['w_round']:.3g}; alpha err {r['alpha_err']:.3g}, beta err {r['beta_err']:.3g}, "
                        f"threshold err {r['threshold_err']:.3g}; delays {r['delays']}"
                        + (f"; bias neuron (w_b {r['w_bias']:.6g})" if self.bias_input else ""))
        return "\n".join(rows)


def _unit_layer(u: Unit, bias_neuron: bool = False) -> tuple[LifLayer, dict]:
    w = u.weights
    d = None if u.delays is None else u.delays.copy()
    if bias_neuron:  # one more input (the bias source) and one more neuron (the next bias source)
        n_in, n_out = w.shape
        wb = np.zeros((n_in + 1, n_out + 1))
        wb[:n_in, :n_out] = w
        wb[n_in, :n_out] = u.bias if u.bias is not None else 0.0
        wb[n_in, n_out] = u.w_bias
        w = wb
        if d is not None:
            d = np.concatenate([d, [0]]) if d.ndim == 1 else np.pad(d, ((0, 1), (0, 1)))
    wc = np.clip(w, W_MIN, W_MAX)
    wq = encode.weights_q(wc, f"{u.syn.name} weights") / float(1 << W_FRAC)
    p = u.params
    dq = 1 << C["LIF_DECAY_FRAC"]
    vq = float(1 << C["LIF_V_FRAC"])
    rep = {"layers": [u.syn.name, u.neuron.name], "mapping": u.mapping,
           "w_clipped": int(np.sum(wc != w)), "w_clip_max": float(np.max(np.abs(wc - w), initial=0.0)),
           "w_round": float(np.max(np.abs(wq - wc), initial=0.0)),
           "alpha": p.alpha, "alpha_err": abs(encode.decay_q(p.alpha, "alpha") / dq - p.alpha),
           "beta": p.beta,
           "beta_err": abs(encode.decay_q(p.beta, "beta") / dq - p.beta) if p.beta is not None else 0.0,
           "threshold_err": abs(encode.state_q(p.threshold, "threshold") / vq - p.threshold),
           "v_reset_err": abs(encode.state_q(p.v_reset, "v_reset") / vq - p.v_reset),
           "delays": "none" if u.delays is None else
           f"{'axonal' if u.delays.ndim == 1 else 'per synapse'} <= {int(u.delays.max(initial=0))}",
           "w_bias": u.w_bias if bias_neuron else None,
           "loop_bound": float_bound(p.alpha, p.beta)}  # |V| error of the loop rounding alone
    return LifLayer(wc, d, copy.copy(p)), rep


def units_network(units: list[Unit]) -> tuple[LifNetwork, Report]:
    biased = any(u.bias is not None for u in units)
    layers, reps = zip(*(_unit_layer(u, biased) for u in units))
    return LifNetwork(list(layers)), Report(list(reps), biased)


def to_lif_network(net, params: dict) -> tuple[LifNetwork, Report]:
    """The LifNetwork the kernel runs for `net` (every layer a kernel unit, PASS layers
    between them allowed) and the Report of what the fixed point approximates. Weights
    are stored clipped but not rounded (the encoder rounds; the cpu backend of the
    LifNetwork is then the float model). NotDeployable names the first layer that is not."""
    segs = segments(net, params, backend="golden")
    bad = [s for s in segs if s.where == "cpu" and any(not isinstance(net.layers[k], PASS) for k in s.layers)]
    if bad or sum(s.where != "cpu" for s in segs) != 1:
        why = "; ".join(n for s in bad for n in s.notes) or \
            "layers " + ", ".join(net.layers[k].name for s in bad for k in s.layers) + " are not kernel units"
        raise NotDeployable(f"not one run of kernel layers: {why}")
    return units_network(next(s for s in segs if s.where != "cpu").units)


def from_lif_network(lif: LifNetwork):
    """(Sequential, params) computing `lif` in float: per layer a Linear (no bias) or a
    DelayedLinear and a KernelLIF with the layer's LifParams (to_lif_network inverts it)."""
    from .network import Sequential

    lif.validate()
    layers, params = [], {}
    for k, L in enumerate(lif.layers):
        syn_name, neu_name = f"{2 * k}_fc", f"{2 * k + 1}_lif"
        if L.delays is None:
            syn = Linear(L.n_in, L.n_out, bias=False, name=syn_name)
        else:
            syn = DelayedLinear(L.n_in, L.n_out, L.delays if L.delays.ndim == 1 else L.delays.T, name=syn_name)
        p = L.params
        neu = KernelLIF(p.alpha, p.beta, v_th=p.threshold, reset="hard" if p.reset == "zero" else "soft",
                        v_reset=p.v_reset, refractory=p.refractory, name=neu_name)
        layers += [syn, neu]
        params[syn_name] = {"w": np.asarray(L.weights, float).T.copy()}
        params[neu_name] = neu.init(np.random.default_rng(0))
    return Sequential(*layers), params


def float_bound(alpha: float, beta: float | None = None) -> float:
    """Largest |V_float - V_kernel| of one layer while its input spikes agree, with every
    parameter on the kernel's grid (Report.exact) and no saturation: each decay product
    rounds by at most 2^-17 (half of 2^-16), so e_I <= 2^-17 / (1 - beta) and
    e_V <= (2^-17 + e_I) / (1 - alpha) (geometric sums; a zero reset sets both to v_reset,
    error 0; a subtraction keeps the error). A spike can then differ only at a step where
    the float membrane is within this bound of the threshold."""
    r = 2.0 ** -(C["LIF_DECAY_FRAC"] + 1)
    e_i = r / (1.0 - beta) if beta is not None else 0.0
    return (r + e_i) / (1.0 - alpha)


# ---- running a Sequential across backends ---------------------------------------------


def run(net, rasters, params: dict, backend: str, *, style: str = "layer", time_major: bool = False,
        train: bool = False, seed: int = 0, merge_time: bool = False, **opts):
    """Sequential.run for a kernel backend: kernel segments through spynq.lif.backends.run
    (one LifNetwork per segment), the others on the numpy cpu path."""
    import time

    from ..lif import backends as lif_backends
    from ..lif.result import LifResult
    from .network import Sequential

    x = np.asarray(rasters, float)
    xs = x if time_major else np.swapaxes(x, 0, 1)
    segs = segments(net, params, backend, train)
    readouts: dict = {}  # neuron name -> (spikes (batch, T, ...), v_last, v_max)
    runs, notes, where = [], [], {}
    t0 = time.perf_counter()
    for seg in segs:
        if seg.where != "cpu":
            binary = np.all((xs == 0) | (xs == 1))
            if xs.ndim != 3 or not binary:
                notes.append(f"{net.layers[seg.layers[0]].name}: input not a (T, batch, n) spike raster: ran on cpu")
                seg = Segment("cpu", seg.layers)
        if seg.where == "cpu":
            orig = [net.layers[k] for k in seg.layers]
            sub = Sequential(*[copy.copy(l) for l in orig])
            for c, l in zip(sub.layers, orig):
                c.index = l.index  # dropout masks are seeded by the layer's index in net
            out, aux = sub.apply(params, xs, xp=np, train=train, seed=seed, style=style, merge_time=merge_time)
            for l in sub.layers:
                if l.kind == "neuron":
                    r = aux.records[l.name]
                    readouts[l.name] = (np.swapaxes(r["s"], 0, 1) != 0, np.asarray(r["v"][-1]),
                                        np.asarray(r["h"]).max(axis=0))
                    where[l.name] = "cpu"
            notes += seg.notes
            xs = out
            continue
        lif, report = units_network(seg.units)
        r = np.swapaxes(xs, 0, 1).astype(bool)
        res = lif_backends.run(lif, with_bias_input(r) if report.bias_input else r, backend=backend, **opts)
        for k, u in enumerate(seg.units):
            n = u.syn.n_out  # without the bias neuron
            readouts[u.neuron.name] = (res.spikes[k][..., :n], res.v_last[k][..., :n], res.v_max[k][..., :n])
            where[u.neuron.name] = backend
        runs.append({"layers": [net.layers[k].name for k in seg.layers], "network": lif, "report": report,
                     "info": res.info, "status": res.layer_status, "raw": res.raw})
        xs = np.swapaxes(readouts[seg.units[-1].neuron.name][0], 0, 1).astype(float)
    seconds = time.perf_counter() - t0
    names = [l.name for l in net.neuron_layers]
    spikes = [readouts[n][0] for n in names]
    info = {"layers": names, "ran_on": [where[n] for n in names], "placement": [where[n] for n in names],
            "output": xs, "style": style, "kernel_runs": runs, "notes": notes}
    return LifResult(backend, spikes, [s.sum(axis=1) for s in spikes], [readouts[n][1] for n in names],
                     [readouts[n][2] for n in names], seconds=seconds, info=info)


def placement(net, backend: str, params: dict | None = None) -> list:
    """Where each neuron layer of net runs on `backend` (static: assumes a spike raster as
    the network input; run() falls back to cpu and says so when it is not)."""
    if params is None:
        params = net.init(0)
    where = {}
    for seg in segments(net, params, backend):
        for k in seg.layers:
            where[k] = seg.where
    return [where[l.index] for l in net.neuron_layers]
