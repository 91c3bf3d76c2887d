#!/usr/bin/env python3
"""Peers for context (issue 12, item 4): Brian2 on the LIF benchmark network beside spynq.

Network: spynq.lif.demos.benchmark_shape (700-128-128-20, per-synapse delays 0..64 on
every layer, T = 100, 5 % input density), batch 32, the same rasters for every peer.
Brian2 runs the spynq semantics (spynq.lif.reference): one step = dt; a spike reaches its
target d steps later, delay 0 in the same step (so every layer's update, threshold,
propagation and reset run in the 'end' slot in layer order, not in Brian2's default
groups/thresholds/synapses order, which would add a step per layer); per step
cur = beta*cur + x (current state, when the layer has one), then a neuron not refractory
integrates v = alpha*v + u and fires when v >= threshold; the reset sets v_reset or
subtracts the threshold; a spike holds v for `refractory` steps. The batch is 32 copies of
each layer side by side (block-diagonal synapses), one Brian2 run of T steps. Brian2's
generated C++ is built with -O3 -ffp-contract=off (its default -ffast-math may fuse
alpha*v + u, which rounds differently from numpy's float64), so the spikes must equal
spynq cpu's exactly; the script checks that before it reports a time.

Times: median of --repeats runs after one warm-up (Brian2: network built and compiled
once, restored before each run; "main loop" is Brian2's own clock of its step loop,
"net.run" the whole call with its per-run setup), ms per sample,
ratios against spynq cpu from the same run. Not a test, not in `make test`.

Brian2 is optional: `.venv/bin/python -m pip install brian2` (it is not in
requirements.txt). Without it the script prints that and exits 0.

  .venv/bin/python scripts/bench_peers.py [--repeats 5] [--batch 32] [--T 100]
        [--target cython|numpy] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

import numpy as np  # noqa: E402


def median_s(fn, repeats: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def brian2_network(b2, network, rasters, target: str):
    """(net, monitors, run_fn): the spynq LIF network as a Brian2 Network of `batch`
    copies; run_fn() restores the initial state and runs T steps."""
    b2.prefs.codegen.target = target
    b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O3", "-ffp-contract=off", "-march=native"]
    b2.prefs.codegen.cpp.extra_compile_args_msvc = []
    b2.defaultclock.dt = 1 * b2.ms
    dt = b2.defaultclock.dt
    batch, T, n_in = rasters.shape
    b, t, i = np.nonzero(rasters)
    objs, mons = [], []
    src = b2.SpikeGeneratorGroup(batch * n_in, b * n_in + i, t * dt, when="end", order=0)
    objs.append(src)
    n_prev = n_in
    for k, layer in enumerate(network.layers):
        p, n = layer.params, layer.n_out
        base = 10 * (k + 1)  # update, threshold, (incoming propagation ran before), reset, monitor
        u = "cur" if p.beta is not None else "x"
        update = ("cur = beta * cur + x\n" if p.beta is not None else "") + f"""
act = int(refc == 0)
refc = refc - (1 - act)
v = act * (alpha * v + {u}) + (1 - act) * v
x = 0
"""
        reset = ("v = v_reset" if p.reset == "zero" else "v = v - thr") + "\nrefc = R"
        g = b2.NeuronGroup(batch * n, "v : 1\ncur : 1\nx : 1\nrefc : integer\nact : integer",
                           threshold="act == 1 and v >= thr", reset=reset, method="exact",
                           namespace={"alpha": p.alpha, "beta": p.beta or 0.0, "thr": p.threshold,
                                      "v_reset": p.v_reset, "R": int(p.refractory)})
        g.run_regularly(update, dt=dt, when="end", order=base)
        g.thresholder["spike"].when, g.thresholder["spike"].order = "end", base + 1
        g.resetter["spike"].when, g.resetter["spike"].order = "end", base + 3
        # synapses from the previous layer: delivered before this layer's update (order base - 1)
        syn = b2.Synapses(objs[-1], g, "w : 1", on_pre="x_post += w")
        syn.pre.when, syn.pre.order = "end", base - 1
        rows, cols = np.meshgrid(np.arange(n_prev), np.arange(n), indexing="ij")
        pre = (np.arange(batch)[:, None, None] * n_prev + rows[None]).ravel()
        post = (np.arange(batch)[:, None, None] * n + cols[None]).ravel()
        syn.connect(i=pre, j=post)
        syn.w = np.tile(layer.weights.ravel(), batch)
        syn.delay = np.tile(layer.synapse_delays().ravel(), batch) * dt
        mon = b2.SpikeMonitor(g, when="end", order=base + 4)
        objs += [syn, g]
        mons.append((mon, n))
        n_prev = n
    net = b2.Network(*objs, *[m for m, _ in mons])
    net.store()

    def run():
        """(main-loop seconds, net.run seconds): Brian2's own clock of its step loop
        (after before_run's setup of queues and code objects), and the whole call."""
        net.restore()
        t0 = time.perf_counter()
        net.run(T * dt)
        return b2.get_device()._last_run_time, time.perf_counter() - t0

    def spikes():
        out = []
        for mon, n in mons:
            s = np.zeros((batch, T, n), bool)
            idx, steps = np.asarray(mon.i), np.rint(np.asarray(mon.t / dt)).astype(int)
            s[idx // n, steps, idx % n] = True
            out.append(s)
        return out

    return run, spikes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--target", default="cython", choices=("cython", "numpy"))
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)

    from spynq import bench, native
    from spynq.lif import backends, demos

    shape = demos.benchmark_shape(T=a.T)
    net, r = shape.network, shape.rasters(a.batch, seed=1)
    print(f"# {bench.machine_line()}")
    print(f"# LIF {'-'.join(map(str, net.sizes))}, per-synapse delays 0..{net.max_delay}, T={a.T}, "
          f"density {shape.density}, batch {a.batch}; median of {a.repeats} runs, ms per sample")
    ref = backends.run(net, r, "cpu")
    rows = {"spynq cpu (numpy)": median_s(lambda: backends.run(net, r, "cpu"), a.repeats)}
    if native.available()[0]:
        for threads in dict.fromkeys((1, native.cores())):
            res = backends.run(net, r, "native", threads=threads)
            assert all(np.array_equal(x, y) for x, y in zip(res.spikes, ref.spikes)), "native spikes differ"
            rows[f"spynq native, {threads} thread{'s' * (threads > 1)}"] = median_s(
                lambda: backends.run(net, r, "native", threads=threads), a.repeats)
    try:
        import brian2 as b2
    except ImportError:
        b2 = None
        print("# Brian2 is not installed: `.venv/bin/python -m pip install brian2` for its row "
              "(an optional benchmark dependency, not in requirements.txt)")
    if b2 is not None:
        b2.BrianLogger.log_level_warn()
        run, spikes = brian2_network(b2, net, r, a.target)
        run()  # builds and compiles
        got = spikes()
        for k, (x, y) in enumerate(zip(got, ref.spikes)):
            if not np.array_equal(x, y):
                print(f"# Brian2 layer {k}: {int((x != y).sum())} of {int(y.sum())} spikes differ from spynq cpu; "
                      "no time reported")
                return 1
        print(f"# Brian2 {b2.__version__} ({a.target}): identical spikes to spynq cpu in every layer "
              f"({', '.join(str(int(s.sum())) for s in got)})")
        ts = [run() for _ in range(a.repeats)]
        rows[f"Brian2 {b2.__version__} ({a.target} target, main loop)"] = statistics.median(t for t, _ in ts)
        rows[f"Brian2 {b2.__version__} ({a.target} target, net.run)"] = statistics.median(t for _, t in ts)
    base = rows["spynq cpu (numpy)"]
    print(f"{'implementation':48s} {'ms/sample':>10s} {'vs spynq cpu':>13s}")
    for name, s in rows.items():
        print(f"{name:48s} {1e3 * s / a.batch:10.3f} {s / base:12.3f}x")
    if a.json:
        a.json.write_text(json.dumps({"machine": bench.machine(), "batch": a.batch, "T": a.T,
                                      "ms_per_sample": {k: 1e3 * v / a.batch for k, v in rows.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
