"""The input rules of spynq's public entries, each written once.

Model classes, backends and loaders call these before anything runs. Every rejection is
a spynq.errors.SpynqValueError or SpynqTypeError whose message names the argument, the
value and the limit, e.g. ``Gaussian std=nan: must be finite and > 0``.

Numbers arrive as Python scalars, sequences or numpy arrays. Accepted: bool, integer and
float values; refused: complex (numpy would drop the imaginary part with a warning),
object and string arrays, ragged sequences, and any cast that would change a value
(a fractional float where an integer is needed, a float where a 0/1 spike is needed).
"""
from __future__ import annotations

import numbers

import numpy as np

from .errors import SpynqTypeError, SpynqValueError

_NUMERIC = "biuf"  # numpy dtype kinds of real numbers


def _show(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    if isinstance(v, np.generic):
        return repr(v.item())
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _at(what: str, a: np.ndarray, mask: np.ndarray) -> str:
    """'what[i, j]=value' for the first True of mask (or 'what=value' for a scalar)."""
    idx = tuple(int(i) for i in np.argwhere(np.asarray(mask))[0])
    v = a[idx] if idx else a[()]
    return f"{what}{list(idx) if idx else ''}={_show(v)}"


def as_array(x, what: str) -> np.ndarray:
    """x as a numpy array of real numbers (bool, int or float dtype), unchanged otherwise."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged nesting, objects numpy cannot hold
        raise SpynqValueError(f"{what}: not a rectangular array of numbers ({e})") from None
    if a.dtype.kind not in _NUMERIC:
        kind = {"c": "complex", "O": "object", "U": "string", "S": "bytes"}.get(a.dtype.kind, str(a.dtype))
        raise SpynqTypeError(f"{what}: dtype {a.dtype} ({kind}); spynq takes real numbers (bool, int or float)")
    return a


def real_array(x, what: str, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """x as a float64 array; with ndim, of that many dimensions; finite unless told."""
    a = as_array(x, what)
    if ndim is not None and a.ndim != ndim:
        raise SpynqValueError(f"{what}: needs {ndim} dimension{'s' * (ndim != 1)}, got shape {a.shape}")
    a = a.astype(np.float64, copy=False)
    if finite:
        check_finite(a, what)
    return a


def check_finite(a, what: str):
    """a (array or scalar) has no NaN or inf."""
    arr = np.asarray(a)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise SpynqValueError(f"{_at(what, arr, bad)}: must be finite (no NaN or inf)")
    return a


def check_shape(a: np.ndarray, shape: tuple, what: str, names: tuple | None = None) -> np.ndarray:
    """a.shape matches `shape` (None: any size); names label the axes in the message."""
    ok = a.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, a.shape))
    if not ok:
        names = names or tuple(f"d{i}" for i in range(len(shape)))
        want = ", ".join(n if s is None else f"{n}={s}" for n, s in zip(names, shape))
        raise SpynqValueError(f"{what}: shape must be ({want}), got {tuple(a.shape)}")
    return a


def real_scalar(x, what: str, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, hi_open: bool = False) -> float:
    """x as a finite float in [lo, hi] (open ends with lo_open / hi_open)."""
    a = as_array(x, what)
    if a.ndim:
        raise SpynqValueError(f"{what}: must be a number, got an array of shape {a.shape}")
    v = float(a)
    check_finite(v, what)
    if (lo is not None and (v <= lo if lo_open else v < lo)) or (hi is not None and (v >= hi if hi_open else v > hi)):
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        rng = f"{left}{'-inf' if lo is None else _show(lo)}, {'inf' if hi is None else _show(hi)}{right}"
        raise SpynqValueError(f"{what}={_show(v)}: must be in {rng}")
    return v


def positive(x, what: str) -> float:
    """A finite number > 0 (a std, a threshold, a time constant)."""
    v = real_scalar(x, what)
    if not v > 0:
        raise SpynqValueError(f"{what}={_show(v)}: must be finite and > 0")
    return v


def int_scalar(x, what: str, lo: int | None = None, hi: int | None = None) -> int:
    """x as an int in lo..hi: an integer, or a float with an integral value (3.0, not 3.5);
    bool is refused (True is not a count)."""
    if isinstance(x, (bool, np.bool_)):
        raise SpynqTypeError(f"{what}={x!r}: must be an integer, not a bool")
    if isinstance(x, numbers.Integral):
        v = int(x)
    else:
        a = as_array(x, what)
        if a.ndim:
            raise SpynqValueError(f"{what}: must be an integer, got an array of shape {a.shape}")
        f = a[()]
        if not (np.isfinite(f) and float(f) == int(f)):
            raise SpynqValueError(f"{what}={_show(f)}: must be an integer")
        v = int(f)
    check_range(v, what, lo, hi)
    return v


def _limit(lo, hi) -> str:
    if hi is None:
        return f">= {lo}"
    if lo is None:
        return f"<= {hi}"
    return f"in {lo}..{hi}"


def check_range(v, what: str, lo=None, hi=None) -> None:
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise SpynqValueError(f"{what}={_show(v)}: must be {_limit(lo, hi)}")


def check_int_range(x, what: str, lo: int | None = None, hi: int | None = None) -> np.ndarray:
    """x as an int64 array of integral values in lo..hi (floats only if integral)."""
    a = as_array(x, what)
    if a.dtype.kind == "f":
        check_finite(a, what)
        frac = a != np.round(a)
        if frac.any():
            raise SpynqValueError(f"{_at(what, a, frac)}: must be an integer")
        if a.size and np.abs(a).max() >= 2.0 ** 63:
            raise SpynqValueError(f"{_at(what, a, np.abs(a) >= 2.0 ** 63)}: outside the int64 range")
    elif a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
        raise SpynqValueError(f"{_at(what, a, a > np.iinfo(np.int64).max)}: outside the int64 range")
    a = a.astype(np.int64, copy=False)
    bad = np.zeros(a.shape, bool)
    if lo is not None:
        bad |= a < lo
    if hi is not None:
        bad |= a > hi
    if bad.any():
        raise SpynqValueError(f"{_at(what, a, bad)}: must be {_limit(lo, hi)}")
    return a


def bool_array(x, what: str) -> np.ndarray:
    """x as a bool array: bool dtype, or integers that are all 0 or 1 (floats, even 0.0/1.0,
    are refused: a current is not a spike)."""
    a = as_array(x, what)
    if a.dtype == bool:
        return a
    if a.dtype.kind not in "iu":
        raise SpynqTypeError(f"{what}: dtype {a.dtype}; spikes must be bool or 0/1 integers")
    bad = (a != 0) & (a != 1)
    if bad.any():
        raise SpynqValueError(f"{_at(what, a, bad)}: spikes must be 0 or 1")
    return a.astype(bool)


def check_choice(x, what: str, choices) -> None:
    if not isinstance(x, str) or x not in choices:
        raise SpynqValueError(f"{what}={x!r}: must be one of {tuple(choices)}")


def check_type(x, what: str, types) -> None:
    if not isinstance(x, types):
        names = [t.__name__ for t in (types if isinstance(types, tuple) else (types,))]
        raise SpynqTypeError(f"{what}: a {type(x).__name__}, must be {' or '.join(names)}")
