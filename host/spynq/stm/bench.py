"""`spynq bench stm`: the CPU rows (numpy cpu, the native float C++ on one thread and on
every core), the fixed-point tiers (numpy golden; csim-O3, the kernel's C++ as a speed
reference for csim) against the FPGA (cycle-model estimate here, labelled with its II
table and clock; measured on a board with the overlay loaded), with the FPGA's speed-up
over the fastest CPU row (spynq.bench). Both CPU backends keep each edge's normalised
likelihood between calls on the same populations (the warm-up call fills it), so their
rows are the steady state of repeated inference; the FPGA model's call includes the
kernel's precompute pass."""
from __future__ import annotations

from pathlib import Path

from .. import bench
from . import backends, cycles, encode, workloads

SIZES = (1000, 2000, 4000)


def run(out_dir: Path, sizes=SIZES, batch: int = 8, repeats: int = 3, names=None, golden: bool = True) -> list:
    from ..hw.board import session

    rows = []
    backend, ol, note = session()
    csim_ok, why_not = bench.csim_row_available()
    bench.progress(note + ("" if csim_ok else f"; no csim-O3 row ({why_not})"))
    builds = [b for b in workloads.ALL if names is None or b.__name__ in names]
    for build in builds:
        wl = build()
        ev = wl.evidence(batch, seed=1)
        for n in sizes:
            pops = wl.network.sample(n, seed=2)
            packed = encode.pack_network(wl.network, pops)
            evw = encode.pack_evidence(wl.network, ev)
            bench.progress(f"{wl.name} N={n}")

            def add(backend, seconds, source, **extra):
                rows.append(bench.Row("stm", wl.name, n, batch, backend, seconds, source, extra))

            def model(wl=wl, pops=pops):
                rep = cycles.stm_cycles(wl.network, pops, batch)
                return rep.seconds, cycles.SCHEDULE.label, rep.summary()

            bench.workload_rows(add, lambda backend, **o: backends.infer(wl.network, pops, ev, backend, **o), model,
                                repeats, (backend, ol), golden, csim_ok,
                                csim=lambda: backends.csim_call(packed.net, packed.net_words, evw, batch, "-O3"))
    out_dir = Path(out_dir)
    meta = {"machine": bench.machine(), "batch": batch, "sizes": list(sizes)}
    bench.print_table(rows, meta=meta)
    bench.write_json(rows, out_dir / "stm_bench.json", meta)
    bench.plot(rows, out_dir / "stm_bench.png", f"STM inference, batch of {batch} evidence sets")
    print(f"wrote {out_dir / 'stm_bench.json'} and {out_dir / 'stm_bench.png'}")
    return rows
