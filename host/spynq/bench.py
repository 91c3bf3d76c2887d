"""Benchmark harness shared by the kernels: timing, a table, JSON and a plot.

Every row says where its number comes from: "measured" (wall clock on this machine or
the board's timer) or "estimated" (the kernel's cycle model at the target clock).
"""
from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Row:
    kernel: str
    workload: str
    size: int  # problem size (samples per population, neurons, ...)
    batch: int  # items per call
    backend: str  # cpu, golden, native-O3, fpga-model, fpga
    seconds: float  # per call
    source: str  # "measured" or "estimated: ..."
    extra: dict = field(default_factory=dict)

    @property
    def per_item(self) -> float:
        return self.seconds / max(self.batch, 1)


def timed(fn, *args):
    """(fn(*args), wall seconds)."""
    t0 = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - t0


def time_call(fn, repeats: int = 3, warmup: int = 1, budget_s: float = 30.0) -> float:
    """Median wall time of fn() over `repeats` runs (fewer if one run exceeds the budget)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if sum(times) > budget_s:
            break
    return statistics.median(times)


def fpga_call(run, repeats: int = 3) -> tuple[float, dict]:
    """Median seconds of `run()` (a backend call on "fpga" returning a result with
    .seconds and .info) after one warm-up, as the CPU rows are timed; the info of the last
    call says how it was measured (perf timer or host clock), with the host seconds."""
    run()
    results = [run() for _ in range(max(repeats, 1))]
    info = dict(results[-1].info)
    if "host_seconds" in info:
        info["host_seconds"] = statistics.median(r.info["host_seconds"] for r in results)
    info.update(energy(run, repeats))
    return statistics.median(r.seconds for r in results), info


def energy(fn, repeats: int = 3) -> dict:
    """Energy per call of fn() from the board's PMBus rails (spynq.hw.power), or None with
    the reason: {"joules", "watts", "energy_source"} for a row's extra fields."""
    from .hw import power

    m = power.measure(fn, repeats)
    return {"joules": m["joules"], "watts": m["watts"], "energy_source": m["why"]}


def native_row_available() -> tuple[bool, str]:
    """Whether this machine can build the HLS C++ natively (g++ and the ap_types headers;
    a board image usually has neither the headers nor a reason to)."""
    import shutil

    from .hw.csim import ap_types_dir

    if shutil.which("g++") is None:
        return False, "no g++"
    try:
        ap_types_dir()
    except FileNotFoundError as e:
        return False, str(e)
    return True, ""


NATIVE_SOURCE = "measured: the kernel's bit-exact fixed-point C++ (csim) at g++ -O3, a speed reference for csim"


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def print_table(rows: list[Row], file=sys.stdout) -> None:
    backends = list(dict.fromkeys(r.backend for r in rows))
    keys = list(dict.fromkeys((r.workload, r.size) for r in rows))
    cell = {(r.workload, r.size, r.backend): r for r in rows}
    wide = max([len("workload")] + [len(w) for w, _ in keys])
    head = f"{'workload':{wide}s} {'size':>6s} " + " ".join(f"{b:>14s}" for b in backends)
    print("per-item latency (ms); fpga-model = cycle-model estimate (its source column says which II table and clock)", file=file)
    print(head, file=file)
    for w, s in keys:
        vals = [cell.get((w, s, b)) for b in backends]
        print(f"{w:{wide}s} {s:6d} " + " ".join(f"{1e3 * v.per_item:14.4f}" if v else f"{'-':>14s}" for v in vals),
              file=file)


def write_json(rows: list[Row], path: Path, meta: dict | None = None) -> None:
    doc = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                       "processor": platform.processor()},
           "meta": meta or {}, "rows": [dict(asdict(r), per_item=r.per_item) for r in rows]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=float))


def plot(rows: list[Row], path: Path, title: str, xlabel: str = "samples per population",
         ylabel: str = "latency per evidence set (ms)") -> None:
    from .plotting import pyplot

    plt = pyplot()
    workloads = list(dict.fromkeys(r.workload for r in rows))
    backends = list(dict.fromkeys(r.backend for r in rows))
    fig, axes = plt.subplots(1, len(workloads), figsize=(4.2 * len(workloads), 3.8), squeeze=False)
    for ax, w in zip(axes[0], workloads):
        for b in backends:
            pts = sorted((r.size, r.per_item) for r in rows if r.workload == w and r.backend == b)
            if pts:
                style = "--" if b.startswith("fpga-model") else "-"
                ax.plot([p[0] for p in pts], [1e3 * p[1] for p in pts], style, marker="o", label=b)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(w, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
