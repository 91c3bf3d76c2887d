"""The HLS top functions, the Python interfaces and the shared formats agree."""
import re

import numpy as np
import pytest

from spynq import fixed
from spynq.hw import interface as itf
from spynq.hw.cconfig import HLS_DIR, read_constants
from spynq.kernels import KERNELS


def parse_top_signature(kernel: str, top: str):
    """(name, kind) of each argument of `void <top>(...)` in hls/<kernel>/<kernel>_top.cpp."""
    src = (HLS_DIR / kernel / f"{kernel}_top.cpp").read_text()
    m = re.search(rf"\bvoid\s+{top}\s*\(([^)]*)\)\s*\{{", src)
    assert m, f"no definition of {top} in hls/{kernel}"
    args = []
    for decl in m.group(1).split(","):
        decl = " ".join(decl.split())
        name = re.search(r"(\w+)\s*$", decl).group(1)
        args.append((name, "ptr" if "*" in decl else "u32"))
    return args


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_top_signature_matches_interface(kernel):
    ki = KERNELS[kernel]
    assert parse_top_signature(kernel, ki.top) == [(a.name, a.kind) for a in ki.args]


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_every_argument_has_interface_pragmas(kernel):
    ki = KERNELS[kernel]
    src = (HLS_DIR / kernel / f"{kernel}_top.cpp").read_text()
    for a in ki.args:
        assert re.search(rf"INTERFACE\s+s_axilite\s+port={a.name}\s+bundle=control", src), a.name
        if a.kind == "ptr":
            assert re.search(rf"INTERFACE\s+m_axi\s+port={a.name}\s+offset=slave\s+bundle={ki.bundle}\b", src), a.name
    assert re.search(r"INTERFACE\s+s_axilite\s+port=return\s+bundle=control", src)


def test_register_offsets_follow_vitis_rules():
    ki = itf.KernelInterface("k", (itf.Arg("a", "ptr"), itf.Arg("n", "u32"), itf.Arg("b", "ptr", "out"),
                                   itf.Arg("m", "u32")))
    # pointer: 2 data words + 1 reserved; scalar: 1 data word + 1 reserved
    assert ki.register_offsets() == {"a": 0x10, "n": 0x1C, "b": 0x24, "m": 0x30}
    assert ki.control_bytes == 64
    regs = ki.register_map()
    assert regs["b_1"]["address_offset"] == 0x24 and regs["b_2"]["address_offset"] == 0x28
    with pytest.raises(ValueError):
        itf.KernelInterface("k", (itf.Arg("a", "ptr"), itf.Arg("a", "u32")))
    with pytest.raises(KeyError, match="has no argument"):
        ki.offset("nope")


def test_stm_interface_uses_128_bit_beats():
    src = (HLS_DIR / "stm" / "stm_kernel.h").read_text()
    assert f"ap_uint<{itf.M_AXI_DATA_BITS}> stm_beat_t" in src


def test_exp_tables_header_is_generated_from_python():
    assert fixed.EXP_TABLES_HEADER.read_text() == fixed.render_exp_tables_header()


def test_fixed_point_constants_shared():
    c = read_constants("stm/stm_config.h")
    assert c["STM_EXP_TABLE_BITS"] == fixed.EXP_TABLE_BITS
    # sample blocks (the buffer format) start on a lane group of every lane setting
    assert c["STM_MAX_SAMPLES"] % c["STM_SAMPLE_ALIGN"] == 0 and c["STM_SAMPLE_ALIGN"] % c["STM_LANES"] == 0


def test_exp_neg_accuracy():
    z = np.arange(0, 40 << 16, 977, dtype=np.uint64)
    got = fixed.exp_neg_q(z).astype(float) / 2**31
    want = np.exp(-z.astype(float) / 2**16)
    # table error (2 roundings of 2^-32) + dropped fraction: relative error < 2e-5 above the floor
    assert np.all(np.abs(got - want) <= want * 2e-5 + 2.0**-31)
    assert fixed.exp_neg_q(np.uint64(0)) == 1 << 31
    assert fixed.exp_neg_q(np.uint64(fixed.U32_MAX)) == 0


def test_quantize_rejects_out_of_range():
    with pytest.raises(ValueError, match="outside the Q15.16 range"):
        fixed.quantize([40000.0], 16)
    with pytest.raises(ValueError, match="NaN"):
        fixed.quantize([np.nan], 16)
    assert fixed.quantize([-1.5], 16)[0] == -(3 << 15)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_kernel_beat_width_is_the_bus_width(kernel):
    """A kernel config's beat width (where it names one) is the m_axi data width."""
    consts = read_constants(f"{kernel}/{kernel}_config.h")
    for name, value in consts.items():
        if name.endswith("_BEAT_BITS"):
            assert value == itf.M_AXI_DATA_BITS, name
