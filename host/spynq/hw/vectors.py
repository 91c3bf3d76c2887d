"""Write test vectors for the Vitis C-simulation testbenches (hls/common/spynq_tb.h)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

DEPTHS = ("NET", "IN", "OUT")  # <K>_DEPTH_<port> of the three pointer ports, in order


class CaseTooLarge(ValueError):
    """A case does not fit a port's m_axi depth= (what the testbench allocates)."""


def port_depths(kernel: str, overrides: dict | None = None) -> dict[str, tuple[str, int]]:
    """Pointer port name -> (depth constant, depth in beats) of hls/<kernel>, read from the
    kernel header (the constants the INTERFACE pragmas and tb_<kernel>.cpp use)."""
    from ..kernels import KERNELS
    from .hlsparse import constants

    env = constants(kernel, overrides)
    ports = [a.name for a in KERNELS[kernel].pointers]
    out = {}
    for port, suffix in zip(ports, DEPTHS, strict=True):
        (name,) = [n for n in env if n.endswith(f"_DEPTH_{suffix}")]
        out[port] = (name, int(env[name]))
    return out


def write_cases(out_dir: Path, cases, kernel: str, overrides: dict | None = None) -> int:
    """cases: iterable of (net words, input words, golden out words, scalars of the top).

    Writes case<i>_{net,in,out}.bin (little-endian uint32) and cases.txt with one line
    "out_words scalar0 scalar1 ..." per case; returns the number of cases. A case that
    does not fit a port's m_axi depth (hls/<kernel>/<kernel>_kernel.h, with the overlay
    parameters `overrides`) raises CaseTooLarge: the testbench allocates exactly the depth.
    `kernel` is the hls/ folder whose testbench reads the cases."""
    depths = port_depths(kernel, overrides)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (net, inp, out, scalars) in enumerate(cases):
        for (port, (const, depth)), arr in zip(depths.items(), (net, inp, out)):
            beats = -(-len(arr) // 4)
            if beats > depth:
                raise CaseTooLarge(f"{kernel} case {i}: port {port!r} needs {beats} beats ({len(arr)} words), "
                                   f"more than its m_axi depth {const} = {depth} beats")
        for name, arr in (("net", net), ("in", inp), ("out", out)):
            np.asarray(arr, "<u4").tofile(out_dir / f"case{i}_{name}.bin")
        lines.append(" ".join(str(int(v)) for v in (len(out), *scalars)))
    (out_dir / "cases.txt").write_text("\n".join(lines) + "\n")
    return len(lines)
