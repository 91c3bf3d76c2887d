"""The SNNWM cycle model follows the kernel's loops: its trip counts equal the trips the
HLS C++ really makes (csim counters), and bytes_moved counts every beat of the call."""
import numpy as np

from spynq.hw import csim
from spynq.snnwm import backends, cycles
from spynq.snnwm.model import random_network, random_rasters

from snnwm_cases import packed, random_cases


def csim_trips(net, r):
    csim.trips("snnwm", cycles.LOOPS)  # reset
    backends.csim_call(*packed(net, r))
    return csim.trips("snnwm", cycles.LOOPS)


def test_trip_counts_match_the_kernel():
    for i, (net, r) in enumerate(random_cases(40, seed=77)):
        model = cycles.snnwm_cycles(net, r)
        assert {k: model.trips.get(k, 0) for k in cycles.LOOPS} == csim_trips(net, r), i


def test_bytes_moved_counts_every_beat():
    for net, r in random_cases(5, seed=4):
        rep = cycles.snnwm_cycles(net, r)
        args = packed(net, r)
        out = backends.csim_call(*args)
        assert rep.bytes_moved == 4 * (len(args[0]) + len(args[2]) + len(out))


def test_window_mode_saves_membrane_work_on_a_512_layer():
    """512-512, T = 16, 5 % density: the neuron loop shrinks with fewer windows only
    through the per-window pipeline fills; the trip count of UPD stays T * G (every step
    still runs), while the window count (and V traffic) falls by L."""
    rng = np.random.default_rng(0)
    r = random_rasters(rng, 2, 16, 512, 0.05)
    reps = {L: cycles.snnwm_cycles(random_network(rng, [512, 512], L, "window"), r) for L in (1, 2, 4, 8)}
    for L, rep in reps.items():
        assert rep.trips["UPD"] == 2 * 16 * 8
        assert rep.steady_per_sample < 20_000 * cycles.SCHEDULE["UPD"].ii  # ~100 us per sample, W1 resident
    assert reps[8].trips["ACC"] == reps[1].trips["ACC"]  # every input row read once either way
