"""Shared LIF test cases: the random networks every fixed-point tier is checked on."""
import ctypes

import numpy as np

from spynq.hw import csim
from spynq.lif import encode
from spynq.lif.model import LifParams, random_network, random_rasters
from spynq.lif.vectors import same_slot_cases  # noqa: F401  (one definition, also in the Vitis vectors)

N_RANDOM = 200
RING = encode.C["LIF_RING"]


def random_case(rng, i):
    """(network, rasters). Every 5th case saturates the membrane, every 7th has no input
    spikes, every 3rd uses the largest delay; delays 0 appear throughout."""
    n_layers = int(rng.integers(1, encode.C["LIF_MAX_LAYERS"] + 1))
    sizes = [int(rng.integers(1, 200))] + [int(rng.integers(1, 150)) for _ in range(n_layers)]
    max_delay = RING - 1 if i % 3 == 0 else int(rng.integers(0, 40))
    net = random_network(rng, sizes, "mixed", max_delay, weight_scale=float(rng.uniform(1, 6)))
    for k, layer in enumerate(net.layers):
        if i % 3 == 0 and layer.delays is not None:  # make sure both ends of the ring are used
            layer.delays.flat[0] = RING - 1
            layer.delays.flat[-1] = 0
        if i % 5 == 0 and k == 0:  # drive V into saturation (|V| < 128)
            layer.weights = np.where(rng.random(layer.weights.shape) < 0.5, 7.5, -7.5)
            layer.params = LifParams(alpha=0.99, beta=layer.params.beta, threshold=127.0,
                                     reset=layer.params.reset, refractory=0)
    T = int(rng.integers(1, 60))
    density = 0.0 if i % 7 == 0 else float(rng.uniform(0.02, 0.4))
    return net, random_rasters(rng, int(rng.integers(1, 4)), T, net.n_in, density)


def random_cases(n=N_RANDOM, seed=2025):
    rng = np.random.default_rng(seed)
    for i in range(n):
        yield random_case(rng, i)


def packed(net, rasters):
    p = encode.pack_network(net)
    return p.net, p.net_words, encode.pack_rasters(rasters), rasters.shape[1], rasters.shape[0]


def small_case(rng, i):
    """Like random_case but with small synapse stores (the co-simulation moves every word
    over a cocotb-driven bus): hidden layers of 1..24 neurons, a 150-neuron layer (three
    lane groups, two-beat raster rows) every 25th case."""
    n_layers = int(rng.integers(1, encode.C["LIF_MAX_LAYERS"] + 1))
    sizes = [int(rng.integers(1, 20))] + [int(rng.integers(1, 25)) for _ in range(n_layers)]
    if i % 25 == 0:
        sizes[-1] = 150
    max_delay = RING - 1 if i % 3 == 0 else int(rng.integers(0, 40))
    net = random_network(rng, sizes, "mixed", max_delay, weight_scale=float(rng.uniform(1, 6)))
    for k, layer in enumerate(net.layers):
        if i % 3 == 0 and layer.delays is not None:
            layer.delays.flat[0] = RING - 1
            layer.delays.flat[-1] = 0
        if i % 5 == 0 and k == 0:
            layer.weights = np.where(rng.random(layer.weights.shape) < 0.5, 7.5, -7.5)
            layer.params = LifParams(alpha=0.99, beta=layer.params.beta, threshold=127.0,
                                     reset=layer.params.reset, refractory=0)
    T = int(rng.integers(1, 40))
    density = 0.0 if i % 7 == 0 else float(rng.uniform(0.05, 0.5))
    return net, random_rasters(rng, int(rng.integers(1, 3)), T, net.n_in, density)


def small_cases(n=N_RANDOM, seed=2026):
    rng = np.random.default_rng(seed)
    for i in range(n):
        yield small_case(rng, i)


def checks(defines=(), reset: bool = True) -> dict:
    """The kernel's C-simulation checks since the last reset (lif_delay_csim_bridge.cpp):
    ring / state reads closer to their last write than its DEPENDENCE distances declare,
    event FIFO writes at full depth, and the largest FIFO occupancy."""
    out = (ctypes.c_uint64 * 4)()
    csim.load("lif_delay", defines=dict(defines)).lif_csim_checks(out, int(reset))
    return dict(zip(("ring", "state", "fifo_full", "fifo_max"), map(int, out)))


def hazards(defines=(), reset: bool = True) -> tuple[int, int, int]:
    """(ring, state, fifo_full) of ``checks``: all zero when the kernel keeps its promises."""
    c = checks(defines, reset)
    return c["ring"], c["state"], c["fifo_full"]
