"""The Vitis csim testbench (hls/lif_delay/tb_lif_delay.cpp) builds with g++ and checks what it claims."""
import shutil
import subprocess

import numpy as np
import pytest

from spynq.hw.cconfig import HLS_DIR
from spynq.hw.csim import ap_types_dir
from spynq.lif import vectors

KDIR = HLS_DIR / "lif_delay"


@pytest.fixture(scope="module")
def tb(tmp_path_factory):
    if shutil.which("g++") is None:
        pytest.skip("g++ not on PATH")
    exe = tmp_path_factory.mktemp("tb") / "tb_lif_delay"
    inc = [ap_types_dir(), HLS_DIR / "common", KDIR]
    cmd = ["g++", "-std=c++14", "-O2", "-w", *[f"-I{p}" for p in inc],
           str(KDIR / "lif_delay_top.cpp"), str(KDIR / "tb_lif_delay.cpp"), "-o", str(exe)]
    subprocess.run(cmd, check=True)
    return exe


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
