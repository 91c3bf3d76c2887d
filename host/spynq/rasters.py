"""Spike rasters, shared by the LIF and SNNWM kernels: (batch, T, n) bool arrays on the
host, bit-packed rows of whole 128-bit m_axi beats on the bus (bit i of a row in word
i/32, bit i%32)."""
from __future__ import annotations

import numpy as np

from .errors import SpynqValueError
from .hw.interface import M_AXI_DATA_BITS
from .validate import bool_array, check_shape, int_scalar, real_scalar


def check(rasters, n_in: int) -> np.ndarray:
    """(batch, T, n_in) bool, accepting one (T, n_in) raster; bool or 0/1 integer input
    (floats are refused: spynq.validate.bool_array); at least one sample and one step."""
    r = bool_array(rasters, "rasters")
    if r.ndim == 2:
        r = r[None]
    check_shape(r, (None, None, n_in), "rasters", ("batch", "T", "n_in"))
    if r.shape[0] < 1:
        raise SpynqValueError(f"rasters: batch of {r.shape[0]} samples, needs at least 1")
    if r.shape[1] < 1:
        raise SpynqValueError(f"rasters: T={r.shape[1]} steps, needs at least one time step")
    return r


def random_rasters(rng: np.random.Generator, batch: int, T: int, n_in: int, density: float = 0.05) -> np.ndarray:
    """(batch, T, n_in) bool Bernoulli(density) input rasters."""
    density = real_scalar(density, "density", 0.0, 1.0)
    shape = tuple(int_scalar(v, name, 0) for v, name in ((batch, "batch"), (T, "T"), (n_in, "n_in")))
    return rng.random(shape) < density


def row_words(n: int) -> int:
    """Words of one raster row of n bits (whole 128-bit beats)."""
    return -(-n // M_AXI_DATA_BITS) * (M_AXI_DATA_BITS // 32)


def pack(rasters: np.ndarray) -> np.ndarray:
    """(batch, T, n) bool -> uint32 words, one padded row per step."""
    r = np.asarray(rasters, bool)
    b, T, n = r.shape
    padded = np.zeros((b, T, row_words(n) * 32), bool)
    padded[:, :, :n] = r
    return np.packbits(padded, axis=2, bitorder="little").view("<u4").reshape(-1).astype(np.uint32)


def unpack(words: np.ndarray, batch: int, T: int, n: int) -> np.ndarray:
    w = np.ascontiguousarray(np.asarray(words, np.uint32).astype("<u4")).reshape(batch, T, row_words(n))
    return np.unpackbits(w.view(np.uint8), axis=2, bitorder="little")[:, :, :n].astype(bool)
