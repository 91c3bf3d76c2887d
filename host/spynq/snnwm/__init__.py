"""SNNWM working-memory window unit (seed 003, "Spiking neural network with working
memory", eq. 5-9 and Algorithm 1): multi-dendrite layers with factorised weights W1
(n_in x n_out) and W2 (delays 0..L-1), in window mode (one W1 product and two membrane
accesses per window of L steps) or overlap mode (a temporal convolution with W2 before
W1, every step), and the temporal-fusion readout (eq. 9).

    from spynq.snnwm import SnnwmNetwork, WindowLayer, ReadoutLayer, SnnwmParams, run
    res = run(net, rasters, backend="golden")   # cpu | golden | csim | cosim | fpga | auto

The update order and formats are written once in hls/snnwm/snnwm_config.h.
"""
from .model import ReadoutLayer, SnnwmNetwork, SnnwmParams, WindowLayer, random_network  # noqa: F401
from .result import SnnwmResult  # noqa: F401
from . import counts  # noqa: F401,E402


def run(network, rasters, backend="auto", **opts):
    from .backends import run as _run

    return _run(network, rasters, backend, **opts)
