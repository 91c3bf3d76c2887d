"""Spike rasters, shared by the LIF and SNNWM kernels: (batch, T, n) bool arrays on the
host, bit-packed rows of whole 128-bit m_axi beats on the bus (bit i of a row in word
i/32, bit i%32)."""
from __future__ import annotations

import numpy as np

from .hw.interface import M_AXI_DATA_BITS


def check(rasters, n_in: int) -> np.ndarray:
    """(batch, T, n_in) bool, accepting one (T, n_in) raster; clear errors otherwise."""
    r = np.asarray(rasters)
    if r.ndim == 2:
        r = r[None]
    if r.ndim != 3 or r.shape[2] != n_in:
        raise ValueError(f"rasters must be (batch, T, n_in={n_in}), got shape {np.shape(rasters)}")
    if r.shape[1] < 1:
        raise ValueError("rasters need at least one time step")
    if r.dtype != bool:
        if not np.all((r == 0) | (r == 1)):
            raise ValueError("rasters must be boolean (0/1) spikes")
        r = r.astype(bool)
    return r


def random_rasters(rng: np.random.Generator, batch: int, T: int, n_in: int, density: float = 0.05) -> np.ndarray:
    """(batch, T, n_in) bool Bernoulli(density) input rasters."""
    if not 0.0 <= density <= 1.0:
        raise ValueError("density must be in [0, 1]")
    return rng.random((batch, T, n_in)) < density


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
