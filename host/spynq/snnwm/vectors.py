"""Test vectors for the Vitis C-simulation testbench (hls/snnwm/tb_snnwm.cpp).

    python -m spynq.snnwm.vectors <dir> [n_random]

writes, per case i: case<i>_net.bin, case<i>_in.bin, case<i>_out.bin (the golden model's
out words, little-endian uint32) and cases.txt with "net_words n_steps batch out_words"
per line. Cases: a 512-512 window layer (L = 4, T = 16) with a readout, the L = 1 / L = T
/ partial-window ends, then random networks of both modes with saturating membranes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

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
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (net, r) in enumerate(cases(n_random)):
        net_buf, nw, rw, T, batch = packed_args(net, r)
        out = golden.run(net_buf, nw, rw, T, batch)
        for name, arr in (("net", net_buf), ("in", rw), ("out", out)):
            np.asarray(arr, "<u4").tofile(out_dir / f"case{i}_{name}.bin")
        lines.append(f"{nw} {T} {batch} {len(out)}")
    (out_dir / "cases.txt").write_text("\n".join(lines) + "\n")
    return len(lines)


if __name__ == "__main__":
    n = write(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
    print(f"wrote {n} SNNWM test cases to {sys.argv[1]}")
