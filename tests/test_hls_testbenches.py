"""The Vitis csim testbench of every kernel (hls/<k>/tb_<k>.cpp on hls/common/spynq_tb.h)
builds with g++, passes on the golden model's vectors and fails on a wrong word."""
import importlib
import subprocess

import numpy as np
import pytest

from conftest import compile_hls_testbench

# hls/ folder -> the Python module that writes its vectors
VECTORS = {"stm": "spynq.stm.vectors", "lif_delay": "spynq.lif.vectors", "snnwm": "spynq.snnwm.vectors"}


@pytest.fixture(scope="module", params=sorted(VECTORS))
def kernel(request, tmp_path_factory):
    exe = compile_hls_testbench(request.param, tmp_path_factory.mktemp(request.param))
    return exe, importlib.import_module(VECTORS[request.param])


def test_testbench_passes_on_golden_vectors(kernel, tmp_path):
    tb, vectors = kernel
    n = vectors.write(tmp_path, n_random=6)
    res = subprocess.run([str(tb), str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout
    assert f"{n} cases, 0 failed" in res.stdout


def test_testbench_fails_on_a_wrong_expected_word(kernel, tmp_path):
    tb, vectors = kernel
    vectors.write(tmp_path, n_random=0)
    out = tmp_path / "case0_out.bin"
    words = np.fromfile(out, "<u4")
    words[5] ^= 1
    words.tofile(out)
    res = subprocess.run([str(tb), str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and "1 failed" in res.stdout


def test_every_kernel_has_a_testbench():
    from spynq.kernels import KERNELS

    assert set(VECTORS) == set(KERNELS)
