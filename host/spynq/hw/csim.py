"""C simulation: build a kernel's HLS C++ with g++ into a shared library and load it.

As hls4ml does for its models: the same source Vitis synthesizes, compiled natively
against the ap_int/ap_fixed headers (Vitis' own when XILINX_HLS is set, else the open
copy fetched by scripts/bootstrap.sh). Builds are cached by a hash of the sources and
flags in build/csim/, so a test session compiles each kernel once.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from .cconfig import HLS_DIR, REPO

BUILD_DIR = REPO / "build" / "csim"
BUILD_TIMEOUT_S = 900


def ap_types_dir() -> Path:
    xilinx = os.environ.get("XILINX_HLS")
    if xilinx and (Path(xilinx) / "include" / "ap_fixed.h").exists():
        return Path(xilinx) / "include"
    local = REPO / ".deps" / "ap_types"
    if not (local / "ap_fixed.h").exists():
        raise FileNotFoundError(f"ap_types headers not found in {local}: run scripts/bootstrap.sh (or make test)")
    return local


def _sources(kernel: str) -> list[Path]:
    kdir = HLS_DIR / kernel
    return [kdir / f"{kernel}_top.cpp", kdir / f"{kernel}_csim_bridge.cpp"]


def _headers(kernel: str) -> list[Path]:
    return sorted((HLS_DIR / kernel).glob("*.h")) + sorted((HLS_DIR / "common").glob("*.h"))


@lru_cache(maxsize=None)
def build(kernel: str, opt: str = "-O2", extra: tuple = ()) -> Path:
    """Compile hls/<kernel>/<kernel>_top.cpp + its csim bridge; return the .so path."""
    cxx = shutil.which(os.environ.get("CXX", "g++"))
    if cxx is None:
        raise FileNotFoundError("g++ not found: C simulation needs a C++ compiler")
    inc = [ap_types_dir(), HLS_DIR / "common", HLS_DIR / kernel]
    flags = ["-std=c++14", opt, "-shared", "-fPIC", "-w", *extra] + [f"-I{p}" for p in inc]
    h = hashlib.sha256(" ".join(flags).encode())
    for f in _sources(kernel) + _headers(kernel):
        h.update(f.read_bytes())
    out = BUILD_DIR / f"lib{kernel}-{h.hexdigest()[:16]}.so"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = [cxx, *flags, *map(str, _sources(kernel)), "-o", str(tmp)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"g++ did not finish within {BUILD_TIMEOUT_S} s for hls/{kernel}") from None
        if res.returncode:
            raise RuntimeError(f"g++ failed for hls/{kernel}:\n{' '.join(cmd)}\n{res.stderr[-4000:]}")
        tmp.replace(out)  # atomic: parallel test workers never load a half-written file
    return out


def _flags(defines) -> tuple:
    return tuple(f"-D{k}={v}" for k, v in sorted(dict(defines).items()))


@lru_cache(maxsize=None)
def _load(kernel: str, opt: str, flags: tuple) -> ctypes.CDLL:
    return ctypes.CDLL(str(build(kernel, opt, flags)))


def load(kernel: str, opt: str = "-O2", defines=()) -> ctypes.CDLL:
    """The kernel's csim library; `defines` (NAME -> value) are overlay parameters or
    test switches passed as -DNAME=value, each set built once."""
    return _load(kernel, opt, _flags(defines))


_U32P = ctypes.POINTER(ctypes.c_uint32)
OVERRUN = 0xFFFFFFFF  # SPYNQ_CSIM_OVERRUN of hls/common/spynq_csim.h


def _words(a) -> np.ndarray:
    a = np.ascontiguousarray(a, np.uint32)
    return a if len(a) else np.zeros(4, np.uint32)  # a valid pointer even for no data


def call(kernel: str, net, net_words: int, inp, scalars, opt: str = "-O2", defines=()) -> np.ndarray:
    """Run hls/<kernel>'s top natively on packed word buffers (the C ABI of
    hls/common/spynq_csim.h); `scalars` are the top's u32 arguments after net_words.
    Returns the words the kernel wrote to its out buffer."""
    lib = load(kernel, opt, defines)
    for f in (lib.spynq_csim_out_words, lib.spynq_csim_run):
        f.restype = ctypes.c_uint32
    net, inp = _words(net), _words(inp)
    s = np.ascontiguousarray(list(scalars), np.uint32)
    n_out = lib.spynq_csim_out_words(net.ctypes.data_as(_U32P), net_words, s.ctypes.data_as(_U32P))
    out = np.zeros(max(n_out, 4), np.uint32)
    written = lib.spynq_csim_run(net.ctypes.data_as(_U32P), net_words, inp.ctypes.data_as(_U32P), len(inp),
                                 s.ctypes.data_as(_U32P), out.ctypes.data_as(_U32P))
    if written == OVERRUN:
        raise RuntimeError(f"hls/{kernel}: the kernel wrote past the {n_out} output words it declares "
                           "(a kernel bug; see stderr for the first word)")
    return out[:n_out]


def timed_call(kernel: str, net, net_words: int, inp, scalars, opt: str = "-O2", defines=()):
    """`call` with the build and load outside the timing: (out words, seconds)."""
    load(kernel, opt, defines)
    t0 = time.perf_counter()
    out = call(kernel, net, net_words, inp, scalars, opt, defines)
    return out, time.perf_counter() - t0


def trips(kernel: str, loops, opt: str = "-O2", reset: bool = True, defines=()) -> dict:
    """Loop trip counters of the kernel's C simulation since the last reset, by loop label."""
    counts = (ctypes.c_uint64 * len(loops))()
    load(kernel, opt, defines).spynq_csim_trips(counts, int(reset))
    return dict(zip(loops, map(int, counts)))
