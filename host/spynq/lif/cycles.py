"""Cycle model of the LIF delay kernel, derived from the loops of hls/lif_delay/lif_delay_top.cpp.

Every loop there is pipelined at II=1 and the loops run one after another, so a loop
costs (trip count + pipeline depth) cycles. Trip counts are exact functions of the
network and of the spikes (checked against csim counters in tests/test_lif_cycles.py):
  LOAD         ceil(net_words / 4)                           once per call
  IN_SCAN      T * ceil(n_in / 128)                          per sample
  RUN          sum_t (E_t * G + max(G, LIF_MIN_STEP_ITERS))  per sample and layer
               E_t = spikes into the layer at step t, G = ceil(n_out / LIF_LANES)
  STORE_SPK    T * ceil(n_out / 128)                         per sample and layer
  STORE_STATE  3 * ceil(n_out / 4)                           per sample and layer
Pipeline depths are *assumed* until a Vitis csynth report replaces them
(``depths_from_csynth``): RUN = synapse read (URAM, 2) + ring read (BRAM, 2) + forward
mux + add + write, and on the update side one DSP multiply (3) + add + saturate + compare;
reads from DDR wait ~64 cycles for the first beat; writes are posted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..hw import csynth
from ..hw.cconfig import HLS_DIR
from .encode import C, LANES, groups, pack_network, pad_words, row_words

LOOPS = tuple(re.findall(r"X\((\w+)\)", re.search(r"#define LIF_LOOPS\(X\)(.*?)\n(?!\s)",
                                                      (HLS_DIR / "lif_delay" / "lif_delay_kernel.h").read_text(),
                                                      re.S).group(1)))
CLOCK_HZ = 200e6
MIN_ITERS = C["LIF_MIN_STEP_ITERS"]
DEPTHS = {"LOAD": 70, "IN_SCAN": 70, "RUN": 14, "STORE_SPK": 8, "STORE_STATE": 8}
assert set(DEPTHS) == set(LOOPS), "every kernel loop needs a depth"


@dataclass
class CycleReport:
    loops: dict = field(default_factory=dict)  # name -> cycles
    trips: dict = field(default_factory=dict)  # name -> iterations
    synaptic_events: int = 0  # sum over layers of input spikes * n_out
    neuron_updates: int = 0  # sum over layers of T * n_out, all samples
    batch: int = 1
    bytes_moved: int = 0

    def add(self, name: str, trip: int, times: int = 1, depths=DEPTHS):
        self.loops[name] = self.loops.get(name, 0) + int(times * trip + times * depths[name])
        self.trips[name] = self.trips.get(name, 0) + int(times * trip)

    @property
    def total(self) -> int:
        return sum(self.loops.values())

    @property
    def transfer(self) -> int:
        """Loops that move data over m_axi (network load, raster scan, readouts)."""
        return sum(v for k, v in self.loops.items() if k != "RUN")

    @property
    def compute(self) -> int:
        return self.loops.get("RUN", 0)

    @property
    def ideal(self) -> float:
        """(synaptic events + neuron updates) / lanes."""
        return (self.synaptic_events + self.neuron_updates) / LANES

    @property
    def per_sample(self) -> float:
        """Cycles per sample with the network load amortised over the batch."""
        return self.total / self.batch

    @property
    def samples_per_s(self) -> float:
        return CLOCK_HZ / self.per_sample

    def summary(self) -> dict:
        return {"cycles": self.total, "compute_cycles": self.compute, "transfer_cycles": self.transfer,
                "ideal": self.ideal, "compute_vs_ideal": self.compute / max(self.ideal, 1),
                "total_vs_ideal": self.total / max(self.ideal, 1),
                "per_sample": self.per_sample, "samples_per_s_at_200MHz": self.samples_per_s,
                "synaptic_events": self.synaptic_events, "neuron_updates": self.neuron_updates,
                "bytes": self.bytes_moved, "loops": dict(self.loops)}


def lif_cycles(network, rasters, spikes=None, depths=DEPTHS) -> CycleReport:
    """Modelled cycles of one kernel call. `spikes` (per layer (batch, T, n) bool) come
    from any tier (they are identical in golden, csim, cosim); computed with golden if None."""
    r = network.check_rasters(rasters)
    batch, T, n_in = r.shape
    if spikes is None:
        from .backends import run

        spikes = run(network, r, "golden").spikes
    packed = pack_network(network)
    rep = CycleReport(batch=max(batch, 1))
    net_beats = -(-packed.net_words // 4)
    rep.add("LOAD", net_beats, depths=depths)
    rep.add("IN_SCAN", T * row_words(n_in) // 4, batch, depths)
    out_beats = 1
    inputs = [r] + list(spikes[:-1])
    for layer, s_in in zip(network.layers, inputs):
        G = groups(layer.n_out)
        e_t = s_in.sum(axis=2)  # (batch, T)
        rep.add("RUN", int((e_t * G).sum() + batch * T * max(G, MIN_ITERS)), 1, depths)
        rep.loops["RUN"] += (batch - 1) * depths["RUN"]
        rep.add("STORE_SPK", T * row_words(layer.n_out) // 4, batch, depths)
        rep.add("STORE_STATE", 3 * pad_words(layer.n_out) // 4, batch, depths)
        out_beats += batch * (T * row_words(layer.n_out) + 3 * pad_words(layer.n_out)) // 4
        rep.synaptic_events += int(e_t.sum()) * layer.n_out
        rep.neuron_updates += batch * T * layer.n_out
    rep.bytes_moved = 16 * (net_beats + batch * T * row_words(n_in) // 4 + out_beats)
    return rep


def depths_from_csynth(report_xml: Path) -> dict:
    """DEPTHS with the pipeline depths of a Vitis csynth report where it has them."""
    return csynth.loop_depths(report_xml, DEPTHS)
