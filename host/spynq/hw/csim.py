"""C simulation: build a kernel's HLS C++ with g++ into a shared library and load it.

As hls4ml does for its models: the same source Vitis synthesizes, compiled natively
against the ap_int/ap_fixed headers (Vitis' own when XILINX_HLS is set, else the open
copy fetched by scripts/bootstrap.sh). Builds are cached by a hash of the sources and
flags in build/csim/, so a test session compiles each kernel once.

Calls are checked before they run (spynq.hw.runner.check_call). A library's kernel keeps
its state in static arrays (and LIF/SNNWM an unlocked hls::stream), so calls into one
library take its lock: one at a time, from any number of threads. Each call runs in a
worker thread that the caller waits on, so Ctrl-C reaches the caller and a call past
`timeout_s` raises TimeoutError; C code cannot be stopped, so the stray call runs to its
end in the background and holds the library's lock until then (later calls wait for it,
within their own timeout).
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import queue
import shutil
import subprocess
import threading
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import SpynqValueError
from .cconfig import HLS_DIR, REPO, read_constants

BUILD_DIR = REPO / "build" / "csim"
BUILD_TIMEOUT_S = 900
DEFAULT_TIMEOUT_S = 600.0  # one call; generous: the largest STM calls take minutes at -O0
_BUILD_LOCK = threading.RLock()  # builds and loads (two threads must not write one .so)


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


def build(kernel: str, opt: str = "-O2", extra: tuple = ()) -> Path:
    """Compile hls/<kernel>/<kernel>_top.cpp + its csim bridge; return the .so path."""
    with _BUILD_LOCK:
        return _build(kernel, opt, extra)


@lru_cache(maxsize=None)
def _build(kernel: str, opt: str, extra: tuple) -> Path:
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


_U32P = ctypes.POINTER(ctypes.c_uint32)
OVERRUN = 0xFFFFFFFF  # SPYNQ_CSIM_OVERRUN of hls/common/spynq_csim.h
TOO_LARGE = 0xFFFFFFFE  # SPYNQ_CSIM_TOO_LARGE
_WORKERS: dict = {}  # .so path -> its _Worker


class _Worker:
    """The one thread that runs a library's calls, and the lock of its static kernel state:
    a caller takes the lock, hands the call over and waits for it; the worker releases the
    lock when the call ends, also after its caller gave up waiting."""

    def __init__(self, name: str):
        self.lock = threading.Lock()
        self._jobs = queue.SimpleQueue()
        threading.Thread(target=self._serve, name=f"spynq csim {name}", daemon=True).start()

    def _serve(self):
        while True:
            fn, box, done = self._jobs.get()
            try:
                box["value"] = fn()
            except BaseException as e:  # handed to the caller
                box["error"] = e
            finally:
                self.lock.release()
                done.release()

    def run(self, what: str, fn, timeout_s: float | None):
        """fn() on the worker holding the lock; the caller waits at most timeout_s (None:
        no limit) in all, and stays interruptible (Ctrl-C) while it waits."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if not self.lock.acquire(timeout=-1 if timeout_s is None else timeout_s):
            raise TimeoutError(f"{what}: its csim library stayed busy for {timeout_s:g} s (a call that timed out or "
                               "was interrupted still runs and holds it until it ends)")
        box: dict = {}
        done = threading.Lock()
        done.acquire()
        self._jobs.put((fn, box, done))
        left = ("the call goes on in the background and holds the library's lock until it ends "
                "(later calls wait for it)")
        try:
            if not done.acquire(timeout=-1 if deadline is None else max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"{what}: no answer within {timeout_s:g} s; {left}")
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"{what} interrupted; {left}") from None
        if "error" in box:
            raise box["error"]
        return box["value"]


@lru_cache(maxsize=None)
def _load(kernel: str, opt: str, flags: tuple) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(build(kernel, opt, flags)))
    lib.spynq_csim_out_words.argtypes = [_U32P, ctypes.c_uint32, _U32P]
    lib.spynq_csim_out_words.restype = ctypes.c_uint64
    lib.spynq_csim_run.argtypes = [_U32P, ctypes.c_uint32, _U32P, ctypes.c_uint32, _U32P, _U32P]
    lib.spynq_csim_run.restype = ctypes.c_uint32
    lib.spynq_csim_trips.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_int]
    lib.spynq_csim_trips.restype = None
    lib.spynq_csim_loop_count.restype = ctypes.c_int
    _WORKERS[lib._name] = _Worker(Path(lib._name).name)
    return lib


def load(kernel: str, opt: str = "-O2", defines=()) -> ctypes.CDLL:
    """The kernel's csim library; `defines` (NAME -> value) are overlay parameters or
    test switches passed as -DNAME=value, each set built once. Call it through `call`
    and `trips`, which hold its lock; a direct call must not overlap with those."""
    with _BUILD_LOCK:
        return _load(kernel, opt, _flags(defines))


def _locked(lib: ctypes.CDLL, what: str, fn, timeout_s: float | None):
    return _WORKERS[lib._name].run(what, fn, timeout_s)


def _words(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, np.uint32)
    return a if len(a) else np.zeros(4, np.uint32)  # a valid pointer even for no data


def _max_out_words(defines) -> int:
    """SPYNQ_MAX_OUT_WORDS of a build (a test switch may lower it)."""
    over = {k: v for k, v in dict(defines).items() if k == "SPYNQ_MAX_OUT_WORDS"}
    return read_constants("common/spynq_limits.h", over)["SPYNQ_MAX_OUT_WORDS"]


def run_checked(c, opt: str = "-O2", defines=(), timeout_s: float | None = DEFAULT_TIMEOUT_S):
    """A call spynq.hw.runner.check_call accepted: (out words, seconds of the kernel call)."""
    kernel = c.kernel
    lib = load(kernel, opt, defines)
    net, inp = _words(c.net), _words(c.inp)
    s = _words(np.asarray(c.scalars, np.uint32))
    p_net, p_in, p_s = (x.ctypes.data_as(_U32P) for x in (net, inp, s))

    def run():
        n_out = lib.spynq_csim_out_words(p_net, c.net_words, p_s)
        if n_out > _max_out_words(defines):
            return n_out, None, TOO_LARGE, 0.0
        out = np.zeros(max(n_out, 4), np.uint32)
        t0 = time.perf_counter()
        written = lib.spynq_csim_run(p_net, c.net_words, p_in, len(c.inp), p_s, out.ctypes.data_as(_U32P))
        return n_out, out, written, time.perf_counter() - t0

    n_out, out, written, dt = _locked(lib, f"hls/{kernel} csim call", run, timeout_s)
    if written == TOO_LARGE:
        raise SpynqValueError(f"hls/{kernel}: the kernel would write {n_out} out words, more than a call may write")
    if written == OVERRUN:
        raise RuntimeError(f"hls/{kernel}: the kernel wrote past the {n_out} output words it declares "
                           "(a kernel bug; see stderr for the first word)")
    return out[:n_out], dt


def call(kernel: str, net, net_words: int, inp, scalars, opt: str = "-O2", defines=(),
         timeout_s: float | None = DEFAULT_TIMEOUT_S) -> np.ndarray:
    """Run hls/<kernel>'s top natively on packed word buffers (the C ABI of
    hls/common/spynq_csim.h); `scalars` are the top's u32 arguments after net_words.
    Checked first (spynq.hw.runner.check_call); TimeoutError past timeout_s.
    Returns the words the kernel wrote to its out buffer."""
    from .runner import check_call

    return run_checked(check_call(kernel, net, net_words, inp, scalars), opt, defines, timeout_s)[0]


def timed_call(kernel: str, net, net_words: int, inp, scalars, opt: str = "-O2", defines=(),
               timeout_s: float | None = DEFAULT_TIMEOUT_S):
    """`call` with the checks, build and load outside the timing: (out words, seconds)."""
    from .runner import check_call

    return run_checked(check_call(kernel, net, net_words, inp, scalars), opt, defines, timeout_s)


def trips(kernel: str, loops, opt: str = "-O2", reset: bool = True, defines=(),
          timeout_s: float | None = DEFAULT_TIMEOUT_S) -> dict:
    """Loop trip counters of the kernel's C simulation since the last reset, by loop label
    (`loops`: every label of the kernel's <K>_LOOPS, in order)."""
    lib = load(kernel, opt, defines)
    n = lib.spynq_csim_loop_count()
    loops = list(loops)
    if len(loops) != n:
        raise SpynqValueError(f"csim.trips: hls/{kernel} counts {n} loops, got {len(loops)} labels {loops}")
    counts = (ctypes.c_uint64 * n)()
    _locked(lib, f"hls/{kernel} csim trips", lambda: lib.spynq_csim_trips(counts, int(reset)), timeout_s)
    return dict(zip(loops, map(int, counts)))
