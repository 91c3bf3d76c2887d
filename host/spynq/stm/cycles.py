"""Cycle model of the STM kernel, derived from the loop structure of hls/stm/stm_top.cpp.

The loops run one after another; each costs II * trips + depth per invocation, with II
and depth from the kernel's schedule (``spynq.hw.schedule``: designed, declared beside the
loop labels in stm_kernel.h, or csynth's when a report exists). Trip counts are exact
functions of the network (checked against csim counters). Bus transfers are one 16-byte
beat per cycle plus the m_axi latency in the depth; the co-simulation moves the real bus
traffic but not in the kernel's timing. Every figure is an estimate (``SCHEDULE.label``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..hw import schedule
from ..hw.cconfig import read_constants
from ..hw.platform import PL_CLOCK_HZ
from .encode import C, evidence_row_words, out_row_words, pack_network
from .energy import KIND_GAUSS, edge_energy

SCHEDULE = schedule.current("stm")
LOOPS = SCHEDULE.names  # the kernel's loop labels, in the order of its StmLoop enum
CLOCK_HZ = PL_CLOCK_HZ
LANES = C["STM_LANES"]


@dataclass
class CycleReport:
    loops: dict = field(default_factory=dict)  # name -> cycles (summed over repetitions)
    trips: dict = field(default_factory=dict)  # name -> iterations (summed over repetitions)
    evaluations: int = 0  # likelihood (energy) evaluations, all passes
    min_evaluations: int = 0  # one per (child sample, parent sample, evidence set)
    bytes_moved: int = 0
    lanes: int = LANES  # STM_LANES of the modelled build

    def add(self, name: str, trip: int, times: int = 1, sched=SCHEDULE):
        self.loops[name] = self.loops.get(name, 0) + sched[name].cycles(times * trip, times)
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
                "evaluations": self.evaluations, "compute_vs_ideal": self.compute / (self.evaluations / self.lanes),
                "bytes": self.bytes_moved, "estimated_seconds": self.seconds, "estimate": SCHEDULE.label, "loops": dict(self.loops)}


def stm_cycles(network, pops: dict, batch: int, sched=SCHEDULE, params: dict | None = None) -> CycleReport:
    """Modelled cycles of one kernel call on `batch` evidence sets; `params` are overlay
    parameters (e.g. {"STM_LANES": 8}) of the build being modelled, else the defaults."""
    cfg = read_constants("stm/stm_config.h", params) if params else C
    lanes, fuse = cfg["STM_LANES"], cfg["STM_EV_FUSE"]

    def groups(n: int) -> int:
        return -(-n // lanes)

    packed = pack_network(network, pops)
    order = network.post_order()
    n = {node.name: len(pops[node.name]) for node in network.hidden_nodes}
    rep = CycleReport(lanes=lanes)
    ev_beats = evidence_row_words(len(network.evidence_nodes)) // 4
    out_beats = out_row_words(packed.n_root) // 4
    net_beats = -(-packed.net_words // 4)
    rep.bytes_moved = 16 * (net_beats + batch * (ev_beats + out_beats))

    def params(node):
        e = edge_energy(node.dist)
        return e.rows * (C["STM_GAUSS_WORDS"] if e.kind == KIND_GAUSS else e.table.shape[1])

    rep.add("LOAD", net_beats, sched=sched)
    for node in order:  # precompute, once per call
        if node.observed or node.parent is None:
            continue
        nc, np_ = n[node.name], n[node.parent.name]
        rep.add("PARAMS", params(node), sched=sched)
        rep.add("PRE_MIN", nc * groups(np_), sched=sched)
        rep.add("PRE_SUM", nc * groups(np_), sched=sched)  # 1/S_k in its pipeline
        rep.evaluations += 2 * nc * np_
    per = CycleReport()  # per evidence set: identical work, so multiplied by batch below
    per.add("EV_READ", ev_beats, sched=sched)
    for node in order:
        if node.observed:  # evaluated with its parent
            continue
        size = n[node.name]
        kids = [c for c in node.children if c.observed]
        for k0 in range(0, len(kids), fuse):
            for c in kids[k0:k0 + fuse]:
                per.add("PARAMS", params(c), sched=sched)
            per.add("EVID", groups(size), sched=sched)
        per.evaluations += len(kids) * size
        per.add("WEIGHTS", groups(size), sched=sched)
        if node.parent is None:
            per.add("STORE", out_beats, sched=sched)
            break
        np_ = n[node.parent.name]
        per.add("PARAMS", params(node), sched=sched)
        per.add("MSG", size * groups(np_), sched=sched)
        per.add("COMBINE", groups(np_), sched=sched)
        per.add("RESCALE", groups(np_), sched=sched)
        per.evaluations += size * np_
        per.min_evaluations += size * np_
    for k, v in per.loops.items():
        rep.loops[k] = rep.loops.get(k, 0) + batch * v
    for k, v in per.trips.items():
        rep.trips[k] = rep.trips.get(k, 0) + batch * v
    rep.evaluations += batch * per.evaluations
    rep.min_evaluations = batch * per.min_evaluations
    return rep

