"""Per-sample status words of the LIF and SNNWM results: what the fixed-point kernel
clipped (or, on the cpu path, where the float result left the kernel's range), and the
one warning per call that says so."""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from .errors import SpynqSaturationWarning


def combine(layer_status) -> np.ndarray | None:
    """(batch,) OR over the layers' status bits, None when the backend reports none."""
    if layer_status is None:
        return None
    return np.bitwise_or.reduce(np.stack(layer_status), axis=0) if len(layer_status) else np.zeros(0, np.int64)


def _user_level() -> int:
    """The warnings.warn stacklevel, from the caller of this function, of the first frame
    outside the spynq package (the user's call, whatever wrappers it went through)."""
    pkg, f, level = os.path.dirname(__file__), sys._getframe(1), 1
    while f is not None and f.f_code.co_filename.startswith(pkg):
        f, level = f.f_back, level + 1
    return level


def warn_clipped(backend: str, layer_status, bits: dict[int, str], stage: str = "layer") -> None:
    """One SpynqSaturationWarning for a call whose status bits are set: per layer, which
    bits in how many samples; it points at the user's line."""
    if layer_status is None:
        return
    parts = []
    for k, st in enumerate(layer_status):
        st = np.asarray(st)
        kinds = [name for bit, name in bits.items() if (st & bit).any()]
        if kinds:
            parts.append(f"{stage} {k}: {' and '.join(kinds)} in {np.count_nonzero(st)} of {len(st)} samples")
    if parts:
        how = "left the kernel's fixed-point range (the fixed tiers would clip)" if backend == "cpu" else "was clipped"
        warnings.warn(SpynqSaturationWarning(f"{backend}: the result {how}: {'; '.join(parts)} (see result.status)"),
                      stacklevel=_user_level())
