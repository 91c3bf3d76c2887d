"""Surrogate gradients of the firing function, x = h - v_th.

Forward: the Heaviside step (tie convention chosen by the neuron, ``>=`` by default).
Backward (JAX only): ``grad(x)`` below. ``primitive(x)`` is the smooth function whose
derivative ``grad`` is; ``smooth=True`` uses it as the forward too, which makes the whole
network differentiable so that finite differences can check the BPTT gradients
(tests/test_nn_grad.py). Instances are frozen (hashable): JAX keys its custom_vjp on them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import SpynqValueError


@dataclass(frozen=True)
class Surrogate:
    smooth: bool = field(default=False, kw_only=True)  # keyword only: Rectangular(1.0) is a = 1

    def grad(self, x, xp):  # pragma: no cover - abstract
        raise NotImplementedError

    def primitive(self, x, xp):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Rectangular(Surrogate):
    """(1/a) * 1[|x| < a/2]: DA-LIF Eq.11 (a = 1; strict inequality, the note's choice),
    tdBN (AIA's [7]), BIDL's ThreshActRectangleGrad."""
    a: float = 1.0

    def grad(self, x, xp):
        return (xp.abs(x) < self.a / 2).astype(x.dtype) / self.a

    def primitive(self, x, xp):
        return xp.clip(x / self.a + 0.5, 0.0, 1.0)


@dataclass(frozen=True)
class ATan(Surrogate):
    """alpha / (2 (1 + (pi/2 alpha x)^2)), the derivative of atan(pi/2 alpha x)/pi + 1/2
    (STCA Sec.3.4; alpha = 2 is SpikingJelly's default, the paper gives none)."""
    alpha: float = 2.0

    def grad(self, x, xp):
        return self.alpha / (2.0 * (1.0 + (math.pi / 2 * self.alpha * x) ** 2))

    def primitive(self, x, xp):
        return xp.arctan(math.pi / 2 * self.alpha * x) / math.pi + 0.5


@dataclass(frozen=True)
class Sigmoid(Surrogate):
    """alpha * s * (1 - s), s = sigmoid(alpha x) (SuperSpike-style; alpha = 4 as SpikingJelly)."""
    alpha: float = 4.0

    def grad(self, x, xp):
        s = 1.0 / (1.0 + xp.exp(-self.alpha * x))
        return self.alpha * s * (1.0 - s)

    def primitive(self, x, xp):
        return 1.0 / (1.0 + xp.exp(-self.alpha * x))


@dataclass(frozen=True)
class DynamicTanh(Surrogate):
    """The review's dynamic surrogate (Eq.5): phi(x) = 0.5 tanh(K x) + 0.5, so
    phi'(x) = (K/2)(1 - tanh^2(K x)), peak K/2 at x = 0. K follows ``k_schedule`` over
    epochs: set ``neuron.surrogate = DynamicTanh.at_epoch(i, N, k_min, k_max)`` each epoch
    (K is static: a jitted step function must be rebuilt, i.e. jax.jit again, per epoch)."""
    k: float = 1.0

    def grad(self, x, xp):
        t = xp.tanh(self.k * x)
        return 0.5 * self.k * (1.0 - t * t)

    def primitive(self, x, xp):
        return 0.5 * xp.tanh(self.k * x) + 0.5

    @classmethod
    def at_epoch(cls, i: int, n: int, k_min: float, k_max: float, smooth: bool = False) -> "DynamicTanh":
        return cls(smooth=smooth, k=k_schedule(i, n, k_min, k_max))


def k_schedule(i, n: int, k_min: float, k_max: float) -> float:
    """Review Eq.6 (exponents restored, note 5.2 / E15):
    K(i) = ((10^(i/N) - 1) K_max + (10 - 10^(i/N)) K_min) / 9, i the epoch in 0..N-1;
    K(0) = K_min, K(N) = K_max."""
    if n <= 0:
        raise SpynqValueError(f"k_schedule: N={n} epochs, needs at least 1")
    p = 10.0 ** (i / n)
    return ((p - 1.0) * k_max + (10.0 - p) * k_min) / 9.0


SURROGATES = {"rectangular": Rectangular, "atan": ATan, "sigmoid": Sigmoid, "dynamic_tanh": DynamicTanh}
