"""Native float CPU baselines: the C++ a CPU user would write for each kernel, built with
the machine's g++ and called through ctypes (the "native" backend of every kernel).

  lif    event-driven delivery into delay rings, float32 sums, float64 neuron state
  snnwm  window sums and row-wise x W1 over the non-zero sums, float64 (W1 stored float32)
  stm    importance sampling, float32; each edge's normalised likelihood over the parent's
         distinct values, kept between calls on the same populations (as the cpu backend)

Each kernel's source (``<k>_native.cpp`` here, shipped in the wheel) is compiled once per
source/flags hash into build/native/<hash>/ of a checkout, else into $SPYNQ_NATIVE_DIR or
~/.cache/spynq/native (an installed wheel on the board builds there with its own gcc).
Flags: -O3 -march=native (dropped if the compiler rejects it), -pthread; LIF and SNNWM
with -ffp-contract=off so their float64 updates round as numpy's do. Threads: `threads`
argument of every call, 0 = all cores.

``python -m spynq.native`` builds all three and prints where.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

from ..errors import SpynqValueError
from ..hw.cconfig import REPO

SRC_DIR = Path(__file__).resolve().parent
KERNELS = ("lif", "snnwm", "stm")
BASE_FLAGS = ("-std=c++14", "-O3", "-fno-trapping-math", "-shared", "-fPIC", "-pthread", "-Wall")
KERNEL_FLAGS = {"lif": ("-ffp-contract=off",), "snnwm": ("-ffp-contract=off",), "stm": ()}
ARCH_FLAGS = ("-march=native",)
BUILD_TIMEOUT_S = 300
_LOCK = threading.RLock()


def build_root() -> Path:
    """Where builds go: the checkout's build/native, else SPYNQ_NATIVE_DIR or ~/.cache."""
    if os.environ.get("SPYNQ_NATIVE_DIR"):
        return Path(os.environ["SPYNQ_NATIVE_DIR"])
    if (REPO / "pyproject.toml").exists() and (REPO / "host" / "spynq").is_dir():
        return REPO / "build" / "native"
    return Path.home() / ".cache" / "spynq" / "native"


def available() -> tuple[bool, str]:
    """Whether the native baselines can be built here (a C++ compiler on PATH)."""
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        return False, "no g++"
    return True, ""


def _compile(cxx: str, flags: tuple, src: Path, out: Path) -> subprocess.CompletedProcess:
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    cmd = [cxx, *flags, f"-I{SRC_DIR}", str(src), "-o", str(tmp)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"g++ did not finish within {BUILD_TIMEOUT_S} s for {src.name}") from None
    if res.returncode == 0:
        tmp.replace(out)  # atomic: a parallel loader never sees a half-written file
    res.args = cmd
    return res


@lru_cache(maxsize=None)
def _build(kernel: str) -> tuple[Path, tuple]:
    cxx = shutil.which(os.environ.get("CXX", "g++"))
    if cxx is None:
        raise FileNotFoundError("g++ not found: the native backend needs a C++ compiler")
    src = SRC_DIR / f"{kernel}_native.cpp"
    last = None
    for arch in (ARCH_FLAGS, ()):  # -march=native where the compiler takes it
        flags = BASE_FLAGS + arch + KERNEL_FLAGS[kernel]
        h = hashlib.sha256(" ".join((cxx,) + flags).encode())
        for f in (src, SRC_DIR / "native_common.h"):
            h.update(f.read_bytes())
        out = build_root() / h.hexdigest()[:16] / f"lib{kernel}_native.so"
        if out.exists():
            return out, flags
        out.parent.mkdir(parents=True, exist_ok=True)
        last = _compile(cxx, flags, src, out)
        if last.returncode == 0:
            return out, flags
    raise RuntimeError(f"g++ failed for {src.name}:\n{' '.join(last.args)}\n{last.stderr[-4000:]}")


def build(kernel: str) -> Path:
    """The shared library of `kernel` ("lif", "snnwm", "stm"), built if needed."""
    if kernel not in KERNELS:
        raise SpynqValueError(f"no native baseline {kernel!r}; choose from {KERNELS}")
    with _LOCK:
        return _build(kernel)[0]


def flags(kernel: str) -> tuple:
    with _LOCK:
        return _build(kernel)[1]


@lru_cache(maxsize=None)
def load(kernel: str) -> ctypes.CDLL:
    """The loaded library (its entry point is reentrant: calls may overlap)."""
    return ctypes.CDLL(str(build(kernel)))


def entry(kernel: str, name: str, argtypes: list):
    """The C function `name` of `kernel`'s library, its signature set (int result)."""
    f = getattr(load(kernel), name)  # ctypes keeps one function object per name
    if f.argtypes is None:
        f.argtypes, f.restype = argtypes, ctypes.c_int
    return f


def ptr(a, ctype=ctypes.c_void_p):
    """ctypes pointer to a contiguous numpy array (None stays a null pointer)."""
    return None if a is None else a.ctypes.data_as(ctype)


def ptr_array(arrays) -> ctypes.Array:
    """A C array of pointers to numpy arrays (None: null)."""
    return (ctypes.c_void_p * max(1, len(arrays)))(*[None if a is None else a.ctypes.data for a in arrays])


def int_array(values, ctype=ctypes.c_int) -> ctypes.Array:
    values = list(values)
    return (ctype * max(1, len(values)))(*values)


def double_array(values) -> ctypes.Array:
    values = list(values)
    return (ctypes.c_double * max(1, len(values)))(*values)


def threads_used(threads: int | None) -> int:
    """The thread count a call asks for: None or 0 -> all cores."""
    if threads is None:
        return 0
    if int(threads) < 0:
        raise SpynqValueError(f"threads={threads}: 0 (all cores) or a positive count")
    return int(threads)


def cores() -> int:
    return os.cpu_count() or 1
