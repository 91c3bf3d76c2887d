"""STCA: temporal-channel joint self-attention (STCA-SNN, Li and Yang; models_neurons.md 7.3).

Per sample, over the whole sequence X [T, C, H, W] (a "temporal" layer: it needs all T
steps, so it runs in style="layer" only):
    R = AvgPool(X) + MaxPool(X)                 [T, C]   global pools over H x W (Eq.5)
    Q = R W_Q,  K = R W_K,  V = R W_V           W_* (C, C), no bias (Eq.10), 3 C^2 parameters
    A = softmax(scale Q K^T) V                  per head: C split into `heads` blocks of C/heads,
                                                the softmax row-wise over j (T x T, Eq.9/11)
    f = sigmoid(R + A)                          [T, C]   the gate (Eq.12, residual inside)
    out = f (.) X                               f broadcast over H and W
Choices where the paper is silent (note 7.3): 4 heads (Table 1), no output projection,
scale 1 (Eq.11 writes none; scale="sqrt" gives 1/sqrt(C/heads)). Weights are stored as
Eq.10 writes them, (C_in, C_out), applied as R @ W. [T, B, C] inputs (after a linear
layer) are H = W = 1: R = 2 X.

Exact time-permutation equivariance (note C2): nothing depends on the step index, but
float sums over j in a different order round differently. So every sum over time steps
is taken over the terms sorted along j (the same multiset gives the same sorted array and
the same sum), and the projections are explicit elementwise products summed over channels
(no BLAS blocking that could depend on a row's position). A permutation of the steps then
permutes R, the attention, f and the output bit for bit (tests/test_nn_models_b.py).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import SpynqValueError
from .base import Layer

SCALES = ("one", "sqrt")


def _sorted_sum(x, axis, xp):
    """Sum over `axis` in an order that does not depend on the order of the terms."""
    return xp.sum(xp.sort(x, axis=axis), axis=axis)


def _project(r, w, xp):
    """r [..., C] @ w [C, D] as a product summed over C (row-position independent)."""
    return xp.sum(r[..., :, None] * w, axis=-2)


def stca(p: dict, xs, *, heads: int = 4, scale: str = "one", xp=np) -> dict:
    """The STCA module on xs [T, B, C, H, W] (or [T, B, C]): a dict with R, Q, K, V [T, B, C],
    att [B, heads, T, T] (row i: the weights over j), A, gate [T, B, C] and out (xs' shape)."""
    if xs.ndim not in (3, 5):
        raise SpynqValueError(f"STCA: input {tuple(xs.shape)}, wants [T, B, C, H, W] or [T, B, C]")
    T, B, C = xs.shape[:3]
    if C % heads:
        raise SpynqValueError(f"STCA: {C} channels do not split into {heads} heads")
    if xs.ndim == 5:
        R = xp.mean(xs, axis=(3, 4)) + xp.max(xs, axis=(3, 4))
    else:
        R = xs + xs
    Q, K, V = (_project(R, p[k], xp) for k in ("wq", "wk", "wv"))
    d = C // heads
    q, k, v = (z.reshape(T, B, heads, d) for z in (Q, K, V))
    s = xp.sum(q[:, None] * k[None, :], axis=-1)  # [Ti, Tj, B, h]
    if scale == "sqrt":
        s = s * (1.0 / math.sqrt(d))
    e = xp.exp(s - xp.max(s, axis=1, keepdims=True))
    att = e / _sorted_sum(e, 1, xp)[:, None]  # row-stochastic over j
    A = _sorted_sum(att[..., None] * v[None, :], 1, xp).reshape(T, B, C)  # sum_j att_ij v_j
    gate = 1.0 / (1.0 + xp.exp(-(R + A)))
    out = xs * (gate[..., None, None] if xs.ndim == 5 else gate)
    return {"R": R, "Q": Q, "K": K, "V": V, "att": xp.transpose(att, (2, 3, 0, 1)), "A": A, "gate": gate, "out": out}


class STCA(Layer):
    """The STCA module as a layer of an nn.Sequential (parameters wq, wk, wv, each (C, C),
    initialised as torch.nn.Linear(C, C, bias=False): U(-1/sqrt(C), 1/sqrt(C)))."""
    kind = "temporal"

    def __init__(self, channels: int, heads: int = 4, scale: str = "one", name: str | None = None):
        super().__init__(name)
        self.channels, self.heads = int(channels), int(heads)
        if self.heads < 1 or self.channels % self.heads:
            raise SpynqValueError(f"STCA: {channels} channels do not split into {heads} heads")
        if scale not in SCALES:
            raise SpynqValueError(f"STCA scale {scale!r}: choose one of {SCALES}")
        self.scale = scale

    def init(self, rng):
        b = 1.0 / math.sqrt(self.channels)
        return {k: rng.uniform(-b, b, size=(self.channels, self.channels)) for k in ("wq", "wk", "wv")}

    def seq(self, p, xs, ctx):
        if xs.shape[2] != self.channels:
            raise SpynqValueError(f"{self.name}: {xs.shape[2]} channels in, built for {self.channels}")
        return stca(p, xs, heads=self.heads, scale=self.scale, xp=ctx.xp)["out"]

    def step(self, p, state, x, ctx):
        raise SpynqValueError(f"{self.name}: STCA attends over all T steps at once; run the network with "
                              "style='layer'")

    def forward(self, p, x, ctx):
        raise SpynqValueError(f"{self.name}: STCA needs the time axis (it is not a per-step map)")
