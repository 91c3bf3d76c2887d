"""Cycle model of the LIF delay kernel, derived from the loops of hls/lif_delay/lif_delay_top.cpp.

The loops run one after another; each costs II * trips + depth per invocation, with II
and depth from the kernel's schedule (``spynq.hw.schedule``: designed, declared beside the
loop labels in lif_delay_kernel.h, or csynth's when a report exists). Trip counts are exact functions of the
network and of the spikes (checked against csim counters in tests/test_lif_cycles.py):
  LOAD         ceil(net_words / 4)                           once per call
  IN_SCAN      T * ceil(n_in / 128)                          per sample
  RUN          sum_t max(E_t * G + K, LIF_STATE_DIST)        per sample and layer
               E_t = spikes into the layer at step t, G = ceil(n_out / LIF_LANES),
               K = ring cells the update visits: G, or G * ceil(LIF_RING_DIST / G) when
               G < LIF_RING_DIST (copies of the groups, ``ring_cells``)
  STORE_SPK    T * ceil(n_out / 128)                         per sample and layer
  STORE_STATE  3 * ceil(n_out / 4)                           per sample and layer
Every figure is an estimate (``SCHEDULE.label``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..hw import schedule
from ..hw.platform import PL_CLOCK_HZ
from .encode import C, LANES, groups, pack_network, pad_words, row_words

SCHEDULE = schedule.current("lif_delay")
LOOPS = SCHEDULE.names
CLOCK_HZ = PL_CLOCK_HZ
RING_DIST, STATE_DIST = C["LIF_RING_DIST"], C["LIF_STATE_DIST"]


def ring_cells(G: int) -> int:
    """Ring cells a layer of G lane groups rotates through (lif_delay_top.cpp, header): G,
    or ceil(LIF_RING_DIST / G) copies of its G groups when G < LIF_RING_DIST."""
    return G if G >= RING_DIST else G * -(-RING_DIST // G)


def step_iters(e_t, G: int):
    """RUN iterations of steps with e_t input spikes: one per spike and group, one per ring
    cell (the update), padded to LIF_STATE_DIST (the neuron-state recurrence)."""
    return np.maximum(np.asarray(e_t) * G + ring_cells(G), STATE_DIST)


@dataclass
class CycleReport:
    loops: dict = field(default_factory=dict)  # name -> cycles
    trips: dict = field(default_factory=dict)  # name -> iterations
    synaptic_events: int = 0  # sum over layers of input spikes * n_out
    neuron_updates: int = 0  # sum over layers of T * n_out, all samples
    batch: int = 1
    bytes_moved: int = 0

    def add(self, name: str, trip: int, times: int = 1, sched=SCHEDULE):
        self.loops[name] = self.loops.get(name, 0) + sched[name].cycles(times * trip, times)
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
                "per_sample": self.per_sample, "samples_per_s": self.samples_per_s, "estimate": SCHEDULE.label,
                "synaptic_events": self.synaptic_events, "neuron_updates": self.neuron_updates,
                "bytes": self.bytes_moved, "loops": dict(self.loops)}


def lif_cycles(network, rasters, spikes=None, sched=SCHEDULE) -> CycleReport:
    """Modelled cycles of one kernel call. `spikes` (per layer (batch, T, n) bool) come
    from any tier (they are identical in golden, csim, cosim); computed with golden if None."""
    r = network.check_rasters(rasters)  # bool (batch, T, n_in): raster padding bits are not spikes
    batch, T, n_in = r.shape
    if spikes is None:
        from .backends import run

        spikes = run(network, r, "golden").spikes
    packed = pack_network(network)
    rep = CycleReport(batch=max(batch, 1))
    net_beats = -(-packed.net_words // 4)
    rep.add("LOAD", net_beats, sched=sched)
    rep.add("IN_SCAN", T * row_words(n_in) // 4, batch, sched)
    out_beats = 1 + batch * C["LIF_STATUS_WORDS"] // 4  # the header and the status beats
    inputs = [r] + list(spikes[:-1])
    for layer, s_in in zip(network.layers, inputs):
        G = groups(layer.n_out)
        e_t = s_in.sum(axis=2)  # (batch, T)
        rep.add("RUN", int(step_iters(e_t, G).sum()), 1, sched)
        rep.loops["RUN"] += sched["RUN"].cycles(0, batch - 1)  # one RUN invocation per sample
        rep.add("STORE_SPK", T * row_words(layer.n_out) // 4, batch, sched)
        rep.add("STORE_STATE", 3 * pad_words(layer.n_out) // 4, batch, sched)
        out_beats += batch * (T * row_words(layer.n_out) + 3 * pad_words(layer.n_out)) // 4
        rep.synaptic_events += int(e_t.sum()) * layer.n_out
        rep.neuron_updates += batch * T * layer.n_out
    rep.bytes_moved = 16 * (net_beats + batch * T * row_words(n_in) // 4 + out_beats)
    return rep

