"""Test vectors for the Vitis C-simulation testbench (hls/snnwm/tb_snnwm.cpp).

    python -m spynq.snnwm.vectors <dir> [n_random]

writes the cases in the format of hls/common/spynq_tb.h (spynq.hw.vectors): the net and
raster buffers, the golden model's out words, and the scalars (net_words, n_steps, batch).
Cases: a 512-512 window layer (L = 4, T = 16) with a readout, the L = 1 / L = T
/ partial-window ends, then random networks of both modes with saturating membranes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..hw.vectors import write_cases
from . import golden
from .backends import packed_args
from .model import SnnwmParams, random_network, random_rasters


def cases(n_random: int = 20):
    rng = np.random.default_rng(2024)
    T = 16
    yield random_network(rng, [512, 448, 10], 4, "window", readout=True, T=T), random_rasters(rng, 2, T, 512, 0.05)
    for L in (1, T, 5):
        yield random_network(rng, [40, 30], L, "window"), random_rasters(rng, 2, T, 40, 0.2)
    for i in range(n_random):
        T = int(rng.integers(1, 50))
        sizes = [int(rng.integers(1, 200))] + [int(rng.integers(1, 150)) for _ in range(int(rng.integers(1, 5)))]
        net = random_network(rng, sizes, int(rng.integers(1, T + 1)), "mixed", readout=i % 2 == 0 and len(sizes) > 2,
                             T=T, weight_scale=float(rng.uniform(1, 6)))
        if i % 4 == 0:
            first = net.layers[0]
            first.w1 = np.where(rng.random(first.w1.shape) < 0.5, 7.5, -7.5)
            first.params = SnnwmParams.from_decay(64880 / 65536, threshold=127.0)
        yield net, random_rasters(rng, int(rng.integers(1, 4)), T, net.n_in, float(rng.uniform(0, 0.4)))


def write(out_dir: Path, n_random: int = 20) -> int:
    def vectors():
        for net, r in cases(n_random):
            net_buf, nw, rw, T, batch = packed_args(net, r)
            yield net_buf, rw, golden.run(net_buf, nw, rw, T, batch), (nw, T, batch)

    return write_cases(out_dir, vectors(), kernel="snnwm")


if __name__ == "__main__":
    n = write(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
    print(f"wrote {n} SNNWM test cases to {sys.argv[1]}")
