"""Write test vectors for the Vitis C-simulation testbenches (hls/common/spynq_tb.h)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_cases(out_dir: Path, cases) -> int:
    """cases: iterable of (net words, input words, golden out words, scalars of the top).

    Writes case<i>_{net,in,out}.bin (little-endian uint32) and cases.txt with one line
    "out_words scalar0 scalar1 ..." per case; returns the number of cases."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (net, inp, out, scalars) in enumerate(cases):
        for name, arr in (("net", net), ("in", inp), ("out", out)):
            np.asarray(arr, "<u4").tofile(out_dir / f"case{i}_{name}.bin")
        lines.append(" ".join(str(int(v)) for v in (len(out), *scalars)))
    (out_dir / "cases.txt").write_text("\n".join(lines) + "\n")
    return len(lines)
