"""Layer protocol and the per-call context shared by every spynq.nn layer.

A layer object holds only its configuration. Its parameters are a dict of arrays that
``init(rng)`` creates and every call receives (a pytree: JAX differentiates it as is),
and its state (membranes, a dropout mask, an accumulator) is passed in and returned.
Three kinds:
  "map"      a function of one time step, no state (linear, conv, BN, pooling, flatten);
             over a sequence it runs per step, or once on [T*B, ...] (merge_time);
  "neuron"   state carried over time steps (the membrane);
  "temporal" needs the time axis: dropout (one mask for all steps), aggregation.
"""
from __future__ import annotations

import numpy as np


class Ctx:
    """One forward call: the namespace, train/eval, the dropout seed, and what the layers
    leave behind: per neuron layer the spikes, integrated membranes h and states v of
    every step (``records``), and in train mode BN's new running statistics (``updates``)."""

    def __init__(self, xp=np, train: bool = False, seed: int = 0, merge_time: bool = False, scan: bool = False):
        self.xp = xp
        self.train = bool(train)
        self.seed = int(seed)
        self.merge_time = bool(merge_time)
        self.scan = bool(scan)
        self.t = None  # the step being computed (None over merged time); time-varying layers read it
        self.records: dict = {}
        self.updates: dict = {}

    def sub(self, t=None) -> "Ctx":
        """A context for one traced step (lax.scan body): same settings, own records."""
        c = Ctx(self.xp, self.train, self.seed, self.merge_time, self.scan)
        c.t = t
        return c

    def record(self, name, s, h, v):
        r = self.records.setdefault(name, {"s": [], "h": [], "v": []})
        r["s"].append(s)
        r["h"].append(h)
        r["v"].append(v)

    def keep_mask(self, index: int, shape, p: float, dtype):
        """Dropout keep-mask / (1 - p), drawn from numpy with (seed, layer index): the same
        mask for both iteration styles and both namespaces (it is not differentiated; the
        seed must be a Python int, so do not trace it under jax.jit)."""
        keep = np.random.default_rng([self.seed, index]).random(tuple(shape)) >= p
        return self.xp.asarray(keep.astype(np.float64) / (1.0 - p), dtype=dtype)


class Layer:
    kind = "map"

    def __init__(self, name: str | None = None):
        self.name = name
        self.index = None  # position in its Sequential (set there)

    def init(self, rng: np.random.Generator) -> dict:
        return {}

    def forward(self, p, x, ctx: Ctx):  # pragma: no cover - abstract
        """One time step, x [B, ...]."""
        raise NotImplementedError

    def step(self, p, state, x, ctx: Ctx):
        return self.forward(p, x, ctx), state

    def seq(self, p, xs, ctx: Ctx):
        """All steps, xs [T, B, ...] (layer-by-layer iteration). Step by step unless
        ctx.merge_time: BLAS blocks a [T*B] matmul differently from T [B] ones, so merging
        T into the batch is faster but equal to the step-by-step style only to rounding."""
        if not ctx.merge_time:
            ys = []
            for t in range(xs.shape[0]):
                ctx.t = t
                ys.append(self.forward(p, xs[t], ctx))
            return ctx.xp.stack(ys)
        return self.merged(p, xs, ctx)

    def merged(self, p, xs, ctx: Ctx):
        ctx.t = None
        T, B = xs.shape[:2]
        y = self.forward(p, xs.reshape((T * B,) + tuple(xs.shape[2:])), ctx)
        return y.reshape((T, B) + tuple(y.shape[1:]))

    def __repr__(self):
        return f"{type(self).__name__}({self.name})"
