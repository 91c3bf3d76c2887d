"""Figures of the SNNWM op-count study (``spynq.snnwm.study``).

  op_count_curves    operations per window vs input spike density, one panel per L:
                     per-step LIF, window path (dense mat-vec) and window path as the
                     kernel counts it (zero window sums skipped), measured points over
                     the analytic lines, the crossings marked.
  membrane_accesses  membrane reads + writes per sample vs L, per-step vs window, and
                     their ratio against L.
  cpu_vs_fpga_bars   seconds per sample of the 512-512 layer, numpy vs estimated FPGA.
Each takes the dict its study function returns and a PNG path, and returns the path.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from ..plotting import pyplot as _pyplot

COLORS = {"per_step": "tab:red", "window_dense": "tab:blue", "window_kernel": "tab:green"}
LABELS = {"per_step": "per-step LIF (accumulate per spike x neuron)",
          "window_dense": "window, dense W1 mat-vec + W2 adds",
          "window_kernel": "window, kernel (skips zero window sums)"}




def op_count_curves(ops: dict, out_png) -> Path:
    plt = _pyplot()
    Ls = list(ops["L"])
    ncol = 2 if len(Ls) > 2 else len(Ls)
    nrow = -(-len(Ls) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.0 * ncol, 4.2 * nrow), squeeze=False, sharey=True)
    for ax in axes.flat[len(Ls):]:
        ax.set_visible(False)
    for ax, L in zip(axes.flat, Ls):
        d = ops["L"][L]
        x = np.asarray(d["density"])
        order = np.argsort(x)
        xs = np.geomspace(x.min(), x.max(), 200)
        from .study import analytic_ops

        an = analytic_ops(xs, int(L), ops["n_in"], ops["n_out"])
        for key in ("per_step", "window_dense", "window_kernel"):
            ax.plot(xs, an[key], "-", color=COLORS[key], lw=1.2, alpha=0.7)
            ax.plot(x[order], np.asarray(d[key])[order], "o", ms=3.5, mfc="none", color=COLORS[key],
                    label=LABELS[key])
        for w, style in (("dense", "--"), ("kernel", ":")):
            c = d["crossing"][w]
            pa, pm = c["analytic"], c["measured"]
            if np.isfinite(pa):
                ax.axvline(pa, color=COLORS[f"window_{w}"], ls=style, lw=1.0)
                yv = float(analytic_ops(np.array([pa]), int(L), ops["n_in"], ops["n_out"])["per_step"][0])
                ax.plot([pm if np.isfinite(pm) else pa], [yv], "*", ms=12, color=COLORS[f"window_{w}"],
                        mec="k", mew=0.6)
                ax.annotate(f"p* = {pa:.3g}\n(measured {pm:.3g})", (pa, yv), textcoords="offset points",
                            xytext=(8, -30) if w == "dense" else (-70, 25), fontsize=8, color=COLORS[f"window_{w}"],
                            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input spike density p")
        ax.set_title(f"L = {L}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    for row in axes:
        row[0].set_ylabel("operations per window (per sample)")
    axes[0][0].legend(fontsize=7.5, loc="lower right")
    fig.suptitle(f"{ops['n_in']} x {ops['n_out']} SNNWM layer, T = {ops['T']}: window path vs per-step LIF\n"
                 f"points measured, lines expected; * crossing (measured), dashed / dotted lines analytic",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return Path(out_png)


def membrane_accesses(mem: dict, out_png) -> Path:
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.9))
    Ts = sorted({r["T"] for r in mem["rows"]})
    for j, T in enumerate(Ts):
        rows = [r for r in mem["rows"] if r["T"] == T]
        L = np.array([r["L"] for r in rows])
        w = 0.38
        a1.bar(np.arange(len(L)) + (j - 0.5) * w, [r["window"] for r in rows], w, label=f"window, T = {T}",
               alpha=0.85)
        a1.axhline(rows[0]["per_step"], ls="--", lw=1, color=f"C{j}", label=f"per-step, T = {T}")
        a2.plot(L, [r["ratio"] for r in rows], "o-", label=f"measured ratio, T = {T}")
        a2.plot(L, [r["expected"] for r in rows], "x", ms=9, color="k" if j == 0 else "gray",
                label=f"T / ceil(T/L), T = {T}")
    Ls = [r["L"] for r in mem["rows"] if r["T"] == Ts[0]]
    a1.set_xticks(np.arange(len(Ls)), [str(v) for v in Ls])
    a1.set_xlabel("working-memory length L")
    a1.set_ylabel("membrane reads + writes per sample")
    a1.set_title(f"{mem['n_out']} neurons", fontsize=10)
    a1.legend(fontsize=8)
    a2.plot([min(Ls), max(Ls)], [min(Ls), max(Ls)], ":", color="gray", label="= L")
    a2.set_xlabel("working-memory length L")
    a2.set_ylabel("per-step / window accesses")
    a2.legend(fontsize=8)
    a2.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return Path(out_png)


def cpu_vs_fpga_bars(timing: dict, out_png) -> Path:
    from .cycles import SCHEDULE

    plt = _pyplot()
    rows = timing["rows"]
    L = [r["L"] for r in rows]
    x = np.arange(len(L))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    w = 0.38
    b1 = ax.bar(x - w / 2, [r["cpu_s"] * 1e6 for r in rows], w, label="CPU (numpy, this machine)", color="tab:blue")
    b2 = ax.bar(x + w / 2, [r["fpga_s"] * 1e6 for r in rows], w, label=f"FPGA, {SCHEDULE.label} (W1 on chip)",
                color="tab:orange")
    for bars in (b1, b2):
        for b in bars:
            ax.annotate(f"{b.get_height():.3g}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                        va="bottom", fontsize=7.5)
    ax.set_xticks(x, [f"L = {v}" for v in L])
    ax.set_yscale("log")
    lo = min(min(r["cpu_s"], r["fpga_s"]) for r in rows) * 1e6
    hi = max(max(r["cpu_s"], r["fpga_s"]) for r in rows) * 1e6
    ax.set_ylim(lo / 4, hi * 3)
    ax.set_ylabel("µs per sample")
    ax.set_title(f"{timing['n']}-{timing['n']} SNNWM window layer, T = {timing['T']}, input density "
                 f"{timing['p']}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return Path(out_png)
