"""The SNNWM issue's numbers: operation counts of the window path against a per-step
event-driven LIF path, their crossing density, the membrane-access ratio, and CPU vs
estimated FPGA time.

  op_counts        for L = 2, 4, 6, 8 and a sweep of input spike densities p: operations
                   per window of one n_in x n_out layer (512 x 512 by default) on random
                   Bernoulli(p) rasters, measured with the cpu backend's counters and
                   ``spynq.snnwm.counts.per_step_lif_counts``:
                     per-step LIF        one synaptic accumulate per input spike and
                                         output neuron: p L n_in n_out per window
                     window, dense       Algorithm 1 as written: one dense mat-vec with W1
                                         per window (n_in n_out MACs) plus the W2
                                         additions (one per input spike, as the kernel's
                                         "add" counter): n_in n_out + p L n_in
                     window, kernel      what the SNNWM kernel counts: the mat-vec skips
                                         inputs whose window sum is 0, so
                                         n_in n_out (1 - (1 - p)^L) + p L n_in in expectation
                   and where per-step and window cross, analytically and on the measured
                   counts (linear interpolation between sweep points, in the measured
                   density):
                     dense:  p* = n_out / (L (n_out - 1))  (~ 1/L)
                     kernel: n_out (pL - 1 + (1 - p)^L) = pL, p* ~ 2 / (n_out (L - 1))
                   Above p* the window path needs fewer operations than the per-step path.
  membrane_access  V reads + writes per sample: per-step T n_out each, window
                   ceil(T / L) n_out each; the ratio is T / ceil(T / L) (= L when L
                   divides T, e.g. T = 24 for all of 2, 4, 6, 8; at T = 16, L = 6 it is 16/3).
  cpu_vs_fpga      a 512-512 window layer, T = 16, L in 1, 2, 4, 8: numpy time of the cpu
                   backend per sample (median of repeats) against the kernel's estimated
                   time (``spynq.snnwm.cycles``, its II table and clock) on the same rasters.
Every function returns a dict of plain numbers; ``main()`` prints the tables and writes
snnwm_study.json and the PNGs of ``spynq.snnwm.plots``.

Chosen: weights W1 ~ N(0.2, 1) * 2 / sqrt(n_in), W2 ~ U(0.2, 1.2) (never 0, so the W2 sum
of a window with a spike is non-zero), decay 0.9, threshold 1; they do not change the
counts of the layer under study (only the spikes it emits). Rasters are i.i.d.
Bernoulli(p), T = 24 for the op counts (a multiple of every L), batch 4.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from . import counts as C
from .model import SnnwmNetwork, SnnwmParams, WindowLayer

LS = (2, 4, 6, 8)
TIMING_LS = (1, 2, 4, 8)
DENSITIES = tuple(float(p) for p in np.round(np.geomspace(5e-4, 0.9, 36), 6))


def _run(network, rasters, backend="cpu"):
    from .backends import run

    return run(network, rasters, backend)


def layer_network(n_in: int, n_out: int, L: int, mode: str = "window", seed: int = 0) -> SnnwmNetwork:
    """One SNNWM layer with the study's random weights (see module docstring), on the
    kernel's Q3.12 grid so every backend sees the same numbers."""
    rng = np.random.default_rng(seed)
    w1 = np.round(np.clip(rng.normal(0.2, 1.0, (n_in, n_out)) * 2.0 / math.sqrt(n_in), -7.9, 7.9) * 4096) / 4096
    w2 = np.round(rng.uniform(0.2, 1.2, L) * 4096) / 4096
    return SnnwmNetwork([WindowLayer(w1, w2, SnnwmParams.from_decay(0.9), mode)])


def rasters(batch: int, T: int, n: int, p: float, seed) -> np.ndarray:
    return np.random.default_rng(seed).random((batch, T, n)) < p


# --------------------------------------------------------------------------- analytic


def analytic_ops(p, L: int, n_in: int, n_out: int) -> dict:
    """Expected operations per window at input density p (arrays in, arrays out)."""
    p = np.asarray(p, float)
    adds = p * L * n_in
    return {"per_step": p * L * n_in * n_out, "window_dense": n_in * n_out + adds,
            "window_kernel": n_in * n_out * (1.0 - (1.0 - p) ** L) + adds}


def analytic_crossing(L: int, n_out: int, which: str = "dense") -> float:
    """Density above which the window path needs fewer operations than the per-step path
    (n_in cancels). dense: p L n_out = n_out + p L; kernel: n_out (pL - 1 + (1-p)^L) = pL."""
    if which == "dense":
        return n_out / (L * (n_out - 1.0))
    if L < 2:
        return float("nan")  # L = 1: the kernel does the per-step work plus the adds
    from scipy.optimize import brentq

    f = lambda p: n_out * (p * L - 1.0 + (1.0 - p) ** L) - p * L  # noqa: E731
    return float(brentq(f, 1e-9, 1.0))


def measured_crossing(density, per_step, window) -> float:
    """First density where per_step - window changes sign from < 0 to >= 0, linearly
    interpolated between the two sweep points around it (nan if it never does)."""
    d = np.asarray(per_step, float) - np.asarray(window, float)
    x = np.asarray(density, float)
    order = np.argsort(x)
    x, d = x[order], d[order]
    for i in range(len(d) - 1):
        if d[i] < 0 <= d[i + 1]:
            return float(x[i] + (x[i + 1] - x[i]) * (-d[i]) / (d[i + 1] - d[i]))
    return float("nan")


# --------------------------------------------------------------------------- studies


def op_counts(Ls=LS, densities=DENSITIES, n_in: int = 512, n_out: int = 512, T: int = 24, batch: int = 4,
              seed: int = 0, backend: str = "cpu", fine_batch: int = 1024) -> dict:
    """Operations per window (per sample) for every L and density; see module docstring.
    Returns {"n_in", "n_out", "T", "batch", "densities", "L": {L: {"density" (measured),
    "per_step", "window_dense", "window_kernel", "mac_kernel", "add", "crossing":
    {"dense": {"analytic", "measured"}, "kernel": {...}}, "analytic": {...}}}}."""
    out = {"n_in": n_in, "n_out": n_out, "T": T, "batch": batch, "densities": list(densities), "backend": backend,
           "L": {}}
    for L in Ls:
        net = layer_network(n_in, n_out, L, seed=seed)
        n_win = batch * -(-T // L)  # windows in the batch
        rows = {k: [] for k in ("density", "per_step", "window_dense", "window_kernel", "mac_kernel", "add")}
        for j, p in enumerate(densities):
            r = rasters(batch, T, n_in, p, (seed, L, j))
            res = _run(net, r, backend)
            c = res.counts[0]
            ps = C.per_step_lif_counts(r, n_out)
            rows["density"].append(float(r.mean()))
            rows["per_step"].append(ps["mac"] / n_win)
            rows["add"].append(c["add"] / n_win)
            rows["mac_kernel"].append(c["mac"] / n_win)
            rows["window_kernel"].append((c["mac"] + c["add"]) / n_win)
            rows["window_dense"].append(n_in * n_out + c["add"] / n_win)
        an = analytic_ops(np.asarray(rows["density"]), L, n_in, n_out)
        rows["analytic"] = {k: v.tolist() for k, v in an.items()}
        rows["crossing"] = {"dense": {"analytic": analytic_crossing(L, n_out, "dense"),
                                      "measured": measured_crossing(rows["density"], rows["per_step"],
                                                                    rows["window_dense"])}}
        rows["crossing"]["kernel"] = _kernel_crossing(net, L, n_in, n_out, T, fine_batch, seed, backend)
        out["L"][int(L)] = rows
    return out


def membrane_access(Ls=(1,) + LS, Ts=(16, 24), n_in: int = 512, n_out: int = 512, batch: int = 2, p: float = 0.1,
                    seed: int = 0, backend: str = "cpu") -> dict:
    """Membrane reads + writes per sample, per-step LIF vs window path, measured.
    Returns {"n_out", "rows": [{"T", "L", "per_step", "window", "ratio", "expected" =
    T / ceil(T / L)}]}."""
    out = {"n_in": n_in, "n_out": n_out, "p": p, "backend": backend, "rows": []}
    for T in Ts:
        r = rasters(batch, T, n_in, p, (seed, T))
        ps = C.per_step_lif_counts(r, n_out)
        per_step = (ps["v_reads"] + ps["v_writes"]) / batch
        for L in Ls:
            c = _run(layer_network(n_in, n_out, L, seed=seed), r, backend).counts[0]
            win = (c["v_reads"] + c["v_writes"]) / batch
            out["rows"].append({"T": int(T), "L": int(L), "per_step": per_step, "window": win,
                                "ratio": per_step / win, "expected": T / math.ceil(T / L)})
    return out


def cpu_vs_fpga(Ls=TIMING_LS, n: int = 512, T: int = 16, batch: int = 16, p: float = 0.1, repeats: int = 5,
                seed: int = 0) -> dict:
    """Seconds per sample of a n-n window layer: numpy (cpu backend, median of `repeats`)
    against the estimated kernel time (cycles.SCHEDULE.label) (spynq.snnwm.cycles.snnwm_cycles) on the
    same rasters. fpga_s is the steady state (W1 already on chip: the 512 KiB network load
    is left out, it is paid once per call); fpga_s_with_load amortises it over the batch.
    Returns {"n", "T", "batch", "p", "rows": [{"L", "cpu_s", "fpga_s", "speedup",
    "fpga_cycles", "fpga_s_with_load", "fpga_compute_cycles", "fpga_loops_per_sample"}]}."""
    from . import cycles

    r = rasters(batch, T, n, p, (seed, 7))
    out = {"n": n, "T": T, "batch": batch, "p": p, "clock_hz": cycles.CLOCK_HZ, "rows": []}
    for L in Ls:
        net = layer_network(n, n, L, seed=seed)
        _run(net, r[:1], "cpu")  # warm up
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _run(net, r, "cpu")
            ts.append(time.perf_counter() - t0)
        cpu = float(np.median(ts)) / batch
        rep = cycles.snnwm_cycles(net, r)  # spikes from golden, as every fixed-point tier
        steady = rep.steady_per_sample / cycles.CLOCK_HZ
        out["rows"].append({"L": int(L), "cpu_s": cpu, "fpga_s": steady, "speedup": cpu / steady,
                            "fpga_cycles": rep.steady_per_sample, "fpga_s_with_load": rep.per_sample / cycles.CLOCK_HZ,
                            "fpga_compute_cycles": rep.compute / batch,
                            "fpga_loops_per_sample": {k: v / batch for k, v in rep.loops.items()}})
    return out


def _kernel_crossing(net, L, n_in, n_out, T, batch, seed, backend, points: int = 13) -> dict:
    """The kernel's crossing sits where a window first holds two spikes of the same input,
    p ~ 2 / (n_out (L - 1)): rare events, so it is measured on its own sweep (0.3x .. 3x
    the analytic value, `batch` samples per point; batch 0 skips it).

    per-step - kernel window = n_out * (spikes - nnz) - spikes, so the crossing is where
    the measured fraction of repeated spikes r = (spikes - nnz) / spikes reaches 1 / n_out.
    Single points are too noisy for a sign test (a handful of repeats each), so r(p) is
    fitted by least squares with r = a p + b p^2 (through 0, weighted by the spike counts)
    over all sweep points and solved for n_out r(p) = 1 ("measured"); the first sign change
    of the raw differences is kept as "sign_change"."""
    pa = analytic_crossing(L, n_out, "kernel")
    if not np.isfinite(pa) or batch < 1:
        return {"analytic": pa, "measured": float("nan"), "batch": batch}
    dens, diff, spk, rep = [], [], [], []
    for j, p in enumerate(np.geomspace(0.3 * pa, 3.0 * pa, points)):
        r = rasters(batch, T, n_in, p, (seed, L, 1, j))
        c = _run(net, r, backend).counts[0]
        spikes = int(r.sum())
        dens.append(float(r.mean()))
        diff.append(C.per_step_lif_counts(r, n_out)["mac"] - (c["mac"] + c["add"]))
        spk.append(spikes)
        rep.append(spikes - c["mac"] // n_out)  # inputs of a window counted once by the kernel
    d, sp, rp = np.asarray(dens), np.asarray(spk, float), np.asarray(rep, float)
    w = np.sqrt(np.maximum(sp, 1))
    A = np.stack([d, d * d], axis=1) * w[:, None]
    (a, b), *_ = np.linalg.lstsq(A, (rp / np.maximum(sp, 1)) * w, rcond=None)
    roots = [z.real for z in np.roots([b, a, -1.0 / n_out]) if abs(z.imag) < 1e-12 and z.real > 0]
    return {"analytic": pa, "measured": float(min(roots)) if roots else float("nan"),
            "sign_change": measured_crossing(dens, diff, np.zeros(len(diff))), "batch": batch,
            "fit": [float(a), float(b)], "sweep_density": dens, "sweep_per_step_minus_window": [int(x) for x in diff]}


# --------------------------------------------------------------------------- CLI


def summary(ops: dict) -> list[dict]:
    """One row per L: counts per window at a few densities, crossings, from op_counts."""
    rows = []
    for L, d in ops["L"].items():
        dens = np.asarray(d["density"])
        pick = {q: int(np.argmin(np.abs(dens - q))) for q in (0.01, 0.1, 0.5)}
        rows.append({"L": int(L), **{f"per_step@{q}": d["per_step"][i] for q, i in pick.items()},
                     **{f"window_dense@{q}": d["window_dense"][i] for q, i in pick.items()},
                     **{f"window_kernel@{q}": d["window_kernel"][i] for q, i in pick.items()},
                     "p_cross_dense_analytic": d["crossing"]["dense"]["analytic"],
                     "p_cross_dense_measured": d["crossing"]["dense"]["measured"],
                     "p_cross_kernel_analytic": d["crossing"]["kernel"]["analytic"],
                     "p_cross_kernel_measured": d["crossing"]["kernel"]["measured"]})
    return rows


def print_tables(ops: dict, mem: dict, timing: dict | None) -> None:
    print(f"Operations per window, {ops['n_in']} x {ops['n_out']} layer, T = {ops['T']}, batch {ops['batch']} "
          f"(per-step LIF vs window path; counts at density ~1 %, 10 %, 50 %)")
    print(f"{'L':>3} {'per-step':>26} {'window dense':>30} {'window kernel':>30}  {'p* dense an/meas':>18} "
          f"{'p* kernel an/meas':>20}")
    for s in summary(ops):
        f = lambda key: " ".join(f"{s[f'{key}@{q}']:9.3g}" for q in (0.01, 0.1, 0.5))  # noqa: E731
        print(f"{s['L']:>3} {f('per_step'):>26} {f('window_dense'):>30} {f('window_kernel'):>30}  "
              f"{s['p_cross_dense_analytic']:.4f}/{s['p_cross_dense_measured']:.4f} "
              f"{s['p_cross_kernel_analytic']:.5f}/{s['p_cross_kernel_measured']:.5f}")
    print(f"\nMembrane reads + writes per sample, {mem['n_out']} neurons")
    print(f"{'T':>3} {'L':>3} {'per-step':>10} {'window':>10} {'ratio':>7} {'T/ceil(T/L)':>12}")
    for r in mem["rows"]:
        print(f"{r['T']:>3} {r['L']:>3} {r['per_step']:>10.0f} {r['window']:>10.0f} {r['ratio']:>7.3f} "
              f"{r['expected']:>12.3f}")
    if timing:
        print(f"\n{timing['n']}-{timing['n']} window layer, T = {timing['T']}, density {timing['p']}, "
              f"batch {timing['batch']}: seconds per sample")
        print(f"{'L':>3} {'cpu (numpy)':>12} {'fpga est.':>12} {'cycles':>10} {'cpu/fpga':>9} {'fpga+load':>12}")
        for r in timing["rows"]:
            print(f"{r['L']:>3} {r['cpu_s']:>12.3e} {r['fpga_s']:>12.3e} {r['fpga_cycles']:>10.0f} {r['speedup']:>9.1f} "
                  f"{r['fpga_s_with_load']:>12.3e}")


def run_all(out_dir=None, quick: bool = False) -> dict:
    """All three studies (smaller sweeps with quick=True), JSON and PNGs into out_dir."""
    dens = DENSITIES[::3] if quick else DENSITIES
    ops = op_counts(densities=dens, batch=2 if quick else 4)
    mem = membrane_access()
    timing = cpu_vs_fpga(repeats=2 if quick else 5, batch=4 if quick else 16)
    res = {"op_counts": ops, "membrane_access": mem, "cpu_vs_fpga": timing, "summary": summary(ops)}
    if out_dir is not None:
        from . import plots

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "snnwm_study.json").write_text(json.dumps(res, indent=1, default=_json_default))
        res["pngs"] = {"op_counts": str(plots.op_count_curves(ops, out / "snnwm_opcounts.png")),
                       "membrane": str(plots.membrane_accesses(mem, out / "snnwm_membrane.png")),
                       "timing": str(plots.cpu_vs_fpga_bars(timing, out / "snnwm_cpu_fpga.png"))}
    return res


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description="SNNWM op counts, membrane accesses, CPU vs FPGA time")
    ap.add_argument("--out", default="snnwm_study", help="folder for snnwm_study.json and the PNGs")
    ap.add_argument("--quick", action="store_true", help="smaller sweeps")
    a = ap.parse_args(argv)
    res = run_all(a.out, quick=a.quick)
    print_tables(res["op_counts"], res["membrane_access"], res["cpu_vs_fpga"])
    print(f"\nwrote {a.out}/snnwm_study.json and {', '.join(Path(p).name for p in res['pngs'].values())}")
    return res


if __name__ == "__main__":
    main()
