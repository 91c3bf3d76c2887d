"""Shared SNNWM test cases: the random networks every fixed-point tier is checked on.

Case i: L = 1 (i % 6 == 0), L = T (i % 6 == 1), T not a multiple of L (i % 6 == 2),
else L random; all-zero input trains (i % 7 == 0), all-one trains (i % 11 == 0);
saturating membranes (i % 5 == 0); a clipping readout-only network (i % 13 == 0);
readouts on every 3rd case; window, overlap and mixed layers throughout.
"""
import numpy as np

from spynq.snnwm import SnnwmNetwork, SnnwmParams, WindowLayer, ReadoutLayer, encode
from spynq.snnwm.backends import packed_args
from spynq.snnwm.model import random_network, random_rasters

N_RANDOM = 200


def pick_L(rng, i, T):
    if i % 6 == 0 or T == 1:
        return 1
    if i % 6 == 1:
        return T
    if i % 6 == 2 and T >= 3:
        L = [L for L in range(2, T) if T % L][:8]
        if L:
            return int(rng.choice(L))
    return int(rng.integers(1, min(T, 12) + 1))


def random_case(rng, i, small=False):
    """(network, rasters)."""
    n_layers = 0 if i % 13 == 0 else int(rng.integers(1, encode.C["SNNWM_MAX_LAYERS"] + 1))
    readout = i % 3 == 0 or n_layers == 0
    hi_in, hi_n = (20, 25) if small else (200, 150)
    sizes = [int(rng.integers(1, hi_in))] + [int(rng.integers(1, hi_n)) for _ in range(n_layers + readout)]
    if small and i % 25 == 4:
        sizes[-1] = 150  # three lane groups, two-beat rows
    T = int(rng.integers(1, 40 if small else 60))
    L = pick_L(rng, i, T)
    net = random_network(rng, sizes, L, str(rng.choice(["window", "overlap", "mixed"])), readout, T,
                         weight_scale=float(rng.uniform(1, 6)))
    if i % 5 == 0 and net.layers:  # drive V into saturation (|V| < 128)
        first = net.layers[0]
        first.w1 = np.where(rng.random(first.w1.shape) < 0.5, 7.5, -7.5)
        first.w2 = np.full(first.L, 7.5)
        first.params = SnnwmParams.from_decay(64880 / 65536, threshold=127.0, v_rest=first.params.v_rest)
    if i % 13 == 0:  # readout-only, largest weights: the current clips at int32
        ro = net.readout
        net = SnnwmNetwork([], ReadoutLayer(np.full(ro.w1.shape, 7.9997), np.full(ro.K, 7.9997)))
    density = 0.0 if i % 7 == 0 else 1.0 if i % 11 == 0 or i % 13 == 0 else float(rng.uniform(0.02, 0.5))
    return net, random_rasters(rng, int(rng.integers(1, 3 if small else 4)), T, net.n_in, density)


def random_cases(n=N_RANDOM, seed=2027, small=False):
    rng = np.random.default_rng(seed)
    for i in range(n):
        yield random_case(rng, i, small)


def small_cases(n=N_RANDOM, seed=2028):
    """Like random_cases with small W1 stores (the co-simulation moves every word over a
    cocotb-driven bus)."""
    return random_cases(n, seed, small=True)


packed = packed_args
