"""Spiking neuron layers: one step is charge -> fire -> reset -> (leak), over [B, N] or
[B, C, H, W]; a sequence [T, B, ...] loops that step (the same code for both styles).

Per step, with q the effective parameters (spynq.nn.params):
    h = charge(v, x)                      the model's rule (below), h: integrated membrane
    s = Heav(h - v_th)                    ``>=`` (strict=True: ``>``), surrogate backward
    r = h (1 - s) + v_reset s             reset "hard"
      = h - v_th s                        reset "soft" (subtract; SpikingJelly v_reset=None, BIDL RMP)
      = h                                 reset "none"
    v = leak(r)                           identity except BIDL (alpha r + beta)
with s replaced by stop_gradient(s) inside the reset when detach_reset=True. The state
is v; it starts at v_init (v_reset for a hard reset, else 0, as SpikingJelly) for every
sample of every call. Output: s, or for output="analog" (LIAF) act(tap), tap one of
h (V_m), h-vth, r, v. Default surrogate ATan(alpha=2) (STCA; snnTorch's default),
rectangular (a = 1) for DA-LIF, AIA and BIDL (their papers / reference code).

Charge rules:
    LIF    decay_input: h = v + (x - (v - v_rest)) / tau      else h = v - (v - v_rest)/tau + x
    PLIF   the same with 1/tau = k = sigmoid(w), w learnable (tau0 = 2 gives w = 0)
    DALIF  h = beta v + alpha x                                (DA-LIF Eq.9)
    AIA    h = lam v + f(x), the reset (1 - o) applied before the leak (AIA Eq.3)
    BIDL   h = v + x; leak v = alpha r + beta                  (BIDL Eq.6-10: integrate, fire, reset, leak)
    LNM    h = v + P(v) + g x, P(v) = sum_k c_k v^k            (placeholder, note section 4)
    LIFPlus BIDL's procedure with LIF+'s optional stages (several state variables; its docstring)
v_rest defaults to v_reset under a hard reset and to 0 otherwise (SpikingJelly).
"""
from __future__ import annotations

import math

from ..errors import SpynqValueError
from .base import Ctx, Layer
from .ops import grad_times_input, is_jax, spike, stop_gradient
from .params import Param, as_param, effective
from .surrogate import ATan, Rectangular, Surrogate

RESETS = ("hard", "soft", "none")
OUTPUTS = ("spike", "analog")
TAPS = ("h", "h-vth", "r", "v")
ACTS = ("relu", "sigmoid", "tanh", "identity")


def _choice(x, what, choices):
    if x not in choices:
        raise SpynqValueError(f"{what} {x!r}: choose one of {choices}")
    return x


class Neuron(Layer):
    kind = "neuron"
    default_surrogate: Surrogate = ATan()

    def __init__(self, *, v_th=1.0, v_reset: float = 0.0, reset: str = "hard", detach_reset: bool = False,
                 strict: bool = False, surrogate: Surrogate | None = None, channels: int | None = None,
                 output: str = "spike", tap: str = "h", act: str = "relu", v_init: float | None = None,
                 name: str | None = None):
        super().__init__(name)
        self.v_reset = float(v_reset)
        self.reset = _choice(reset, "reset", RESETS)
        self.detach_reset = bool(detach_reset)
        self.strict = bool(strict)
        self.surrogate = surrogate if surrogate is not None else self.default_surrogate
        if not isinstance(self.surrogate, Surrogate):
            raise SpynqValueError(f"surrogate {self.surrogate!r}: a spynq.nn.surrogate.Surrogate")
        self.channels = channels
        self.output = _choice(output, "output", OUTPUTS)
        self.tap = _choice(tap, "tap", TAPS)
        self.act = _choice(act, "act", ACTS)
        self.v_init = v_init
        self.specs: dict[str, Param] = {"v_th": as_param(v_th)}

    # -- the model-specific parts -------------------------------------------------------
    def charge(self, q, v, x, xp, ctx: Ctx):  # pragma: no cover - abstract
        raise NotImplementedError

    def leak(self, q, r, xp):
        return r

    # -- shared -------------------------------------------------------------------------
    def init(self, rng):
        for k, spec in self.specs.items():
            if spec.per == "channel" and not self.channels:
                raise SpynqValueError(f"{type(self).__name__}: parameter {k} per channel needs channels=C")
        return {k: spec.array(self.channels) for k, spec in self.specs.items()}

    @property
    def v_rest_default(self) -> float:
        return self.v_reset if self.reset == "hard" else 0.0

    def initial_state(self, x, xp):
        v0 = self.v_init if self.v_init is not None else self.v_rest_default
        return xp.full(x.shape, v0, dtype=x.dtype)

    def _check_input(self, x):
        if x.ndim not in (2, 4):
            raise SpynqValueError(f"{self.name}: step input {tuple(x.shape)}, wants [B, N] or [B, C, H, W]")
        if any(spec.per == "channel" for spec in self.specs.values()) and x.shape[1] != self.channels:
            raise SpynqValueError(f"{self.name}: {x.shape[1]} channels in, per-channel parameters for {self.channels}")

    def values(self, p, xp, ndim):
        return {k: effective(spec, p[k], xp, ndim) for k, spec in self.specs.items()}

    def fire(self, q, h, xp):
        """(spikes, membrane after the reset) of the charged membrane h."""
        s = spike(h - q["v_th"], self.surrogate, xp, self.strict)
        sr = stop_gradient(s, xp) if self.detach_reset else s
        if self.reset == "hard":
            return s, h * (1.0 - sr) + self.v_reset * sr
        if self.reset == "soft":
            return s, h - q["v_th"] * sr
        return s, h

    def step(self, p, state, x, ctx: Ctx):
        xp = ctx.xp
        if state is None:
            self._check_input(x)
            v = self.initial_state(x, xp)
        else:
            v = state
        q = self.values(p, xp, x.ndim)
        h = self.charge(q, v, x, xp, ctx)
        s, r = self.fire(q, h, xp)
        v_new = self.leak(q, r, xp)
        ctx.record(self.name, s, h, v_new)
        if self.output == "spike":
            return s, v_new
        return self._analog(q, h, r, v_new, xp), v_new

    def _analog(self, q, h, r, v, xp):
        a = {"h": h, "r": r, "v": v}.get(self.tap)
        if a is None:  # "h-vth"
            a = h - q["v_th"]
        if self.act == "relu":
            return xp.maximum(a, 0.0)
        if self.act == "sigmoid":
            return 1.0 / (1.0 + xp.exp(-a))
        if self.act == "tanh":
            return xp.tanh(a)
        return a

    def seq(self, p, xs, ctx: Ctx):
        if ctx.scan and is_jax(ctx.xp):
            return self._scan(p, xs, ctx)
        return self.step_loop(p, xs, ctx)

    def step_loop(self, p, xs, ctx: Ctx):
        """The T steps as a Python loop (what seq runs unless lax.scan is asked for)."""
        state, ys = None, []
        for t in range(xs.shape[0]):
            ctx.t = t
            y, state = self.step(p, state, xs[t], ctx)
            ys.append(y)
        return ctx.xp.stack(ys)

    def _scan(self, p, xs, ctx: Ctx):
        """The same step under jax.lax.scan: one traced step instead of T unrolled ones
        (much shorter jit compiles for long T; the numbers are the step loop's)."""
        import jax

        def body(v, xt):
            x, t = xt
            sub = ctx.sub(t)  # t traced: index arrays with it, no Python branching on it
            y, v2 = self.step(p, v, x, sub)
            r = sub.records[self.name]
            return v2, (y, r["s"][0], r["h"][0], r["v"][0])

        steps = ctx.xp.arange(xs.shape[0])
        _, (ys, S, H, V) = jax.lax.scan(body, self.initial_state(xs[0], ctx.xp), (xs, steps))
        ctx.records[self.name] = {"s": S, "h": H, "v": V}  # already stacked [T, ...]
        return ys


class LIF(Neuron):
    """SpikingJelly-style LIF (Oli Eq.2-4, DA-LIF Eq.4, STCA/PLIF baseline). tau fixed
    unless given as a learnable Param (raw parametrisation of tau itself)."""

    def __init__(self, tau=2.0, *, decay_input: bool = True, v_rest: float | None = None, **kw):
        super().__init__(**kw)
        self.decay_input = bool(decay_input)
        self.v_rest = v_rest
        self.specs["tau"] = as_param(tau)

    def _vr(self):
        return self.v_rest if self.v_rest is not None else self.v_rest_default

    def _charge_k(self, v, x, k):
        """k = 1/tau (PLIF: sigmoid(w))."""
        vr = self._vr()
        return v + (x - (v - vr)) * k if self.decay_input else v - (v - vr) * k + x

    def charge(self, q, v, x, xp, ctx):
        # divide by tau (not multiply by 1/tau): SpikingJelly's rounding
        vr = self._vr()
        tau = q["tau"]
        return v + (x - (v - vr)) / tau if self.decay_input else v - (v - vr) / tau + x


class PLIF(LIF):
    """Parametric LIF (STCA Sec.3.2, Fang et al. 2021): 1/tau = k = sigmoid(w) with w
    learnable per layer (per channel: pass w=Param(..., per="channel")); tau0 = 2 -> w = 0."""

    def __init__(self, tau0: float = 2.0, *, w: Param | None = None, **kw):
        super().__init__(tau=1.0, **kw)
        del self.specs["tau"]
        self.specs["w"] = w if w is not None else Param(value=1.0 / float(tau0), fn="sigmoid", learn=True)

    def charge(self, q, v, x, xp, ctx):
        return self._charge_k(v, x, q["w"])


class DALIF(Neuron):
    """DA-LIF Eq.9: h = beta v + alpha x, hard reset to 0, v_th = 1, rectangular surrogate
    (a = 1). alpha, beta one learnable scalar each per layer, tanh-parametrised with raw
    value 1 at init (so 0.7616, the note's reading of "initialized to 1"; E11); pass
    Param(..., fn="sigmoid" | "clip" | "raw", per="channel") for the other options."""
    default_surrogate = Rectangular(1.0)

    def __init__(self, alpha: Param | float | None = None, beta: Param | float | None = None, **kw):
        super().__init__(**kw)
        self.specs["alpha"] = as_param(alpha) if alpha is not None else Param(raw=1.0, fn="tanh")
        self.specs["beta"] = as_param(beta) if beta is not None else Param(raw=1.0, fn="tanh")

    def charge(self, q, v, x, xp, ctx):
        return q["beta"] * v + q["alpha"] * x


AIA_FS = ("grad", "identity", "quadratic", "cached")


class AIA(Neuron):
    """AIA Eq.3: u = lam u (1 - o) + f(x), i.e. h = lam v + f(x) with a hard reset to 0.
    f (note 2.1, E9), default "grad":
      "grad"      R1 (recommended): forward f(x) = x (identical to LIF), backward
                  df/dx = x; the scaled gradient reaches W and the previous layer
                  (scale_input_grad=True of the note; False needs the synapse: not offered)
      "identity"  association off: plain LIF u = lam u (1 - o) + x (AIA Eq.2)
      "quadratic" R2 literal: f(x) = x^2 / 2, exact gradients
      "cached"    R3 Cached AIA: f(x) = beta x, beta learnable (per channel when
                  channels=C is given, else per layer), 1 at init; merge into W for inference
    lam = 0.5, v_th = 1 (Sec.3); rectangular surrogate a = 1 (tdBN, [7]; the paper gives none)."""
    default_surrogate = Rectangular(1.0)

    def __init__(self, lam=0.5, *, f: str = "grad", beta: Param | float | None = None, **kw):
        super().__init__(**kw)
        self.f = _choice(f, "AIA f", AIA_FS)
        self.specs["lam"] = as_param(lam)
        if self.f == "cached":
            self.specs["beta"] = as_param(beta, learn=True) if beta is not None else Param(
                value=1.0, per="channel" if self.channels else "layer", learn=True)

    def charge(self, q, v, x, xp, ctx):
        if self.f == "grad":
            fx = grad_times_input(x, xp)
        elif self.f == "quadratic":
            fx = 0.5 * x * x
        elif self.f == "cached":
            fx = q["beta"] * x
        else:
            fx = x
        return q["lam"] * v + fx


class BIDL(Neuron):
    """BIDL's tensor procedure (Eq.6-11): V_m = V + I (r = 1: a gain of the weights), fire
    F = V_m >= V_th, reset (hard to V_reset, or soft "RMP": V_m - V_th), then the leak
    V = alpha R + beta. Defaults are the reference code's SOMA_PARAMS (alpha 0.3, beta 0,
    theta 0.5, v_0 0, not learnable); the paper gives none and trains them in its DVS
    runs: pass learn=True (all-share mode) or Params with per="channel" (CSM). The
    reference code fires on strict ``>``; strict=False (``>=``, Eq.7) is the default here.
    V starts at 0."""
    default_surrogate = Rectangular(1.0)

    def __init__(self, alpha=0.3, beta=0.0, *, v_th=0.5, learn: bool = False, **kw):
        super().__init__(v_th=as_param(v_th, learn), **kw)
        self.specs["alpha"] = as_param(alpha, learn)
        self.specs["beta"] = as_param(beta, learn)

    def initial_state(self, x, xp):
        return xp.full(x.shape, self.v_init if self.v_init is not None else 0.0, dtype=x.dtype)

    def charge(self, q, v, x, xp, ctx):
        return v + x

    def leak(self, q, r, xp):
        return q["alpha"] * r + q["beta"]


class LIAF(BIDL):
    """BIDL's LIAF: the LIF procedure with an analog output act(tap). Default tap "h"
    (the integrated membrane V_m before reset) with ReLU: the reference code's
    memb_mode=(0, relu); tap="v" is Eq.11 read literally (note E17)."""

    def __init__(self, alpha=0.3, beta=0.0, *, output: str = "analog", tap: str = "h", act: str = "relu", **kw):
        super().__init__(alpha, beta, output=output, tap=tap, act=act, **kw)


class LNM(Neuron):
    """Learnable polynomial drift (LNM; only the abstract exists, so this is the note's
    placeholder, an assumption): h = v + P(v) + input_scale x, P(v) = sum_k c_k v^k with
    learnable c_k (per layer; per channel with Params). Default degree 2 with
    c = (0, -0.5, 0): a leak of 0.5 and no quadratic term at init. v_clip bounds h
    (|h| <= v_clip) as a guard against the blow-up a degree >= 2 drift allows.
    c = (v_rest/tau, -1/tau) with input_scale 1 is LIF with decay_input=False."""

    def __init__(self, coeffs=(0.0, -0.5, 0.0), *, input_scale: float = 1.0, v_clip: float | None = None,
                 learn: bool = True, **kw):
        super().__init__(**kw)
        if len(coeffs) < 1:
            raise SpynqValueError("LNM: at least one coefficient")
        self.degree = len(coeffs) - 1
        for k, c in enumerate(coeffs):
            self.specs[f"c{k}"] = as_param(c, learn)
        self.input_scale = float(input_scale)
        self.v_clip = v_clip

    def charge(self, q, v, x, xp, ctx):
        p = q[f"c{self.degree}"]
        for k in range(self.degree - 1, -1, -1):  # Horner
            p = p * v + q[f"c{k}"]
        h = v + p + self.input_scale * x
        if self.v_clip is not None:
            h = xp.clip(h, -self.v_clip, self.v_clip)
        return h


INPUT_ACCUMS = ("CUB", "COBE", "COBA")
REFRACTORIES = ("none", "absolute", "relative")
SPIKE_INITS = ("naive", "EXI", "QDI")
TRIGGERS = ("naive", "ADT", "SBT")
DECAYS = ("naive", "EXD", "LID")

# Defaults of the optional stages' constants: chosen here (the paper gives none; the
# reference code draws every unset one at random, torch.rand).
LIFPLUS_DEFAULTS = {"eps": 0.5, "v_g": 2.0, "k": 0.5, "v_T": 0.3, "delta_T": 0.1, "v_c": 0.3, "eps_r": 0.2,
                    "v_rr": -1.0, "q_r": 1.0, "eps_w": 0.1, "b": 0.1, "a": 0.1, "v_w": 0.0, "v_leak": 0.05}


class LIFPlus(BIDL):
    """BIDL's LIF+ (Sec. 3.1.1, Fig.5): the BIDL procedure h = v + I -> fire -> reset ->
    decay, with the reference code's (layers/lifplus.py) five configurable stages. The
    paper defines none of them (it cites Lee et al. 2018, Flexon, whose features they
    are) and gives no map from its codes "A=0, B=3, ..." to the options, so each equation
    below is a discrete form chosen here; [R] marks where the reference code's line is
    followed, [C] a choice where it is garbled or differs. k = tau_recip = dt/tau.

    B input accumulation (input_accum), I the current added to v:
      "CUB"   I = x                                                   current based [R]
      "COBE"  g = (1 - eps) g + x;  I = g                             exponential conductance [R]
      "COBA"  y = (1 - eps) y + x;  g = (1 - eps) g + e eps y;  I = g  alpha-shaped conductance [R]
      rev_volt=True (COBE / COBA only): I = g (v_g - v)               reversal voltage [R]
                  a conductance must not go negative: with signed weights a negative g
                  drives v away from v_g without bound (the reference code's form too);
                  use non-negative weights into a rev_volt layer
    E refractory (refractory):
      "none"
      "absolute"  while cnt > 0 the input is ignored (I = 0) and cnt -= 1; a spike sets
                  cnt = cntmax (10): the cntmax steps after a spike integrate no input [R]
      "relative"  r = (1 - eps_r) r;  h += r (v_rr - v);  a spike adds q_r to r: a
                  conductance towards v_rr < v_th that decays (the reference code also
                  runs an adaptation w towards v_ar here and subtracts q_r; [C] r alone,
                  adaptation is the trigger stage's)
    C spike initiation (spike_init), a drift of the integrated membrane:
      "naive" none
      "EXI"   h += k delta_T exp((v - v_T) / delta_T)   exponential IF (Brette-Gerstner);
              [C] the reference code's exp((v - theta) - delta_t) is read as this
      "QDI"   h += k (v - v_0)(v - v_c)                  quadratic IF [R]
      the firing cut-off stays v_th in all three ([C]; the reference code fires EXI / QDI
      at a separate v_theta).
    D trigger current (trigger), an adaptation w subtracted from h:
      "naive" none
      "ADT"   w = (1 - eps_w) w;  h -= w;  a spike adds b to w          spike-triggered adaptation
      "SBT"   w = (1 - eps_w) w + k a (v - v_w);  h -= w;  spike: w += b  subthreshold coupling (AdEx)
              [C] signs: the reference code adds w and subtracts b, the same with w -> -w, b -> -b
    A membrane decay (decay), applied to the reset membrane R as BIDL's leak:
      "naive" v = alpha R + beta                            BIDL Eq.10 [R]
      "EXD"   v = R + k (v_0 - R)                            exponential decay to v_0 (= naive with
              alpha = 1 - k, beta = k v_0, Eq.3's Euler step; [C] the reference code drops R here)
      "LID"   v = v_0 + sign(R - v_0) max(|R - v_0| - v_leak, 0)   linear decay, stopping at v_0
              ([C] the reference code's v + I - v_leak has no floor)
    v_0 is v_reset. All-default (CUB, none, naive x 3) computes exactly nn.BIDL's
    operations (B4), which the reference code's default does not ([C]: its default
    integrates x + k (x + v_0 - v), without v). States v, g, y, cnt, r, w start at 0
    ([C]: the reference code starts g, y, r at 1). Stage constants: LIFPLUS_DEFAULTS, or
    pass any of them (a number or a Param) by name."""

    cntmax = 10

    def __init__(self, alpha=0.3, beta=0.0, *, input_accum: str = "CUB", rev_volt: bool = False,
                 refractory: str = "none", spike_init: str = "naive", trigger: str = "naive", decay: str = "naive",
                 cntmax: int = 10, learn: bool = False, **kw):
        consts = {k: kw.pop(k) for k in list(kw) if k in LIFPLUS_DEFAULTS}
        super().__init__(alpha, beta, learn=learn, **kw)
        self.input_accum = _choice(input_accum, "input_accum", INPUT_ACCUMS)
        self.rev_volt = bool(rev_volt)
        if self.rev_volt and self.input_accum == "CUB":
            raise SpynqValueError("LIFPlus rev_volt=True needs a conductance: input_accum 'COBE' or 'COBA', not 'CUB'")
        self.refractory = _choice(refractory, "refractory", REFRACTORIES)
        self.spike_init = _choice(spike_init, "spike_init", SPIKE_INITS)
        self.trigger = _choice(trigger, "trigger", TRIGGERS)
        self.decay = _choice(decay, "decay", DECAYS)
        if int(cntmax) < 1:
            raise SpynqValueError(f"LIFPlus cntmax={cntmax}: needs at least 1")
        self.cntmax = int(cntmax)
        if self.decay != "naive":  # alpha, beta belong to the naive decay only
            del self.specs["alpha"], self.specs["beta"]
        need = []
        if self.input_accum != "CUB":
            need.append("eps")
        if self.rev_volt:
            need.append("v_g")
        if self.spike_init != "naive" or self.trigger == "SBT" or self.decay == "EXD":
            need.append("k")
        need += {"naive": [], "EXI": ["v_T", "delta_T"], "QDI": ["v_c"]}[self.spike_init]
        if self.refractory == "relative":
            need += ["eps_r", "v_rr", "q_r"]
        need += {"naive": [], "ADT": ["eps_w", "b"], "SBT": ["eps_w", "b", "a", "v_w"]}[self.trigger]
        if self.decay == "LID":
            need.append("v_leak")
        unused = set(consts) - set(need)
        if unused:
            raise SpynqValueError(f"LIFPlus: {sorted(unused)} not used by this configuration (it uses {need})")
        for k in need:
            self.specs[k] = as_param(consts.get(k, LIFPLUS_DEFAULTS[k]), learn)

    def _slots(self):
        s = ["v"]
        s += {"CUB": [], "COBE": ["g"], "COBA": ["g", "y"]}[self.input_accum]
        s += {"none": [], "absolute": ["cnt"], "relative": ["r"]}[self.refractory]
        return s + ([] if self.trigger == "naive" else ["w"])

    def initial_state(self, x, xp):
        v0 = super().initial_state(x, xp)
        return {k: (v0 if k == "v" else xp.zeros(x.shape, dtype=x.dtype)) for k in self._slots()}

    def step(self, p, state, x, ctx: Ctx):
        xp = ctx.xp
        if state is None:
            self._check_input(x)
            state = self.initial_state(x, xp)
        q = self.values(p, xp, x.ndim)
        v, new = state["v"], {}
        # B: input accumulation
        if self.input_accum == "CUB":
            i = x
        elif self.input_accum == "COBE":
            i = new["g"] = (1.0 - q["eps"]) * state["g"] + x
        else:
            new["y"] = (1.0 - q["eps"]) * state["y"] + x
            i = new["g"] = (1.0 - q["eps"]) * state["g"] + math.e * q["eps"] * new["y"]
        if self.rev_volt:
            i = i * (q["v_g"] - v)
        # E (absolute): no input while the counter runs
        if self.refractory == "absolute":
            cnt = state["cnt"]
            i = xp.where(cnt > 0, 0.0, i)
            cnt = xp.maximum(cnt - 1.0, 0.0)
        h = v + i
        # C: spike initiation drift
        if self.spike_init == "EXI":
            h = h + q["k"] * q["delta_T"] * xp.exp((v - q["v_T"]) / q["delta_T"])
        elif self.spike_init == "QDI":
            h = h + q["k"] * (v - self.v_reset) * (v - q["v_c"])
        # E (relative): decaying conductance towards v_rr
        if self.refractory == "relative":
            rr = (1.0 - q["eps_r"]) * state["r"]
            h = h + rr * (q["v_rr"] - v)
        # D: adaptation current
        if self.trigger != "naive":
            w = (1.0 - q["eps_w"]) * state["w"]
            if self.trigger == "SBT":
                w = w + q["k"] * q["a"] * (v - q["v_w"])
            h = h - w
        s, r = self.fire(q, h, xp)
        # spike-triggered jumps
        if self.refractory == "absolute":
            new["cnt"] = xp.where(stop_gradient(s, xp) > 0, float(self.cntmax), cnt)
        elif self.refractory == "relative":
            new["r"] = rr + q["q_r"] * s
        if self.trigger != "naive":
            new["w"] = w + q["b"] * s
        # A: membrane decay
        if self.decay == "naive":
            v_new = q["alpha"] * r + q["beta"]
        elif self.decay == "EXD":
            v_new = r + q["k"] * (self.v_reset - r)
        else:
            d = r - self.v_reset
            v_new = self.v_reset + xp.sign(d) * xp.maximum(xp.abs(d) - q["v_leak"], 0.0)
        new["v"] = v_new
        ctx.record(self.name, s, h, v_new)
        out = s if self.output == "spike" else self._analog(q, h, r, v_new, xp)
        return out, new
