"""Benchmark harness shared by the kernels: timing, a table, JSON and a plot.

Every row says where its number comes from: "measured" (wall clock on this machine or
the board's timer) or "estimated" (the kernel's cycle model at the target clock).

Rows (backend names):
  cpu          the numpy cpu backend (float64)
  native-1t    the float C++ CPU baseline (spynq.native) on one thread
  native-<n>t  the same on every core of the machine (n = its core count)
  golden       the numpy fixed-point model of the kernel (a correctness tier, slow)
  csim-O3      fixed-point kernel emulation, a speed reference for csim: the kernel's
               bit-exact HLS C++ at g++ -O3 (not a CPU implementation anyone would run)
  fpga-model   the cycle model's estimate (its source names the II table and clock)
  fpga         measured on a board
The speed-up of each FPGA row is taken against the best (fastest per item) CPU row of
the same workload and size among cpu and the native rows (is_cpu_row); golden and csim-O3
compute the kernel's integers and are not CPU baselines.
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
    backend: str  # cpu, native-1t, native-<n>t, golden, csim-O3, fpga-model, fpga
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


def csim_row_available() -> tuple[bool, str]:
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


CSIM_SOURCE = ("measured: fixed-point kernel emulation, a speed reference for csim "
               "(the kernel's bit-exact HLS C++ at g++ -O3)")
NATIVE_SOURCE = "measured: float C++ CPU baseline (spynq.native, g++ -O3), {threads}"


def is_cpu_row(backend: str) -> bool:
    """The rows a CPU user would run: numpy and the native baselines."""
    return backend == "cpu" or (backend.startswith("native-") and backend.endswith("t"))


def native_rows(add, run, repeats: int) -> None:
    """native-1t and native-<cores>t rows through add(backend, seconds, source): run(threads)
    is one call of the kernel's native backend. Skipped (with a note) without g++."""
    from . import native

    ok, why = native.available()
    if not ok:
        progress(f"no native rows ({why})")
        return
    n = native.cores()
    for threads in dict.fromkeys((1, n)):
        label = "1 thread" if threads == 1 else f"{threads} threads (all cores)"
        add(f"native-{threads}t", time_call(lambda: run(threads), repeats),
            NATIVE_SOURCE.format(threads=label), threads=threads)


def workload_rows(add, run, model, repeats: int, board: tuple, golden: bool = True, csim_ok: bool = True,
                  csim=None) -> None:
    """Every row of one workload and size, in the table's order, through add(backend,
    seconds, source, **extra). run(backend, **opts) is one call of the workload on a
    backend; model() -> (seconds, label, summary) is the cycle model's estimate; board is
    (backend, overlay) from spynq.hw.board.session(); csim: the csim-O3 call, when it is not
    run("csim", opt="-O3")."""
    from functools import partial

    backend, ol = board
    cpu = partial(run, "cpu")
    add("cpu", time_call(cpu, repeats), "measured",
        **(energy(cpu, repeats) if backend == "fpga" else {}))  # board power: ARM vs PL
    native_rows(add, lambda threads: run("native", threads=threads), repeats)
    if golden:
        add("golden", time_call(partial(run, "golden"), 1, 0), "measured")
    if csim_ok:
        add("csim-O3", time_call(csim or partial(run, "csim", opt="-O3"), repeats), CSIM_SOURCE)
    seconds, label, summary = model()
    add("fpga-model", seconds, label, **summary)
    if backend == "fpga":
        seconds, info = fpga_call(partial(run, "fpga", ol=ol), repeats)
        add("fpga", seconds, info["source"], **info)


def machine() -> dict:
    """Cores, CPU model and clock of this machine (lscpu, else /proc/cpuinfo; "unknown"
    where neither says)."""
    import os
    import subprocess

    info = {"cores": os.cpu_count() or "unknown", "cpu_model": "unknown", "cpu_mhz": "unknown",
            "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}
    fields = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        fields.update((k.strip(), v.strip()) for k, v in (ln.split(":", 1) for ln in out.splitlines() if ":" in ln))
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ":" in ln:
                k, v = (x.strip() for x in ln.split(":", 1))
                fields.setdefault(k, v)
    except OSError:
        pass
    for key in ("Model name", "model name", "Processor", "cpu model"):
        if fields.get(key) and fields[key] != "-":
            info["cpu_model"] = fields[key]
            break
    for key in ("CPU max MHz", "CPU MHz", "cpu MHz"):
        try:
            info["cpu_mhz"] = round(float(fields[key]), 1)
            break
        except (KeyError, ValueError):
            continue
    return info


def machine_line(m: dict | None = None) -> str:
    m = m or machine()
    mhz = f"{m['cpu_mhz']} MHz" if m["cpu_mhz"] != "unknown" else "clock unknown"
    return f"machine: {m['cores']} cores, CPU {m['cpu_model']}, {mhz} ({m['processor']}, Python {m['python']})"


def speedups(rows: list[Row]) -> None:
    """Per workload and size: each FPGA row (fpga-model, fpga) gets extra
    speedup_vs_best_cpu (against the fastest is_cpu_row row per item, named in best_cpu) and
    speedup_vs_numpy (against cpu)."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r.kernel, r.workload, r.size), []).append(r)
    for group in groups.values():
        cpus = [r for r in group if is_cpu_row(r.backend)]
        if not cpus:
            continue
        best = min(cpus, key=lambda r: r.per_item)
        numpy_row = next((r for r in cpus if r.backend == "cpu"), None)
        for r in group:
            if r.backend.startswith("fpga"):
                r.extra["best_cpu"] = best.backend
                r.extra["speedup_vs_best_cpu"] = best.per_item / r.per_item
                if numpy_row is not None:
                    r.extra["speedup_vs_numpy"] = numpy_row.per_item / r.per_item


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def print_table(rows: list[Row], file=None, meta: dict | None = None) -> None:
    file = file or sys.stdout  # looked up per call (a captured stdout)
    speedups(rows)
    backends = list(dict.fromkeys(r.backend for r in rows))
    keys = list(dict.fromkeys((r.workload, r.size) for r in rows))
    cell = {(r.workload, r.size, r.backend): r for r in rows}
    fpgas = [b for b in backends if b.startswith("fpga")]
    wide = max([len("workload")] + [len(w) for w, _ in keys])
    head = (f"{'workload':{wide}s} {'size':>6s} " + " ".join(f"{b:>14s}" for b in backends) +
            "".join(f" {b + '/best cpu':>24s}" for b in fpgas))
    print(machine_line((meta or {}).get("machine")), file=file)
    print("per-item latency (ms); fpga-model = cycle-model estimate (its source column says which II table and "
          "clock); speed-ups against the fastest CPU row (cpu, native-*) of each line; csim-O3 = fixed-point "
          "kernel emulation, a speed reference for csim", file=file)
    print(head, file=file)
    for w, s in keys:
        vals = [cell.get((w, s, b)) for b in backends]
        ups = []
        for b in fpgas:
            r = cell.get((w, s, b))
            ups.append(f"{r.extra['speedup_vs_best_cpu']:.3g}x ({r.extra['best_cpu']})"
                       if r and "speedup_vs_best_cpu" in r.extra else "-")
        print(f"{w:{wide}s} {s:6d} " + " ".join(f"{1e3 * v.per_item:14.4f}" if v else f"{'-':>14s}" for v in vals) +
              "".join(f" {u:>24s}" for u in ups), file=file)


def write_json(rows: list[Row], path: Path, meta: dict | None = None) -> None:
    speedups(rows)
    meta = dict(meta or {})
    doc = {"machine": meta.pop("machine", None) or machine(), "meta": meta,
           "rows": [dict(asdict(r), per_item=r.per_item) for r in rows]}
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
    fig.suptitle(f"{title}\n{machine_line()}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
