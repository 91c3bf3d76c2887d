"""Each kernel's loop schedule: the designed one declared beside its loop labels
(``#define <K>_LOOPS(X) X(label, II, depth) /* why */`` in hls/<k>/<k>_kernel.h), or the
one a Vitis csynth report gives (II and depth) when scripts/build_hls.sh has left one.

A pipelined loop invoked `n` times for `trips` iterations in all costs
``II * trips + (depth + LOOP_ENTRY) * n`` cycles; the cycle models add these up. Every
latency built on them is an estimate, labelled with ``Schedule.label`` (which table, which
clock).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import csynth
from .cconfig import HLS_DIR, read_constants
from .platform import PL_CLOCK_MHZ

_MACRO = re.compile(r"#define\s+(\w+)_LOOPS\(X\)(.*?)\n(?!\s)", re.S)
_ENTRY = re.compile(r"X\(\s*(\w+)\s*,\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*(?:/\*(.*?)\*/)?", re.S)


LOOP_ENTRY = 2  # FSM states to enter and leave a pipelined loop, per invocation (not in its depth)


@dataclass(frozen=True)
class Loop:
    name: str
    ii: int
    depth: int
    why: str = ""

    def cycles(self, trips: int, invocations: int = 1) -> int:
        return self.ii * int(trips) + (self.depth + LOOP_ENTRY) * int(invocations)


@dataclass(frozen=True)
class Schedule:
    kernel: str  # folder under hls/
    loops: dict  # label -> Loop, in the kernel's order
    source: str  # "designed" or the csynth report's path

    @property
    def names(self) -> tuple:
        return tuple(self.loops)

    def __getitem__(self, name: str) -> Loop:
        return self.loops[name]

    @property
    def label(self) -> str:
        table = "designed II table" if self.source == "designed" else "csynth II table"
        return f"estimated ({table}, {PL_CLOCK_MHZ:g} MHz)"


def declared(kernel: str, config: str | None = None) -> Schedule:
    """The schedule declared in hls/<kernel>/<kernel>_kernel.h."""
    text = (HLS_DIR / kernel / f"{kernel}_kernel.h").read_text()
    m = _MACRO.search(text)
    if m is None:
        raise ValueError(f"hls/{kernel}/{kernel}_kernel.h declares no <K>_LOOPS(X) schedule")
    env = read_constants(config or f"{kernel}/{kernel}_config.h")
    loops = {}
    for name, ii, depth, why in _ENTRY.findall(m.group(2)):
        loops[name] = Loop(name, _value(ii, env), _value(depth, env), " ".join((why or "").replace("\\", " ").split()))
    if not loops:
        raise ValueError(f"hls/{kernel}: empty loop schedule")
    return Schedule(kernel, loops, "designed")


def _value(expr: str, env: dict) -> int:
    expr = expr.strip()
    return int(expr) if expr.isdigit() else int(env[expr])


def with_csynth(sched: Schedule, reports: Path) -> Schedule:
    """`sched` with II and depth of every loop a csynth report (file or folder) names."""
    found = csynth.loop_schedule(reports, sched.names)
    loops = {n: Loop(n, *found[n], why="csynth") if n in found else l for n, l in sched.loops.items()}
    return Schedule(sched.kernel, loops, str(reports)) if found else sched


def current(kernel: str, overlay: str | None = None) -> Schedule:
    """csynth's schedule where scripts/build_hls.sh left reports for `kernel` in `overlay`
    (build/hls/<overlay>/<top>/reports; None: the build with the config defaults), else
    the designed one."""
    from ..overlays import report_dir

    sched, rdir = declared(kernel), report_dir(overlay, kernel)
    return with_csynth(sched, rdir) if rdir.is_dir() else sched
