"""Oli-SNN (Han, Pan, Liu, Zhang; models_neurons.md 1.4, Eq.10): the Spikformer backbone
(spynq.nn.transformer) with every LIF replaced by an Oli-L neuron, scaled to 8x8 digits.

An Oli-L unit is synapse - BN - neuron, as Spikformer's conv/linear - BN - LIF: the Oli
(spynq.nn.models.oli.OliModulator, the same module as the FC Oli-L layer OliLIF: GAP
descriptors per fan-in group, FC, tiny attention, L-layer dense-sum LSTM, zero-initialised
heads) reads the synapse's weight W and emits
    W_t = sum_k e_k (.) (W (.) A_{t,k})     the synapse convolves with W_t at step t
    c_t = mean_k c_{t,k}                    the neuron charges from vhat = c_t (.) v
Choices where the FC case does not carry over (the paper says only "replace the LIF"):
  * conv kernels (SPS, RPE; the 1x1 "Linear"s of SSA / MLP too): the Oli's fan-in is the
    kernel's flattened (c_in, k, k), split into M contiguous groups (whole input channels
    when M divides c_in; the first SPS conv of a 1-channel image splits its 9 taps), the
    modulation one gain per output channel and group, as in the FC case;
  * BN sits between the modulated synapse and the neuron (Spikformer's order): W_t is
    modulated before the normalisation, c_t acts on the neuron after it;
  * the neuron inside the attention (threshold 0.5) has no weight feeding it (Q K^T V),
    so there is nothing for an Oli to read: it stays a plain LIF;
  * the head (a Linear with no neuron after it) is not modulated.
With the heads at zero (init) A = c = 1 and the network is Spikformer exactly (oli=False
builds that: ``spikformer_twin``). The inference form stores W_t, c_t per synapse and
drops the Oli (``OliSNN.inference``, the OliNet hook); training adds lambda L_reg (Eq.13)
over every Oli and alternates the SNM / OM steps (OliNet's hooks).
"""
from __future__ import annotations

import copy

import numpy as np

from ...errors import SpynqValueError
from ..layers import Conv2d
from ..neurons import Neuron
from ..ops import conv2d, is_jax
from ..surrogate import Sigmoid
from ..transformer import Spikformer, Units
from .oli import OliModulator, OliNet, OliPotential, lstm_jax

PAPER = "oli"
TASK = "digits_rate"
DEFAULTS = {"epochs": 15, "lr": 3e-3, "batch": 64, "T": 4, "image": True, "loss": "ce", "logit_scale": 1.0,
            "optimizer": "adam", "opt_kw": {"weight_decay": 0.0},
            "build": {"dim": 32, "depth": 1, "heads": 2, "T": 4}}


class OliConv2d(OliModulator, Conv2d):
    """A Conv2d whose kernel is the Oli's W: step t convolves with W_t (module docstring).
    precomputed=True: the inference form, parameters w_t (T, c_out, c_in, k, k), c_t
    (T, c_out) (and b). Each call computes W_t, c_t once and leaves them in the context
    for the neuron it feeds (ctx._oli[name]) and A in records[name] for L_reg."""

    def __init__(self, c_in, c_out, k, T, *, padding=0, bias=True, groups=4, oli_hidden=8, lstm_layers=4,
                 attention=True, precomputed=False, name=None):
        Conv2d.__init__(self, c_in, c_out, k, 1, padding, bias=bias, name=name)
        self._setup_oli(self.c_in * self.k * self.k, self.c_out, T, groups, oli_hidden, lstm_layers, attention,
                        precomputed, what="OliConv2d")

    def init(self, rng):
        p = Conv2d.init(self, rng)
        if self.precomputed:
            p["w_t"] = np.repeat(p.pop("w")[None], self.T, axis=0)
            p["c_t"] = np.ones((self.T, self.c_out))
            return p
        return self._init_oli(rng, p)

    def timed(self, p, xp):
        """(W_t, c_t) of these parameters."""
        return (p["w_t"], p["c_t"]) if self.precomputed else self.modulated(p, xp)[:2]

    def precompute(self, p) -> dict:
        w_t, c_t = self.timed(p, np)
        out = {"w_t": np.asarray(w_t), "c_t": np.asarray(c_t)}
        if "b" in p:
            out["b"] = p["b"]
        return out

    def cached(self, p, ctx):
        cache = ctx.__dict__.setdefault("_oli", {})
        if self.name not in cache:
            if self.precomputed:
                cache[self.name] = (p["w_t"], p["c_t"])
            else:
                w_t, c_t, A = self.modulated(p, ctx.xp)
                cache[self.name] = (w_t, c_t)
                ctx.records[self.name] = {"A": A}
        return cache[self.name]

    def forward(self, p, x, ctx):
        if ctx.t is None:
            raise SpynqValueError(f"{self.name}: time-varying weights need the step index (no merged time)")
        w_t = self.cached(p, ctx)[0]
        y = conv2d(x, w_t[ctx.t], self.stride, self.padding, ctx.xp)
        return y + p["b"].reshape(-1, 1, 1) if "b" in p else y

    def seq(self, p, xs, ctx):
        if xs.shape[0] != self.T:
            raise SpynqValueError(f"{self.name}: built for T={self.T} steps (the Oli's sequence), got {xs.shape[0]}")
        ys = []
        for t in range(self.T):  # per step even under merge_time: each step has its own kernel
            ctx.t = t
            ys.append(self.forward(p, xs[t], ctx))
        return ctx.xp.stack(ys)


class OliNeuron(OliPotential):
    """The LIF of an Oli-L unit: c_t of its source synapse (OliConv2d) as the potential
    feedback, per output channel."""

    def __init__(self, source: str, **kw):
        super().__init__(**kw)
        self.source = source

    def _c(self, ctx, ndim):
        c_t = ctx._oli[self.source][1]
        return c_t if ndim == 2 else ctx.xp.reshape(c_t, tuple(c_t.shape) + (1, 1))

    def step(self, p, state, x, ctx):
        return Neuron.step(self, dict(p, _c=self._c(ctx, x.ndim)[ctx.t]), state, x, ctx)

    def seq(self, p, xs, ctx):
        return self.step_loop(p, xs, ctx)  # no lax.scan, as transformer.LoopLIF


class OliUnits(Units):
    """Oli-L units: OliConv2d synapses and OliNeuron neurons (plain LIF where no synapse
    feeds the neuron: the attention's)."""

    def __init__(self, T: int, groups: int = 4, oli_hidden: int = 8, lstm_layers: int = 4, attention: bool = True,
                 precomputed: bool = False):
        self.T = int(T)
        self.kw = dict(groups=groups, oli_hidden=oli_hidden, lstm_layers=lstm_layers, attention=attention,
                       precomputed=precomputed)

    def synapse(self, name, c_in, c_out, k, padding, bias):
        return OliConv2d(c_in, c_out, k, self.T, padding=padding, bias=bias, name=name, **self.kw)

    def neuron(self, name, channels, v_th, source):
        if source is None:
            return super().neuron(name, channels, v_th, source)
        return OliNeuron(source, tau=2.0, v_th=v_th, v_reset=0.0, detach_reset=True, surrogate=Sigmoid(4.0),
                         name=name)


class OliSNN(OliNet, Spikformer):
    """Spikformer on Oli-L units, with Oli-N's training hooks (OliNet: lambda L_reg, the
    SNM / OM phases, learned ranges, stored vectors) and its inference form."""

    def __init__(self, config: dict, units: OliUnits):
        self.config = dict(config)
        Spikformer.__init__(self, units=units, **config)

    def prepare(self, params, ctx):
        """Under JAX: every synapse's Oli at once, their LSTMs batched into one traced
        LSTM (the Olis share M, H, L and T; one scan instead of one per synapse compiles
        far faster), W_t, c_t and A left in the context as OliConv2d.cached leaves them.
        numpy computes each synapse's Oli when the graph reaches it."""
        cache = ctx.__dict__.setdefault("_oli", {})
        ls = self.oli_layers()
        if not is_jax(ctx.xp) or not ls or ls[0].name in cache:
            return
        xp, T, H = ctx.xp, ls[0].T, ls[0].H
        G = xp.stack([l.oli_input(params[l.name], xp) for l in ls])  # (n, M, H)

        def stack(k):  # (L, n, ...): the layer axis of lstm_jax first
            return xp.stack([xp.asarray(params[l.name][k]) for l in ls], axis=1)

        outs = lstm_jax(G, stack("lstm_wx"), stack("lstm_wh"), stack("lstm_b"), T, H, xp)  # (T, n, M, H)
        for i, l in enumerate(ls):
            q = params[l.name]
            A, Cv = zip(*[l.oli_heads(q, outs[t, i], xp) for t in range(T)])
            w_t, c_t, A = l.modulate(q, xp, xp.stack(A), xp.stack(Cv))
            cache[l.name] = (w_t, c_t)
            ctx.records[l.name] = {"A": A}

    def inference(self, params):
        """(net, params) with every synapse's Oli replaced by its precomputed W_t, c_t."""
        u = self.units
        net = OliSNN(self.config, OliUnits(u.T, **dict(u.kw, precomputed=True)))
        out = {l.name: (l.precompute(params[l.name]) if isinstance(l, OliConv2d) and not l.precomputed
                        else params[l.name]) for l in self.layers}
        return net, out


def build(in_channels: int = 1, dim: int = 32, depth: int = 1, heads: int = 2, classes: int = 10, sps=None,
          pools=None, mlp_ratio: int = 4, T: int = 4, oli: bool = True, groups: int = 4, oli_hidden: int = 8,
          lstm_layers: int = 4, attention: bool = True, precomputed: bool = False):
    """Oli-SNN-depth-dim on [T, B, in_channels, H, W]; pools default: one pool after the last
    SPS stage (8x8 -> 4 x 4 = 16 tokens); oli=False: plain Spikformer (LIF)."""
    n_st = len(sps) - 1 if sps else 4
    config = dict(in_channels=in_channels, dim=dim, depth=depth, heads=heads, classes=classes, sps=sps,
                  pools=pools if pools is not None else [i == n_st - 1 for i in range(n_st)], mlp_ratio=mlp_ratio)
    if not oli:
        return Spikformer(**config)
    return OliSNN(config, OliUnits(T, groups, oli_hidden, lstm_layers, attention, precomputed))


def spikformer_twin(net: OliSNN, params: dict):
    """The plain Spikformer with the same weights, BN and neuron constants (the identity
    limit's reference): the Oli parameters dropped."""
    twin = Spikformer(**net.config)
    out = {}
    for l in twin.layers:
        src = params[l.name]
        keep = set(l.init(np.random.default_rng(0)))
        out[l.name] = {k: copy.deepcopy(src[k]) for k in keep}
    return twin, out
