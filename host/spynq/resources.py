"""The resource ledger: URAM, BRAM36, DSP48E2, LUT and FF of each kernel and overlay,
each line with the rule that produced it.

Computed from the kernels' own sources (spynq.hw.hlsparse: arrays, partitioning, binding,
streams, declared multipliers and ROM copies) with the constants the kernel compiles with
in the overlay's parameter setting (overlays/zcu104/overlays.json), and from the m_axi
settings of hls/common/spynq_platform.h. Where scripts/build_hls.sh left a csynth report
(build/hls/<overlay>/<top>/reports), its figures are printed beside the estimate.

Memory and DSP figures follow Vitis' mapping rules and the UltraScale+ primitives; LUT
and FF are coarse (interfaces, LUTRAM, registers and a per-multiplier allowance for the
datapath around it): csynth and Vivado replace them.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from . import overlays
from .hw import csynth, hlsparse, platform

RESOURCES = ("URAM", "BRAM36", "DSP", "LUT", "FF")

URAM_DEPTH, URAM_WIDTH = 4096, 72
BRAM36_ASPECTS = ((32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72))
BRAM18_ASPECTS = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
AUTO_LUTRAM_BITS = 1024  # impl=auto: a bank up to this size becomes LUTRAM/registers, else BRAM
LUTRAM_DEPTH = 64  # one LUT6 as RAM64X1S: 64 x 1 bit per port
SRL_DEPTH = 32  # one LUT6 as SRLC32E: 32 x 1 bit FIFO storage
DSP_A, DSP_B = 27, 18  # DSP48E2 signed multiplier
# Coarse logic allowances (csynth replaces them): per m_axi bundle adapter, per s_axilite
# slave, and around each DSP (operand muxes, adders, pipeline registers).
MAXI_LOGIC = {"LUT": 2500, "FF": 3500}
AXILITE_LOGIC = {"LUT": 300, "FF": 400}
PER_DSP_LOGIC = {"LUT": 60, "FF": 100}
# Overlay infrastructure around the kernels (spynq_bd.tcl): two SmartConnects, axi_intc,
# proc_sys_reset and rtl/axi_perf_timer.v (its yosys estimate is 79 LUT, 231 FF).
INFRA_PER_PORT = {"LUT": 700, "FF": 1000}  # SmartConnect cost per connected port, coarse
INFRA_FIXED = {"LUT": 800, "FF": 1100}  # axi_intc + reset + perf timer, coarse


def bram36(depth: int, width: int, true_dual: bool = False) -> float:
    """BRAM36 for one depth x width memory: the best aspect ratio, half a BRAM36 for a BRAM18."""
    full = [math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM36_ASPECTS if not (true_dual and w == 72)]
    half = [0.5 * math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM18_ASPECTS
            if not (true_dual and w == 36)]
    return min(full + half)


def uram(depth: int, width: int) -> int:
    return math.ceil(depth / URAM_DEPTH) * math.ceil(width / URAM_WIDTH)


def dsp(a: int, b: int) -> int:
    """DSP48E2 for an a x b signed multiply (27 x 18 per DSP), the better orientation."""
    def n(x, y):
        return math.ceil(max(x - 1, 1) / (DSP_A - 1)) * math.ceil(max(y - 1, 1) / (DSP_B - 1))
    return min(n(a, b), n(b, a))


@dataclass
class Line:
    what: str  # the array, unit or interface
    used: dict  # resource -> amount
    rule: str  # how the amount follows from the code and the mapping rules


@dataclass
class Ledger:
    name: str
    lines: list = field(default_factory=list)
    csynth: dict = field(default_factory=dict)  # resource -> csynth figure, where a report exists
    params: dict = field(default_factory=dict)

    def total(self) -> dict:
        out = dict.fromkeys(RESOURCES, 0)
        for ln in self.lines:
            for k, v in ln.used.items():
                out[k] += v
        return {k: math.ceil(v) if k != "BRAM36" else math.ceil(2 * v) / 2 for k, v in out.items()}


def _memory_line(m: hlsparse.Memory) -> Line:
    bits = m.depth * m.width
    impl = m.impl
    if m.kind == "regs":
        return Line(m.name, {"FF": m.banks * m.width}, f"{m.why}: {m.banks} x {m.width} FF")
    if impl == "auto":
        impl = "lutram" if bits <= AUTO_LUTRAM_BITS else "bram"
        if m.kind == "fifo" and impl == "lutram":
            impl = "srl"
        auto = f"auto -> {impl} (bank {'<=' if bits <= AUTO_LUTRAM_BITS else '>'} {AUTO_LUTRAM_BITS} bits)"
    else:
        auto = f"impl={impl}"
    head = f"{m.why}: {m.banks} bank(s) of {m.depth} x {m.width}, {auto}"
    if impl == "uram":
        n = uram(m.depth, m.width)
        return Line(m.name, {"URAM": m.banks * n},
                    f"{head}; URAM288 {URAM_DEPTH}x{URAM_WIDTH}: {n} per bank")
    if impl == "bram":
        n = bram36(m.depth, m.width, m.true_dual)
        return Line(m.name, {"BRAM36": m.banks * n}, f"{head}; best BRAM36/18 aspect: {n:g} per bank")
    if impl == "srl":
        n = math.ceil(m.depth / SRL_DEPTH) * m.width
        return Line(m.name, {"LUT": m.banks * n}, f"{head}; SRL32 {n} LUT per bank")
    n = math.ceil(m.depth / LUTRAM_DEPTH) * m.width * m.ports
    return Line(m.name, {"LUT": m.banks * n}, f"{head}; RAM64X1 x {m.ports} port(s): {n} LUT per bank")


def kernel_ledger(kernel: str, params: dict | None = None, reports: Path | None = None) -> Ledger:
    """The ledger of one kernel (folder under hls/) compiled with overlay parameters
    `params` (None: the defaults of its config header); csynth figures from `reports`."""
    params = dict(params or {})
    env = hlsparse.constants(kernel, params)
    led = Ledger(kernel, params=params)
    for m in hlsparse.memories(kernel, env):
        led.lines.append(_memory_line(m))
    for u in hlsparse.units(kernel, env, "MULS"):
        n = dsp(u.a, u.b)
        led.lines.append(Line(f"mul {u.loop}", {"DSP": u.instances * n, **{k: u.instances * n * v for k, v in
                                                                             PER_DSP_LOGIC.items()}},
                              f"{u.what}: {u.instances} x ({u.a} x {u.b} signed) -> {n} DSP48E2 each "
                              f"(27x18 per DSP) + {PER_DSP_LOGIC['LUT']} LUT/{PER_DSP_LOGIC['FF']} FF per DSP"))
    for u in hlsparse.units(kernel, env, "ROMS"):
        depth, width = u.a, u.b
        if depth * width <= AUTO_LUTRAM_BITS:
            n = math.ceil(depth / LUTRAM_DEPTH) * width
            led.lines.append(Line(f"rom {u.loop}", {"LUT": u.instances * n},
                                  f"{u.what}: {u.instances} x {depth}x{width} ROM -> {n} LUT each"))
        else:
            n = bram36(depth, width)
            pairs = math.ceil(u.instances / 2)
            led.lines.append(Line(f"rom {u.loop}", {"BRAM36": pairs * n},
                                  f"{u.what}: {u.instances} x {depth}x{width} ROM, two per BRAM (dual port): "
                                  f"{pairs} x {n:g} BRAM36"))
    beats = platform.MAXI_OUTSTANDING * platform.MAXI_BURST_BEATS
    n = bram36(beats, platform.MAXI_BITS)
    led.lines.append(Line("m_axi gmem", {"BRAM36": 2 * n, **MAXI_LOGIC},
                          f"read + write buffers of {platform.MAXI_OUTSTANDING} outstanding x "
                          f"{platform.MAXI_BURST_BEATS} beats x {platform.MAXI_BITS} b = {beats} x "
                          f"{platform.MAXI_BITS}: {n:g} BRAM36 each; adapter logic coarse"))
    led.lines.append(Line("s_axi_control", dict(AXILITE_LOGIC), "AXI-lite slave and ap_ctrl_hs, coarse"))
    if reports is not None:
        xml = Path(reports) / f"{overlays.top(kernel)}_csynth.xml"
        if xml.exists():
            led.csynth = csynth.resources(xml)
    return led


def overlay_ledger(name: str) -> dict:
    """{"kernels": {kernel: Ledger}, "infra": Line, "total": {...}} of one overlay."""
    kernels = {k: kernel_ledger(k, overlays.kernel_params(name, k), overlays.report_dir(name, k))
               for k in overlays.kernels(name)}
    ports = 2 * len(kernels) + 3  # ctrl: one per kernel + timer + intc; mem: one per kernel + HP0
    infra = Line("infrastructure", {k: INFRA_FIXED[k] + ports * INFRA_PER_PORT[k] for k in ("LUT", "FF")},
                 f"2 SmartConnects ({ports} ports x {INFRA_PER_PORT['LUT']} LUT), axi_intc, reset, perf timer; "
                 "coarse")
    total = dict.fromkeys(RESOURCES, 0)
    for led in kernels.values():
        for k, v in led.total().items():
            total[k] += v
    for k, v in infra.used.items():
        total[k] += v
    return {"kernels": kernels, "infra": infra, "total": total}


def fits(total: dict) -> dict:
    """resource -> (used, available, percent, limit percent, ok)."""
    out = {}
    for k in RESOURCES:
        avail = platform.DEVICE[k]
        pct = 100 * total[k] / avail
        out[k] = (total[k], avail, pct, platform.FIT_PCT[k], pct <= platform.FIT_PCT[k])
    return out


def as_json(names) -> dict:
    def res(used):
        return {k: {"used": used[k], "available": platform.DEVICE[k]} for k in RESOURCES}

    out = {}
    for name in names:
        ov = overlay_ledger(name)
        out[name] = {
            "resources": res(ov["total"]),
            "fits": {k: v[4] for k, v in fits(ov["total"]).items()},
            "kernels": {k: {"resources": res(led.total()), "params": led.params, "csynth": led.csynth,
                            "rules": [{"what": ln.what, "used": ln.used, "rule": ln.rule} for ln in led.lines]}
                        for k, led in ov["kernels"].items()},
            "infra": {"used": ov["infra"].used, "rule": ov["infra"].rule},
        }
    return out


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def report(names, file=None, rules: bool = True) -> None:
    import sys

    file = file or sys.stdout
    for name in names:
        ov = overlay_ledger(name)
        print(f"overlay {name}: {overlays.doc(name)}", file=file)
        for k, led in ov["kernels"].items():
            t = led.total()
            params = ", ".join(f"{p}={v}" for p, v in led.params.items()) or "defaults"
            print(f"  kernel {k} ({params}): " + "  ".join(f"{r} {_fmt(t[r])}" for r in RESOURCES), file=file)
            if led.csynth:
                print("    csynth: " + "  ".join(f"{r} {_fmt(led.csynth.get(r, '-'))}" for r in RESOURCES), file=file)
            if rules:
                for ln in led.lines:
                    amounts = ", ".join(f"{r} {_fmt(round(v, 1) if isinstance(v, float) else v)}"
                                        for r, v in ln.used.items() if v)
                    print(f"    {ln.what:14s} {amounts:34s} {ln.rule}", file=file)
        print(f"  {ov['infra'].what}: " + ", ".join(f"{r} {v}" for r, v in ov["infra"].used.items())
              + f"  ({ov['infra'].rule})", file=file)
        for r, (used, avail, pct, lim, ok) in fits(ov["total"]).items():
            print(f"  {r:6s} {_fmt(used):>8s} / {avail:<7d} {pct:5.1f} %  (limit {lim} %) {'ok' if ok else 'OVER'}",
                  file=file)
        print(file=file)


def write_json(names, path: Path) -> None:
    Path(path).write_text(json.dumps(as_json(names), indent=1))
