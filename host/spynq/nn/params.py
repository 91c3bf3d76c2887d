"""Neuron parameters: what is stored, how the equation sees it, and who shares it.

A ``Param`` names the effective value at initialisation (or the stored raw value), the
parametrisation ``fn`` (effective = fn(raw)), the sharing ``per`` ("layer": one scalar,
ASM in BIDL's words; "channel": one per channel, CSM, the neuron's ``channels``), and
``learn`` (False: the raw value sits in the params pytree but gradients stop at it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import SpynqValueError
from .ops import stop_gradient

FNS = ("raw", "tanh", "sigmoid", "clip")
PERS = ("layer", "channel")


@dataclass(frozen=True)
class Param:
    value: float | None = None  # effective value at initialisation
    fn: str = "raw"             # raw | tanh | sigmoid | clip (to [-1, 1])
    per: str = "layer"          # layer | channel
    learn: bool = True
    raw: float | None = None    # stored initial value (instead of value); e.g. DA-LIF tanh(1)

    def __post_init__(self):
        if self.fn not in FNS:
            raise SpynqValueError(f"Param fn {self.fn!r}: choose one of {FNS}")
        if self.per not in PERS:
            raise SpynqValueError(f"Param per {self.per!r}: choose one of {PERS}")
        if (self.value is None) == (self.raw is None):
            raise SpynqValueError("Param: give exactly one of value (effective) and raw (stored)")

    def init_raw(self) -> float:
        if self.raw is not None:
            return float(self.raw)
        v = float(self.value)
        if self.fn == "raw":
            return v
        if self.fn == "clip":
            if not -1.0 <= v <= 1.0:
                raise SpynqValueError(f"Param: clip parametrisation cannot reach {v} (range [-1, 1])")
            return v
        if self.fn == "tanh":
            if not -1.0 < v < 1.0:
                raise SpynqValueError(f"Param: tanh parametrisation cannot reach {v} (range (-1, 1))")
            return math.atanh(v)
        if not 0.0 < v < 1.0:
            raise SpynqValueError(f"Param: sigmoid parametrisation cannot reach {v} (range (0, 1))")
        return math.log(v / (1.0 - v))

    def array(self, channels: int | None) -> np.ndarray:
        if self.per == "layer":
            return np.array(self.init_raw(), dtype=np.float64)
        if not channels:
            raise SpynqValueError("Param per='channel' needs the neuron's channels=C")
        return np.full((int(channels),), self.init_raw(), dtype=np.float64)


def as_param(x, learn: bool = False) -> Param:
    """A Param as given, or a plain number as a raw per-layer Param with ``learn``."""
    if isinstance(x, Param):
        return x
    return Param(value=float(x), learn=learn)


def effective(spec: Param, raw, xp, state_ndim: int):
    """What the equations see: fn(raw), gradients stopped unless learnable, a per-channel
    vector shaped (C, 1, 1) against a [B, C, H, W] state (it broadcasts as is on [B, N])."""
    r = raw if spec.learn else stop_gradient(raw, xp)
    if spec.fn == "tanh":
        v = xp.tanh(r)
    elif spec.fn == "sigmoid":
        v = 1.0 / (1.0 + xp.exp(-r))
    elif spec.fn == "clip":
        v = xp.clip(r, -1.0, 1.0)
    else:
        v = r
    if spec.per == "channel" and state_ndim == 4:
        v = xp.reshape(v, (-1, 1, 1))
    return v
