"""Synaptic and structural layers. Per time step the input is [B, N] or [B, C, H, W];
over a sequence the "map" layers see [T*B, ...] (spynq.nn.base).

Weights use PyTorch's layouts (Linear w (out, in), Conv2d w (out, in, k, k), BN gamma /
beta / running mean / var), so SpikingJelly-style checkpoints map onto them key by key.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import SpynqValueError
from .base import Ctx, Layer
from .ops import avg_pool2d, conv2d, is_jax, max_pool2d, stop_gradient


def _uniform(rng, bound, shape):
    return rng.uniform(-bound, bound, size=shape).astype(np.float64)


class Linear(Layer):
    """y = x @ w.T + b over the last axis. Init as torch.nn.Linear: U(-1/sqrt(n_in), +)."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True, name: str | None = None):
        super().__init__(name)
        self.n_in, self.n_out, self.bias = int(n_in), int(n_out), bool(bias)

    def init(self, rng):
        b = 1.0 / math.sqrt(self.n_in)
        p = {"w": _uniform(rng, b, (self.n_out, self.n_in))}
        if self.bias:
            p["b"] = _uniform(rng, b, (self.n_out,))
        return p

    def forward(self, p, x, ctx):
        y = x @ p["w"].T
        return y + p["b"] if "b" in p else y


class Conv2d(Layer):
    """Square-kernel conv over [B, C, H, W] (zero padding), torch.nn.Conv2d's init bound."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, padding: int = 0, bias: bool = True,
                 name: str | None = None):
        super().__init__(name)
        self.c_in, self.c_out, self.k = int(c_in), int(c_out), int(k)
        self.stride, self.padding, self.bias = int(stride), int(padding), bool(bias)

    def init(self, rng):
        b = 1.0 / math.sqrt(self.c_in * self.k * self.k)
        p = {"w": _uniform(rng, b, (self.c_out, self.c_in, self.k, self.k))}
        if self.bias:
            p["b"] = _uniform(rng, b, (self.c_out,))
        return p

    def forward(self, p, x, ctx):
        y = conv2d(x, p["w"], self.stride, self.padding, ctx.xp)
        return y + p["b"].reshape(-1, 1, 1) if "b" in p else y


class BatchNorm(Layer):
    """BatchNorm over the channel axis 1 of [N, C] or [N, C, H, W] (N = T*B over a
    sequence: statistics shared over time, tdBN-like, so it folds into the weights).
    train: batch statistics (biased variance), and ctx.updates[name] gets the new running
    mean / unbiased variance with torch's momentum; eval: the running statistics.
    Called per step (style="step") in train mode the statistics are per step instead:
    the two iteration styles agree in eval mode only."""

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1, name: str | None = None):
        super().__init__(name)
        self.channels, self.eps, self.momentum = int(channels), float(eps), float(momentum)

    def init(self, rng):
        c = self.channels
        return {"gamma": np.ones(c), "beta": np.zeros(c), "mean": np.zeros(c), "var": np.ones(c)}

    def seq(self, p, xs, ctx):
        # train: one set of statistics over T and B (elementwise otherwise: no rounding issue)
        return self.merged(p, xs, ctx)

    def forward(self, p, x, ctx):
        xp = ctx.xp
        if x.ndim not in (2, 4) or x.shape[1] != self.channels:
            raise SpynqValueError(f"BatchNorm({self.channels}): input {tuple(x.shape)}, wants [N, C] or [N, C, H, W]")
        axes = (0,) if x.ndim == 2 else (0, 2, 3)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
        if ctx.train:
            mean = xp.mean(x, axis=axes)
            var = xp.mean((x - mean.reshape(shape)) ** 2, axis=axes)
            n = x.size // self.channels
            m = self.momentum
            ctx.updates[self.name] = {
                "mean": stop_gradient((1 - m) * p["mean"] + m * mean, xp),
                "var": stop_gradient((1 - m) * p["var"] + m * var * (n / max(n - 1, 1)), xp)}
        else:
            mean, var = stop_gradient(p["mean"], xp), stop_gradient(p["var"], xp)
        inv = p["gamma"] / xp.sqrt(var + self.eps)
        return (x - mean.reshape(shape)) * inv.reshape(shape) + p["beta"].reshape(shape)


def fold_bn(syn: dict, bn: dict, eps: float) -> dict:
    """Linear / Conv2d params followed by eval-mode BatchNorm -> one layer's params
    (w' = w * s per output channel, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps))."""
    s = np.asarray(bn["gamma"]) / np.sqrt(np.asarray(bn["var"]) + eps)
    w = np.asarray(syn["w"])
    b = np.asarray(syn["b"]) if "b" in syn else np.zeros(w.shape[0])
    return {"w": w * s.reshape((-1,) + (1,) * (w.ndim - 1)), "b": (b - np.asarray(bn["mean"])) * s + np.asarray(bn["beta"])}


class AvgPool2d(Layer):
    def __init__(self, k: int, stride: int | None = None, name: str | None = None):
        super().__init__(name)
        self.k = int(k)
        self.stride = int(stride) if stride is not None else self.k

    def forward(self, p, x, ctx):
        return avg_pool2d(x, self.k, self.stride, ctx.xp)


class MaxPool2d(AvgPool2d):
    def forward(self, p, x, ctx):
        return max_pool2d(x, self.k, self.stride, ctx.xp)


class GlobalAvgPool(Layer):
    """[N, C, H, W] -> [N, C], mean over H and W."""

    def forward(self, p, x, ctx):
        return ctx.xp.mean(x, axis=(2, 3))


class GlobalMaxPool(Layer):
    def forward(self, p, x, ctx):
        return ctx.xp.max(x, axis=(2, 3))


class Flatten(Layer):
    """[N, ...] -> [N, prod(...)] (C-order, as torch.flatten(x, 1))."""

    def forward(self, p, x, ctx):
        return x.reshape((x.shape[0], -1))


class Dropout(Layer):
    """Dropout with one mask per sample shared by every time step (SpikingJelly's
    multi-step dropout; STCA's spiking dropout): train mode only, kept values / (1 - p)."""
    kind = "temporal"

    def __init__(self, p: float = 0.5, name: str | None = None):
        super().__init__(name)
        if not 0.0 <= p < 1.0:
            raise SpynqValueError(f"Dropout p={p}: needs 0 <= p < 1")
        self.p = float(p)

    def _active(self, ctx):
        return ctx.train and self.p > 0.0

    def seq(self, p, xs, ctx):
        if not self._active(ctx):
            return xs
        return xs * ctx.keep_mask(self.index, xs.shape[1:], self.p, xs.dtype)

    def step(self, p, state, x, ctx):
        if not self._active(ctx):
            return x, state
        mask = ctx.keep_mask(self.index, x.shape, self.p, x.dtype) if state is None else state
        return x * mask, mask


AGGREGATES = ("sum", "mean", "last")


class TemporalAggregate(Layer):
    """[T, B, ...] -> [B, ...]: sum, mean (sum / T) or the last step. Per step it is
    BIDL's accumulator Acc(i) = Acc(i-1) + x(i) (mean: Acc(i) / (i+1)), whose value at
    the last step equals the sequence result exactly (one summation order for both)."""
    kind = "temporal"

    def __init__(self, mode: str = "mean", name: str | None = None):
        super().__init__(name)
        if mode not in AGGREGATES:
            raise SpynqValueError(f"TemporalAggregate mode {mode!r}: choose one of {AGGREGATES}")
        self.mode = mode

    def seq(self, p, xs, ctx):
        if self.mode == "last":
            return xs[-1]
        acc = xs[0]
        for t in range(1, xs.shape[0]):
            acc = acc + xs[t]
        return acc / xs.shape[0] if self.mode == "mean" else acc

    def step(self, p, state, x, ctx):
        if self.mode == "last":
            return x, None
        acc, n = (x, 1) if state is None else (state[0] + x, state[1] + 1)
        return (acc / n if self.mode == "mean" else acc), (acc, n)


class BatchNormTT(BatchNorm):
    """Per-timestep BN (BNTT, Kim & Panda 2021; TEBN's per-step form): BatchNorm over the
    channel axis with separate statistics and affine parameters for each of the T steps
    (params gamma / beta / mean / var of shape (T, C)). Step t runs BatchNorm on step t's
    batch with row t: train mode normalises by step t's batch statistics and updates row
    t of the running statistics; eval uses row t. Over a sequence it runs step by step
    even with merge_time (T*B merged would mix the steps' statistics). The review's
    point (Sec. 3.1.3): at inference this folds into T weight sets (``fold``), not one."""

    def __init__(self, channels: int, steps: int, eps: float = 1e-5, momentum: float = 0.1,
                 name: str | None = None):
        super().__init__(channels, eps, momentum, name)
        if int(steps) < 1:
            raise SpynqValueError(f"BatchNormTT steps={steps}: needs at least 1")
        self.steps = int(steps)

    def init(self, rng):
        return {k: np.tile(v, (self.steps, 1)) for k, v in super().init(rng).items()}

    def seq(self, p, xs, ctx):
        if xs.shape[0] != self.steps:
            raise SpynqValueError(f"BatchNormTT({self.channels}, steps={self.steps}): a sequence of "
                                  f"{xs.shape[0]} steps")
        ys = []
        for t in range(xs.shape[0]):
            ctx.t = t
            ys.append(self.forward(p, xs[t], ctx))
        return ctx.xp.stack(ys)

    def forward(self, p, x, ctx):
        t = ctx.t
        if t is None or not 0 <= t < self.steps:
            raise SpynqValueError(f"BatchNormTT({self.channels}, steps={self.steps}): step {t}, "
                                  f"wants 0..{self.steps - 1}")
        prev = ctx.updates.get(self.name)
        y = super().forward({k: v[t] for k, v in p.items()}, x, ctx)
        if ctx.train:  # row t of the (T, C) running statistics; the other rows as before
            xp, row = ctx.xp, ctx.updates[self.name]
            base = prev if prev is not None else {"mean": p["mean"], "var": p["var"]}
            ctx.updates[self.name] = {k: _set_row(base[k], t, row[k], xp) for k in ("mean", "var")}
        return y

    def fold(self, syn: dict, bn: dict) -> list:
        """The preceding Linear / Conv2d params folded with each step's eval-mode BN: T
        weight sets (step t's input goes through set t)."""
        return [fold_bn(syn, {k: np.asarray(v)[t] for k, v in bn.items()}, self.eps) for t in range(self.steps)]


def _set_row(a, t, row, xp):
    if is_jax(xp):
        return xp.asarray(a).at[t].set(row)
    out = np.array(a, copy=True)
    out[t] = row
    return out
