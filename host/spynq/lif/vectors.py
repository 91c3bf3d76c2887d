"""Test vectors for the Vitis C-simulation testbench (hls/lif_delay/tb_lif_delay.cpp).

    python -m spynq.lif.vectors <dir> [n_random]

writes the cases in the format of hls/common/spynq_tb.h (spynq.hw.vectors): the net and
raster buffers, the golden model's out words, and the scalars (net_words, n_steps, batch).
Cases: the issue's 700-128-128-20 target network, then random networks with
every delay mode, delays 0 and D-1 and saturating membranes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..hw.vectors import write_cases
from . import encode, golden
from .model import LifParams, random_network, random_rasters


def cases(n_random: int = 20):
    rng = np.random.default_rng(2024)
    net = random_network(rng, [700, 128, 128, 20], "synapse", 64)
    yield net, random_rasters(rng, 2, 100, 700, 0.05)
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

    return write_cases(out_dir, vectors())


if __name__ == "__main__":
    n = write(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
    print(f"wrote {n} LIF test cases to {sys.argv[1]}")
