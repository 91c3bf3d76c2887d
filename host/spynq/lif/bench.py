"""`spynq bench lif`: the CPU rows (numpy cpu, the native float C++ on one thread and on
every core), the fixed-point tiers (numpy golden; csim-O3, the kernel's C++ as a speed
reference for csim) against the FPGA (cycle-model estimate here, labelled with its II
table and clock; measured on a board with the overlay loaded), with the FPGA's speed-up
over the fastest CPU row (spynq.bench), for
the issue's 700-128-128-20 network with per-synapse delays up to 64 and the speech
paper's In-128-128-Out shape with axonal delays, at 5 % input density."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from .. import bench
from . import backends, cycles, demos

STEPS = (50, 100, 200)


def shapes(T: int):
    speech = demos.speech_shape_network()
    return {"700-128-128-20 synaptic d<=64": demos.benchmark_shape(T=T),
            "speech 700-128-128-20 axonal d<=64": demos.BenchmarkShape(speech, T=T, density=0.05)}


def run(out_dir: Path, steps=STEPS, batch: int = 32, repeats: int = 3, golden: bool = True) -> list:
    from ..hw.board import session

    rows = []
    backend, ol, note = session()
    csim_ok, why_not = bench.csim_row_available()
    bench.progress(note + ("" if csim_ok else f"; no csim-O3 row ({why_not})"))
    for T in steps:
        for name, shape in shapes(T).items():
            net, r = shape.network, shape.rasters(batch, seed=1)
            bench.progress(f"{name} T={T}")

            def add(backend, seconds, source, **extra):
                rows.append(bench.Row("lif_delay", name, T, batch, backend, seconds, source, extra))

            def model(net=net, r=r):
                rep = cycles.lif_cycles(net, r, backends.run(net, r, "golden").spikes)
                return rep.total / cycles.CLOCK_HZ, cycles.SCHEDULE.label, rep.summary()

            bench.workload_rows(add, partial(backends.run, net, r), model, repeats, (backend, ol), golden, csim_ok)
    out_dir = Path(out_dir)
    meta = {"machine": bench.machine(), "batch": batch, "steps": list(steps)}
    bench.print_table(rows, meta=meta)
    bench.write_json(rows, out_dir / "lif_bench.json", meta)
    bench.plot(rows, out_dir / "lif_bench.png", f"LIF with delays, batch of {batch} rasters", xlabel="time steps T",
               ylabel="latency per sample (ms)")
    print(f"wrote {out_dir / 'lif_bench.json'} and {out_dir / 'lif_bench.png'}")
    return rows
