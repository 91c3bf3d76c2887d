"""The Vitis csim testbench (hls/snnwm/tb_snnwm.cpp) builds with g++ and checks what it claims."""
import subprocess

import numpy as np
import pytest

from conftest import compile_hls_testbench
from spynq.snnwm import vectors


@pytest.fixture(scope="module")
def tb(tmp_path_factory):
    return compile_hls_testbench("snnwm", tmp_path_factory.mktemp("tb"))


def test_testbench_passes_on_golden_vectors(tb, tmp_path):
    n = vectors.write(tmp_path, n_random=6)
    res = subprocess.run([str(tb), str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout
    assert f"{n} cases, 0 failed" in res.stdout


def test_testbench_fails_on_a_wrong_expected_word(tb, tmp_path):
    vectors.write(tmp_path, n_random=0)
    out = tmp_path / "case0_out.bin"
    words = np.fromfile(out, "<u4")
    words[5] ^= 1
    words.tofile(out)
    res = subprocess.run([str(tb), str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 1 and "1 failed" in res.stdout
