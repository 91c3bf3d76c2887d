"""BIDL's ConvLIF / ConvLIAF networks (Wu et al. 2023; models_neurons.md section 6), on
[T, B, C, H, W] inputs, with the neuron procedure of Eq.6-11 (integrate, fire, reset,
leak: spynq.nn.BIDL / LIAF) and the reference code's options:

* BN on the membrane ("homeostasis", note 6.2 [REFCODE]): V_m = BN(V + I) per step, the
  normalised V_m is what fires, resets and leaks (``BIDLNorm``; norm=True, the default,
  as the reference code's Conv2dLif / FcLif norm_state=True). Train mode: batch
  statistics of each step, and the running statistics updated once per step with
  torch's momentum (the reference code calls one nn.BatchNorm T times).
* training noise (noise > 0, train mode only): V_m += N(0, 1) * noise * std(V_m), the std
  per sample and channel over H x W (over the features of an FC layer), not differentiated.
* ASM / CSM sharing (share="asm" | "csm") and learn (the paper trains the DVS neuron
  parameters in ASM: learn=True; the reference code's default is learn=False).
LIF+ is not here: its five stages are defined only outside the paper (note 6.8).

Builders, scaled down from the reference code's DVS128 network (clif3flif2dg: three
Conv2dLif, two FcLif, mean over T) to digits frames [T, B, 1, 8, 8]:
  build("convlif"):  Conv2dLif(1->c1, k3, s1, p1) - Conv2dLif(c1->c2, k3, s2, p1) - flatten
                     - FcLif(.->hidden) - FcLif(hidden->classes*population) - population mean
                     - mean over T (firing rates per class)
  build("liaf"):     the same with ConvLIAF / FCLIAF hidden layers (analog ReLU(V_m) output,
                     the reference code's memb_mode (0, relu)) and a final Linear read out
                     per step, averaged over T (logits)
"""
from __future__ import annotations

import numpy as np

from ... import nn
from ...errors import SpynqValueError
from ..ops import stop_gradient
from ..params import Param
from .stca import Voting

PAPER = "bidl"
TASK = "digits_rate"
# cross-entropy of the mean-over-T output (the reference code's classification head), Adam
# (lr 1e-2 in the paper's DVS runs; 3e-3 here); the LIF net's output is a firing rate in
# [0, 1], so its logits are scaled by 10. The neuron parameters (alpha, beta, V_th) learn in
# ASM, as the paper trains its DVS networks (the reference code's default is fixed)
DEFAULTS = {"epochs": 8, "lr": 3e-3, "batch": 64, "T": 8, "image": True, "loss": "ce", "logit_scale": 10.0,
            "build": {"learn": True}}

KINDS = ("convlif", "liaf")
SHARES = ("asm", "csm")


class _NormMixin:
    """BN of the integrated membrane V_m (and the optional training noise) inside the
    neuron's charge. Extra params: bn_gamma, bn_beta (learnable), bn_mean, bn_var
    (running statistics, learn=False so optimisers and parameter counts skip them);
    ctx.updates[name] = {"bn_mean", "bn_var"} in train mode."""

    def _setup_norm(self, channels, norm, noise, eps, momentum):
        self.norm = bool(norm)
        self.noise = float(noise)
        self.eps, self.momentum = float(eps), float(momentum)
        if self.norm:
            if not channels:
                raise SpynqValueError("BIDL membrane BN needs channels=C")
            for k, v, learn in (("bn_gamma", 1.0, True), ("bn_beta", 0.0, True), ("bn_mean", 0.0, False),
                                ("bn_var", 1.0, False)):
                self.specs[k] = Param(value=v, per="channel", learn=learn)

    def _bn(self, q, h, xp, ctx):
        if not self.norm:
            return h
        axes = (0,) if h.ndim == 2 else (0, 2, 3)
        shape = (1, -1) if h.ndim == 2 else (1, -1, 1, 1)
        if ctx.train:
            mean = xp.mean(h, axis=axes)
            var = xp.mean((h - mean.reshape(shape)) ** 2, axis=axes)
            prev = ctx.updates.get(self.name) or {"bn_mean": q["bn_mean"].reshape(-1), "bn_var": q["bn_var"].reshape(-1)}
            n = h.size // h.shape[1]
            m = self.momentum
            ctx.updates[self.name] = {
                "bn_mean": stop_gradient((1 - m) * prev["bn_mean"] + m * mean, xp),
                "bn_var": stop_gradient((1 - m) * prev["bn_var"] + m * var * (n / max(n - 1, 1)), xp)}
        else:
            mean, var = q["bn_mean"].reshape(-1), q["bn_var"].reshape(-1)
        inv = q["bn_gamma"].reshape(-1) / xp.sqrt(var + self.eps)
        return (h - mean.reshape(shape)) * inv.reshape(shape) + q["bn_beta"].reshape(shape)

    def _noise(self, h, xp, ctx):
        if not (ctx.train and self.noise > 0):
            return h
        t = -1 if ctx.t is None else int(ctx.t)
        z = np.random.default_rng([ctx.seed, 7919, self.index or 0, t + 1]).standard_normal(tuple(h.shape))
        axes = tuple(range(2, h.ndim)) or (1,)
        sd = stop_gradient(xp.std(h, axis=axes, keepdims=True), xp)
        return h + xp.asarray(z, dtype=h.dtype) * sd * self.noise

    def charge(self, q, v, x, xp, ctx):
        return self._noise(self._bn(q, v + x, xp, ctx), xp, ctx)

    def seq(self, p, xs, ctx):
        # the running statistics chain from step to step through ctx.updates: the Python
        # step loop, not lax.scan (whose traced steps each get their own context)
        return self.step_loop(p, xs, ctx)


class BIDLNorm(_NormMixin, nn.BIDL):
    """spynq.nn.BIDL (LIF, spike output) with BN on the membrane and training noise."""

    def __init__(self, alpha=0.3, beta=0.0, *, channels=None, norm=True, noise=0.0, eps=1e-5, momentum=0.1, **kw):
        super().__init__(alpha, beta, channels=channels, **kw)
        self._setup_norm(channels, norm, noise, eps, momentum)


class LIAFNorm(_NormMixin, nn.LIAF):
    """spynq.nn.LIAF (analog act(tap)) with BN on the membrane and training noise."""

    def __init__(self, alpha=0.3, beta=0.0, *, channels=None, norm=True, noise=0.0, eps=1e-5, momentum=0.1, **kw):
        super().__init__(alpha, beta, channels=channels, **kw)
        self._setup_norm(channels, norm, noise, eps, momentum)


def neuron(kind: str, channels: int, *, alpha=0.3, beta=0.0, v_th=0.5, reset="hard", share="asm", learn=False,
           norm=True, noise=0.0, analog=False):
    """One BIDL soma: SOMA_PARAMS defaults (alpha 0.3, beta 0, theta 0.5, v_0 0), ASM
    (one value per layer) or CSM (per channel), rectangular surrogate (width 1)."""
    if share not in SHARES:
        raise SpynqValueError(f"BIDL share {share!r}: choose one of {SHARES}")
    per = "channel" if share == "csm" else "layer"
    a, b, th = (Param(value=float(v), per=per, learn=learn) for v in (alpha, beta, v_th))
    cls = LIAFNorm if analog else BIDLNorm
    return cls(a, b, v_th=th, reset=reset, channels=channels, norm=norm, noise=noise)


def build(kind: str = "convlif", channels=(16, 32), hidden: int = 64, classes: int = 10, population: int = 1,
          in_shape=(1, 8, 8), **soma) -> nn.Sequential:
    """The scaled reference network (module docstring); soma: options of ``neuron``."""
    if kind not in KINDS:
        raise SpynqValueError(f"BIDL network {kind!r}: choose one of {KINDS}")
    c_in, h, w = in_shape
    c1, c2 = channels
    liaf = kind == "liaf"
    L = [nn.Conv2d(c_in, c1, 3, 1, 1), neuron(kind, c1, analog=liaf, **soma),
         nn.Conv2d(c1, c2, 3, 2, 1), neuron(kind, c2, analog=liaf, **soma), nn.Flatten(),
         nn.Linear(c2 * ((h + 1) // 2) * ((w + 1) // 2), hidden), neuron(kind, hidden, analog=liaf, **soma)]
    if liaf:
        L += [nn.Linear(hidden, classes)]
    else:
        L += [nn.Linear(hidden, classes * population), neuron(kind, classes * population, **soma)]
        if population > 1:
            L.append(Voting(population))
    L.append(nn.TemporalAggregate("mean"))
    return nn.Sequential(*L)


def build_convlif(**config):
    return build("convlif", **config)


def build_liaf(**config):
    return build("liaf", **config)
