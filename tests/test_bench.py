"""`spynq bench` rows say how each number was obtained: measured here, estimated with the
II table and clock, or (on a board) measured by the perf timer; the native row is the
kernel's fixed-point C++ and is left out where it cannot be built."""
import json

from spynq.cli import main


def test_stm_bench_rows_say_where_their_numbers_come_from(tmp_path, capsys):
    main(["bench", "stm", "--sizes", "100", "--workloads", "two_layer_causal", "--repeats", "1", "--batch", "2",
          "--out", str(tmp_path)])
    rows = {r["backend"]: r for r in json.loads((tmp_path / "stm_bench.json").read_text())["rows"]}
    assert rows["cpu"]["source"] == "measured" and rows["golden"]["source"] == "measured"
    assert rows["fpga-model"]["source"] == "estimated (designed II table, 187.5 MHz)"
    assert "fixed-point C++" in rows["native-O3"]["source"]
    assert "fpga" not in rows  # no board here
    assert (tmp_path / "stm_bench.png").stat().st_size > 0
