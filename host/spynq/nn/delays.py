"""A linear layer with integer synaptic delays, in the LIF kernel's semantics.

    y[t, b, j] = sum_i w[j, i] x[t - d[j, i], b, i]     (terms with t - d < 0 are absent)

delays: (n_out, n_in) per synapse (the torch layout of w), or (n_in,) per presynaptic
neuron (an axonal delay: every synapse of input i has delay d_i). Delay 0 acts in the
step of the input, and nothing arrives from before the first step, exactly as
spynq.lif.reference.delayed_input and the kernel's ring buffer (deliveries past the last
step are never read). The delays are configuration (integers, not in the params pytree,
so jax.grad sees only w); issue 11's delay-learning models add learnable ones.
"""
from __future__ import annotations

import numpy as np

from ..errors import SpynqValueError
from ..validate import check_int_range
from .base import Ctx
from .layers import Linear


class DelayedLinear(Linear):
    """Linear (bias optional, default off: the kernel has none) with integer delays."""
    kind = "temporal"  # needs the time axis: the output at t reads inputs at t - d

    def __init__(self, n_in: int, n_out: int, delays, bias: bool = False, name: str | None = None):
        super().__init__(n_in, n_out, bias=bias, name=name)
        d = check_int_range(delays, "DelayedLinear delays", 0)
        if d.shape not in ((self.n_in,), (self.n_out, self.n_in)):
            raise SpynqValueError(f"DelayedLinear delays shape {d.shape}: (n_in,)={(self.n_in,)} per input neuron "
                                  f"or (n_out, n_in)={(self.n_out, self.n_in)} per synapse")
        self.delays = d.astype(np.int64)

    @property
    def mode(self) -> str:
        return "axonal" if self.delays.ndim == 1 else "synapse"

    @property
    def max_delay(self) -> int:
        return int(self.delays.max()) if self.delays.size else 0

    def synapse_delays(self) -> np.ndarray:
        """(n_out, n_in) delays."""
        return self.delays if self.delays.ndim == 2 else np.broadcast_to(self.delays, (self.n_out, self.n_in))

    def seq(self, p, xs, ctx: Ctx):
        xp = ctx.xp
        T = xs.shape[0]
        w = p["w"]
        y = None
        for d in np.unique(self.delays):  # one masked matmul per distinct delay (differentiable in w)
            d = int(d)
            if d >= T:
                continue
            wd = w * (self.synapse_delays() == d)
            part = xs[:T - d] @ wd.T
            if d:
                part = xp.concatenate([xp.zeros((d,) + tuple(part.shape[1:]), dtype=part.dtype), part])
            y = part if y is None else y + part
        if y is None:
            y = xp.zeros(tuple(xs.shape[:-1]) + (self.n_out,), dtype=xs.dtype)
        return y + p["b"] if "b" in p else y

    def step(self, p, state, x, ctx: Ctx):
        """Per step: a history of the last max_delay inputs (the state), newest first."""
        xp = ctx.xp
        D = self.max_delay
        hist = [x] + (list(state) if state is not None else [])
        hist = hist[:D + 1]
        w = p["w"]
        y = xp.zeros(tuple(x.shape[:-1]) + (self.n_out,), dtype=x.dtype)
        for d in np.unique(self.delays):
            d = int(d)
            if d < len(hist):
                y = y + hist[d] @ (w * (self.synapse_delays() == d)).T
        y = y + p["b"] if "b" in p else y
        return y, tuple(hist)

    def forward(self, p, x, ctx):  # pragma: no cover - a temporal layer has no per-step function of x alone
        raise SpynqValueError(f"{self.name}: DelayedLinear needs the time axis (seq or step)")


def max_kernel_delay() -> int:
    """The largest delay the LIF kernel holds (ring slots - 1)."""
    from ..lif.encode import C

    return C["LIF_RING"] - 1


__all__ = ["DelayedLinear", "max_kernel_delay"]
