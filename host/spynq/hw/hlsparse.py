"""Read what a kernel's HLS C++ declares about its hardware: on-chip arrays and streams
with their partitioning and storage binding (from hls/<k>/<k>_top.cpp and its pragmas),
and the multipliers and ROM copies declared beside the loop schedule in <k>_kernel.h
(``<K>_MULS(X)``, ``<K>_ROMS(X)``). The resource ledger (spynq.resources) is computed from
this, with the constants the kernel compiles with, so it cannot drift from the code.

The parser covers the forms the kernels are written in (see docs/ARCHITECTURE.md,
"Resources"): namespace-scope or local arrays of (u)intN_t, bool, ap_(u)int<N>, typedefs
and structs of those; partitioning by ARRAY_PARTITION complete/cyclic/block; binding by
BIND_STORAGE; streams by STREAM depth. Anything else raises, naming the line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .cconfig import HLS_DIR, _eval, read_constants

_BASIC = {"bool": 1, "char": 8, "int8_t": 8, "uint8_t": 8, "int16_t": 16, "uint16_t": 16, "int": 32,
          "int32_t": 32, "uint32_t": 32, "int64_t": 64, "uint64_t": 64, "float": 32, "double": 64}
_AP = re.compile(r"^ap_u?int<\s*([^>]+?)\s*>$")


@dataclass(frozen=True)
class Array:
    name: str
    width: int  # element bits
    dims: tuple  # elements per dimension, as declared
    local: bool  # declared inside a function (indented)
    line: int


@dataclass(frozen=True)
class Memory:
    """An array or stream after partitioning: `banks` memories of depth x width."""

    name: str
    banks: int
    depth: int
    width: int
    kind: str  # "ram", "fifo" or "regs"
    impl: str  # "uram", "bram", "lutram", "srl", "auto" or "ff"
    ports: int  # 1 or 2
    why: str
    true_dual: bool = False  # type=ram_t2p: two read/write ports (no 72-bit SDP BRAM mode)  # how banks and depth follow from the declaration and the pragmas


@dataclass(frozen=True)
class Unit:
    """A declared multiplier (a x b signed bits) or ROM copy (depth x width)."""

    loop: str
    instances: int
    a: int
    b: int
    what: str


def _strip(text: str) -> str:
    """Comments and simulation-only blocks (#ifndef __SYNTHESIS__ ... #else/#endif) removed."""
    text = re.sub(r"#ifndef\s+__SYNTHESIS__.*?#(?:else|endif)", "", text, flags=re.S)
    return re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group()), re.sub(r"//[^\n]*", "", text), flags=re.S)


def _kdir(kernel) -> Path:
    """hls/<kernel>, or `kernel` itself when it is a path (test fixtures)."""
    return HLS_DIR / kernel


def constants(kernel: str, overrides: dict | None = None) -> dict:
    """Every integer constant kernel `kernel` compiles with: its config header (with the
    overlay parameters in `overrides`), then the constexpr lines of its kernel header and
    top .cpp that evaluate (a few typed ones, e.g. 1u << 31, are not sizes and are skipped)."""
    kdir, name = _kdir(kernel), Path(kernel).name
    env = dict(read_constants(str(kdir / f"{name}_config.h"), overrides))
    for f in (f"{name}_kernel.h", f"{name}_top.cpp"):
        text = _strip((kdir / f).read_text())
        for name, expr in re.findall(r"constexpr\s+(?:unsigned\s+)?(?:int|uint32_t|int64_t)\s+(\w+)\s*=\s*([^;]+);",
                                     text):
            try:
                env[name] = _eval(expr.replace("/", "//"), env)
            except (ValueError, SyntaxError, NameError, TypeError):
                pass
    return env


def _width(ctype: str, env: dict, typedefs: dict, structs: dict, where: str) -> int:
    ctype = " ".join(ctype.replace("const ", "").replace("static ", "").split())
    if ctype in _BASIC:
        return _BASIC[ctype]
    if ctype in typedefs:
        return typedefs[ctype]
    if ctype in structs:
        return structs[ctype]
    m = _AP.match(ctype)
    if m:
        return int(_eval(m.group(1).replace("/", "//"), env))
    raise ValueError(f"{where}: element type {ctype!r} is not one the resource ledger knows")


_TYPE = r"(?:const\s+|static\s+)*(?:ap_u?int<[^>]+>|[A-Za-z_]\w*)"
_DECL = re.compile(rf"^([ \t]*)({_TYPE})\s+([^;()]+);", re.M)
_DECLARATOR = re.compile(r"^\s*(\w+)((?:\[[^\]]+\])+)\s*(?:=.*)?$", re.S)


@lru_cache(maxsize=None)
def _source(kernel: str) -> str:
    return (_kdir(kernel) / f"{Path(kernel).name}_top.cpp").read_text()


def arrays(kernel: str, env: dict) -> list[Array]:
    text = _strip(_source(kernel))
    typedefs, structs = {}, {}
    for ctype, name in re.findall(rf"typedef\s+({_TYPE})\s+(\w+)\s*;", text):
        typedefs[name] = _width(ctype, env, typedefs, structs, f"typedef {name}")
    for name, body in re.findall(r"struct\s+(\w+)\s*\{(.*?)\};", text, re.S):
        bits = 0
        for ctype, names in re.findall(rf"({_TYPE})\s+([\w\s,]+);", body):
            bits += _width(ctype, env, typedefs, structs, f"struct {name}") * len(names.split(","))
        structs[name] = bits
    body_free = re.sub(r"struct\s+\w+\s*\{.*?\};", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    out = []
    for m in _DECL.finditer(body_free):
        indent, ctype, decls = m.groups()
        found = [d for d in map(_DECLARATOR.match, decls.split(",")) if d]
        if ctype in ("return", "typedef", "using") or not found:
            continue
        line = text.count("\n", 0, m.start()) + 1
        width = _width(ctype, env, typedefs, structs, f"hls/{kernel}/{kernel}_top.cpp:{line}")
        for d in found:
            dims = tuple(int(_eval(x.replace("/", "//"), env)) for x in re.findall(r"\[([^\]]+)\]", d.group(2)))
            out.append(Array(d.group(1), width, dims, bool(indent), line))
    return out


def streams(kernel: str, env: dict) -> dict:
    """name -> element bits of every hls::stream declared in the top .cpp."""
    text = _strip(_source(kernel))
    arrs = {a.name for a in arrays(kernel, env)}
    structs = {}
    for name, body in re.findall(r"struct\s+(\w+)\s*\{(.*?)\};", text, re.S):
        structs[name] = sum(_width(t, env, {}, structs, f"struct {name}") * len(n.split(","))
                            for t, n in re.findall(rf"({_TYPE})\s+([\w\s,]+);", body))
    out = {}
    for ctype, name in re.findall(r"hls::stream<\s*([^>]+?)\s*>\s+(\w+)\s*;", text):
        if name not in arrs:
            out[name] = _width(ctype, env, {}, structs, f"stream {name}")
    return out


def pragmas(kernel: str) -> list[dict]:
    out = []
    for line in _strip(_source(kernel)).splitlines():
        m = re.match(r"\s*#pragma\s+HLS\s+(\w+)\s*(.*)", line)
        if m:
            opts = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
            opts["_kind"] = m.group(1).upper()
            opts["_words"] = m.group(2).split()
            out.append(opts)
    return out


def memories(kernel: str, env: dict) -> list[Memory]:
    """Every array and stream of the kernel, banked as its pragmas say."""
    prag = pragmas(kernel)
    out = []
    for a in arrays(kernel, env):
        dims, banks, why = list(a.dims), 1, []
        for p in prag:
            if p["_kind"] != "ARRAY_PARTITION" or p.get("variable") != a.name:
                continue
            dim = int(p.get("dim", "1"))
            idx = range(len(dims)) if dim == 0 else [dim - 1]
            for i in idx:
                if "complete" in p["_words"]:
                    banks, why = banks * dims[i], why + [f"complete dim {i + 1}"]
                    dims[i] = 1
                else:
                    f = int(_eval(p["factor"], env))
                    kind = "cyclic" if "cyclic" in p["_words"] else "block"
                    banks, why = banks * min(f, dims[i]), why + [f"{kind} {f} on dim {i + 1}"]
                    dims[i] = math.ceil(dims[i] / f)
        depth = math.prod(dims)
        bind = next((p for p in prag if p["_kind"] == "BIND_STORAGE" and p.get("variable") == a.name), {})
        btype = bind.get("type", "ram_1p").lower()
        ports = 2 if btype in ("ram_2p", "ram_t2p", "ram_s2p") else 1
        shape = "x".join(map(str, a.dims))
        desc = f"[{shape}] x {a.width} b" + (f", {', '.join(why)}" if why else "")
        if depth == 1:
            out.append(Memory(a.name, banks, 1, a.width, "regs", "ff", 1, desc + ": registers"))
        else:
            out.append(Memory(a.name, banks, depth, a.width, "ram", bind.get("impl", "auto").lower(), ports, desc,
                              btype == "ram_t2p"))
    for name, width in streams(kernel, env).items():
        st = next((p for p in prag if p["_kind"] == "STREAM" and p.get("variable") == name), {})
        bind = next((p for p in prag if p["_kind"] == "BIND_STORAGE" and p.get("variable") == name), {})
        depth = int(_eval(st["depth"], env)) if "depth" in st else 2
        out.append(Memory(name, 1, depth, width, "fifo", bind.get("impl", "auto").lower(), 2,
                          f"hls::stream depth {depth} x {width} b"))
    return out


def units(kernel: str, env: dict, macro: str) -> list[Unit]:
    """The entries of `#define <K>_<macro>(X)` in <k>_kernel.h: X(loop, instances, a, b) /* what */."""
    text = (_kdir(kernel) / f"{Path(kernel).name}_kernel.h").read_text()
    m = re.search(rf"#define\s+\w+_{macro}\(X\)(.*?)\n(?!\s)", text, re.S)
    if m is None:
        return []
    out = []
    for loop, n, a, b, what in re.findall(r"X\(\s*(\w+)\s*,\s*([^,()]+?)\s*,\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)"
                                          r"\s*(?:/\*(.*?)\*/)?", m.group(1), re.S):
        ev = [int(_eval(x.replace("/", "//"), env)) for x in (n, a, b)]
        out.append(Unit(loop, *ev, " ".join(what.replace("\\", " ").split())))
    return out
