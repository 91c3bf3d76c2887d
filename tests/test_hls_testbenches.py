"""The Vitis csim testbench of every kernel (hls/<k>/tb_<k>.cpp on hls/common/spynq_tb.h)
builds with g++, passes on the golden model's vectors, fails on a wrong word, on an out
word the kernel never writes and on a write past the out words, and refuses cases that
do not fit the ports' m_axi depths (what it allocates, like Vitis cosim)."""
import importlib
import subprocess
import sys

import numpy as np
import pytest

from spynq.kernels import PACKAGES

from conftest import compile_hls_testbench

# hls/ folder -> the Python module that writes its vectors
VECTORS = {k: f"spynq.{p}.vectors" for k, p in PACKAGES.items()}
POISON = 0xBAADF00D  # SPYNQ_POISON_WORD, hls/common/spynq_words.h


@pytest.fixture(scope="module", params=sorted(VECTORS))
def kernel(request, tmp_path_factory):
    exe = compile_hls_testbench(request.param, tmp_path_factory.mktemp(request.param))
    return exe, importlib.import_module(VECTORS[request.param]), request.param


def _run(tb, d):
    return subprocess.run([str(tb), str(d)], capture_output=True, text=True, timeout=300)


def _first_case_only(d):
    """Keep case 0 only; returns (its cases.txt fields, its golden out words)."""
    fields = (d / "cases.txt").read_text().splitlines()[0].split()
    return fields, np.fromfile(d / "case0_out.bin", "<u4")


def _rewrite(d, fields, out):
    np.asarray(out, "<u4").tofile(d / "case0_out.bin")
    (d / "cases.txt").write_text(" ".join(str(f) for f in fields) + "\n")


def test_testbench_passes_on_golden_vectors(kernel, tmp_path):
    tb, vectors, _ = kernel
    n = vectors.write(tmp_path, n_random=6)
    res = _run(tb, tmp_path)
    assert res.returncode == 0, res.stdout
    assert f"{n} cases, 0 failed" in res.stdout


def test_testbench_fails_on_a_wrong_expected_word(kernel, tmp_path):
    tb, vectors, _ = kernel
    vectors.write(tmp_path, n_random=0)
    out = tmp_path / "case0_out.bin"
    words = np.fromfile(out, "<u4")
    words[5] ^= 1
    words.tofile(out)
    res = _run(tb, tmp_path)
    assert res.returncode == 1 and "1 failed" in res.stdout


def test_an_out_word_the_kernel_never_writes_fails(kernel, tmp_path):
    """The testbench claims 4 more out words than the kernel writes, with golden 0 there:
    a zero-filled out buffer would pass; the poisoned one must not."""
    tb, vectors, _ = kernel
    vectors.write(tmp_path, n_random=0)
    fields, out = _first_case_only(tmp_path)
    _rewrite(tmp_path, [int(fields[0]) + 4, *fields[1:]], np.concatenate([out, np.zeros(4, np.uint32)]))
    res = _run(tb, tmp_path)
    assert res.returncode == 1 and "1 cases, 1 failed" in res.stdout, res.stdout
    assert f"word {len(out)}: got 0x{POISON:08x} want 0x00000000 (poison: never written)" in res.stdout


def test_a_write_past_the_out_words_is_reported(kernel, tmp_path):
    """The testbench claims 4 fewer out words than the kernel writes."""
    tb, vectors, _ = kernel
    vectors.write(tmp_path, n_random=0)
    fields, out = _first_case_only(tmp_path)
    assert len(out) >= 8
    _rewrite(tmp_path, [int(fields[0]) - 4, *fields[1:]], out[:-4])
    res = _run(tb, tmp_path)
    assert res.returncode == 1 and "1 cases, 1 failed" in res.stdout, res.stdout
    assert f"wrote out word {len(out) - 4}, past its {len(out) - 4} out words" in res.stdout


@pytest.mark.parametrize("port_index", [0, 1, 2])
def test_testbench_refuses_a_case_over_a_port_depth(kernel, tmp_path, port_index):
    """Case files written by hand, one port one beat over its depth: the testbench (which
    evaluates the depth constants in C++) names the port and the depth the Python reader
    found, and does not run the kernel on it."""
    from spynq.hw.vectors import port_depths

    tb, _, k = kernel
    depths = list(port_depths(k).values())
    sizes = [4, 4, 4]
    sizes[port_index] = 4 * (depths[port_index][1] + 1)
    for name, n in zip(("net", "in", "out"), sizes):
        np.zeros(n, "<u4").tofile(tmp_path / f"case0_{name}.bin")
    (tmp_path / "cases.txt").write_text(f"{sizes[2]} 1 1 1\n")
    res = _run(tb, tmp_path)
    port = ("net", "in", "out")[port_index]
    assert res.returncode == 1 and "1 cases, 1 failed" in res.stdout, res.stdout
    assert (f"port {port} needs {depths[port_index][1] + 1} beats, more than its m_axi depth of "
            f"{depths[port_index][1]} beats") in res.stdout


@pytest.mark.parametrize("k", sorted(VECTORS))
@pytest.mark.parametrize("port_index", [0, 1, 2])
def test_vector_writer_refuses_a_case_over_a_port_depth(tmp_path, k, port_index):
    from spynq.hw.vectors import CaseTooLarge, port_depths, write_cases

    (port, (const, depth)), = [list(port_depths(k).items())[port_index]]
    bufs = [np.zeros(4, np.uint32) for _ in range(3)]
    bufs[port_index] = np.zeros(4 * depth, np.uint32)
    assert write_cases(tmp_path, [(*bufs, (1, 1))], kernel=k) == 1  # exactly the depth fits
    bufs[port_index] = np.zeros(4 * depth + 1, np.uint32)
    with pytest.raises(CaseTooLarge, match=rf"port '{port}' needs {depth + 1} beats \({4 * depth + 1} words\), "
                                           rf"more than its m_axi depth {const} = {depth} beats"):
        write_cases(tmp_path, [(*bufs, (1, 1))], kernel=k)


@pytest.mark.parametrize("k", sorted(VECTORS))
def test_vectors_module_runs_as_build_hls_calls_it(k, tmp_path):
    """scripts/build_hls.sh runs `python -m spynq.<package>.vectors <dir>` for each kernel."""
    subprocess.run([sys.executable, "-m", VECTORS[k], str(tmp_path)], check=True, timeout=600,
                   capture_output=True)
    assert (tmp_path / "cases.txt").read_text().strip()


def test_every_kernel_has_a_testbench():
    from spynq.kernels import KERNELS

    assert set(VECTORS) == set(KERNELS)
