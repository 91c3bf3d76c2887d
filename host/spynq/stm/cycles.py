"""Cycle model of the STM kernel, derived from the loop structure of hls/stm/stm_top.cpp.

Every loop there is pipelined at II=1 and the loops run one after another, so a loop
costs (trip count + pipeline depth) cycles. Trip counts are exact functions of the
network; the pipeline depths below are *assumed* (counted from the operator chain with
typical UltraScale+ DSP/BRAM latencies at 200 MHz) until a Vitis csynth report replaces
them (``depths_from_csynth``). Bus transfers are one 16-byte beat per cycle plus an
assumed m_axi round-trip latency per loop; the co-simulation measures the real bus.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..hw import csynth
from ..hw.cconfig import HLS_DIR
from .encode import C, evidence_row_words, out_row_words, pack_network
from .energy import KIND_GAUSS, edge_energy

# The kernel's loop labels, in the order of its StmLoop enum (csim trip counters).
LOOPS = tuple(re.findall(r"X\((\w+)\)", re.search(r"#define STM_LOOPS\(X\)(.*?)\n(?!\s)",
                                                      (HLS_DIR / "stm" / "stm_kernel.h").read_text(), re.S).group(1)))

CLOCK_HZ = 200e6
LANES = C["STM_LANES"]

# Assumed pipeline depths (cycles). energy: 3 DSP multiplies in series (a*x, d*r, t*t, 4
# cycles each with input/output registers) + adds; exp: one multiply, two table reads, one
# multiply, shift; MAC: one 32x32 multiply + 64-bit add.
DEPTHS = {
    "LOAD": 70,  # m_axi read latency to the first beat
    "PARAMS": 3,
    "PRE_MIN": 16,
    "PRE_SUM": 28,
    "PRE_RECIP": 68,  # 64-bit divider
    "EV_READ": 70,
    "EVID": 22,  # STM_EV_FUSE energies and a saturating adder chain per lane
    "WEIGHTS": 14,
    "MSG": 34,  # energy, exp, the u/S multiply and shift, MAC
    "COMBINE": 10,
    "RESCALE": 4,
    "STORE": 70,  # m_axi write latency to the last response
}
assert set(DEPTHS) == set(LOOPS), "every kernel loop needs a depth"


@dataclass
class CycleReport:
    loops: dict = field(default_factory=dict)  # name -> cycles (summed over repetitions)
    trips: dict = field(default_factory=dict)  # name -> iterations (summed over repetitions)
    evaluations: int = 0  # likelihood (energy) evaluations, all passes
    min_evaluations: int = 0  # one per (child sample, parent sample, evidence set)
    bytes_moved: int = 0

    def add(self, name: str, trip: int, times: int = 1, depths=DEPTHS):
        self.loops[name] = self.loops.get(name, 0) + times * (trip + depths[name])
        self.trips[name] = self.trips.get(name, 0) + times * trip

    @property
    def total(self) -> int:
        return sum(self.loops.values())

    @property
    def transfer(self) -> int:
        return sum(self.loops.get(k, 0) for k in ("LOAD", "EV_READ", "STORE"))

    @property
    def compute(self) -> int:
        return self.total - self.transfer

    @property
    def seconds(self) -> float:
        return self.total / CLOCK_HZ

    @property
    def evals_per_cycle(self) -> float:
        return self.evaluations / max(self.compute, 1)

    def summary(self) -> dict:
        return {"cycles": self.total, "compute_cycles": self.compute, "transfer_cycles": self.transfer,
                "evaluations": self.evaluations, "compute_vs_ideal": self.compute / (self.evaluations / LANES),
                "bytes": self.bytes_moved, "seconds_at_200MHz": self.seconds, "loops": dict(self.loops)}


def groups(n: int) -> int:
    return -(-n // LANES)


def stm_cycles(network, pops: dict, batch: int, depths=DEPTHS) -> CycleReport:
    """Modelled cycles of one kernel call on `batch` evidence sets."""
    packed = pack_network(network, pops)
    order = network.post_order()
    n = {node.name: len(pops[node.name]) for node in network.hidden_nodes}
    rep = CycleReport()
    ev_beats = evidence_row_words(len(network.evidence_nodes)) // 4
    out_beats = out_row_words(packed.n_root) // 4
    net_beats = -(-packed.net_words // 4)
    rep.bytes_moved = 16 * (net_beats + batch * (ev_beats + out_beats))

    def params(node):
        e = edge_energy(node.dist)
        return e.rows * (C["STM_GAUSS_WORDS"] if e.kind == KIND_GAUSS else e.table.shape[1])

    rep.add("LOAD", net_beats, depths=depths)
    for node in order:  # precompute, once per call
        if node.observed or node.parent is None:
            continue
        nc, np_ = n[node.name], n[node.parent.name]
        rep.add("PARAMS", params(node), depths=depths)
        rep.add("PRE_MIN", nc * groups(np_), depths=depths)
        rep.add("PRE_SUM", nc * groups(np_), depths=depths)
        rep.add("PRE_RECIP", nc, depths=depths)
        rep.evaluations += 2 * nc * np_
    per = CycleReport()  # per evidence set: identical work, so multiplied by batch below
    per.add("EV_READ", ev_beats, depths=depths)
    fuse = C["STM_EV_FUSE"]
    for node in order:
        if node.observed:  # evaluated with its parent
            continue
        size = n[node.name]
        kids = [c for c in node.children if c.observed]
        for k0 in range(0, len(kids), fuse):
            for c in kids[k0:k0 + fuse]:
                per.add("PARAMS", params(c), depths=depths)
            per.add("EVID", groups(size), depths=depths)
        per.evaluations += len(kids) * size
        per.add("WEIGHTS", groups(size), depths=depths)
        if node.parent is None:
            per.add("STORE", out_beats, depths=depths)
            break
        np_ = n[node.parent.name]
        per.add("PARAMS", params(node), depths=depths)
        per.add("MSG", size * groups(np_), depths=depths)
        per.add("COMBINE", groups(np_), depths=depths)
        per.add("RESCALE", groups(np_), depths=depths)
        per.evaluations += size * np_
        per.min_evaluations += size * np_
    for k, v in per.loops.items():
        rep.loops[k] = rep.loops.get(k, 0) + batch * v
    for k, v in per.trips.items():
        rep.trips[k] = rep.trips.get(k, 0) + batch * v
    rep.evaluations += batch * per.evaluations
    rep.min_evaluations = batch * per.min_evaluations
    return rep


def depths_from_csynth(report_xml: Path) -> dict:
    """DEPTHS with the pipeline depths of a Vitis csynth report where it has them."""
    return csynth.loop_depths(report_xml, DEPTHS)
