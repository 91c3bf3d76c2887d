"""Reading spynq's .npz network files without trusting them (LIF and SNNWM loaders).

An .npz is a zip archive of .npy members. ``read`` sums the uncompressed sizes that the
archive's directory declares (zipfile.ZipInfo.file_size) and refuses the file before
decompressing anything when they exceed ``max_bytes`` (MAX_BYTES by default); zipfile
never inflates a member past its declared size (a directory that lies ends in a CRC
error, reported as a bad archive). Each member's .npy header is checked against its
declared size before its data is read, and object (pickled) arrays are refused: nothing
is ever unpickled. The field helpers below give one clear error per inconsistency
(missing or extra fields, non-integer counts, wrong dtypes or shapes, bad JSON).
"""
from __future__ import annotations

import json
import zipfile
import zlib

import numpy as np

from .errors import SpynqError, SpynqTypeError, SpynqValueError

# Bound on the uncompressed array data of one file: 256 MiB, e.g. 32 M float64 weights,
# far above what one kernel call holds (LIF_MAX_SYN, SNNWM_MAX_SYN words); a larger file
# needs an explicit max_bytes=.
MAX_BYTES = 256 << 20
MAX_MEMBERS = 4096


def _bad(path, msg) -> SpynqValueError:
    return SpynqValueError(f"{path}: {msg}")


def read(path, max_bytes: int = MAX_BYTES) -> dict:
    """All arrays of an .npz file as {name: ndarray}, with the checks of the module docstring."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise _bad(path, f"not an .npz (zip) archive ({e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _bad(path, f"{len(infos)} archive members, the limit is {MAX_MEMBERS}")
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise _bad(path, f"{total} bytes uncompressed (declared by the archive directory), the limit is "
                             f"{max_bytes} (max_bytes=); refused before decompressing")
        out = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.is_dir():
                raise _bad(path, f"member {info.filename!r} is not an .npy array")
            key = info.filename[:-4]
            if key in out:
                raise _bad(path, f"field {key!r} appears twice")
            try:
                with zf.open(info) as f:
                    out[key] = _read_npy(f, info.file_size, f"{path}: field {key!r}")
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
                raise _bad(path, f"field {key!r}: corrupt archive member ({e})") from None
    return out


def _read_npy(f, size: int, what: str) -> np.ndarray:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:
            raise SpynqValueError(f"unsupported .npy version {version}")
    except (ValueError, TypeError, SyntaxError) as e:
        raise SpynqValueError(f"{what}: bad .npy header ({e})") from None
    if dtype.hasobject:
        raise SpynqValueError(f"{what}: object (pickled) arrays are refused; spynq files hold numbers and strings")
    count = 1
    for n in shape:
        count *= int(n)
    nbytes = count * dtype.itemsize
    if nbytes != size - f.tell():
        raise SpynqValueError(f"{what}: header says {shape} {dtype} ({nbytes} bytes), the member holds "
                              f"{size - f.tell()} bytes of data")
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise SpynqValueError(f"{what}: truncated ({len(data)} of {nbytes} bytes)")
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()


# ---------------------------------------------------------------------------- fields


def check_fields(arrays: dict, required, optional, path) -> None:
    """Exactly the required fields, plus any of the optional ones."""
    required, optional = set(required), set(optional)
    missing = sorted(required - set(arrays))
    if missing:
        raise _bad(path, f"missing field{'s' * (len(missing) > 1)} {missing}")
    extra = sorted(set(arrays) - required - optional)
    if extra:
        raise _bad(path, f"unexpected field{'s' * (len(extra) > 1)} {extra} (not written by this format)")


def int_field(arrays: dict, key: str, path, lo: int | None = None, hi: int | None = None) -> int:
    """A 0-d integer field (a count or a version): no floats, bools or arrays."""
    a = arrays[key]
    if a.ndim or a.dtype.kind not in "iu":
        raise SpynqTypeError(f"{path}: field {key!r} must be one integer, got {a.dtype} of shape {a.shape}")
    v = int(a)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _bad(path, f"field {key!r}={v}: must be in {'' if lo is None else lo}..{'' if hi is None else hi}")
    return v


def array_field(arrays: dict, key: str, path, ndims, kinds: str = "iuf") -> np.ndarray:
    """A numeric array field of ndim in `ndims` and dtype kind in `kinds`."""
    a = arrays[key]
    ndims = (ndims,) if isinstance(ndims, int) else tuple(ndims)
    if a.dtype.kind not in kinds:
        raise SpynqTypeError(f"{path}: field {key!r} has dtype {a.dtype}, not a {'/'.join(kinds)} kind")
    if a.ndim not in ndims:
        raise _bad(path, f"field {key!r} has shape {a.shape}, needs {' or '.join(map(str, ndims))} dimensions")
    return a


def json_field(arrays: dict, key: str, path, types: dict) -> dict:
    """A JSON object stored as a 0-d string field, with exactly the keys of `types`
    ({name: tuple of allowed Python types}; JSON true/false count only as bool)."""
    a = arrays[key]
    if a.ndim or a.dtype.kind != "U":
        raise SpynqTypeError(f"{path}: field {key!r} must be one JSON string, got {a.dtype} of shape {a.shape}")
    try:
        d = json.loads(str(a))
    except ValueError as e:
        raise _bad(path, f"field {key!r} is not valid JSON ({e})") from None
    if not isinstance(d, dict):
        raise _bad(path, f"field {key!r} must be a JSON object, got {type(d).__name__}")
    missing, extra = sorted(set(types) - set(d)), sorted(set(d) - set(types))
    if missing:
        raise _bad(path, f"field {key!r}: missing {missing}")
    if extra:
        raise _bad(path, f"field {key!r}: unknown {extra}")
    for name, allowed in types.items():
        v = d[name]
        if isinstance(v, bool) and bool not in allowed or not isinstance(v, allowed):
            names = "/".join("null" if t is type(None) else t.__name__ for t in allowed)
            raise SpynqTypeError(f"{path}: field {key!r}: {name}={v!r} must be {names}")
    return d


def model_errors(path):
    """Context manager: a model-class rejection of the loaded values, prefixed with the path."""
    return _Prefix(path)


class _Prefix:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, et, e, tb):
        if e is not None and isinstance(e, SpynqError) and not str(e).startswith(f"{self.path}:"):
            raise type(e)(f"{self.path}: {e}") from None
        return False


# ---------------------------------------------------------------------------- network files
# The LIF and SNNWM network files share a header (format_version, n_layers) and are told
# apart by their first layer's fields, so a file given to the other loader says what it is.
NETWORK_VERSION = 1
NETWORK_KINDS = {"LIF": ({"layer0_weights"}, "spynq.lif.model.LifNetwork.load_npz"),
                 "SNNWM": ({"layer0_w1", "readout_w1"}, "spynq.snnwm.model.SnnwmNetwork.load_npz")}


def network_header(n_layers: int) -> dict:
    """The header arrays of a network file (save side)."""
    return {"format_version": np.array(NETWORK_VERSION, np.int64), "n_layers": np.array(n_layers, np.int64)}


def read_network(path, kind: str, min_layers: int, max_bytes: int = MAX_BYTES) -> tuple[dict, int]:
    """(arrays, n_layers) of a `kind` network file, its header checked (load side)."""
    z = read(path, max_bytes)
    if "format_version" not in z:
        raise _bad(path, f"not a spynq {kind} network file (no format_version)")
    for other, (markers, loader) in NETWORK_KINDS.items():
        if other != kind and markers & set(z):
            raise _bad(path, f"a spynq {other} network file ({loader}), not {kind}")
    version = int_field(z, "format_version", path)
    if version != NETWORK_VERSION:
        raise _bad(path, f"format_version {version}, this spynq reads {NETWORK_VERSION}")
    check_fields(z, {"n_layers"}, set(z), path)
    return z, int_field(z, "n_layers", path, min_layers, len(z))  # each layer has fields of its own
