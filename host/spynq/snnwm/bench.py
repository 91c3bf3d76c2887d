"""SNNWM latency table: the CPU rows (numpy cpu, the native float C++ on one thread and on
every core), csim-O3 (the kernel's fixed-point C++, a speed reference for csim) against
the FPGA (cycle-model estimate here, labelled with its II table and clock; measured on a
board with the overlay loaded), with the FPGA's speed-up over the fastest CPU row
(spynq.bench). Workload: the study's 512-512 window layer (spynq.snnwm.study), T = 16,
input density 0.1, one line per window length L. The estimate is the whole call
(network load included, amortised over the batch), as the LIF and STM tables.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from .. import bench
from . import backends, cycles, study

LS = (1, 2, 4, 8)


def run(out_dir: Path, Ls=LS, n: int = 512, T: int = 16, density: float = 0.1, batch: int = 16,
        repeats: int = 3) -> list:
    from ..hw.board import session

    rows = []
    backend, ol, note = session()
    csim_ok, why_not = bench.csim_row_available()
    bench.progress(note + ("" if csim_ok else f"; no csim-O3 row ({why_not})"))
    r = study.rasters(batch, T, n, density, (0, 7))
    name = f"{n}-{n} window T={T} p={density:g}"
    for L in Ls:
        net = study.layer_network(n, n, L)
        bench.progress(f"{name} L={L}")

        def add(backend, seconds, source, **extra):
            rows.append(bench.Row("snnwm", name, L, batch, backend, seconds, source, extra))

        def model(net=net):
            rep = cycles.snnwm_cycles(net, r)
            return rep.total / cycles.CLOCK_HZ, cycles.SCHEDULE.label, rep.summary()

        bench.workload_rows(add, partial(backends.run, net, r), model, repeats, (backend, ol), False, csim_ok)
    out_dir = Path(out_dir)
    meta = {"machine": bench.machine(), "batch": batch, "n": n, "T": T, "density": density, "L": list(Ls)}
    bench.print_table(rows, meta=meta)
    bench.write_json(rows, out_dir / "snnwm_bench.json", meta)
    bench.plot(rows, out_dir / "snnwm_bench.png", f"SNNWM {name}, batch of {batch}", xlabel="window length L",
               ylabel="latency per sample (ms)")
    print(f"wrote {out_dir / 'snnwm_bench.json'} and {out_dir / 'snnwm_bench.png'}")
    return rows
