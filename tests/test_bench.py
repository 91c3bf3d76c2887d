"""`spynq bench` rows say how each number was obtained: measured here, estimated with the
II table and clock, or (on a board) measured by the perf timer; the CPU rows are numpy and
the native float C++ on one thread and on all cores; csim-O3 is the kernel's fixed-point
C++ (a speed reference for csim, left out where it cannot be built); the FPGA's speed-up
is taken against the fastest CPU row; the header names the machine."""
import json
import os

import pytest

from spynq import bench
from spynq.cli import main

CSIM_LABEL = "fixed-point kernel emulation, a speed reference for csim"


def _rows(path):
    doc = json.loads(path.read_text())
    return doc, {r["backend"]: r for r in doc["rows"]}


def _check_cpu_rows_and_speedup(doc, rows):
    cores = os.cpu_count()
    assert doc["machine"]["cores"] == cores and {"cpu_model", "cpu_mhz"} <= set(doc["machine"])
    native = [b for b in rows if b.startswith("native-")]
    assert native == ["native-1t"] + ([f"native-{cores}t"] if cores > 1 else [])
    assert "float C++ CPU baseline" in rows["native-1t"]["source"] and rows["native-1t"]["extra"]["threads"] == 1
    cpu_rows = {b: rows[b]["per_item"] for b in ["cpu"] + native}
    best = min(cpu_rows, key=cpu_rows.get)
    model = rows["fpga-model"]
    assert model["extra"]["best_cpu"] == best
    assert model["extra"]["speedup_vs_best_cpu"] == pytest.approx(cpu_rows[best] / model["per_item"], rel=1e-12)
    assert model["extra"]["speedup_vs_numpy"] == pytest.approx(cpu_rows["cpu"] / model["per_item"], rel=1e-12)


def test_stm_bench_rows_say_where_their_numbers_come_from(tmp_path, capsys):
    main(["bench", "stm", "--sizes", "100", "--workloads", "two_layer_causal", "--repeats", "1", "--batch", "2",
          "--out", str(tmp_path)])
    doc, rows = _rows(tmp_path / "stm_bench.json")
    assert rows["cpu"]["source"] == "measured" and rows["golden"]["source"] == "measured"
    assert rows["fpga-model"]["source"] == "estimated (designed II table, 187.5 MHz)"
    assert CSIM_LABEL in rows["csim-O3"]["source"] and "native-O3" not in rows
    assert "fpga" not in rows  # no board here
    _check_cpu_rows_and_speedup(doc, rows)
    out = capsys.readouterr().out
    assert f"machine: {os.cpu_count()} cores, CPU " in out and "/best cpu" in out
    assert (tmp_path / "stm_bench.png").stat().st_size > 0


def test_lif_and_snnwm_bench_have_the_cpu_rows_and_the_speedup(tmp_path):
    from spynq.lif import bench as lif_bench
    from spynq.snnwm import bench as snnwm_bench

    lif_bench.run(tmp_path, steps=(8,), batch=2, repeats=1, golden=False)
    doc, _ = _rows(tmp_path / "lif_bench.json")
    first = {r["backend"]: r for r in doc["rows"] if r["workload"] == doc["rows"][0]["workload"]}
    assert first["fpga-model"]["source"] == "estimated (designed II table, 187.5 MHz)"
    assert CSIM_LABEL in first["csim-O3"]["source"]
    _check_cpu_rows_and_speedup(doc, first)

    snnwm_bench.run(tmp_path, Ls=(2,), n=32, T=8, batch=2, repeats=1)
    doc, rows = _rows(tmp_path / "snnwm_bench.json")
    assert CSIM_LABEL in rows["csim-O3"]["source"]
    _check_cpu_rows_and_speedup(doc, rows)
    assert (tmp_path / "snnwm_bench.png").stat().st_size > 0


def test_speedup_is_against_the_fastest_cpu_row_only():
    """Fixed-point tiers (golden, csim-O3) are not CPU baselines even when faster; the
    fastest of cpu/native-* sets the speed-up, per workload and size."""
    def row(backend, seconds, size=1):
        return bench.Row("k", "w", size, 2, backend, seconds, "measured")

    rows = [row("cpu", 8.0), row("native-1t", 2.0), row("native-2t", 1.5), row("csim-O3", 0.1), row("golden", 0.2),
            row("fpga-model", 0.5), row("cpu", 4.0, 2), row("native-1t", 6.0, 2), row("fpga-model", 1.0, 2)]
    bench.speedups(rows)
    assert rows[5].extra == {"best_cpu": "native-2t", "speedup_vs_best_cpu": 3.0, "speedup_vs_numpy": 16.0}
    assert rows[8].extra == {"best_cpu": "cpu", "speedup_vs_best_cpu": 4.0, "speedup_vs_numpy": 4.0}
