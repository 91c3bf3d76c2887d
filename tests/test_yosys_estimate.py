"""scripts/yosys_estimate.sh gives a plausible resource estimate of the RTL glue."""
from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import require_tool

REPO = Path(__file__).resolve().parents[1]


def test_perf_timer_estimate():
    require_tool("yosys", "the open-source estimate needs Debian's yosys (apt-get install yosys)")
    out = subprocess.run([str(REPO / "scripts" / "yosys_estimate.sh"), "rtl/axi_perf_timer.v"],
                         cwd=REPO, check=True, capture_output=True, text=True, timeout=300).stdout
    row = next(line.split() for line in out.splitlines() if line.startswith("axi_perf_timer"))
    lut, ff, _carry, dsp = map(int, row[1:5])
    # Two 64-bit counters, two 32-bit read latches, read data and flags: ~230 FFs, no DSP.
    assert 200 <= ff <= 260, out
    assert 0 < lut < 400 and dsp == 0 and float(row[5]) == 0.0, out
