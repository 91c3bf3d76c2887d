"""Cycle model of the SNNWM kernel, derived from the loops of hls/snnwm/snnwm_top.cpp.

The loops run one after another; each costs II * trips + depth per invocation, with II
and depth from the kernel's schedule (``spynq.hw.schedule``: designed, declared beside the
loop labels in snnwm_kernel.h, or csynth's when a report exists), plus
``schedule.LOOP_ENTRY`` cycles per invocation to start and leave it. Trip counts are
exact functions of the network and of the spikes (checked against csim counters in
tests/test_snnwm_cycles.py); per stage and segment (snnwm_config.h), with rb =
ceil(n_in / 128), G = ceil(n_out / LANES), x the segment's collected inputs:
  LOAD         ceil(net_words / 4)                          once per call
  IN_LOAD      T * ceil(n_in / 128)                         per sample
  ACC          rb * (rows of the segment read)              per segment
  NZ           sum over x's beats of max(1, nonzeros)       per segment
  MAC          G * nnz(x)                                   per segment with nnz(x) > 0
  UPD          ceil(G / VREGS) * VREGS * len                per segment (layers)
  STORE_SPK    1 + T * ceil(n_out / 128)                    per sample and layer (counts beat first)
  STORE_STATE  2 * ceil(n_out / 4)                          per sample and layer
  STORE_OUT    1 + ceil(n_out / 4)                          per sample (readout; counts beat first)
plus the header beat (one single-beat write: a write round trip, as a store loop's depth).
Every figure is an estimate (``SCHEDULE.label``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..hw import schedule
from ..hw.platform import PL_CLOCK_HZ
from .encode import C, LANES, groups, out_words, pack_network, pad_words, row_words
from .reference import collect, segments, stage_mode

SCHEDULE = schedule.current("snnwm")
LOOPS = SCHEDULE.names
CLOCK_HZ = PL_CLOCK_HZ
VREGS = C["SNNWM_VREGS"]
BEAT = C["SNNWM_BEAT_BITS"]


@dataclass
class CycleReport:
    loops: dict = field(default_factory=dict)  # name -> cycles
    trips: dict = field(default_factory=dict)  # name -> iterations
    batch: int = 1
    bytes_moved: int = 0
    other: int = 0  # the header beat

    def add(self, name: str, trip: int, times: int = 1, sched=SCHEDULE):
        """`trip` iterations in all over `times` invocations of loop `name`."""
        self.loops[name] = self.loops.get(name, 0) + sched[name].cycles(trip, times)
        self.trips[name] = self.trips.get(name, 0) + int(trip)

    @property
    def total(self) -> int:
        return sum(self.loops.values()) + self.other

    @property
    def compute(self) -> int:
        return sum(self.loops.get(k, 0) for k in ("ACC", "NZ", "MAC", "UPD"))

    @property
    def per_sample(self) -> float:
        """Cycles per sample with the network load amortised over the batch."""
        return self.total / self.batch

    @property
    def steady_per_sample(self) -> float:
        """Cycles per sample once W1 is on chip (the LOAD of the net buffer left out)."""
        return (self.total - self.loops.get("LOAD", 0)) / self.batch

    @property
    def seconds_per_sample(self) -> float:
        """Steady-state seconds per sample (estimated, SCHEDULE.label)."""
        return self.steady_per_sample / CLOCK_HZ

    def summary(self) -> dict:
        return {"cycles": self.total, "compute_cycles": self.compute, "per_sample": self.per_sample,
                "steady_per_sample": self.steady_per_sample,
                "us_per_sample": 1e6 * self.seconds_per_sample, "estimate": SCHEDULE.label, "bytes": self.bytes_moved,
                "loops": dict(self.loops)}


def snnwm_cycles(network, rasters, spikes=None, sched=SCHEDULE) -> CycleReport:
    """Modelled cycles of one kernel call. `spikes` (per layer (batch, T, n) bool) come
    from any fixed-point tier (identical in golden, csim, cosim); golden if None."""
    r = network.check_rasters(rasters)
    batch, T, n_in = r.shape
    if spikes is None:
        from .backends import run

        spikes = run(network, r, "golden").spikes
    packed = pack_network(network)
    rep = CycleReport(batch=max(batch, 1))
    net_beats = -(-packed.net_words // 4)
    rep.add("LOAD", net_beats, 1, sched)
    rep.add("IN_LOAD", batch * T * row_words(n_in) // 4, batch, sched)
    inputs = [r] + list(spikes)
    for st, s_in in zip(network.stages, inputs):
        mode = stage_mode(st)
        segs = segments(mode, st.w2.shape[0], T)
        w2 = np.round(st.w2 * (1 << C["SNNWM_W2_FRAC"])).astype(np.int64)
        x = collect(s_in, w2, segs) != 0  # (batch, S, n_in)
        rb = -(-st.n_in // BEAT)
        G = groups(st.n_out)
        xp = np.zeros(x.shape[:2] + (rb * BEAT,), bool)
        xp[..., :st.n_in] = x
        per_beat = xp.reshape(x.shape[:2] + (rb, BEAT)).sum(axis=3)
        nnz = x.sum(axis=2)
        rows = np.array([min(st.w2.shape[0] - 1, e) - max(0, e - (T - 1)) + 1 for _, _, e in segs])
        n_calls = batch * len(segs)
        rep.add("ACC", batch * rb * int(rows.sum()), n_calls, sched)
        rep.add("NZ", int(np.maximum(per_beat, 1).sum()), n_calls, sched)
        rep.add("MAC", int(G * nnz.sum()), int((nnz > 0).sum()), sched)  # skipped when x = 0
        if mode == "readout":
            rep.add("STORE_OUT", batch * (1 + pad_words(st.n_out) // 4), batch, sched)
        else:
            lens = sum(ln for _, ln, _ in segs)
            rep.add("UPD", batch * -(-G // VREGS) * VREGS * lens, n_calls, sched)
            rep.add("STORE_SPK", batch * (1 + T * row_words(st.n_out) // 4), batch, sched)
            rep.add("STORE_STATE", batch * 2 * pad_words(st.n_out) // 4, batch, sched)
    rep.other = sched["STORE_OUT"].cycles(1, 1)  # the header beat
    rep.bytes_moved = 4 * (4 * net_beats + batch * T * row_words(n_in)
                           + out_words(packed.sizes, T, batch, packed.readout))
    return rep

