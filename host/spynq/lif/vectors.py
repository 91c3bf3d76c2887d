"""Test vectors for the Vitis C-simulation testbench (hls/lif_delay/tb_lif_delay.cpp).

    python -m spynq.lif.vectors <dir> [n_random]

writes the cases in the format of hls/common/spynq_tb.h (spynq.hw.vectors): the net and
raster buffers, the golden model's out words, and the scalars (net_words, n_steps, batch).
Cases: the issue's 700-128-128-20 target network, the back-to-back same-slot cases
(``same_slot_cases``), then random networks with every delay mode, delays 0 and D-1 and
saturating membranes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..hw.vectors import write_cases
from . import encode, golden
from .model import LifLayer, LifNetwork, LifParams, random_network, random_rasters

# Layer shapes of the same-slot cases: 1 lane group throughout (4 ring copies), 2 groups
# (2 copies), 3 groups (2 copies, 6 cells) and 4 groups (no copies), several layers each.
SAME_SLOT_SIZES = ([16, 48, 40, 24], [12, 100, 20], [10, 150, 30], [8, 200, 16])


def same_slot_cases():
    """Deliveries back to back into one ring slot of one lane group: in the spike steps
    ``burst`` every input spikes, and half the inputs of every layer have delay 0 (read in
    the same step, right after the deliveries), the other half the largest delay D-1
    (T > D-1 + the last burst step, so those slots are read too). Weights are positive
    multiples of 2^-6 so each burst makes the next layer spike in the same step; the
    layers alternate reset modes and current state. (network, rasters) pairs."""
    rng = np.random.default_rng(31)
    dmax = encode.C["LIF_RING"] - 1
    burst = [0, 1, 2, 5, 12]
    T = dmax + burst[-1] + 3
    for k, sizes in enumerate(SAME_SLOT_SIZES):
        layers = []
        for li, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            w = rng.integers(8, 40, (n_in, n_out)) / 64.0
            if (k + li) % 2:  # axonal: one delay per input
                d = np.where(np.arange(n_in) % 2 == 0, 0, dmax)
            else:
                d = np.where((np.arange(n_in)[:, None] + np.arange(n_out)[None, :]) % 2 == 0, 0, dmax)
            params = LifParams(alpha=0.875, beta=0.75 if li == 1 else None, threshold=1.0,
                               reset="subtract" if (k + li) % 2 else "zero", refractory=li)
            layers.append(LifLayer(w, d, params))
        r = random_rasters(rng, 2, T, sizes[0], 0.05)
        r[:, burst, :] = True
        yield LifNetwork(layers), r


def cases(n_random: int = 20):
    rng = np.random.default_rng(2024)
    net = random_network(rng, [700, 128, 128, 20], "synapse", 64)
    yield net, random_rasters(rng, 2, 100, 700, 0.05)
    yield from same_slot_cases()
    ring = encode.C["LIF_RING"]
    for i in range(n_random):
        sizes = [int(rng.integers(1, 200))] + [int(rng.integers(1, 150)) for _ in range(int(rng.integers(1, 5)))]
        net = random_network(rng, sizes, "mixed", ring - 1 if i % 2 else int(rng.integers(0, 30)),
                             weight_scale=float(rng.uniform(1, 6)))
        if i % 4 == 0:
            first = net.layers[0]
            first.weights = np.where(rng.random(first.weights.shape) < 0.5, 7.5, -7.5)
            first.params = LifParams(alpha=0.99, threshold=127.0)
        yield net, random_rasters(rng, int(rng.integers(1, 4)), int(rng.integers(1, 60)), net.n_in,
                                  float(rng.uniform(0, 0.4)))


def write(out_dir: Path, n_random: int = 20) -> int:
    def vectors():
        for net, r in cases(n_random):
            p = encode.pack_network(net)
            rw = encode.pack_rasters(r)
            batch, T = r.shape[:2]
            yield p.net, rw, golden.run(p.net, p.net_words, rw, T, batch), (p.net_words, T, batch)

    return write_cases(out_dir, vectors(), kernel="lif_delay")


if __name__ == "__main__":
    n = write(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
    print(f"wrote {n} LIF test cases to {sys.argv[1]}")
