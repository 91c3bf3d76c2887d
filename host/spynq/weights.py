"""Trained parameters in and out: .npz and safetensors files, and key maps from the
PyTorch state_dict layouts of the papers' code onto spynq.nn params pytrees.

Files hold flat dicts {key: ndarray}. A spynq.nn params pytree {layer: {param: array}}
flattens to "layer.param" keys (``flatten`` / ``unflatten``); a PyTorch state_dict is
already flat ("features.0.weight", "fc.2.bias", "conv.1.running_mean", ...).

.npz: written uncompressed by numpy, read through spynq.npzfile (sizes bounded before
anything is decompressed, no pickles).

safetensors (read and written here; neither torch nor the safetensors package needed):
  8 bytes   N, little-endian unsigned 64-bit: the header length
  N bytes   a UTF-8 JSON object {name: {"dtype": D, "shape": [..], "data_offsets": [b, e]}},
            optionally "__metadata__": {str: str}; may end in spaces (alignment padding)
  the rest  the byte buffer: tensor `name` is bytes b..e of it, C order, little-endian.
Dtypes read: F64, F32, F16 and BF16 (both as float32), I64, I32, I16, I8, U64, U32, U16,
U8, BOOL; F8 types are refused. Every inconsistency is one SpynqValueError naming the
file and the tensor: a file larger than max_bytes (checked on the file size before
reading), a header length past the end of the file, a header that is not a JSON object
(or repeats a name), an entry with missing/unknown fields, an unknown dtype, a bad shape,
offsets that run backwards, past the buffer, overlap another tensor, or leave bytes no
tensor owns (the format's rule: the buffer is exactly the tensors, back to back), and a
byte count that is not shape x dtype size. Written files put the tensors back to back,
largest item size first, then by name, after a header padded to a multiple of 8 bytes,
so every tensor is aligned to its item size (as the reference writer does).

Key maps (``from_state_dict`` / ``to_state_dict``): a map is {torch module path: spynq
layer name}; each spynq layer class has a rename table of its torch parameter names
(PARAM_NAMES below: torch.nn.Linear / Conv2d weight, bias -> w, b; BatchNorm weight,
bias, running_mean, running_var -> gamma, beta, mean, var, num_batches_tracked ignored;
SpikingJelly's ParametricLIFNode w -> PLIF w: the same tau = 1 / sigmoid(w); BIDL's Lif
alpha, beta, theta -> alpha, beta, v_th, v_0 checked against the layer's v_reset). The
module maps of the layouts the papers' code uses come from:
  ``sequential_map(net, prefix)``   one torch nn.Sequential mirroring the spynq layers
                                     (SpikingJelly examples: "conv_fc.0.weight", ...);
  ``split_map(net, ("conv", "fc"))`` two Sequentials, the second starting at the first
                                     Flatten (Fang et al.'s PLIF networks, STCA's code:
                                     "conv.0.weight", "fc.2.weight", ...);
  ``bidl_map(net, modules)``         BIDL's Conv2dLif / FcLif modules: "<m>.p0.weight"
                                     (conv / linear), "<m>.norm.*" (BN on the conv
                                     output), "<m>.lif.alpha" ... (the neuron).
or are written by hand for any other layout, e.g. a residual block's named modules:
  {"layer1.0.conv1": "3_conv2d", "layer1.0.bn1": "4_batchnorm", "layer1.0.sn1": "5_plif"}
places "layer1.0.bn1.running_mean" at params["4_batchnorm"]["mean"]. Loading is strict: every key of the file
is placed or known to be ignorable, every spynq parameter is present, every shape
agrees (a shape that differs only by size-1 axes, as BIDL's [1, C, 1, 1] channel
parameters, is reshaped), else one error lists the offending keys.
"""
from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import numpy as np

from . import npzfile
from .errors import SpynqTypeError, SpynqValueError

MAX_BYTES = npzfile.MAX_BYTES
MAX_HEADER = 100 << 20  # the reference reader's bound on the JSON header

# safetensors dtype -> numpy dtype as stored (little-endian); BF16 is decoded by hand
ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
             "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
NP_TO_ST = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32", "int16": "I16",
            "int8": "I8", "uint64": "U64", "uint32": "U32", "uint16": "U16", "uint8": "U8", "bool": "BOOL"}
ENTRY_FIELDS = {"dtype", "shape", "data_offsets"}


def _bad(path, msg) -> SpynqValueError:
    return SpynqValueError(f"{path}: {msg}")


# ----------------------------------------------------------------- pytrees


def flatten(tree: dict, sep: str = ".") -> dict:
    """{layer: {param: array}} -> {"layer.param": array}; a flat dict passes through."""
    if not isinstance(tree, dict):
        raise SpynqTypeError(f"parameters: a dict, got {type(tree).__name__}")
    out = {}
    for k, v in tree.items():
        if not isinstance(k, str):
            raise SpynqTypeError(f"parameter key {k!r}: must be a string")
        if isinstance(v, dict):
            if sep in k:
                raise SpynqValueError(f"layer name {k!r} contains {sep!r}, the key separator")
            for kk, vv in flatten(v, sep).items():
                out[f"{k}{sep}{kk}"] = vv
        else:
            out[k] = v
    return out


def unflatten(flat: dict, sep: str = ".") -> dict:
    """{"layer.param": array} -> {layer: {param: array}} (split at the first separator)."""
    out: dict = {}
    for k, v in flat.items():
        if sep not in k:
            raise SpynqValueError(f"key {k!r}: no {sep!r} between layer and parameter")
        layer, name = k.split(sep, 1)
        out.setdefault(layer, {})[name] = v
    return out


def _arrays(arrays) -> dict:
    flat = flatten(arrays)
    out = {}
    for k, v in flat.items():
        a = np.asarray(v)
        if a.dtype.kind not in "biuf":
            raise SpynqTypeError(f"parameter {k!r}: dtype {a.dtype} (numbers and booleans only)")
        out[k] = a
    return out


# ----------------------------------------------------------------- .npz


def save_npz(path, arrays) -> None:
    """A flat dict or a params pytree as an uncompressed .npz."""
    flat = _arrays(arrays)
    with open(path, "wb") as f:
        np.savez(f, **flat)


def load_npz(path, max_bytes: int = MAX_BYTES) -> dict:
    return npzfile.read(path, max_bytes)


# ----------------------------------------------------------------- safetensors


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"name {k!r} appears twice")
        d[k] = v
    return d


def _int_list(x, n=None) -> bool:
    return (isinstance(x, list) and (n is None or len(x) == n)
            and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in x))


def read_safetensors(path, max_bytes: int = MAX_BYTES) -> tuple[dict, dict | None]:
    """(tensors {name: ndarray}, metadata or None), with the checks of the module docstring."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise FileNotFoundError(f"{path}: {e.strerror}") from None
    if size > max_bytes:
        raise _bad(path, f"{size} bytes, the limit is {max_bytes} (max_bytes=); refused before reading")
    if size < 8:
        raise _bad(path, f"{size} bytes: shorter than the 8-byte header length of a safetensors file")
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > size - 8:
            raise _bad(path, f"header length {n} runs past the end of the file ({size - 8} bytes after it)")
        if n > MAX_HEADER:
            raise _bad(path, f"header length {n}: the limit is {MAX_HEADER}")
        raw = f.read(n)
        buf = f.read()
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(path, f"header is not valid UTF-8 JSON ({e})") from None
    if not isinstance(header, dict):
        raise _bad(path, f"header must be a JSON object, got {type(header).__name__}")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise _bad(path, "__metadata__ must be an object of strings")
    spans = []
    for name, e in header.items():
        what = f"tensor {name!r}"
        if not isinstance(e, dict) or set(e) != ENTRY_FIELDS:
            got = sorted(e) if isinstance(e, dict) else type(e).__name__
            raise _bad(path, f"{what}: entry must have exactly {sorted(ENTRY_FIELDS)}, got {got}")
        if e["dtype"] not in ST_DTYPES:
            raise _bad(path, f"{what}: dtype {e['dtype']!r} is not one of {', '.join(ST_DTYPES)}")
        if not _int_list(e["shape"]):
            raise _bad(path, f"{what}: shape {e['shape']!r} must be a list of non-negative integers")
        if not _int_list(e["data_offsets"], 2):
            raise _bad(path, f"{what}: data_offsets {e['data_offsets']!r} must be [begin, end], non-negative integers")
        b, end = e["data_offsets"]
        if end < b:
            raise _bad(path, f"{what}: data_offsets [{b}, {end}] run backwards")
        if end > len(buf):
            raise _bad(path, f"{what}: data_offsets [{b}, {end}] run past the {len(buf)}-byte buffer")
        itemsize = np.dtype(ST_DTYPES[e["dtype"]]).itemsize
        count = math.prod(e["shape"])
        if count * itemsize != end - b:
            raise _bad(path, f"{what}: shape {e['shape']} {e['dtype']} is {count * itemsize} bytes, its offsets "
                             f"hold {end - b}")
        spans.append((b, end, name))
    pos, last = 0, None
    for b, end, name in sorted((s for s in spans if s[1] > s[0])):
        if b < pos:
            raise _bad(path, f"tensor {name!r} (bytes {b}..{end}) overlaps tensor {last!r} (ends at {pos})")
        if b > pos:
            raise _bad(path, f"bytes {pos}..{b} of the buffer belong to no tensor")
        pos, last = end, name
    if pos != len(buf):
        raise _bad(path, f"bytes {pos}..{len(buf)} of the buffer belong to no tensor")
    out = {}
    for b, end, name in spans:
        e = header[name]
        a = np.frombuffer(buf, ST_DTYPES[e["dtype"]], count=(end - b) // np.dtype(ST_DTYPES[e["dtype"]]).itemsize,
                          offset=b).reshape(e["shape"])
        if e["dtype"] == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        elif e["dtype"] == "F16":
            a = a.astype(np.float32)
        out[name] = a.astype(a.dtype.newbyteorder("=")).copy()
    return out, meta


def load_safetensors(path, max_bytes: int = MAX_BYTES) -> dict:
    return read_safetensors(path, max_bytes)[0]


def save_safetensors(path, arrays, metadata: dict | None = None) -> None:
    """A flat dict or a params pytree as a safetensors file (dtypes kept; see NP_TO_ST)."""
    flat = _arrays(arrays)
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise SpynqTypeError("safetensors metadata: a dict of strings to strings")
    if "__metadata__" in flat:
        raise SpynqValueError("'__metadata__' is reserved by the safetensors format, not a tensor name")
    header: dict = {"__metadata__": metadata} if metadata else {}
    chunks, pos = [], 0
    for name in sorted(flat, key=lambda k: (-flat[k].dtype.itemsize, k)):  # aligned, as the reference writer
        a = flat[name]
        st = NP_TO_ST.get(a.dtype.name)
        if st is None:
            raise SpynqTypeError(f"parameter {name!r}: dtype {a.dtype} has no safetensors type")
        data = np.ascontiguousarray(a, dtype=np.dtype(ST_DTYPES[st])).tobytes()
        header[name] = {"dtype": st, "shape": list(a.shape), "data_offsets": [pos, pos + len(data)]}
        chunks.append(data)
        pos += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


# ----------------------------------------------------------------- either format

FORMATS = (".npz", ".safetensors")


def _fmt(path) -> str:
    suf = Path(path).suffix
    if suf not in FORMATS:
        raise SpynqValueError(f"{path}: unknown weights format {suf!r}, choose one of {FORMATS}")
    return suf


def save(path, arrays, metadata: dict | None = None) -> None:
    """By suffix: .npz or .safetensors (metadata: safetensors only)."""
    if _fmt(path) == ".npz":
        if metadata:
            raise SpynqValueError(f"{path}: metadata is stored by safetensors files only")
        save_npz(path, arrays)
    else:
        save_safetensors(path, arrays, metadata)


def load(path, max_bytes: int = MAX_BYTES) -> dict:
    """A flat dict from an .npz or .safetensors file."""
    return load_npz(path, max_bytes) if _fmt(path) == ".npz" else load_safetensors(path, max_bytes)


# ----------------------------------------------------------------- key maps

IGNORED = object()  # a torch entry with no spynq counterpart that carries no parameter


class Config:
    """A torch entry that spynq.nn keeps as layer configuration: loading checks that the
    file's value equals the layer attribute (it cannot set it)."""

    def __init__(self, attr: str):
        self.attr = attr


# torch parameter name -> spynq.nn parameter name, per spynq.nn layer class (looked up
# along the class's MRO: LIAF uses BIDL's, PLIF its own). Classes not listed keep their
# spynq names (DALIF alpha/beta, AIA lam/beta, LNM c0.., LIF tau: raw values as stored).
PARAM_NAMES = {
    "Linear": {"weight": "w", "bias": "b"},
    "Conv2d": {"weight": "w", "bias": "b"},
    "BatchNorm": {"weight": "gamma", "bias": "beta", "running_mean": "mean", "running_var": "var",
                  "num_batches_tracked": IGNORED},
    "PLIF": {"w": "w"},  # SpikingJelly ParametricLIFNode(init_tau): w = -log(tau - 1), 1/tau = sigmoid(w)
    "BIDL": {"alpha": "alpha", "beta": "beta", "theta": "v_th", "v_0": Config("v_reset")},  # layers/lif.py Lif
}
DEFAULTS = {"num_batches_tracked": lambda: np.array(0, np.int64)}  # written so that torch loads strictly


def _names(layer) -> dict:
    for cls in type(layer).__mro__:
        if cls.__name__ in PARAM_NAMES:
            return PARAM_NAMES[cls.__name__]
    return {}


def _required(layer, p: str, names: dict) -> bool:
    """Whether a state dict must hold spynq parameter p of layer: always for synaptic
    layers and for the names a class's table lists (BIDL's soma parameters are torch
    Parameters even when fixed); for other neuron parameters only when learnable (a fixed
    v_th or tau is configuration: SpikingJelly's LIFNode stores none)."""
    if layer.kind != "neuron" or p in names.values():
        return True
    return bool(layer.specs[p].learn) if p in layer.specs else True


def _table(net, modules: dict, template: dict):
    """torch key -> (layer, param, required) | IGNORED | (Config, layer), for every
    entry the map allows."""
    by_name = {l.name: l for l in net.layers}
    table = {}
    for prefix, lname in modules.items():
        if lname not in by_name:
            raise SpynqValueError(f"key map: {prefix!r} -> {lname!r}, which is not a layer of the network "
                                  f"({', '.join(by_name)})")
        layer = by_name[lname]
        names = _names(layer)
        inverse = {v: k for k, v in names.items() if isinstance(v, str)}
        for p in template[lname]:
            table[f"{prefix}.{inverse.get(p, p)}"] = (lname, p, _required(layer, p, names))
        for t, v in names.items():
            if v is IGNORED:
                table[f"{prefix}.{t}"] = v
            elif isinstance(v, Config):
                table[f"{prefix}.{t}"] = (v, lname)
    return table


def _fit(a: np.ndarray, like: np.ndarray, key: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        raise SpynqTypeError(f"{key}: dtype {a.dtype}, not numeric")
    if a.shape != like.shape:
        if a.size == like.size and np.squeeze(a).shape == np.squeeze(like).shape:
            a = a.reshape(like.shape)  # e.g. BIDL's [1, C, 1, 1] channel parameters
        else:
            raise SpynqValueError(f"{key}: shape {a.shape}, the spynq parameter is {like.shape}")
    return a.astype(like.dtype)


def from_state_dict(flat: dict, net, modules: dict, strict: bool = True, params: dict | None = None) -> dict:
    """A spynq.nn params pytree for `net` from a flat torch-style dict. modules: {torch
    module path: spynq layer name} (sequential_map, split_map, bidl_map or by hand).
    Fixed neuron constants (v_th, tau, ... with learn=False) are configuration: taken
    from the file when it has them, else from `params` (default net.init(0)).
    strict=False also keeps the initial value of required parameters the file lacks;
    unknown keys are an error either way."""
    template = net.init(0) if params is None else params
    table = _table(net, modules, template)
    out = {k: dict(v) for k, v in template.items()}
    unknown, seen, bad = [], set(), []
    by_name = {l.name: l for l in net.layers}
    for key, a in flat.items():
        dest = table.get(key)
        if dest is None:
            unknown.append(key)
        elif dest is IGNORED:
            continue
        elif isinstance(dest[0], Config):
            cfg, lname = dest
            want = getattr(by_name[lname], cfg.attr)
            if not np.all(np.asarray(a) == want):
                bad.append(f"{key} = {np.asarray(a).ravel()[:4].tolist()} but layer {lname} has "
                           f"{cfg.attr} = {want} (configuration: build the layer with the file's value)")
        else:
            lname, p, _ = dest
            out[lname][p] = _fit(a, np.asarray(template[lname][p]), key)
            seen.add(key)
    if unknown:
        hint = ""
        if any(".lif.norm." in k for k in unknown):
            hint = " (BIDL's BN on the membrane, norm_state=True, has no spynq.nn counterpart)"
        raise SpynqValueError(f"state dict: {len(unknown)} key(s) the map does not place: {sorted(unknown)[:8]}{hint}")
    if bad:
        raise SpynqValueError("state dict: " + "; ".join(bad))
    missing = sorted(k for k, d in table.items() if isinstance(d, tuple) and len(d) == 3 and d[2] and k not in seen)
    if missing and strict:
        raise SpynqValueError(f"state dict: missing {len(missing)} key(s): {missing[:8]}")
    return out


def to_state_dict(params: dict, net, modules: dict) -> dict:
    """The inverse: a flat torch-style dict of the entries a state dict of that layout
    holds (BN num_batches_tracked written as 0; fixed neuron constants, which are
    configuration, left out)."""
    table = _table(net, modules, params)
    out = {}
    by_name = {l.name: l for l in net.layers}
    for key, dest in table.items():
        if dest is IGNORED:
            if key.rsplit(".", 1)[1] in DEFAULTS:
                out[key] = DEFAULTS[key.rsplit(".", 1)[1]]()
        elif isinstance(dest[0], Config):
            out[key] = np.asarray(getattr(by_name[dest[1]], dest[0].attr), dtype=np.float64)
        elif dest[2]:
            out[key] = np.asarray(params[dest[0]][dest[1]])
    return out


def sequential_map(net, prefix: str = "") -> dict:
    """spynq layer i <-> torch module f"{prefix}{i}" of one nn.Sequential (prefix e.g.
    "conv_fc." or "" for a bare Sequential's state_dict)."""
    return {f"{prefix}{i}": l.name for i, l in enumerate(net.layers)}


def split_map(net, names: tuple = ("conv", "fc"), at: str = "Flatten") -> dict:
    """Two torch Sequentials: names[0] holds the layers before the first `at` layer,
    names[1] the rest, each indexed from 0 (Fang et al.'s PLIF nets: conv / fc)."""
    idx = next((i for i, l in enumerate(net.layers) if type(l).__name__ == at), None)
    if idx is None:
        raise SpynqValueError(f"split_map: the network has no {at} layer to split at")
    out = {f"{names[0]}.{i}": l.name for i, l in enumerate(net.layers[:idx])}
    out.update({f"{names[1]}.{i}": l.name for i, l in enumerate(net.layers[idx:])})
    return out


def bidl_map(net, modules) -> dict:
    """BIDL Conv2dLif / FcLif modules, one per synaptic layer of `net` in order: module m
    holds m.p0 (the Conv2d / Linear), m.norm (a BatchNorm between it and the neuron, if
    the network has one there) and m.lif (the next BIDL / LIAF neuron)."""
    from . import nn

    modules = list(modules)
    out, k, current = {}, -1, None
    for layer in net.layers:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            k += 1
            if k >= len(modules):
                raise SpynqValueError(f"bidl_map: {len(modules)} module names for more synaptic layers")
            current = modules[k]
            out[f"{current}.p0"] = layer.name
        elif current is not None and isinstance(layer, nn.BatchNorm):
            out[f"{current}.norm"] = layer.name
        elif current is not None and isinstance(layer, nn.BIDL):
            out[f"{current}.lif"] = layer.name
            current = None
    if k + 1 != len(modules):
        raise SpynqValueError(f"bidl_map: {len(modules)} module names for {k + 1} synaptic layers")
    return out
