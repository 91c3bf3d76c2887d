"""spynq.nn: the software-path layer library (issue 10): spiking neuron layers, synaptic
layers, surrogate gradients and a multi-step container, with one definition of every
equation for numpy inference (the board: numpy only) and JAX gradients (training).

Design
------
* Equations are written once over an array namespace ``xp``: numpy or jax.numpy. Only
  the operations whose forms differ live in spynq.nn.ops (the firing function with its
  surrogate backward as a jax.custom_vjp, stop_gradient, conv2d as numpy im2col or
  lax.conv, pooling). jax is imported inside those branches only: ``import spynq.nn`` and
  every numpy forward work without it.
* Functional core, thin objects. A layer object holds configuration only; parameters are
  a pytree (dict of arrays) made by ``init`` and passed to every call, and time-step
  state is passed in and returned. So ``jax.grad`` of a loss of ``params`` works on the
  very functions numpy runs, with no framework between (no module state to thread
  through tracing), and a trained pytree is plain arrays to save or load.
* Layout: sequences are time major, [T, B, N] or [T, B, C, H, W]; ``Sequential.run``
  takes the project's (batch, T, ...) rasters and returns a spynq.lif.result.LifResult.
* Every call starts from the reset state (per sample); both iteration styles run the
  same per-step code (Sequential.apply(style="layer" | "step")).

Example::

    from spynq import nn
    net = nn.Sequential(nn.Linear(64, 100), nn.LIF(tau=2.0),
                        nn.Linear(100, 10), nn.DALIF())
    params = net.init(seed=0)
    res = net.run(rasters, params)          # rasters (batch, T, 64); res.spikes, res.counts, ...
    out, aux = net.apply(params, xs)        # xs [T, B, 64]: output [T, B, 10] and records
    # training (jax installed): the same code under jax.numpy
    #   import jax, jax.numpy as jnp
    #   loss = lambda p: jnp.mean(net.apply(p, xs, xp=jnp)[0])
    #   g = jax.grad(loss)(params)

Options the papers leave open follow models_neurons.md; each class docstring names its
choice. Around the library: the model builders (spynq.nn.models), training
(spynq.nn.train, spynq.nn.tasks, ``spynq train``), weights in/out (spynq.weights), op and
energy accounting (spynq.nn_costs), and the kernels: ``Sequential.run(..., backend=
"golden" | "csim" | "cosim" | "fpga")`` runs the layers the LIF kernel computes there
(spynq.nn.deploy; ``res.info["placement"]`` says which layer ran where).
"""
from .base import Ctx, Layer
from .delays import DelayedLinear
from .deploy import KernelLIF
from .layers import (AvgPool2d, BatchNorm, BatchNormTT, Conv2d, Dropout, Flatten, GlobalAvgPool, GlobalMaxPool,
                     Linear, MaxPool2d, TemporalAggregate, fold_bn)
from .network import Aux, Sequential, fold_batchnorm
from .neurons import AIA, BIDL, DALIF, LIAF, LIF, LIFPlus, LNM, PLIF, Neuron
from .ops import namespace
from .params import Param
from .residual import ResidualBlock, SpikeScale, fold_spike_scale
from .surrogate import ATan, DynamicTanh, Rectangular, Sigmoid, Surrogate, k_schedule

__all__ = [
    "Ctx", "Layer", "DelayedLinear", "KernelLIF", "Aux", "Sequential", "fold_batchnorm", "fold_bn", "namespace", "Param",
    "Linear", "Conv2d", "BatchNorm", "BatchNormTT", "AvgPool2d", "MaxPool2d", "GlobalAvgPool", "GlobalMaxPool", "Flatten",
    "Dropout", "TemporalAggregate", "ResidualBlock", "SpikeScale", "fold_spike_scale",
    "Neuron", "LIF", "PLIF", "DALIF", "AIA", "BIDL", "LIAF", "LNM", "LIFPlus",
    "Surrogate", "Rectangular", "ATan", "Sigmoid", "DynamicTanh", "k_schedule",
]
