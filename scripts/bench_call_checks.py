"""Per-call overhead of the low-level call path on small calls (not a test: a measurement).

For each kernel, one small packed call (a few neurons or samples, batch 1) through
spynq.hw.runner.execute on golden and csim, and csim.call alone; the median of many
repeats after a warm-up (the build and load are outside the timing). Run it before and
after a change of the call path to see what the checks, the lock and the worker thread
cost:  .venv/bin/python scripts/bench_call_checks.py [--repeats N]
"""
from __future__ import annotations

import argparse

import numpy as np


def small_calls():
    from spynq.lif import encode as le
    from spynq.lif.model import random_network as lif_net, random_rasters as lif_rasters
    from spynq.snnwm import encode as we
    from spynq.snnwm.model import random_network as wm_net, random_rasters as wm_rasters
    from spynq.stm import encode as se, randnet

    rng = np.random.default_rng(1)
    net = lif_net(rng, [8, 8], "mixed", 3)
    p, r = le.pack_network(net), lif_rasters(rng, 1, 4, 8)
    yield "lif_delay", p.net, p.net_words, le.pack_rasters(r), (4, 1)
    net = wm_net(rng, [8, 8], 2, "window", False, 4)
    p, r = we.pack_network(net), wm_rasters(rng, 1, 4, 8)
    yield "snnwm", p.net, p.net_words, we.pack_rasters(r), (4, 1)
    while True:
        net = randnet.random_network(rng)
        if len(net.nodes) <= 3:
            break
    pops = net.sample({n.name: 16 for n in net.hidden_nodes}, seed=0)
    p = se.pack_network(net, pops)
    ev = se.pack_evidence(net, randnet.random_evidence(rng, net, 1))
    yield "stm", p.net, p.net_words, ev, (1,)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=300)
    args = ap.parse_args()
    from spynq.bench import time_call
    from spynq.hw import csim, runner

    print(f"{'kernel':10} {'path':28} {'median us/call':>15}")
    for kernel, net, words, inp, scalars in small_calls():
        rows = {
            "runner.execute golden": lambda: runner.execute(kernel, "golden", net, words, inp, scalars),
            "runner.execute csim": lambda: runner.execute(kernel, "csim", net, words, inp, scalars),
            "csim.call": lambda: csim.call(kernel, net, words, inp, scalars),
        }
        if hasattr(runner, "check_call"):
            rows["runner.check_call alone"] = lambda: runner.check_call(kernel, net, words, inp, scalars)
        for name, fn in rows.items():
            print(f"{kernel:10} {name:28} {1e6 * time_call(fn, args.repeats, warmup=20):15.1f}")


if __name__ == "__main__":
    main()
