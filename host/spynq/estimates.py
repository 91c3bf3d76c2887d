"""Estimated FPGA latency of the three kernels' benchmark workloads, from the cycle models
and the kernels' schedules (`python -m spynq estimates`). Quick: no CPU timing (that is
`spynq bench`). Every figure is an estimate and says at which II table and clock.

  STM    two-layer and multi-layer causal inference, N = 4000 samples, batch 8
  LIF    700-128-128-20, per-synapse delays 0..63, T = 100, 5 % input density, batch 32
  SNNWM  one 512-512 window layer, T = 16, L = 1, 2, 4, 8, input density 0.1 and 0.05,
         W1 resident (the network load left out), batch 16

``--ii1`` costs every loop at II = 1 with the same depths: what the first kernels'
cycle models assumed, for a before/after comparison.
"""
from __future__ import annotations

import dataclasses
import sys

import numpy as np


def _ii1(sched):
    loops = {n: dataclasses.replace(l, ii=1) for n, l in sched.loops.items()}
    return dataclasses.replace(sched, loops=loops, source="designed")


def estimates(ii1: bool = False) -> dict:
    from .hw.platform import PL_CLOCK_HZ
    from .lif import cycles as lif_cycles
    from .lif.model import random_network, random_rasters
    from .snnwm import cycles as snnwm_cycles
    from .snnwm import study
    from .stm import cycles as stm_cycles
    from .stm import workloads

    def pick(mod):
        return _ii1(mod.SCHEDULE) if ii1 else mod.SCHEDULE

    label = "estimated (every loop at II=1, " + f"{PL_CLOCK_HZ / 1e6:g} MHz)" if ii1 else stm_cycles.SCHEDULE.label
    out = {"label": label, "clock_hz": PL_CLOCK_HZ, "stm": [], "lif": [], "snnwm": []}
    for build in (workloads.two_layer_causal, workloads.multi_layer_causal):
        wl = build()
        rep = stm_cycles.stm_cycles(wl.network, wl.network.sample(4000, seed=0), 8, sched=pick(stm_cycles))
        out["stm"].append({"workload": build.__name__, "N": 4000, "batch": 8, "cycles": rep.total,
                           "ms_per_call": 1e3 * rep.total / PL_CLOCK_HZ,
                           "ms_per_evidence_set": 1e3 * rep.total / PL_CLOCK_HZ / 8})
    rng = np.random.default_rng(0)
    net = random_network(rng, [700, 128, 128, 20], "synapse", 63)
    r = random_rasters(rng, 32, 100, 700, 0.05)
    rep = lif_cycles.lif_cycles(net, r, sched=pick(lif_cycles))
    out["lif"].append({"network": "700-128-128-20", "T": 100, "density": 0.05, "batch": 32, "cycles": rep.total,
                       "ms_per_sample": 1e3 * rep.per_sample / PL_CLOCK_HZ,
                       "samples_per_s": PL_CLOCK_HZ / rep.per_sample})
    for p in (0.1, 0.05):
        x = study.rasters(16, 16, 512, p, (0, 7))
        for L in (1, 2, 4, 8):
            rep = snnwm_cycles.snnwm_cycles(study.layer_network(512, 512, L), x, sched=pick(snnwm_cycles))
            out["snnwm"].append({"layer": "512-512", "T": 16, "L": L, "density": p, "batch": 16,
                                 "us_per_sample": 1e6 * rep.steady_per_sample / PL_CLOCK_HZ})
    return out


def report(est: dict, file=sys.stdout) -> None:
    print(f"FPGA latency, {est['label']}", file=file)
    for row in est["stm"]:
        print(f"  STM   {row['workload']:20s} N={row['N']} batch {row['batch']}: {row['ms_per_call']:9.2f} ms per call, "
              f"{row['ms_per_evidence_set']:8.3f} ms per evidence set", file=file)
    for row in est["lif"]:
        print(f"  LIF   {row['network']} T={row['T']} p={row['density']} batch {row['batch']}: "
              f"{row['ms_per_sample']:.4f} ms per sample ({row['samples_per_s']:,.0f} samples/s)", file=file)
    for row in est["snnwm"]:
        print(f"  SNNWM {row['layer']} T={row['T']} L={row['L']} p={row['density']}: {row['us_per_sample']:7.1f} us per "
              "sample (W1 resident)", file=file)
