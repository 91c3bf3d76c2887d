"""Oli-N / Oli-SNN (Han, Pan, Liu, Zhang), the minimal faithful parametrisation of
models_neurons.md section 1.1 (an [INFERRED] design: the paper leaves the Oli modules'
sizes to its supplementary material).

One Oli-L layer (``OliLIF``) is the synapse and the neuron together, because the Oli
modulates both. Per layer with weight W (n_out x n_in), fan-in split into M = 4
contiguous groups e_k (masks, sum_k e_k = 1) and T steps:
    d_k      = mean of W over group k's inputs, per output     (GAP over e_k (.) W: G's descriptor)
    g_k      = tanh(F_k d_k + f_k)                              (the "lightweight FC"), then a
               one-head self-attention over the M descriptors with positional embeddings
               (the "extremely lightweight ViT"; attention=False drops it)
    LSTM_k   L = 4 layers, run over t = 1..T on the constant input g_k; layer l's input
             is the sum of the outputs of all layers before it (out_0 = g_k; the note's
             reading of the garbled dense-sum recursion)
    A_{t,k}  = 1 + Ha_k h_{t,k} + ha_k,  c_{t,k} = 1 + Hc_k h_{t,k} + hc_k   (per output; heads
               zero at init, so A = c = 1 and the layer starts as LIF exactly: check O1)
    W_t      = sum_k e_k (.) (W (.) A_{t,k})           (U on the weight branch: the masked sum)
    c_t      = mean_k c_{t,k}                          (U on the potential branch: the mean)
and per step (SpikingJelly LIF, decay_input, hard reset to v_reset = 0, v_th = 1, tau = 2:
the baselines' conventions, the paper states none):
    x = W_t s_in + b;  vhat = c_t (.) v;  h = vhat + (x - (vhat - v_reset)) / tau;
    s = Heav(h - v_th);  v = h (1 - s) + v_reset s
The Oli reads weights, not data, so at inference {W_t, c_t} are constants:
``OliNet.inference`` stores them (precomputed=True layers) and drops the Oli (check O2).
Training (paper Eq.12-14): L_task + lambda L_reg with L_reg (Eq.13) = -sum_k sum_t
KL(F_{t-1,k} || F_{t,k}), F = softmax over a layer's outputs of A_{t,k}, lambda = 5e-4;
the two-step alternating optimisation is ``OliNet.phases``: minibatches alternate between
the SNM step (W, b) and the OM step (the Oli parameters). The chain over O_1 .. O_M
within the OM step is not reproduced (all M Olis update together).

Oli-SNN is a spiking transformer (Spikformer / QKFormer / SpikingResformer) with its LIF
layers replaced by Oli-L: that is spynq.nn.models.oli_snn ("oli_snn", Spikformer's
backbone from spynq.nn.transformer, whose synapses reuse this module's OliModulator). This
model ("oli") is the two-layer FC Oli-L network on the synthetic temporal-order task,
where time-varying weights matter.
"""
from __future__ import annotations

import math

import numpy as np

from ... import nn
from ...errors import SpynqValueError
from ..base import Ctx
from ..neurons import LIF
from ..ops import is_jax

PAPER = "oli"
TASK = "first"
DEFAULTS = {"epochs": 12, "lr": 5e-3, "batch": 64, "T": 8, "loss": "ce", "optimizer": "adam",
            "opt_kw": {"weight_decay": 0.0}, "build": {"n_in": 32, "hidden": 48, "n_classes": 2, "T": 8}}

LAMBDA = 5e-4  # the diversity coefficient lambda (Implementation Details)


def _lstm_layer(wx, wh, bl, acc, h, c, H, xp):
    """One LSTM layer's step on [..., M, H] (any leading axes: several Olis at once)."""
    z = xp.einsum("...mgh,...mh->...mg", wx, acc) + xp.einsum("...mgh,...mh->...mg", wh, h) + bl
    i = 1.0 / (1.0 + xp.exp(-z[..., :H]))
    f = 1.0 / (1.0 + xp.exp(-z[..., H:2 * H]))
    o = 1.0 / (1.0 + xp.exp(-z[..., 2 * H:3 * H]))
    u = xp.tanh(z[..., 3 * H:])
    c = f * c + i * u
    return o * xp.tanh(c), c


def lstm_jax(g, wx, wh, b, T: int, H: int, xp):
    """The Oli's L-layer dense-sum LSTM over T steps under JAX, two nested lax.scans (over
    t, over l) on the constant input g [..., M, H]; wx, wh [L, ..., M, 4H, H], b [L, ..., M, 4H].
    The last layer's outputs [T, ..., M, H]. Leading axes batch several Olis of equal M, H
    into one traced LSTM (Oli-SNN: one LSTM for all its synapses, a much shorter compile)."""
    import jax

    wx, wh, b = xp.asarray(wx), xp.asarray(wh), xp.asarray(b)
    zero = xp.zeros((wx.shape[0],) + tuple(g.shape), dtype=g.dtype)

    def cell(hc, _):
        def lbody(acc, xs):
            h2, c2 = _lstm_layer(xs[0], xs[1], xs[2], acc, xs[3], xs[4], H, xp)
            return acc + h2, (h2, c2)

        _, (hs, cs) = jax.lax.scan(lbody, g, (wx, wh, b, hc[0], hc[1]))
        return (hs, cs), hs[-1]

    _, outs = jax.lax.scan(cell, (zero, zero), None, length=T)
    return outs


class OliModulator:
    """The Oli of one weight W (n_out x fan-in; a conv kernel (c_out, c_in, k, k) is read
    with its fan-in flattened C-order, (c_in, k, k)): the G / LSTM / heads of the module
    docstring, giving the modulations A (T, M, n_out), c (T, M, n_out), the timed weights
    W_t (T, *W.shape) and c_t (T, n_out). Shared by OliLIF (its own Linear) and the
    transformer's Oli synapses (spynq.nn.models.oli_snn). Keys: the Oli's own parameters
    next to the weight "w" of the layer it modulates."""

    OLI_KEYS = ("fc_w", "fc_b", "pos", "att_q", "att_k", "att_v", "ha_w", "ha_b", "hc_w", "hc_b")

    def _setup_oli(self, n_in: int, n_out: int, T: int, groups: int, oli_hidden: int, lstm_layers: int,
                   attention: bool, precomputed: bool, what: str = "OliLIF"):
        self.n_in, self.n_out, self.T = int(n_in), int(n_out), int(T)
        self.M, self.H, self.L = int(groups), int(oli_hidden), int(lstm_layers)
        if not 1 <= self.M <= self.n_in:
            raise SpynqValueError(f"{what}: {groups} groups for {n_in} inputs")
        self.attention = bool(attention)
        self.precomputed = bool(precomputed)
        E = np.zeros((self.n_in, self.M))  # one-hot group of each input: the masks e_k as columns
        for k, idx in enumerate(np.array_split(np.arange(self.n_in), self.M)):
            E[idx, k] = 1.0
        self.E = E

    def _init_oli(self, rng, p: dict) -> dict:
        """Adds the Oli's parameters to p (drawn from rng after the weight's)."""
        M, H, N = self.M, self.H, self.n_out
        s = 1.0 / math.sqrt(H)
        p["fc_w"] = rng.normal(0.0, 1.0, (M, H, N))  # unit scale: the descriptors (group means of W) are small
        p["fc_b"] = np.zeros((M, H))
        p["pos"] = rng.normal(0.0, 0.1, (M, H))
        for k in ("att_q", "att_k", "att_v"):
            p[k] = rng.normal(0.0, s, (H, H))
        L = self.L  # the L LSTM layers stacked on axis 0 (one traced cell under jax)
        p["lstm_wx"] = rng.uniform(-s, s, (L, M, 4 * H, H))
        p["lstm_wh"] = rng.uniform(-s, s, (L, M, 4 * H, H))
        p["lstm_b"] = np.zeros((L, M, 4 * H))
        for k in ("ha", "hc"):
            p[f"{k}_w"] = np.zeros((M, N, H))  # heads at zero: A = c = 1, the layer is LIF at init
            p[f"{k}_b"] = np.zeros((M, N))
        return p

    def oli_keys(self) -> list:
        return list(self.OLI_KEYS) + ["lstm_wx", "lstm_wh", "lstm_b"]

    # -------------------------------------------------------------- the Oli
    def oli_input(self, p, xp):
        """g (M, H): G's output, the LSTM's constant input (descriptors, FC, attention)."""
        W = p["w"]
        if W.ndim != 2:  # a conv kernel: its fan-in flattened (c_in, k, k)
            W = xp.reshape(W, (self.n_out, self.n_in))
        cnt = self.E.sum(axis=0)
        d = (W @ xp.asarray(self.E / cnt, dtype=W.dtype)).T  # (M, n_out): mean over each group's fan-in
        g = xp.tanh(xp.einsum("mhn,mn->mh", p["fc_w"], d) + p["fc_b"])
        if self.attention:
            z = g + p["pos"]
            q, k, v = z @ p["att_q"], z @ p["att_k"], z @ p["att_v"]
            a = q @ k.T / math.sqrt(self.H)
            a = xp.exp(a - xp.max(a, axis=1, keepdims=True))
            a = a / xp.sum(a, axis=1, keepdims=True)
            g = g + a @ v
        return g

    def oli_heads(self, p, outs, xp):
        """(A_t, c_t) (M, n_out) each from the last LSTM layer's output outs (M, H)."""
        return (1.0 + xp.einsum("mnh,mh->mn", p["ha_w"], outs) + p["ha_b"],
                1.0 + xp.einsum("mnh,mh->mn", p["hc_w"], outs) + p["hc_b"])

    def oli(self, p, xp):
        """The modulation sequences: A (T, M, n_out), c (T, M, n_out)."""
        g = self.oli_input(p, xp)
        if is_jax(xp):  # one traced LSTM step (unrolled T x L cells compile for minutes)
            outs = lstm_jax(g, p["lstm_wx"], p["lstm_wh"], p["lstm_b"], self.T, self.H, xp)
            A, Cv = [], []
            for t in range(self.T):
                a, cv = self.oli_heads(p, outs[t], xp)
                A.append(a)
                Cv.append(cv)
            return xp.stack(A), xp.stack(Cv)
        H = self.H
        zero = np.zeros((self.L,) + tuple(g.shape), dtype=g.dtype)
        hs, cs, A, Cv = list(zero), list(zero), [], []
        for _ in range(self.T):
            acc = g  # layer l's input: the sum of g and the outputs of layers 0..l-1
            for l in range(self.L):
                hs[l], cs[l] = _lstm_layer(p["lstm_wx"][l], p["lstm_wh"][l], p["lstm_b"][l], acc, hs[l], cs[l], H, xp)
                acc = acc + hs[l]
            a, cv = self.oli_heads(p, hs[-1], xp)
            A.append(a)
            Cv.append(cv)
        return xp.stack(A), xp.stack(Cv)

    def modulated(self, p, xp):
        """(W_t (T, *w.shape), c_t (T, n_out), A (T, M, n_out)) of the online Oli: the masked
        sum U of A_{t,k(i)} (.) W on the weight branch, the mean of c_{t,k} on the potential's."""
        return self.modulate(p, xp, *self.oli(p, xp))

    def modulate(self, p, xp, A, Cv):
        """modulated's result from given modulations A, Cv (T, M, n_out)."""
        W = p["w"]
        gain = xp.einsum("tmn,im->tni", A, xp.asarray(self.E, dtype=A.dtype))  # A_{t,k(i)} per weight: the masked sum U
        if W.ndim != 2:
            gain = xp.reshape(gain, (self.T,) + tuple(W.shape))
        return W[None] * gain, xp.mean(Cv, axis=1), A

    def l_reg(self, p, xp, A=None):
        """Eq.13: -sum_k sum_{t>=2} sum_j F_{t-1} log(F_{t-1} / F_t), F = softmax_j(A_{t,k})
        (A: the modulations of a forward, else computed)."""
        if A is None:
            A = self.oli(p, xp)[0]
        z = A - xp.max(A, axis=2, keepdims=True)
        logF = z - xp.log(xp.sum(xp.exp(z), axis=2, keepdims=True))
        F = xp.exp(logF)
        return -xp.sum(F[:-1] * (logF[:-1] - logF[1:]))


class OliPotential(LIF):
    """LIF with the Oli's potential feedback: vhat = c (.) v before the charge, c the
    step's c_t, passed to ``step`` as the extra parameter "_c"."""

    def values(self, p, xp, ndim):
        q = super().values(p, xp, ndim)
        q["c"] = p["_c"]
        return q

    def charge(self, q, v, x, xp, ctx):
        vhat = q["c"] * v
        return vhat + (x - (vhat - self._vr())) / q["tau"]


class OliLIF(OliModulator, OliPotential):
    """An Oli-L layer: a Linear synapse with Oli-modulated time-varying weights and the
    LIF neuron with Oli potential feedback (module docstring). precomputed=True: the
    inference form, parameters w_t (T, n_out, n_in), c_t (T, n_out), b only."""

    def __init__(self, n_in: int, n_out: int, T: int, *, groups: int = 4, oli_hidden: int = 8, lstm_layers: int = 4,
                 attention: bool = True, precomputed: bool = False, tau: float = 2.0, **kw):
        super().__init__(tau=tau, **kw)
        self._setup_oli(n_in, n_out, T, groups, oli_hidden, lstm_layers, attention, precomputed)

    # -------------------------------------------------------------- parameters
    def init(self, rng):
        p = super().init(rng)
        b = 1.0 / math.sqrt(self.n_in)
        w = rng.uniform(-b, b, (self.n_out, self.n_in))
        p["b"] = rng.uniform(-b, b, (self.n_out,))
        if self.precomputed:
            p["w_t"] = np.repeat(w[None], self.T, axis=0)
            p["c_t"] = np.ones((self.T, self.n_out))
            return p
        p["w"] = w
        return self._init_oli(rng, p)

    def timed(self, p, xp, with_a: bool = False):
        """(W_t (T, n_out, n_in), c_t (T, n_out)) of this layer's parameters (with_a: and
        the modulations A (T, M, n_out), None when precomputed)."""
        if self.precomputed:
            return (p["w_t"], p["c_t"], None) if with_a else (p["w_t"], p["c_t"])
        w_t, c_t, A = self.modulated(p, xp)
        return (w_t, c_t, A) if with_a else (w_t, c_t)

    def precompute(self, p) -> dict:
        """This layer's inference parameters (numpy): v_th, tau, b, w_t, c_t."""
        w_t, c_t = self.timed(p, np)
        return {"v_th": p["v_th"], "tau": p["tau"], "b": p["b"], "w_t": np.asarray(w_t), "c_t": np.asarray(c_t)}

    # -------------------------------------------------------------- the step
    def _neuron(self, p, state, x, c, ctx):
        return LIF.step(self, dict(p, _c=c), state, x, ctx)

    def _check_T(self, T):
        if T != self.T:
            raise SpynqValueError(f"{self.name}: built for T={self.T} steps (the Oli's sequence), got {T}")

    def step(self, p, state, s_in, ctx: Ctx):
        """Per-step style: the step index is ctx.t (the timed weights are computed once
        per call and kept in the context)."""
        xp = ctx.xp
        cache = ctx.__dict__.setdefault("_oli", {})
        if self.name not in cache:
            cache[self.name] = self.timed(p, xp)
        w_t, c_t = cache[self.name]
        t = ctx.t
        x = s_in @ w_t[t].T + p["b"]
        return self._neuron(p, state, x, c_t[t], ctx)

    def seq(self, p, xs, ctx: Ctx):
        xp = ctx.xp
        self._check_T(xs.shape[0])
        w_t, c_t, A = self.timed(p, xp, with_a=True)
        # per step, as nn.Linear computes it: identical bits to a Linear + LIF when W_t = W
        X = xp.stack([xs[t] @ w_t[t].T + p["b"] for t in range(self.T)])
        if ctx.scan and is_jax(xp):
            import jax

            def body(v, xt):
                x, c, t = xt
                sub = ctx.sub(t)
                y, v2 = self._neuron(p, v, x, c, sub)
                r = sub.records[self.name]
                return v2, (y, r["s"][0], r["h"][0], r["v"][0])

            v0 = self.initial_state(X[0], xp)
            _, (ys, S, Hh, V) = jax.lax.scan(body, v0, (X, c_t, xp.arange(self.T)))
            ctx.records[self.name] = {"s": S, "h": Hh, "v": V, "A": A}
            return ys
        state, ys = None, []
        for t in range(self.T):
            ctx.t = t
            y, state = self._neuron(p, state, X[t], c_t[t], ctx)
            ys.append(y)
        ctx.records[self.name]["A"] = A  # for L_reg without a second Oli evaluation
        return xp.stack(ys)


class OliNet(nn.Sequential):
    """Oli-L layers (+ whatever else) with Oli-N's training hooks and inference form."""

    lam = LAMBDA

    def oli_layers(self):
        return [l for l in self.layers if isinstance(l, OliModulator) and not l.precomputed]

    def regularizer(self, params, aux, xp):
        """lambda L_reg (Eq.13-14), from the modulations the forward recorded."""
        return self.lam * sum(l.l_reg(params[l.name], xp, aux.records[l.name].get("A")) for l in self.oli_layers())

    def phases(self, params):
        """[SNM step mask, OM step mask] (Eq.12 then Eq.14)."""
        snm, om = {}, {}
        for l in self.layers:
            keys = list(params[l.name])
            oli = set(l.oli_keys()) if isinstance(l, OliModulator) and not l.precomputed else set()
            snm[l.name] = {k: k not in oli for k in keys}
            om[l.name] = {k: k in oli for k in keys}
        return [snm, om]

    def inference(self, params):
        """(net, params) with every Oli-L replaced by its precomputed {W_t, c_t} form."""
        layers, out = [], {}
        for l in self.layers:
            if isinstance(l, OliLIF) and not l.precomputed:
                new = OliLIF(l.n_in, l.n_out, l.T, groups=l.M, oli_hidden=l.H, lstm_layers=l.L,
                             attention=l.attention, precomputed=True, tau=1.0, name=l.name, v_th=l.specs["v_th"],
                             v_reset=l.v_reset, reset=l.reset, detach_reset=l.detach_reset, strict=l.strict,
                             surrogate=l.surrogate)
                new.specs = dict(l.specs)
                new.decay_input, new.v_rest = l.decay_input, l.v_rest
                layers.append(new)
                out[l.name] = l.precompute(params[l.name])
            else:
                import copy

                layers.append(copy.copy(l))
                out[l.name] = params[l.name]
        return nn.Sequential(*layers), out

    def learned(self, params) -> dict:
        """The Oli's output ranges per layer: weight gains A and potential factors c_t."""
        out = {}
        for l in self.oli_layers():
            A, _ = l.oli(params[l.name], np)
            _, c_t = l.timed(params[l.name], np)
            out[l.name] = {"A_min": float(np.min(A)), "A_max": float(np.max(A)), "c_min": float(np.min(c_t)),
                           "c_max": float(np.max(c_t))}
        return out

    def stored_per_layer(self) -> dict:
        """Parameters kept at inference beyond a LIF network's (O6): the transformation
        vectors A_t (M per output) and c_t per step, T (M + 1) n_out per Oli-L layer."""
        return {l.name: l.T * (l.M + 1) * l.n_out for l in self.oli_layers()}


def build(n_in: int = 32, hidden: int = 48, n_classes: int = 2, T: int = 8, groups: int = 4, oli_hidden: int = 8,
          lstm_layers: int = 4, attention: bool = True, precomputed: bool = False) -> OliNet:
    """Two Oli-L layers, n_in -> hidden -> n_classes, spike counts out (module docstring)."""
    kw = dict(groups=groups, oli_hidden=oli_hidden, lstm_layers=lstm_layers, attention=attention,
              precomputed=precomputed)
    return OliNet(OliLIF(n_in, hidden, T, name="oli1", **kw), OliLIF(hidden, n_classes, T, name="oli2", **kw))


def lif_twin(net: OliNet, params: dict):
    """The plain LIF network with the same W, b, tau, v_th (the identity limit's reference)."""
    layers, out = [], {}
    for l in net.layers:
        lin = nn.Linear(l.n_in, l.n_out, name=l.name + "_syn")
        lif = LIF(tau=2.0, name=l.name, surrogate=l.surrogate)
        layers += [lin, lif]
        out[lin.name] = {"w": params[l.name]["w"], "b": params[l.name]["b"]}
        out[l.name] = {"v_th": params[l.name]["v_th"], "tau": params[l.name]["tau"]}
    return nn.Sequential(*layers), out
