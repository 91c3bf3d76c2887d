"""The few operations whose numpy and JAX forms differ; everything else in spynq.nn is
written once over the array namespace ``xp`` (numpy or jax.numpy).

jax is imported only inside the JAX branches, so this module (and spynq.nn) imports and
runs on a machine with numpy alone (the board).
"""
from __future__ import annotations

import functools

import numpy as np

from ..errors import SpynqValueError

NAMESPACES = ("numpy", "jax")


def namespace(name: str = "numpy"):
    """The array module for "numpy" or "jax" (jax.numpy, imported on first use)."""
    if name == "numpy":
        return np
    if name == "jax":
        import jax.numpy as jnp

        return jnp
    raise SpynqValueError(f"array namespace {name!r}: choose one of {NAMESPACES}")


def is_jax(xp) -> bool:
    return xp is not np and getattr(xp, "__name__", "").startswith("jax")


def stop_gradient(x, xp):
    if is_jax(xp):
        import jax

        return jax.lax.stop_gradient(x)
    return x


def heaviside(x, xp, strict: bool = False):
    """1 where x >= 0 (x > 0 with strict), else 0, in x's dtype."""
    return ((x > 0) if strict else (x >= 0)).astype(x.dtype)


def spike(x, surrogate, xp, strict: bool = False):
    """Heaviside of x = h - v_th forward; under JAX the backward is surrogate.grad(x).
    surrogate.smooth replaces the forward by surrogate.primitive (gradient checks)."""
    if is_jax(xp):
        return _jax_spike(surrogate, bool(strict))(x)
    return surrogate.primitive(x, xp) if surrogate.smooth else heaviside(x, xp, strict)


@functools.lru_cache(maxsize=None)
def _jax_spike(surrogate, strict):
    import jax
    import jax.numpy as jnp

    def value(x):
        return surrogate.primitive(x, jnp) if surrogate.smooth else heaviside(x, jnp, strict)

    @jax.custom_vjp
    def f(x):
        return value(x)

    def fwd(x):
        return value(x), x

    def bwd(x, g):
        return (g * surrogate.grad(x, jnp),)

    f.defvjp(fwd, bwd)
    return f


def grad_times_input(x, xp):
    """Identity forward; under JAX the local derivative is x instead of 1 (AIA's
    gradient-only reading R1: f'(x) = x with an unchanged forward)."""
    if is_jax(xp):
        return _jax_grad_times_input()(x)
    return x


@functools.lru_cache(maxsize=None)
def _jax_grad_times_input():
    import jax

    @jax.custom_vjp
    def f(x):
        return x

    f.defvjp(lambda x: (x, x), lambda x, g: (g * x,))
    return f


# ---- convolution and pooling over [N, C, H, W] -------------------------------------------

def _pad_hw(x, padding, xp, value=0.0):
    if not padding:
        return x
    p = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    return xp.pad(x, p, constant_values=value)


def _windows(x, k, stride):
    """numpy view (N, C, Ho, Wo, k, k) of the k x k windows at the given stride."""
    v = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    return v[:, :, ::stride, ::stride]


def conv2d(x, w, stride: int, padding: int, xp):
    """Cross-correlation like torch.nn.functional.conv2d: x (N, C, H, W), w (O, C, k, k)
    -> (N, O, Ho, Wo). numpy: im2col windows contracted with one tensordot; JAX:
    lax.conv_general_dilated at HIGHEST precision (the same numbers to rounding)."""
    if is_jax(xp):
        import jax

        return jax.lax.conv_general_dilated(
            x, w, (stride, stride), [(padding, padding), (padding, padding)],
            dimension_numbers=("NCHW", "OIHW", "NCHW"), precision=jax.lax.Precision.HIGHEST)
    k = w.shape[-1]
    cols = _windows(_pad_hw(np.asarray(x), padding, np), k, stride)  # (N, C, Ho, Wo, k, k)
    y = np.tensordot(cols, np.asarray(w), axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, O)
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2))


def avg_pool2d(x, k: int, stride: int, xp):
    if is_jax(xp):
        import jax

        s = jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 1, k, k), (1, 1, stride, stride), "VALID")
        return s / (k * k)
    return _windows(np.asarray(x), k, stride).mean(axis=(4, 5))


def max_pool2d(x, k: int, stride: int, xp):
    if is_jax(xp):
        import jax

        return jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, 1, k, k), (1, 1, stride, stride), "VALID")
    return _windows(np.asarray(x), k, stride).max(axis=(4, 5))
