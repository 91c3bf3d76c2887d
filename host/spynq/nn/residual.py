"""Residual blocks of deep spiking ResNets (the review's Sec. 3.2; models_neurons.md 5.3,
checks V6, V7) and Real Spike's re-parameterisation, built from spynq.nn's Conv2d,
BatchNorm and neuron layers.

Three blocks, x the block input [T, B, C, H, W], SN a neuron, S the shortcut:
  "spiking"  out = SN(BN(Conv(SN(BN(Conv(x))))) + S(x))      spiking ResNet (Zheng et al.
             2021, tdBN): the add happens on real values, before the last neuron; out is
             binary spikes
  "sew"      out = SN(BN(Conv(SN(BN(Conv(x)))))) + S(x)      SEW ResNet, ADD (Fang et al. 2021):
             "activation before addition": spikes are added, so with spiking x the output
             takes values in {0, 1, 2} (the next conv loses the multiply-free property)
  "ms"       out = BN(Conv(SN(BN(Conv(SN(x)))))) + S(x)      MS-ResNet (Hu et al.): the
             shortcut carries the real-valued (membrane-like) x, every conv sees spikes,
             and the next block starts with its neuron; out is real
S is the identity, or where the shape changes (stride > 1 or c_in != c_out) a 1x1 conv +
BN (+ SN for "sew", whose shortcut must be spikes; SN first for "ms", whose convs must see
spikes: chosen here, the review draws only Fig.1, which the text does not hold).

A block is one layer of a Sequential: both iteration styles, records of its neurons
under "<block>.<role>" (roles sn1, sn2, down_sn). Its params are one flat dict keyed
"<role>.<param>" (what Sequential.trainable reads); Sequential.run's LifResult lists the
top-level neuron layers only, not the ones inside blocks.

Real Spike (Guo et al. 2022): training uses real-valued spikes a_c s (one learnable scale
per channel, ``SpikeScale``); for inference ``fold_spike_scale`` moves a_c into the next
layer's weights, W'[:, c] = a_c W[:, c], which then sees binary spikes (review V6).
"""
from __future__ import annotations

import copy

import numpy as np

from ..errors import SpynqValueError
from .base import Ctx, Layer
from .layers import BatchNorm, Conv2d, Linear
from .neurons import LIF

BLOCKS = ("spiking", "sew", "ms")


def _default_neuron(channels):
    return LIF(tau=2.0)


class ResidualBlock(Layer):
    """One basic block (two 3x3 conv-BN stages), ``variant`` one of BLOCKS (module doc).
    ``neuron(channels)`` makes each neuron layer (default LIF tau = 2, v_th = 1);
    ``bn(channels)`` each BN (default BatchNorm shared over time; e.g. ``lambda c:
    BatchNormTT(c, T)`` for per-step BN)."""
    kind = "block"

    def __init__(self, c_in: int, c_out: int, stride: int = 1, variant: str = "sew", *, neuron=None, bn=None,
                 name: str | None = None):
        super().__init__(name)
        if variant not in BLOCKS:
            raise SpynqValueError(f"ResidualBlock variant {variant!r}: choose one of {BLOCKS}")
        self.variant, self.c_in, self.c_out, self.stride = variant, int(c_in), int(c_out), int(stride)
        neuron = neuron or _default_neuron
        bn = bn or BatchNorm
        conv = lambda ci, co, k, s: Conv2d(ci, co, k, s, k // 2, bias=False)  # noqa: E731
        self._build(neuron, bn, conv)

    def _build(self, neuron, bn, conv):
        c_in, c_out, s, k = self.c_in, self.c_out, self.stride, self.variant
        L = {}
        if k == "ms":
            L["sn1"] = neuron(c_in)
        L["conv1"], L["bn1"] = conv(c_in, c_out, 3, s), bn(c_out)
        L["sn1" if k != "ms" else "sn2"] = neuron(c_out)
        L["conv2"], L["bn2"] = conv(c_out, c_out, 3, 1), bn(c_out)
        if k == "sew":
            L["sn2"] = neuron(c_out)
        main = list(L)
        short = []
        if s != 1 or c_in != c_out:
            if k == "ms":
                L["down_sn"] = neuron(c_in)
            L["down_conv"], L["down_bn"] = conv(c_in, c_out, 1, s), bn(c_out)
            if k == "sew":
                L["down_sn"] = neuron(c_out)
            short = [r for r in L if r.startswith("down_")]
        post = []
        if k == "spiking":
            L["sn2"] = neuron(c_out)
            post = ["sn2"]
        self.layers, self.main, self.short, self.post = L, main, short, post

    # -- naming and params ------------------------------------------------------------------
    def _named(self):
        for role, l in self.layers.items():
            l.name = f"{self.name}.{role}"
        return self.layers

    def init(self, rng):
        return {f"{role}.{k}": v for role, l in self._named().items() for k, v in l.init(rng).items()}

    @property
    def specs(self):
        """The flat params that training must not change (neuron constants with learn=False,
        BN running statistics), as Sequential.trainable reads them."""
        from .params import Param

        fixed = Param(value=0.0, learn=False)
        out = {}
        for role, l in self.layers.items():
            out.update({f"{role}.{k}": s for k, s in getattr(l, "specs", {}).items() if not s.learn})
            if isinstance(l, BatchNorm):
                out.update({f"{role}.mean": fixed, f"{role}.var": fixed})
        return out

    @staticmethod
    def _p(p, role):
        pre = role + "."
        return {k[len(pre):]: v for k, v in p.items() if k.startswith(pre)}

    def _updates(self, ctx, before):
        """BN running statistics of the inner BNs, moved to the block's flat keys."""
        for role, l in self.layers.items():
            if isinstance(l, BatchNorm) and l.name in ctx.updates and l.name not in before:
                d = ctx.updates.pop(l.name)
                ctx.updates.setdefault(self.name, {}).update({f"{role}.{k}": v for k, v in d.items()})

    # -- forward ----------------------------------------------------------------------------
    def seq(self, p, xs, ctx: Ctx):
        self._named()
        before = set(ctx.updates)
        run = lambda roles, x: _chain_seq([(self.layers[r], self._p(p, r)) for r in roles], x, ctx)  # noqa: E731
        y = run(self.main, xs) + (run(self.short, xs) if self.short else xs)
        y = run(self.post, y) if self.post else y
        self._updates(ctx, before)
        return y

    def step(self, p, state, x, ctx: Ctx):
        self._named()
        before = set(ctx.updates)
        st = dict(state) if state is not None else {r: None for r in self.layers}

        def run(roles, v):
            for r in roles:
                v, st[r] = self.layers[r].step(self._p(p, r), st[r], v, ctx)
            return v

        y = run(self.main, x) + (run(self.short, x) if self.short else x)
        y = run(self.post, y) if self.post else y
        self._updates(ctx, before)
        return y, st

    def forward(self, p, x, ctx: Ctx):
        raise SpynqValueError(f"{self.name}: a residual block holds neurons; it needs the time axis")


def _chain_seq(pairs, xs, ctx):
    for l, q in pairs:
        xs = l.seq(q, xs, ctx)
    return xs


# ---------------------------------------------------------------- Real Spike


class SpikeScale(Layer):
    """Real Spike's training-time real-valued spikes: x * a_c, one learnable scale per
    channel (axis 1 of [N, C] or [N, C, H, W]), 1 at init."""

    def __init__(self, channels: int, name: str | None = None):
        super().__init__(name)
        self.channels = int(channels)

    def init(self, rng):
        return {"a": np.ones(self.channels)}

    def forward(self, p, x, ctx):
        if x.ndim not in (2, 4) or x.shape[1] != self.channels:
            raise SpynqValueError(f"SpikeScale({self.channels}): input {tuple(x.shape)}, wants [N, C] or [N, C, H, W]")
        return x * p["a"].reshape((1, -1) + (1,) * (x.ndim - 2))


def fold_spike_scale(net, params):
    """(net, params) with every SpikeScale that directly precedes a Conv2d / Linear folded
    into that layer's input channels (W'[:, c] = a_c W[:, c]; the bias is unchanged), so
    the inference network sees binary spikes. Other layers are copied as they are."""
    from .network import Sequential

    layers, out, i = [], {}, 0
    L = net.layers
    while i < len(L):
        l = L[i]
        nxt = L[i + 1] if i + 1 < len(L) else None
        if isinstance(l, SpikeScale) and isinstance(nxt, (Conv2d, Linear)):
            q = dict(params[nxt.name])
            a = np.asarray(params[l.name]["a"])
            w = np.asarray(q["w"])
            if w.shape[1] != a.size:
                raise SpynqValueError(f"fold_spike_scale: {l.name} has {a.size} channels, {nxt.name} takes "
                                      f"{w.shape[1]}")
            q["w"] = w * a.reshape((1, -1) + (1,) * (w.ndim - 2))
            layers.append(copy.copy(nxt))
            out[nxt.name] = q
            i += 2
            continue
        layers.append(copy.copy(l))
        out[l.name] = params[l.name]
        i += 1
    return Sequential(*layers), out
