"""Figures for the LIF-with-delays demos; every function writes a PNG (matplotlib Agg) if
given out_png and returns the numbers it draws.

  spike_rasters:    input raster and the output raster of every layer for one sample.
  membrane_traces:  membrane potential V(t) of a few neurons of one layer, with the
                    threshold and the spike times.
  jeffress_counts:  Jeffress detector spike counts vs the detector's tuned Δ, one bar
                    group per true Δ, and the mean-count matrix (true Δ x detector).
"""
from __future__ import annotations

import numpy as np

from . import demos
from .model import random_rasters
from ..plotting import pyplot as _pyplot


def run(network, rasters, backend="cpu", **opts):
    """spynq.lif.backends.run; opts (e.g. ol= on a board) go to every call."""
    from .backends import run as _run

    return _run(network, rasters, backend=backend, **opts)




def spike_rasters(network, rasters, backend: str = "cpu", sample: int = 0, result=None, out_png=None,
                  title: str = "", **opts) -> dict:
    """Input and per-layer output spikes of one sample.

    result: a LifResult of `network` on `rasters` (run here on `backend` if None).
    Returns {"backend", "sample", "input" (T, n_in) bool, "layers" [(T, n) bool],
    "counts" [per layer total spikes], "rates" [per layer spikes / (T n)]}.
    """
    x = np.asarray(rasters, bool)
    r = run(network, x, backend=backend, **opts) if result is None else result
    layers = [np.asarray(s)[sample] for s in r.spikes]
    d = {"backend": getattr(r, "backend", backend), "sample": int(sample), "input": x[sample], "layers": layers,
         "counts": [int(s.sum()) for s in layers], "rates": [float(s.mean()) for s in layers]}
    if out_png is not None:
        _plot_rasters(d, out_png, title)
    return d


def _plot_rasters(d, out_png, title):
    plt = _pyplot()
    panels = [("input", d["input"])] + [(f"layer {i + 1}", s) for i, s in enumerate(d["layers"])]
    heights = [max(1.0, min(3.0, s.shape[1] / 120)) for _, s in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8.0, 1.2 + 1.6 * sum(heights)), sharex=True,
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    T = d["input"].shape[0]
    for ax, (name, s) in zip(axes[:, 0], panels):
        t, n = np.nonzero(s)
        ax.scatter(t, n, s=2 if s.shape[1] > 64 else 8, marker="|" if s.shape[1] <= 64 else ".", color="k",
                   linewidths=0.8)
        ax.set_xlim(-0.5, T - 0.5)
        ax.set_ylim(-0.5, s.shape[1] - 0.5)
        ax.set_ylabel(f"{name}\nneuron ({s.shape[1]})", fontsize=8)
        ax.set_title(f"{name}: {int(s.sum())} spikes, rate {s.mean():.3f} per neuron-step", fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(title or f"spike rasters, sample {d['sample']}, backend {d['backend']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def record_membranes(network, rasters, layer: int = -1, backend: str = "cpu", **opts) -> tuple[np.ndarray, list]:
    """V(t) after every step (after reset) of every neuron of `layer`: (batch, T, n).

    The core has no trace readout (LifResult holds v_last and v_max only, and
    reference.run_layer has no hook), so this uses the public API only: v_last is V
    after the last step, and a run over the first t + 1 steps of the rasters is exactly
    the first t + 1 steps of the full run (deliveries past the end are dropped, nothing
    looks ahead), so v_last of the prefix runs 1..T is the exact trace, on any backend
    (golden gives the fixed-point trace). Cost: T runs, for short demos only. A core
    option such as run(..., record="v") returning (batch, T, n) V before and after reset
    would make this one run and show the pre-reset peaks.
    Returns (traces, spikes of that layer per step from the full run).
    """
    x = np.asarray(rasters, bool)
    B, T, _ = x.shape
    full = run(network, x, backend=backend, **opts)
    n = np.asarray(full.spikes[layer]).shape[-1]
    v = np.zeros((B, T, n))
    for t in range(T):
        v[:, t] = np.asarray(run(network, x[:, : t + 1], backend=backend, **opts).v_last[layer], float)
    return v, full


def membrane_traces(network, rasters, layer: int = -1, neurons=None, sample: int = 0, backend: str = "cpu",
                    out_png=None, title: str = "", **opts) -> dict:
    """Membrane potential traces of a few neurons (default: the 4 most active of `layer`).

    Returns {"layer", "neurons", "t", "v" (T, k) V after each step (after reset),
    "spikes" (T, k) bool, "threshold", "v_max" (k,), "method"}.
    """
    x = np.asarray(rasters, bool)[sample: sample + 1]
    v, full = record_membranes(network, x, layer, backend, **opts)
    s = np.asarray(full.spikes[layer])[0]
    if neurons is None:
        neurons = np.argsort(-s.sum(axis=0), kind="stable")[:4]
    neurons = np.asarray(neurons, np.int64)
    lay = network.layers[layer]
    d = {"layer": int(layer % len(network.layers)), "neurons": neurons.tolist(), "t": np.arange(x.shape[1]),
         "v": v[0][:, neurons], "spikes": s[:, neurons], "threshold": float(lay.params.threshold),
         "v_max": np.asarray(full.v_max[layer], float)[0, neurons], "method": "prefix reruns of v_last"}
    if out_png is not None:
        _plot_traces(d, out_png, title)
    return d


def _plot_traces(d, out_png, title):
    plt = _pyplot()
    k = len(d["neurons"])
    fig, axes = plt.subplots(k, 1, figsize=(8.0, 1.0 + 1.5 * k), sharex=True, squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        v = d["v"][:, i]
        ax.plot(d["t"], v, "-", color="tab:blue", lw=1.0, drawstyle="steps-post", label="V after step")
        ts = np.flatnonzero(d["spikes"][:, i])
        ax.plot(ts, np.full(ts.size, d["threshold"]), "v", color="tab:red", ms=4, label="spike")
        ax.axhline(d["threshold"], color="gray", ls="--", lw=0.8, label="threshold")
        ax.set_ylabel(f"neuron {d['neurons'][i]}", fontsize=8)
        ax.tick_params(labelsize=7)
        lo = min(float(v.min()), 0.0)
        ax.set_ylim(lo - 0.05 * (d["threshold"] - lo), d["threshold"] + 0.25 * (d["threshold"] - lo))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="upper right", ncol=3)
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(title or f"membrane potential, layer {d['layer'] + 1} ({d['method']})", fontsize=10, x=0.3)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def jeffress_counts(max_itd: int = 8, itds=None, backend: str = "cpu", T: int = 128, rate: float = 0.15, seed=0,
                    noise: dict | None = None, accuracy: dict | None = None, out_png=None) -> dict:
    """Detector spike counts vs tuned Δ for a few true Δ (one sample each, with `noise`
    as in demos.CONDITIONS), and the mean count matrix: from a `demos.jeffress_accuracy`
    result if given (its condition with the same noise, else its first), else computed
    here with 4 samples per Δ.

    Returns {"tuned" (2M+1,), "itds" [true Δ], "counts" (len(itds), 2M+1), "expected"
    [expected detector index per Δ], "estimates" [estimated Δ], "matrix" (2M+1, 2M+1)
    mean counts (rows true Δ), "matrix_condition"}.
    """
    j = demos.jeffress(max_itd)
    itds = [-max_itd, -max_itd // 2, 0, max_itd // 2 + 1, max_itd] if itds is None else list(itds)
    x = j.rasters(itds, T=T, rate=rate, seed=seed, **(noise or {}))
    counts = demos.detector_counts(j, x, backend)
    est = demos.estimate_from_counts(counts, j.tuned)
    if accuracy is None:
        all_itds = np.repeat(np.arange(-max_itd, max_itd + 1), 4)
        xa = j.rasters(all_itds, T=T, rate=rate, seed=(seed, 1), **(noise or {}))
        ca = demos.detector_counts(j, xa, backend)
        matrix = np.stack([ca[all_itds == d].mean(axis=0) for d in range(-max_itd, max_itd + 1)])
        cond = "noise-free" if not noise else str(noise)
    else:
        conds = [k for k in accuracy if isinstance(accuracy[k], dict) and "counts_mean" in accuracy[k]]
        same = [k for k in conds if accuracy[k].get("params") == dict(noise or {}) or
                (not noise and not any(accuracy[k].get("params", {}).values()))]
        cond = (same or conds)[0]  # the condition with the same noise as the bars, else the first
        matrix = np.asarray(accuracy[cond]["counts_mean"])
    d = {"tuned": j.tuned, "itds": itds, "counts": counts, "expected": [j.expected_detector(v) for v in itds],
         "estimates": est.tolist(), "matrix": matrix, "matrix_condition": cond, "backend": backend,
         "noise": dict(noise or {})}
    if out_png is not None:
        _plot_jeffress(d, out_png)
    return d


def _plot_jeffress(d, out_png):
    plt = _pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13.0, 4.2), gridspec_kw={"width_ratios": [1.6, 1.0]})
    tuned = np.asarray(d["tuned"])
    n = len(d["itds"])
    width = 0.8 / n
    colors = plt.cm.viridis(np.linspace(0.05, 0.9, n))
    for i, (itd, c) in enumerate(zip(d["itds"], colors)):
        x = tuned + (i - (n - 1) / 2) * width
        ax.bar(x, d["counts"][i], width=width, color=c, label=f"true Δ = {itd:+d} -> est. {d['estimates'][i]:+.0f}")
        ax.axvline(itd, color=c, ls=":", lw=1.0)
    ax.set_xticks(tuned)
    ax.tick_params(labelsize=7)
    ax.set_xlabel("detector, labelled by its tuned Δ = dL - dR (steps)")
    ax.set_ylabel("detector spikes")
    noise = "noise-free" if not d["noise"] else ", ".join(f"{k}={v}" for k, v in d["noise"].items())
    ax.set_title(f"Jeffress detectors, one sample per true Δ ({noise}, backend {d['backend']})", fontsize=9)
    ax.set_ylim(0, 1.3 * max(1, int(np.max(d["counts"]))))
    ax.legend(fontsize=7, loc="upper center", ncol=3)
    ax.grid(True, axis="y", alpha=0.3)
    m = np.asarray(d["matrix"])
    im = ax2.imshow(m, origin="lower", cmap="magma", aspect="auto",
                    extent=[tuned[0] - 0.5, tuned[-1] + 0.5, tuned[0] - 0.5, tuned[-1] + 0.5])
    ax2.plot(tuned, tuned, "c:", lw=0.8)
    ax2.set_xlabel("detector tuned Δ")
    ax2.set_ylabel("true Δ")
    ax2.set_title(f"mean detector spikes ({d['matrix_condition']})", fontsize=9)
    fig.colorbar(im, ax=ax2, fraction=0.046)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    """Write the demo figures and the Jeffress accuracy numbers into --out."""
    import argparse
    import json
    from pathlib import Path

    p = argparse.ArgumentParser(description="LIF-with-delays demos: Jeffress ITD detection, speech-shape network")
    p.add_argument("--out", default=".", help="folder for the PNGs and lif_demos.json")
    p.add_argument("--backend", default="cpu", help="cpu, golden, csim, ...")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    acc = demos.jeffress_accuracy(a.backend, seed=a.seed)
    jeffress_counts(backend=a.backend, accuracy=acc, seed=a.seed, out_png=out / "lif_jeffress.png")
    jeffress_counts(backend=a.backend, accuracy=acc, seed=a.seed, noise=demos.CONDITIONS["jitter"],
                    out_png=out / "lif_jeffress_noisy.png")
    net = demos.speech_shape_network(seed=a.seed)
    x = random_rasters(np.random.default_rng(a.seed), 1, 100, net.n_in, 0.05)
    r = spike_rasters(net, x, backend=a.backend, out_png=out / "lif_speech_rasters.png",
                      title="speech-shape network 700-128-128-20, axonal delays 0..64, 5 % input")
    m = membrane_traces(net, x, layer=1, backend=a.backend, out_png=out / "lif_speech_traces.png")
    summary = {"jeffress": {c: {k: acc[c][k] for k in ("exact", "mae", "silent", "params")}
                            for c in acc if isinstance(acc[c], dict) and "exact" in acc[c]},
               "speech": {"counts": r["counts"], "rates": r["rates"], "trace_neurons": m["neurons"]},
               "backend": a.backend}
    (out / "lif_demos.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
