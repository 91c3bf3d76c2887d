"""The LIF cycle model follows the kernel's loops: its trip counts equal the trips the HLS
C++ really makes (csim counters); the event/update loop stays within 1.2x of
(synaptic events + neuron updates) / lanes; the issue's target reaches >= 10,000 samples/s."""
import numpy as np

from spynq.hw import csim
from spynq.lif import backends, cycles, encode
from spynq.lif.model import random_network, random_rasters

from lif_cases import packed, random_cases


def csim_trips(net, r):
    csim.trips("lif_delay", cycles.LOOPS)  # reset
    backends.csim_call(*packed(net, r))
    return csim.trips("lif_delay", cycles.LOOPS)


def test_trip_counts_match_the_kernel():
    for i, (net, r) in enumerate(random_cases(40, seed=77)):
        model = cycles.lif_cycles(net, r)
        assert {k: model.trips.get(k, 0) for k in cycles.LOOPS} == csim_trips(net, r), i


def target():
    rng = np.random.default_rng(0)
    net = random_network(rng, [700, 128, 128, 20], "synapse", 64)
    return net, random_rasters(rng, 64, 100, 700, 0.05)


def test_target_within_1p2_of_ideal_and_fast_enough():
    net, r = target()
    rep = cycles.lif_cycles(net, r)
    s = rep.summary()
    print(s)
    ii = cycles.SCHEDULE["RUN"].ii
    assert rep.ideal <= rep.compute <= 1.2 * ii * rep.ideal, s
    assert rep.samples_per_s >= 10_000 / ii, s
    assert {k: rep.trips[k] for k in cycles.LOOPS} == csim_trips(net, r[:64])


def test_dense_layers_within_1p2():
    rng = np.random.default_rng(3)
    net = random_network(rng, [1024, 192, 128], "synapse", 100)
    rep = cycles.lif_cycles(net, random_rasters(rng, 4, 200, 1024, 0.05))
    assert rep.compute <= 1.2 * cycles.SCHEDULE["RUN"].ii * rep.ideal, rep.summary()


def test_bytes_moved_counts_every_beat():
    net, r = next(random_cases(1, seed=4))
    rep = cycles.lif_cycles(net, r)
    args = packed(net, r)
    out = backends.csim_call(*args)
    assert rep.bytes_moved == 4 * (len(args[0]) + len(args[2]) + len(out))
