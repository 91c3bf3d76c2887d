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

            cpu = partial(backends.run, net, r, "cpu")
            add("cpu", bench.time_call(cpu, repeats), "measured",
                **(bench.energy(cpu, repeats) if backend == "fpga" else {}))  # board power: ARM vs PL
            bench.native_rows(add, lambda threads: backends.run(net, r, "native", threads=threads), repeats)
            if golden:
                add("golden", bench.time_call(lambda: backends.run(net, r, "golden"), 1, 0), "measured")
            if csim_ok:
                add("csim-O3", bench.time_call(lambda: backends.run(net, r, "csim", opt="-O3"), repeats),
                    bench.CSIM_SOURCE)
            spikes = backends.run(net, r, "golden").spikes
            rep = cycles.lif_cycles(net, r, spikes)
            add("fpga-model", rep.total / cycles.CLOCK_HZ, cycles.SCHEDULE.label, **rep.summary())
            if backend == "fpga":
                seconds, info = bench.fpga_call(lambda: backends.run(net, r, "fpga", ol=ol), repeats)
                add("fpga", seconds, info["source"], **info)
    out_dir = Path(out_dir)
    meta = {"machine": bench.machine(), "batch": batch, "steps": list(steps)}
    bench.print_table(rows, meta=meta)
    bench.write_json(rows, out_dir / "lif_bench.json", meta)
    bench.plot(rows, out_dir / "lif_bench.png", f"LIF with delays, batch of {batch} rasters", xlabel="time steps T",
               ylabel="latency per sample (ms)")
    print(f"wrote {out_dir / 'lif_bench.json'} and {out_dir / 'lif_bench.png'}")
    return rows
