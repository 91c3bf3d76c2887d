"""Test vectors for the Vitis C-simulation testbench (hls/stm/tb_stm.cpp).

    python -m spynq.stm.vectors <dir> [n_random]

writes the cases in the format of hls/common/spynq_tb.h (spynq.hw.vectors): the net and
evidence buffers, the golden model's out words, and the scalars (net_words, batch).
The cases are the four paper workloads plus random networks, as in the pytest suite.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..hw.vectors import write_cases
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
    def vectors():
        for net, pops, ev in cases(n_random):
            p = encode.pack_network(net, pops)
            evw = encode.pack_evidence(net, ev)
            yield p.net, evw, golden.run(p.net, p.net_words, evw, len(ev)), (p.net_words, len(ev))

    return write_cases(out_dir, vectors(), kernel="stm")


if __name__ == "__main__":
    n = write(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
    print(f"wrote {n} STM test cases to {sys.argv[1]}")
