"""PYNQ driver of the STM kernel: the same code on the board and in co-simulation."""
from __future__ import annotations

import numpy as np

from ..hw.driver import DEFAULT_TIMEOUT_S, KernelDriver, open_kernel
from . import encode, golden
from .interface import STM_INTERFACE


class StmDriver(KernelDriver):
    """`ol.stm_top_0` after loading the spynq overlay."""

    interface = STM_INTERFACE
    bindto = [STM_INTERFACE.vlnv]

    def infer_words(self, net: np.ndarray, net_words: int, evidence: np.ndarray, batch: int,
                    timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[np.ndarray, float]:
        """One kernel call on packed buffers; returns (out words, seconds from start to done)."""
        return self.call(golden.out_words(net, net_words, batch), timeout_s, net=net, evidence=evidence,
                         net_words=net_words, batch=batch)


def host_job(device, net, net_words, evidence, batch, timeout_s=DEFAULT_TIMEOUT_S):
    """The host side of one call, as the co-simulation runs it (device = SimDevice)."""
    return open_kernel(device, STM_INTERFACE).infer_words(net, net_words, evidence, batch, timeout_s)


def run_fpga(network, pops, evidence, timeout_s: float = 60.0, overlay=None):
    """STM inference on the board (loads the overlay unless one is given)."""
    from .. import overlays
    from ..hw.board import load_overlay
    from .backends import _fixed_result

    ol = overlay or load_overlay()
    ip = getattr(ol, f"{STM_INTERFACE.top}_0")  # block-design instance name, see overlays/zcu104
    name = overlays.of(ol)
    packed = encode.pack_network(network, pops, overlays.limits("stm", name))
    evw = encode.pack_evidence(network, evidence)
    batch = len(network.evidence_array(evidence))
    out, seconds = ip.infer_words(packed.net, packed.net_words, evw, batch, timeout_s)
    return _fixed_result("fpga", network, pops, packed, out, batch, seconds,
                         {"kernel_seconds": seconds, "overlay": name,
                          "source": "wall clock around start..done (includes MMIO polling)"})
