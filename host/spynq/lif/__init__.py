"""LIF layer engine with delay buffers (seed 003: SNNWM, axonal-delay speech, SpikeProp
weights-and-delays and SpiNNaker 2 papers): fully connected LIF layers with integer
per-synapse or axonal delays held in ring buffers, run for T steps on batches of rasters.

    from spynq.lif import LifNetwork, LifLayer, LifParams, run
    res = run(net, rasters, backend="golden")   # cpu | golden | csim | cosim | fpga | auto
"""
from .model import LifLayer, LifNetwork, LifParams, random_network  # noqa: F401
from .result import LifResult  # noqa: F401


def run(network, rasters, backend="auto", **opts):
    from .backends import run as _run

    return _run(network, rasters, backend, **opts)
