"""Test vectors for the Vitis C-simulation testbench (hls/stm/tb_stm.cpp).

    python -m spynq.stm.vectors <dir> [n_random]

writes, per case i: case<i>_net.bin, case<i>_ev.bin, case<i>_out.bin (the golden model's
out words, little-endian uint32) and cases.txt with "net_words batch out_words" per line.
The cases are the four paper workloads plus random networks, as in the pytest suite.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from . import encode, golden, randnet, workloads


def cases(n_random: int = 20, samples: int = 256):
    for build in workloads.ALL:
        wl = build()
        yield wl.network, wl.network.sample(samples, seed=0), wl.evidence(4, seed=1)
    rng = np.random.default_rng(99)
    for i in range(n_random):
        net = randnet.random_network(rng)
        yield net, net.sample(randnet.random_sizes(rng, net), seed=i), randnet.random_evidence(rng, net, 2)


def write(out_dir: Path, n_random: int = 20) -> int:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (net, pops, ev) in enumerate(cases(n_random)):
        p = encode.pack_network(net, pops)
        evw = encode.pack_evidence(net, ev)
        out = golden.run(p.net, p.net_words, evw, len(ev))
        for name, arr in (("net", p.net), ("ev", evw), ("out", out)):
            np.asarray(arr, "<u4").tofile(out_dir / f"case{i}_{name}.bin")
        lines.append(f"{p.net_words} {len(ev)} {len(out)}")
    (out_dir / "cases.txt").write_text("\n".join(lines) + "\n")
    return len(lines)


if __name__ == "__main__":
    n = write(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
    print(f"wrote {n} STM test cases to {sys.argv[1]}")
