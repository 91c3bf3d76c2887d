"""Figures 9B, 10B and 11 of the STM paper, reproduced on any STM backend.

  error_vs_samples: mean absolute posterior error of the causal-inference workloads vs
                    the number of sample neurons, one line per backend (PC vs FPGA in the
                    paper), mean over sample seeds with a min-max band.
  multisensory:     inferred vs theoretical posterior of S for the multisensory
                    workloads: the density from the weighted histogram of the root
                    samples for one evidence set, and the posterior mean across many.
Both return the numbers they plot (plain floats and lists) so the CLI and the tests can
use them. Run `python -m spynq.stm.figures --out DIR` to write both PNGs.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from . import exact
from .backends import infer
from .result import ST_UNDERFLOW, ST_ZERO_SUM, ST_SATURATED
from .workloads import CAUSAL, MULTISENSORY, Workload
from ..plotting import pyplot as _pyplot
from ..errors import SpynqValueError

SIZES = (100, 200, 500, 1000, 2000, 4000)
BACKENDS = ("cpu", "golden")
# colour, marker, label, line style, line width: cpu drawn wide underneath so that an
# identical fixed-point curve on top stays visible
STYLE = {"cpu": ("tab:blue", "o", "cpu (float64, 'PC')"), "golden": ("tab:red", "s", "golden (fixed point, = FPGA)"),
         "csim": ("tab:green", "^", "csim (HLS C++)"), "cosim": ("tab:purple", "v", "cosim"),
         "fpga": ("tab:orange", "D", "fpga")}
LINE = {"cpu": dict(lw=4.0, alpha=0.55, ls="-", ms=8)}
OTHER_LINE = dict(lw=1.4, alpha=1.0, ls="--", ms=5, mfc="none")




def _flags(status: np.ndarray) -> dict:
    """Fraction of evidence sets with each status bit set."""
    s = np.asarray(status)
    return {"underflow": float(np.mean(s & ST_UNDERFLOW > 0)), "zero_sum": float(np.mean(s & ST_ZERO_SUM > 0)),
            "saturated": float(np.mean(s & ST_SATURATED > 0))}


def _workloads(ws):
    return [w() if callable(w) else w for w in ws]


def error_vs_samples(workloads=CAUSAL, sizes=SIZES, backends=BACKENDS, seeds=(0, 1, 2, 3), out_png=None,
                     n_evidence: int = 100, evidence_seed: int = 2024, **opts) -> dict:
    """Posterior error vs sample-population size (Figs 9B, 10B).

    For every workload one fixed batch of n_evidence evidence sets is drawn from the model
    (evidence_seed); for every sample seed and size one set of populations is drawn and
    run on every backend, so backends differ only in their arithmetic. Returns
    {"sizes", "seeds", "n_evidence", "workloads": {name: {backend: {"errors" (sizes x seeds),
    "mean", "min", "max", "seconds" (per size, summed over seeds), "flags" (per size)}}}}.
    """
    out = {"sizes": [int(n) for n in sizes], "seeds": [int(s) for s in seeds], "n_evidence": int(n_evidence),
           "workloads": {}}
    wls: list[Workload] = _workloads(workloads)
    for wl in wls:
        if wl.metric != "posterior_error":
            raise SpynqValueError(f"{wl.name}: error_vs_samples needs a discrete-root workload")
        ev = wl.evidence(n_evidence, evidence_seed)
        p_exact = exact.discrete_posterior(wl.network, ev)
        res = {b: {"errors": np.zeros((len(sizes), len(seeds))), "seconds": np.zeros(len(sizes)), "flags": []}
               for b in backends}
        for i, n in enumerate(sizes):
            status = {b: [] for b in backends}
            for j, seed in enumerate(seeds):
                pops = wl.network.sample(int(n), seed=1000 * int(seed) + i)
                for b in backends:
                    t0 = time.perf_counter()
                    r = infer(wl.network, pops, ev, b, **opts)
                    res[b]["seconds"][i] += time.perf_counter() - t0
                    res[b]["errors"][i, j] = exact.posterior_error(r.posterior(), p_exact)
                    status[b].append(r.status)
            for b in backends:
                res[b]["flags"].append(_flags(np.concatenate(status[b])))
        out["workloads"][wl.name] = {
            b: {"errors": r["errors"].tolist(), "mean": r["errors"].mean(axis=1).tolist(),
                "min": r["errors"].min(axis=1).tolist(), "max": r["errors"].max(axis=1).tolist(),
                "seconds": r["seconds"].tolist(), "flags": r["flags"]}
            for b, r in res.items()}
    if out_png is not None:
        _plot_errors(wls, out, out_png)
    return out


def _plot_errors(wls, out, out_png):
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(wls), figsize=(5.2 * len(wls), 4.0), squeeze=False)
    sizes = np.array(out["sizes"])
    for ax, wl in zip(axes[0], wls):
        for b, r in out["workloads"][wl.name].items():
            color, marker, label = STYLE.get(b, ("k", "x", b))
            ax.plot(sizes, r["mean"], marker=marker, color=color, label=label, **LINE.get(b, OTHER_LINE))
            ax.fill_between(sizes, r["min"], r["max"], color=color, alpha=0.18, linewidth=0)
        first = np.asarray(next(iter(out["workloads"][wl.name].values()))["mean"])
        c = np.exp(np.mean(np.log(first * np.sqrt(sizes))))  # least-squares fit in log space
        ax.plot(sizes, c / np.sqrt(sizes), ":", color="k", lw=1.0, label="∝ 1/√N (fit)")
        ax.axhline(0.02, color="gray", ls="--", lw=0.8)
        ax.text(sizes[-1], 0.02, "0.02 ", va="bottom", ha="right", fontsize=8, color="gray")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sample neurons per node")
        ax.set_ylabel("mean |P̂(A=a|I) - P(A=a|I)|")
        ax.set_title(f"{wl.title}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Posterior error vs samples: {out['n_evidence']} evidence sets, mean and min-max over "
                 f"{len(out['seeds'])} sample seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def multisensory(workloads=MULTISENSORY, n_samples: int = 1000, backends=BACKENDS, n_evidence: int = 200,
                 seed: int = 0, out_png=None, bins: int = 24, evidence_seed: int = 2024, **opts) -> dict:
    """Inferred vs theoretical posterior of S (Fig. 11), 1000 sample neurons as in the paper.

    Returns {"n_samples", "n_evidence", "workloads": {name: {"exact_mean", "exact_std", "example",
    backend: {"mean", "mean_abs_error", "max_abs_error", "rel_error" (error / posterior std),
    "tv" (mean total-variation distance between the binned posteriors, bins over
    +-4 exact posterior std), "seconds", "flags"}}}}.
    """
    out = {"n_samples": int(n_samples), "n_evidence": int(n_evidence), "workloads": {}}
    wls: list[Workload] = _workloads(workloads)
    for wl in wls:
        if wl.metric != "mean_error":
            raise SpynqValueError(f"{wl.name}: multisensory needs a continuous-root workload")
        ev = wl.evidence(n_evidence, evidence_seed)
        post = exact.continuous_posterior(wl.network, ev)
        m_exact, s_exact = post.mean(), post.std()
        pops = wl.network.sample(int(n_samples), seed=seed)
        # per-set bins: +-4 posterior std around the exact mean
        lo, hi = m_exact - 4 * s_exact, m_exact + 4 * s_exact
        ex = int(np.argmin(np.abs(m_exact - 0.5 * (wl.extra["low"] + wl.extra["high"]))))  # a central example
        exact_mass = _row_bin_mass(post, lo, hi, bins)
        d = {"exact_mean": m_exact.tolist(), "exact_std": s_exact.tolist(), "example": ex,
             "example_evidence": ev[ex].tolist()}
        for b in backends:
            t0 = time.perf_counter()
            r = infer(wl.network, pops, ev, b, **opts)
            dt = time.perf_counter() - t0
            mh = r.mean()
            err = np.abs(mh - m_exact)
            tv = 0.5 * np.abs(_row_histograms(r, lo, hi, bins) - exact_mass).sum(axis=1)
            d[b] = {"mean": mh.tolist(), "mean_abs_error": float(err.mean()), "max_abs_error": float(err.max()),
                    "rel_error": float(np.mean(err / s_exact)), "tv": float(np.mean(tv)),
                    "tv_max": float(np.max(tv)), "seconds": dt,
                    "flags": _flags(r.status), "weights_example": r.weights[ex].tolist()}
        d["root_samples"] = pops[wl.network.root_node.name].tolist()
        out["workloads"][wl.name] = d
    if out_png is not None:
        _plot_multisensory(wls, out, out_png, bins)
    return out


def _row_histograms(r, lo, hi, bins):
    """Weighted histogram of the root samples with per-set bins [lo_k, hi_k] (batch, bins)."""
    x = np.asarray(r.root_samples, float)[None, :]
    idx = np.floor((x - lo[:, None]) / ((hi - lo)[:, None] / bins)).astype(np.int64)
    inside = (idx >= 0) & (idx < bins)
    return np.stack([np.where(inside & (idx == j), r.weights, 0.0).sum(axis=1) for j in range(bins)], axis=1)


def _row_bin_mass(post, lo, hi, bins):
    """Exact posterior mass of the same per-set bins (batch, bins)."""
    t = np.linspace(0.0, 1.0, bins + 1)
    edges = lo[:, None] + (hi - lo)[:, None] * t[None, :]
    a = (post.prior.low - post.m) / post.sd
    b = (post.prior.high - post.m) / post.sd
    from scipy import stats

    cdf = stats.truncnorm(a[:, None], b[:, None], loc=post.m[:, None], scale=post.sd).cdf(edges)
    return np.diff(cdf, axis=1)


def _plot_multisensory(wls, out, out_png, bins):
    plt = _pyplot()
    fig, axes = plt.subplots(len(wls), 3, figsize=(15, 3.9 * len(wls)), squeeze=False)
    for row, wl in zip(axes, wls):
        d = out["workloads"][wl.name]
        backends = [b for b in d if isinstance(d[b], dict)]
        ex = d["example"]
        m, s = d["exact_mean"][ex], d["exact_std"][ex]
        edges = np.linspace(m - 4 * s, m + 4 * s, bins + 1)
        width = edges[1] - edges[0]
        samples = np.asarray(d["root_samples"])
        ev = np.asarray(d["example_evidence"])[None, :]
        post = exact.continuous_posterior(wl.network, ev)
        grid = np.linspace(edges[0], edges[-1], 400)
        # (1) density for one evidence set: weighted histogram of the root samples
        ax = row[0]
        idx = np.searchsorted(edges, samples, side="right") - 1
        keep = (idx >= 0) & (idx < bins)
        for b in backends:
            color, _, label = STYLE.get(b, ("k", "x", b))
            st = LINE.get(b, OTHER_LINE)
            h = np.bincount(idx[keep], weights=np.asarray(d[b]["weights_example"])[keep], minlength=bins)
            ax.stairs(h / width, edges, color=color, label=label, lw=st["lw"], alpha=st["alpha"], ls=st["ls"])
        ax.plot(grid, post.pdf(grid)[0], "k-", lw=1.4, label="exact (truncated Gaussian)")
        cues = ", ".join(f"{v.name}={x:.2f}" for v, x in zip(wl.network.evidence_nodes, ev[0]))
        ax.set_title(f"{wl.title}\nposterior of S given {cues}", fontsize=9)
        ax.set_xlabel("S")
        ax.set_ylabel("posterior density")
        ax.legend(fontsize=7)
        # (2) inferred vs theoretical posterior mean over many evidence sets
        me = np.asarray(d["exact_mean"])
        lim = [wl.extra["low"], wl.extra["high"]]
        ax = row[1]
        for b in backends:
            color, marker, label = STYLE.get(b, ("k", "x", b))
            ax.plot(me, d[b]["mean"], marker, color=color, ms=4 if b == "cpu" else 3, alpha=0.7,
                    mfc=color if b == "cpu" else "none", ls="none", label=label)
        ax.plot(lim, lim, "k-", lw=0.8, label="inferred = theory")
        ax.set_xlim(lim)
        ax.set_ylim(lim)
        ax.set_xlabel("theoretical posterior mean E[S | cues]")
        ax.set_ylabel("inferred posterior mean")
        ax.set_title(f"{out['n_evidence']} evidence sets from the model, {out['n_samples']} sample neurons", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(True, alpha=0.3)
        # (3) the residual, in units of the posterior std
        ax = row[2]
        sd = np.asarray(d["exact_std"])
        for b in backends:
            color, marker, label = STYLE.get(b, ("k", "x", b))
            ax.plot(me, (np.asarray(d[b]["mean"]) - me) / sd, marker, color=color, ms=4 if b == "cpu" else 3,
                    alpha=0.7, mfc=color if b == "cpu" else "none", ls="none",
                    label=f"{b}: mean |err| {d[b]['mean_abs_error']:.3f} = {d[b]['rel_error']:.3f} std")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlim(lim)
        ax.set_xlabel("theoretical posterior mean E[S | cues]")
        ax.set_ylabel("(inferred - theory) / posterior std")
        ax.set_title("error of the inferred posterior mean", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def _summary(d: dict) -> dict:
    """Drop the long per-sample lists, keep the numbers worth printing."""
    if "sizes" in d:
        return d
    return {"n_samples": d["n_samples"], "n_evidence": d["n_evidence"],
            "workloads": {w: {b: {k: v for k, v in r.items() if k not in ("mean", "weights_example")}
                              for b, r in x.items() if isinstance(r, dict)}
                          for w, x in d["workloads"].items()}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Reproduce the STM paper's Figs 9B, 10B and 11")
    p.add_argument("--out", default=".", help="folder for the PNGs and a JSON of the numbers")
    p.add_argument("--backends", default=",".join(BACKENDS), help="comma list: cpu, golden, csim, ...")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)))
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--evidence", type=int, default=100, help="evidence sets per workload (error plot)")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    backends = tuple(a.backends.split(","))
    e = error_vs_samples(sizes=tuple(int(x) for x in a.sizes.split(",")), backends=backends,
                         seeds=tuple(range(a.seeds)), n_evidence=a.evidence, out_png=out / "stm_error_vs_samples.png")
    m = multisensory(backends=backends, out_png=out / "stm_multisensory.png")
    (out / "stm_figures.json").write_text(json.dumps({"error_vs_samples": e, "multisensory": _summary(m)}, indent=1))
    print(json.dumps({"error_vs_samples": {w: {b: r["mean"] for b, r in x.items()} for w, x in e["workloads"].items()},
                      "multisensory": {w: {b: {k: r[k] for k in ("mean_abs_error", "rel_error", "tv")}
                                           for b, r in x.items()} for w, x in _summary(m)["workloads"].items()}},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
