"""The likelihood of every edge as an energy: P(child | parent) = C * exp(-z).

The kernel evaluates one of two energy forms per edge, with parameters per parent state:
  GAUSS:  z = (r_s * (c - a_s * x - b_s))^2 + g_s      r = 1/(sqrt(2) std)
  TABLE:  z = T[s, t]
Constants C that do not depend on the parent sample cancel in the divisive
normalisation over parent samples (eq. 4-8), so they are dropped. What does depend on
the parent state must stay: a StateGaussian with per-state stds keeps
g_s = ln std_s - min ln std; a CPT keeps T[s, t] = -ln P(t|s) + ln max_s P(t|s) >= 0
(the subtracted term depends only on the child state, so it cancels).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import CPT, LinearGaussian, StateGaussian
from ..errors import SpynqTypeError

KIND_GAUSS, KIND_TABLE = 1, 2


@dataclass(frozen=True)
class EdgeEnergy:
    kind: int
    a: np.ndarray | None = None  # (rows,)
    b: np.ndarray | None = None
    r: np.ndarray | None = None
    g: np.ndarray | None = None
    table: np.ndarray | None = None  # (parent states, child states), inf = impossible

    @property
    def rows(self) -> int:
        return len(self.a) if self.kind == KIND_GAUSS else self.table.shape[0]

    def __call__(self, child, parent) -> np.ndarray:
        """Energy for broadcastable arrays of child values and parent values/states."""
        child, parent = np.asarray(child), np.asarray(parent)
        if self.kind == KIND_TABLE:
            return self.table[parent.astype(np.int64), child.astype(np.int64)]
        if len(self.a) == 1:  # continuous parent
            a, b, r, g = self.a[0], self.b[0], self.r[0], self.g[0]
        else:  # discrete parent: parameters of its state
            s = parent.astype(np.int64)
            a, b, r, g = self.a[s], self.b[s], self.r[s], self.g[s]
        return (r * (child - a * parent - b)) ** 2 + g


def edge_energy(dist) -> EdgeEnergy:
    if isinstance(dist, LinearGaussian):
        one = lambda v: np.array([float(v)])  # noqa: E731
        return EdgeEnergy(KIND_GAUSS, one(dist.a), one(dist.b), one(1 / (np.sqrt(2) * dist.std)), one(0.0))
    if isinstance(dist, StateGaussian):
        s = np.asarray(dist.stds)
        return EdgeEnergy(KIND_GAUSS, np.zeros(len(s)), np.asarray(dist.means), 1 / (np.sqrt(2) * s),
                          np.log(s) - np.log(s).min())
    if isinstance(dist, CPT):
        p = np.asarray(dist.table)
        pmax = p.max(axis=0, keepdims=True)
        with np.errstate(divide="ignore"):
            # a child state no parent state allows is impossible: inf (not inf - inf = NaN)
            t = np.where(pmax > 0, -np.log(p) + np.log(np.where(pmax > 0, pmax, 1.0)), np.inf)
        return EdgeEnergy(KIND_TABLE, table=t)
    raise SpynqTypeError(f"no energy form for {type(dist).__name__}")
