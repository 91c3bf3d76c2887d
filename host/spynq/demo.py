"""`spynq demo` (`make demo`): the main job of the three kernels on the best backend
present and on the fixed-point golden model, one CPU-vs-FPGA table, the plots and a
one-page summary in build/demo/.

  STM    the paper's four workloads (Figs 9-11): posterior vs the exact one
  LIF    the Jeffress coincidence detectors (ITD estimate vs the true ITD) and the
         speech paper's 700-128-128-20 network with axonal delays
  SNNWM  a 512-512 window layer and the DVS128-Gesture VGG-small network (FC part on
         the backend, convolutions in numpy)

Off a board the backend is cpu (numpy float64) and every FPGA figure is the kernel's
cycle model (its label says which II table and clock); on a ZCU104 with the spynq
overlay (spynq.hw.board.session) it is the FPGA, timed by the overlay's perf timer, its
fixed-point results checked bit for bit against golden, and energy per call comes from
the PMBus rails when the image can read them (else the table says why not).

The pieces are used by the notebooks too (overlays/zcu104/notebooks/cpu_vs_fpga.ipynb):
``cases`` (the workloads), ``evaluate`` (one table row), ``table_markdown``,
``plot_comparison``.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

OVERLAY = "all"  # the overlay session() loads (spynq_all.bit): its parameters set the STM estimate


class Progress:
    """One line per step with the seconds since the start."""

    def __init__(self, file=None, prefix: str = "demo"):
        self.t0 = time.perf_counter()
        self.file = file
        self.prefix = prefix

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def __call__(self, msg: str) -> None:
        print(f"[{self.prefix} {self.elapsed:6.1f} s] {msg}", file=self.file or sys.stdout, flush=True)


# --------------------------------------------------------------------------- workloads


@dataclass
class Case:
    """One workload of one kernel: how to run it on a backend, how to read its
    fixed-point words (for the bit-exact check), its accuracy metric and its modelled
    kernel cycles (from the golden result's spikes where the model needs them)."""

    kernel: str  # hls/ folder: stm, lif_delay, snnwm
    name: str
    detail: str
    items: int  # evidence sets / samples per call
    item: str
    run: Callable  # run(backend, **opts) -> result
    words: Callable  # result -> tuple of integer arrays
    metric_name: str
    metric: Callable  # result -> float
    cycles: Callable  # golden result -> modelled cycles of one kernel call
    label: str  # the cycle model's label (II table and clock)
    network: object = None
    inputs: object = None  # what run() feeds the kernel (evidence, rasters)
    model_note: str = ""  # what the cycle model assumes beyond its label

    @cached_property
    def golden(self):
        """The golden result (computed once)."""
        return self.run("golden")

    def same(self, a, b) -> bool:
        """Bit for bit equal fixed-point results."""
        wa, wb = self.words(a), self.words(b)
        return len(wa) == len(wb) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(wa, wb))


def stm_cases(n: int = 2000, batch: int = 32, names=None, seed: int = 0) -> list[Case]:
    from . import overlays
    from .stm import backends, cycles, exact, workloads

    out = []
    for build in workloads.ALL:
        if names is not None and build.__name__ not in names:
            continue
        wl = build()
        net = wl.network
        pops = net.sample(n, seed=seed)
        ev = wl.evidence(batch, seed=seed + 1)
        if net.root_node.discrete:
            p = exact.discrete_posterior(net, ev)
            metric, mname = (lambda r, p=p: exact.posterior_error(r.posterior(), p)), "mean |P̂(A|I) - P(A|I)|"
        else:
            m = exact.continuous_posterior(net, ev).mean()
            metric, mname = (lambda r, m=m: exact.mean_error(r.mean(), m)), "mean |Ê[S|I] - E[S|I]|"
        params = overlays.kernel_params(OVERLAY, "stm")
        out.append(Case(
            "stm", wl.name, f"N={n} samples per node, {batch} evidence sets", batch, "evidence set",
            lambda backend, net=net, pops=pops, ev=ev, **o: backends.infer(net, pops, ev, backend, **o),
            lambda r: (r.raw_weights, r.status, r.underflows), mname, metric,
            lambda g, net=net, pops=pops: cycles.stm_cycles(net, pops, batch, params=params).total,
            cycles.SCHEDULE.label, net, ev,
            f"STM modelled with overlay '{OVERLAY}' parameters ({', '.join(f'{k}={v}' for k, v in params.items())})"))
    return out


def jeffress_case(n_trials: int = 200, max_itd: int = 8, T: int = 128, seed: int = 0) -> Case:
    from .lif import backends, cycles, demos

    j = demos.jeffress(max_itd)
    rng = np.random.default_rng(seed)
    itds = np.concatenate([np.arange(-max_itd, max_itd + 1), rng.integers(-max_itd, max_itd + 1, n_trials)])[:n_trials]
    x = j.rasters(itds, T=T, seed=seed)

    def correct(r):
        return float(np.mean(demos.estimate_from_counts(r.counts[-1], j.tuned) == itds))

    return Case("lif_delay", "jeffress", f"2 ears -> {j.n_detectors} detectors, T={T}, {n_trials} trials (noise-free)",
                n_trials, "trial", lambda backend, **o: backends.run(j.network, x, backend, **o),
                lambda r: tuple(r.raw["out"]), "ITD estimated exactly", correct,
                lambda g: cycles.lif_cycles(j.network, x, g.spikes).total, cycles.SCHEDULE.label, j.network, x)


def speech_case(T: int = 100, batch: int = 16, seed: int = 0) -> Case:
    from .lif import backends, cycles, demos

    net = demos.speech_shape_network(seed=seed)
    x = demos.BenchmarkShape(net, T=T, density=0.05).rasters(batch, seed=seed + 1)
    sizes = "-".join(str(s) for s in [net.n_in] + [layer.n_out for layer in net.layers])
    return Case("lif_delay", "speech_shape", f"{sizes}, axonal delays 0..64, T={T}, 5 % input, batch {batch}", batch,
                "sample", lambda backend, **o: backends.run(net, x, backend, **o), lambda r: tuple(r.raw["out"]),
                "output spikes per sample", lambda r: float(np.asarray(r.counts[-1]).sum() / batch),
                lambda g: cycles.lif_cycles(net, x, g.spikes).total, cycles.SCHEDULE.label, net, x)


def snnwm_case(n: int = 512, L: int = 4, T: int = 16, batch: int = 16, p: float = 0.05, seed: int = 0) -> Case:
    from .snnwm import backends, cycles, study

    net = study.layer_network(n, n, L, seed=seed)
    x = study.rasters(batch, T, n, p, (seed, 7))
    return Case("snnwm", "window_layer", f"{n}-{n} window layer, L={L}, T={T}, input density {p}, batch {batch} "
                "(W1 loaded every call)", batch, "sample",
                lambda backend, **o: backends.run(net, x, backend, **o), lambda r: (r.raw["out"],),
                "output spike rate", lambda r: float(np.asarray(r.spikes[-1]).mean()),
                lambda g: cycles.snnwm_cycles(net, x, g.spikes).total, cycles.SCHEDULE.label, net, x)


def cases(quick: bool = False) -> list[Case]:
    """The table's workloads (quick: small sizes, for tests)."""
    if quick:
        return (stm_cases(300, 4) + [jeffress_case(17, T=64), speech_case(T=40, batch=2),
                                     snnwm_case(128, T=8, batch=2)])
    return stm_cases() + [jeffress_case(), speech_case(), snnwm_case()]


# --------------------------------------------------------------------------- one row


@dataclass
class Row:
    kernel: str
    workload: str
    detail: str
    items: int
    backend: str  # what ran beside golden: cpu off the board, fpga on it
    cpu_s: float  # per call, numpy float64 (median after a warm-up)
    golden_s: float  # per call, numpy fixed point (one run)
    fpga_s: float  # per call: estimated (cycle model) or measured (perf timer)
    fpga_source: str
    fpga_note: str  # what the cycle model assumed
    fpga_cycles: float | None  # modelled cycles, or on the board the perf timer's
    fpga_estimated_s: float  # the cycle model's figure (beside a measured one on the board)
    fpga_host_s: float | None = None  # board: host time per call (syncs, registers, wait)
    cpu_j: float | None = None
    fpga_j: float | None = None
    energy_why: str = ""
    bit_exact: bool | None = None  # fpga == golden; None off the board
    metric_name: str = ""
    metric: dict = field(default_factory=dict)  # backend -> value

    @property
    def speedup(self) -> float:
        return self.cpu_s / self.fpga_s


def _energy(fn, repeats: int):
    """(joules per call or None, where from or why not): spynq.bench.energy on a machine
    with power rails; elsewhere the reason, without running fn again."""
    from .bench import energy
    from .hw import power

    found, why = power.rails()
    if not found:
        return None, why
    e = energy(fn, repeats)
    return e["joules"], e["energy_source"] + " (whole-board power x time per call)"


def evaluate(case: Case, backend: str = "cpu", ol=None, repeats: int = 3) -> Row:
    """One table row: the cpu backend timed (median of `repeats` after a warm-up), golden
    once, and the FPGA: on a board measured (spynq.bench.fpga_call: median of the perf
    timer's seconds after a warm-up) with every run checked bit for bit against golden,
    else the cycle model's estimate."""
    from .bench import fpga_call, time_call

    g = case.golden
    cpu_first = case.run("cpu")  # also the warm-up
    cpu_s = time_call(lambda: case.run("cpu"), repeats, warmup=0)
    cyc = case.cycles(g)
    est = cyc / _clock_hz(ol)
    row = Row(case.kernel, case.name, case.detail, case.items, backend, cpu_s, g.seconds, est, case.label,
              case.model_note, cyc, est,
              metric_name=case.metric_name, metric={"cpu": case.metric(cpu_first), "golden": case.metric(g)})
    if backend == "fpga":
        runs = []

        def run():
            runs.append(case.run("fpga", ol=ol))
            return runs[-1]

        row.fpga_s, info = fpga_call(run, repeats)
        row.bit_exact = all(case.same(r, g) for r in runs)
        row.fpga_source = info.get("source", "measured")
        row.fpga_cycles = info.get("cycles", cyc)
        row.fpga_host_s = info.get("host_seconds")
        row.fpga_j = info.get("joules")
        row.metric["fpga"] = case.metric(runs[-1])
    row.cpu_j, row.energy_why = _energy(lambda: case.run("cpu"), repeats)
    if backend != "fpga":
        row.energy_why += "; the FPGA column is an estimate: no energy without a board"
    return row


def _clock_hz(ol) -> float:
    """The PL clock the estimate assumes: the board's when an overlay is loaded, else the
    platform's (hls/common/spynq_platform.h)."""
    from .hw.platform import PL_CLOCK_HZ

    if ol is not None:
        try:
            return float(ol.clock_mhz) * 1e6
        except Exception:  # noqa: BLE001 (a board without pynq.Clocks: keep the designed clock)
            pass
    return float(PL_CLOCK_HZ)


# --------------------------------------------------------------------------- table, plot


def _ms(s) -> str:
    return "-" if s is None else f"{1e3 * s:.4g}"


def _mj(j) -> str:
    return "-" if j is None else f"{1e3 * j:.4g}"


def table_markdown(rows: list[Row]) -> str:
    """The CPU-vs-FPGA table (markdown), with the sources of its columns below it."""
    be = rows[0].backend if rows else "cpu"
    board = be == "fpga"  # measured, with the cycle model's estimate beside it
    fpga = "FPGA measured (ms) | FPGA estimated (ms)" if board else "FPGA estimated (ms)"
    head = ("| kernel | workload | items/call | CPU numpy float64 (ms) | golden numpy fixed point (ms) | " + fpga + " "
            "| CPU / FPGA | CPU energy (mJ) | FPGA energy (mJ) | FPGA = golden |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        exact = "-" if r.bit_exact is None else ("yes, bit for bit" if r.bit_exact else "**NO**")
        f = f"{_ms(r.fpga_s)} | {_ms(r.fpga_estimated_s)}" if board else _ms(r.fpga_s)
        lines.append(f"| {r.kernel} | {r.workload} | {r.items} | {_ms(r.cpu_s)} | {_ms(r.golden_s)} | {f} "
                     f"| {r.speedup:.3g}x | {_mj(r.cpu_j)} | {_mj(r.fpga_j)} | {exact} |")
    sources = list(dict.fromkeys(r.fpga_source for r in rows))
    if board:
        sources.append("estimated: the cycle models at the board's clock")
    sources += [n for n in dict.fromkeys(r.fpga_note for r in rows) if n]
    whys = list(dict.fromkeys(r.energy_why for r in rows if r.cpu_j is None or r.fpga_j is None))
    lines += ["", f"- CPU: the cpu backend (numpy float64) on this machine ({platform.machine()}), median of the "
                  "repeats after a warm-up; golden: the fixed-point numpy model, one run.",
              "- FPGA: " + "; ".join(sources) + "."]
    if be != "fpga":
        lines.append("- FPGA = golden: not checked here (no board): on a ZCU104 each FPGA run is compared word for "
                     "word with golden; the tests check that the HLS C++ (csim) and its Verilator co-simulation "
                     "equal golden bit for bit.")
    if whys:
        lines.append("- energy missing: " + "; ".join(whys) + ".")
    lines.append("- workloads: " + "; ".join(f"{r.kernel} {r.workload}: {r.detail}" for r in rows) + ".")
    return "\n".join(lines)


def plot_comparison(rows: list[Row]):
    """Latency per call (log scale) of CPU, golden and FPGA per workload, and energy per
    call when the board gave it; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    energy = any(r.cpu_j is not None or r.fpga_j is not None for r in rows)
    fig, axes = plt.subplots(1, 2 if energy else 1, figsize=(13 if energy else 9, 0.55 * len(rows) + 1.8),
                             squeeze=False)
    ax = axes[0][0]
    y = np.arange(len(rows))
    h = 0.27
    measured = bool(rows) and rows[0].backend == "fpga"
    fpga_label = "FPGA, " + ("measured" if measured else "estimated (cycle model)")
    for k, (key, label, color, hatch) in enumerate((("cpu_s", "CPU (numpy float64)", "tab:blue", None),
                                                    ("golden_s", "golden (numpy fixed point)", "tab:gray", None),
                                                    ("fpga_s", fpga_label, "tab:orange", None if measured else "//"))):
        ax.barh(y + (k - 1) * h, [1e3 * getattr(r, key) for r in rows], h, label=label, color=color, hatch=hatch,
                edgecolor="k" if hatch else None, linewidth=0.4)
    ax.set_yticks(y, [f"{r.kernel}: {r.workload}" for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ms per kernel call")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("latency per call; FPGA: " + "; ".join(dict.fromkeys(r.fpga_source for r in rows)), fontsize=9)
    if energy:
        ax = axes[0][1]
        for k, (key, label, color) in enumerate((("cpu_j", "CPU", "tab:blue"), ("fpga_j", "FPGA", "tab:orange"))):
            ax.barh(y + (k - 0.5) * h, [1e3 * (getattr(r, key) or 0) for r in rows], h, label=label, color=color)
        ax.set_yticks(y, [""] * len(rows))
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("mJ per call (board rails)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the demo


def run(out="build/demo", quick: bool = False, file=None) -> dict:
    """Everything `spynq demo` does; returns the numbers it wrote (also in results.json)."""
    from . import estimates
    from .plotting import pyplot

    plt = pyplot()
    from .hw.board import session
    from .lif import demos as lif_demos
    from .lif import plots as lif_plots
    from .snnwm import gesture, plots as snnwm_plots, study
    from .stm import figures, workloads

    log = Progress(file)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log("looking for a board (spynq.hw.board.session)")
    backend, ol, note = session()
    log(f"backend '{backend}' beside the fixed-point golden model: {note}")
    repeats = 2 if quick else 3
    res: dict = {"backend": backend, "note": note, "quick": quick, "steps": {}}

    def step(name, t0):
        res["steps"][name] = round(time.perf_counter() - t0, 2)

    # -- the table's workloads: every kernel on the backend and on golden
    rows = []
    for case in cases(quick):
        t0 = time.perf_counter()
        r = evaluate(case, backend, ol, repeats)
        rows.append(r)
        vals = ", ".join(f"{b} {v:.4g}" for b, v in r.metric.items())
        exact = "" if r.bit_exact is None else f", fpga == golden bit for bit: {r.bit_exact}"
        log(f"{case.kernel:9s} {case.name:22s} {case.metric_name}: {vals}{exact}")
        step(f"{case.kernel}:{case.name}", t0)
    if backend == "fpga" and not all(r.bit_exact for r in rows):
        log("WARNING: an FPGA result differs from golden (see the table's last column)")

    # -- the demonstrations beyond one call
    t0 = time.perf_counter()
    trials = 34 if quick else 200
    jeff = {b: lif_demos.jeffress_accuracy(b, n_trials=trials, **({"ol": ol} if b == "fpga" else {}))
            for b in dict.fromkeys((backend, "golden"))}
    for b, a in jeff.items():
        log(f"LIF Jeffress on {b}: ITD exact {a['clean']['exact']:.3f} noise-free, {a['jitter']['exact']:.3f} with "
            f"jitter/drops/extra spikes (mean |error| {a['jitter']['mae']:.2f} steps), {trials} trials")
    step("lif:jeffress_accuracy", t0)
    t0 = time.perf_counter()
    size, batch = 32, (1 if quick else 4)
    net = gesture.gesture_network(0, size=size)
    frames, labels = gesture.dvs_frames(batch, net.T, size, seed=1)
    ges = {b: net.run(frames, b, **({"ol": ol} if b == "fpga" else {})) for b in dict.fromkeys((backend, "golden"))}
    g_ok = None
    if backend == "fpga":
        g_ok = bool(np.array_equal(ges["fpga"]["fc"].readout, ges["golden"]["fc"].readout)
                    and all(np.array_equal(a, b) for a, b in zip(ges["fpga"]["fc"].spikes, ges["golden"]["fc"].spikes)))
    for b, r in ges.items():
        log(f"SNNWM DVS128-Gesture VGG-small ({size}x{size}, random weights) FC on {b}: predicted "
            f"{list(map(int, r['predict']))}, conv {1e3 * r['per_sample']['conv']:.0f} ms + FC "
            f"{1e3 * r['per_sample']['fc']:.1f} ms per sample" + ("" if g_ok is None or b != "fpga" else
                                                                   f"; fpga == golden bit for bit: {g_ok}"))
    step("snnwm:gesture", t0)

    # -- the table
    t0 = time.perf_counter()
    md = table_markdown(rows)
    (out / "table.md").write_text(f"# CPU vs FPGA\n\n{md}\n")
    meta = {"backend": backend, "note": note, "machine": platform.platform(), "python": platform.python_version(),
            "repeats": repeats, "fpga_label": rows[0].fpga_source if backend != "fpga" else "measured"}
    (out / "table.json").write_text(json.dumps({"meta": meta, "rows": [dict(asdict(r), speedup=r.speedup)
                                                                        for r in rows]}, indent=1, default=float))
    fig = plot_comparison(rows)
    fig.savefig(out / "cpu_vs_fpga.png", dpi=110)
    plt.close(fig)
    print("\n" + md + "\n", file=file or sys.stdout, flush=True)
    log(f"wrote {out / 'table.md'}, {out / 'table.json'}, {out / 'cpu_vs_fpga.png'}")
    step("table", t0)

    # -- the figures (cpu and golden: golden is what the FPGA computes, checked above on a board)
    pngs = {}
    t0 = time.perf_counter()
    log("STM figures: posterior error vs samples (Figs 9B/10B), inferred vs exact posterior (Fig. 11)")
    sizes, seeds, nev = ((100, 300), (0,), 8) if quick else ((100, 500, 2000), (0, 1), 32)
    e = figures.error_vs_samples(workloads.CAUSAL, sizes=sizes, backends=("cpu", "golden"), seeds=seeds,
                                 n_evidence=nev, out_png=out / "stm_error_vs_samples.png")
    m = figures.multisensory(workloads.MULTISENSORY, n_samples=300 if quick else 1000, backends=("cpu", "golden"),
                             n_evidence=16 if quick else 100, out_png=out / "stm_multisensory.png")
    pngs["stm_error_vs_samples.png"] = "STM: posterior error vs sample neurons per node (Figs 9B, 10B)"
    pngs["stm_multisensory.png"] = "STM: inferred vs exact posterior of S (Fig. 11)"
    res["stm_figures"] = {"error_vs_samples": {w: {b: d["mean"] for b, d in x.items()} for w, x in e["workloads"].items()},
                          "multisensory": {w: {b: {k: d[b][k] for k in ("mean_abs_error", "rel_error", "tv")}
                                               for b in ("cpu", "golden")} for w, d in m["workloads"].items()}}
    step("stm:figures", t0)
    t0 = time.perf_counter()
    log("LIF figures: Jeffress detector counts, speech-shape spike rasters")
    lif_plots.jeffress_counts(backend="golden", accuracy=jeff["golden"], T=128, out_png=out / "lif_jeffress.png")
    sc = speech_case(T=40 if quick else 100, batch=1)
    lif_plots.spike_rasters(sc.network, sc.inputs, result=sc.golden, out_png=out / "lif_speech_rasters.png",
                            title=f"speech-shape network ({sc.detail}), golden")
    pngs["lif_jeffress.png"] = "LIF: Jeffress detector spikes per true ITD, mean count matrix"
    pngs["lif_speech_rasters.png"] = "LIF: speech-shape network, input and per-layer spike rasters"
    step("lif:figures", t0)
    t0 = time.perf_counter()
    log("SNNWM figures: operation counts per window vs input density (window path vs per-step LIF)")
    ops = study.op_counts(Ls=(2, 4) if quick else (2, 4, 8), densities=study.DENSITIES[::6 if quick else 3],
                          n_in=128 if quick else 512, n_out=128 if quick else 512, batch=2,
                          fine_batch=16 if quick else 128)
    snnwm_plots.op_count_curves(ops, out / "snnwm_opcounts.png")
    pngs["snnwm_opcounts.png"] = "SNNWM: operations per window vs input spike density, crossings"
    res["snnwm_crossings"] = {int(L): d["crossing"] for L, d in ops["L"].items()}
    step("snnwm:figures", t0)
    pngs = {"cpu_vs_fpga.png": "CPU vs FPGA latency per call" + (" and energy" if any(r.cpu_j for r in rows) else ""),
            **pngs}

    # -- results.json and the one-page summary
    res.update({"rows": [dict(asdict(r), speedup=r.speedup) for r in rows],
                "jeffress": {b: {c: {k: a[c][k] for k in ("exact", "mae", "silent")} for c in ("clean", "jitter")}
                             for b, a in jeff.items()},
                "gesture": {b: {"predict": list(map(int, r["predict"])), "per_sample_s": r["per_sample"]}
                            for b, r in ges.items()},
                "gesture_bit_exact": g_ok, "pngs": pngs,
                "benchmark_estimates": estimates.estimates() if not quick else None})
    res["seconds"] = round(log.elapsed, 1)
    (out / "results.json").write_text(json.dumps(res, indent=1, default=_json_default))
    (out / "index.md").write_text(_index(res, md, pngs, meta))
    log(f"wrote {out / 'index.md'} (summary), results.json and {len(pngs)} figures in {log.elapsed:.0f} s")
    return res


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _index(res: dict, md: str, pngs: dict, meta: dict) -> str:
    b = res["backend"]
    lines = [f"# spynq demo: the three kernels on `{b}` and on the fixed-point golden model", "",
             f"{res['note']}.", f"Machine: {meta['machine']}, Python {meta['python']}; "
             f"{res['seconds']} s{' (quick sizes)' if res['quick'] else ''}.", "",
             "## CPU vs FPGA", "", md, "",
             "Files: [table.md](table.md), [table.json](table.json), [results.json](results.json) "
             "(every number of this page).", "", "## Results", ""]
    for r in res["rows"]:
        vals = ", ".join(f"{k} {v:.4g}" for k, v in r["metric"].items())
        lines.append(f"- {r['kernel']} {r['workload']} ({r['detail']}): {r['metric_name']}: {vals}")
    for be, a in res["jeffress"].items():
        lines.append(f"- LIF Jeffress ITD accuracy on {be}: exact {a['clean']['exact']:.3f} noise-free, "
                     f"{a['jitter']['exact']:.3f} with jitter, drops and extra spikes")
    for be, g in res["gesture"].items():
        lines.append(f"- SNNWM DVS128-Gesture VGG-small (32x32 frames, random weights), FC part on {be}: "
                     f"predicted classes {g['predict']}")
    if res.get("gesture_bit_exact") is not None:
        lines.append(f"- gesture FC part, fpga == golden bit for bit: {res['gesture_bit_exact']}")
    lines += ["", "## Figures", ""]
    for name, what in pngs.items():
        lines += [f"### {what}", "", f"[{name}]({name})", "", f"![{what}]({name})", ""]
    return "\n".join(lines)
