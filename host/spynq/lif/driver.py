"""PYNQ driver of the LIF delay kernel: the same code on the board and in co-simulation."""
from __future__ import annotations

import numpy as np

from ..hw.driver import DEFAULT_TIMEOUT_S, KernelDriver, open_kernel
from . import golden
from .interface import LIF_INTERFACE


class LifDriver(KernelDriver):
    """`ol.lif_delay_top_0` after loading the spynq overlay."""

    interface = LIF_INTERFACE
    bindto = [LIF_INTERFACE.vlnv]

    def run_words(self, net: np.ndarray, net_words: int, rasters: np.ndarray, n_steps: int, batch: int,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[np.ndarray, float]:
        """One kernel call on packed buffers; returns (out words, seconds from start to done)."""
        return self.call(golden.out_words_for(net, net_words, n_steps, batch), timeout_s, net=net,
                         spikes_in=rasters, net_words=net_words, n_steps=n_steps, batch=batch)


def host_job(device, net, net_words, rasters, n_steps, batch, timeout_s=DEFAULT_TIMEOUT_S):
    """The host side of one call, as the co-simulation runs it (device = SimDevice)."""
    return open_kernel(device, LIF_INTERFACE).run_words(net, net_words, rasters, n_steps, batch, timeout_s)


def run_fpga(network, rasters, timeout_s: float = 60.0, overlay=None):
    """The network on the board (loads the overlay unless one is given)."""
    from .. import overlays
    from ..hw.board import load_overlay
    from .backends import run_fixed

    ol = overlay or load_overlay()
    ip = getattr(ol, f"{LIF_INTERFACE.top}_0")  # block-design instance name, see overlays/zcu104

    def call(p, rw, T, batch):
        return ip.run_words(p.net, p.net_words, rw, T, batch, timeout_s)

    name = overlays.of(ol)
    return run_fixed("fpga", network, rasters, call,
                     {"source": "wall clock around start..done (includes MMIO polling)", "overlay": name},
                     overlays.limits("lif_delay", name))
