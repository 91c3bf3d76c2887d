"""Time the numpy `cpu` paths on each kernel's benchmark workload (issue 12, item 2).

Median of --repeats runs (after one warm-up) of the cpu backend, in ms per sample, beside
the native float C++ baseline (spynq.native, one thread) on the same inputs in the same
run, and their ratio (issue 12's target: cpu <= 3x native). numpy's BLAS is held to one
thread too (the OPENBLAS/OMP/MKL thread variables are set before numpy loads).
  lif    700-128-128-20, per-synapse delays 0..64, T=100, 5 % density, batch 32
  stm    two_layer_causal and multi_layer_causal at N=4000, batch 8 and batch 1, warm
         (normalisers cached by an earlier call on the same populations) and cold (each
         call builds them, numpy's cache cleared and the native one off; batch 1 is
         where that costs most)
  snnwm  512-512 window layer, T=16, density 0.1, L in 1, 2, 4, 8, batch 16

Not a test: run it by hand (`.venv/bin/python scripts/bench_cpu_paths.py [--json F]`)
before and after a change to the reference paths and compare. On a shared machine the
absolute times move with the load; the ratios, timed in turns, move less.
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as the native row

import numpy as np  # noqa: E402


def native(kernel: str):
    """spynq.native's run/infer for `kernel`, or None (not there, or no compiler)."""
    try:
        from spynq import native as nat

        ok, _ = nat.available()
        if not ok:
            return None
        mod = __import__(f"spynq.native.{kernel}", fromlist=["x"])
        return getattr(mod, "infer", None) or mod.run
    except ImportError:
        return None


MIN_SECONDS = 1.0  # short calls repeat until each side has run this long (a steadier median)


def pair(cpu, nat, batch, repeats):
    """(cpu ms/sample, native ms/sample or nan): medians of >= `repeats` runs each after one
    warm-up (which also fills the STM normaliser caches, as a long-lived caller sees
    them), the two taking turns so that a change in the machine's load hits both."""
    fns = [cpu] + ([nat] if nat else [])
    for fn in fns:
        fn()
    ts = [[] for _ in fns]
    while len(ts[0]) < repeats or (min(sum(t) for t in ts) < MIN_SECONDS and len(ts[0]) < 200):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            ts[k].append(time.perf_counter() - t0)
    ms = [1e3 * statistics.median(t) / batch for t in ts]
    return ms[0], (ms[1] if nat else float("nan"))


def lif_rows(repeats):
    from spynq.lif import backends, demos

    shape = demos.benchmark_shape(T=100)
    r = shape.rasters(32, seed=1)
    nat = native("lif")
    yield "lif 700-128-128-20 d<=64 T=100 b32", pair(lambda: backends.run(shape.network, r, "cpu"),
                                                     nat and (lambda: nat(shape.network, r, threads=1)), 32, repeats)


def stm_rows(repeats):
    from spynq.stm import backends, reference, workloads

    nat = native("stm")
    clear = getattr(reference, "clear_cache", lambda: None)  # an older tree has no cache
    for build in (workloads.two_layer_causal, workloads.multi_layer_causal):
        wl = build()
        pops = wl.network.sample(4000, seed=2)
        for batch in (8, 1):
            ev = wl.evidence(batch, seed=1)
            run_nat = nat and (lambda: nat(wl.network, pops, ev, threads=1))
            # the native baseline may cache its matrices too: cold rows run it without
            cold_nat = nat and ((lambda: nat(wl.network, pops, ev, threads=1, cache=False))
                                if "cache" in inspect.signature(nat).parameters else run_nat)
            # warm: the populations' normalisers cached by an earlier call (the warm-up);
            # cold: every call builds them (a first call on new populations)
            yield f"stm {wl.name} N=4000 b{batch} warm", pair(
                lambda: backends.run_cpu(wl.network, pops, ev), run_nat, batch, repeats)
            yield f"stm {wl.name} N=4000 b{batch} cold", pair(
                lambda: (clear(), backends.run_cpu(wl.network, pops, ev)), cold_nat, batch, repeats)


def snnwm_rows(repeats):
    from spynq.snnwm import backends, study

    r = study.rasters(16, 16, 512, 0.1, (0, 7))
    nat = native("snnwm")
    for L in (1, 2, 4, 8):
        net = study.layer_network(512, 512, L)
        yield f"snnwm 512-512 T=16 L={L} b16", pair(lambda: backends.run(net, r, "cpu"),
                                                    nat and (lambda: nat(net, r, threads=1)), 16, repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", choices=("lif", "stm", "snnwm"), action="append")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    a = ap.parse_args(argv)
    kinds = a.only or ["lif", "stm", "snnwm"]
    rows = {}
    print(f"# {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, median of {a.repeats}, "
          f"one thread")
    print(f"{'workload':42s} {'cpu':>9s} {'native':>9s} {'ratio':>6s}  (ms per sample)")
    for kind in kinds:
        for name, (cpu, nat) in {"lif": lif_rows, "stm": stm_rows, "snnwm": snnwm_rows}[kind](a.repeats):
            rows[name] = {"cpu_ms": cpu, "native_ms": nat, "ratio": cpu / nat}
            print(f"{name:42s} {cpu:9.3f} {nat:9.3f} {cpu / nat:6.2f}", flush=True)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
