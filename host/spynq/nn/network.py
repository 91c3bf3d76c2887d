"""Sequential: a feed-forward stack of spynq.nn layers run over T steps, two ways.

style="layer": each layer runs over all T steps before the next (BIDL's internal
iteration, SpikingJelly's step_mode="m"); style="step": the whole network is called once
per step (external iteration, step_mode="s"), the states passed from step to step.
The two give identical numbers (tests/test_nn_layers.py), BatchNorm in train mode
excepted (per-step statistics; spynq.nn.layers.BatchNorm).
"""
from __future__ import annotations

import copy
import time
from typing import NamedTuple

import numpy as np

from ..errors import SpynqValueError
from ..validate import real_array
from .base import Ctx, Layer
from .layers import BatchNorm, Conv2d, Linear, TemporalAggregate, fold_bn

STYLES = ("layer", "step")
BACKENDS = ("cpu", "golden", "csim", "cosim", "fpga")  # kernel backends: spynq.nn.deploy


class Aux(NamedTuple):
    """What a forward call leaves besides the output. records[name] for every neuron
    layer: "s" spikes, "h" integrated membranes (before reset), "v" states (after reset
    and leak), each stacked [T, B, ...]; updates: BN running statistics (train mode).
    A NamedTuple, so a JAX pytree (has_aux=True returns it as is)."""
    records: dict
    updates: dict

    @classmethod
    def of(cls, ctx: Ctx) -> "Aux":
        xp = ctx.xp
        return cls({k: {f: xp.stack(v) if isinstance(v, list) else v for f, v in r.items()}
                    for k, r in ctx.records.items()}, ctx.updates)


def fixed_keys(layer) -> set:
    """The keys of a layer's params that training does not change: neuron constants with
    learn=False (a composite layer lists its inner ones in ``specs``) and BN running
    statistics (``Aux.updates`` carries those)."""
    fixed = {k for k, spec in getattr(layer, "specs", {}).items() if not spec.learn}
    if isinstance(layer, BatchNorm):
        fixed |= {"mean", "var"}
    return fixed


class Sequential:
    def __init__(self, *layers: Layer):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        self.layers = list(layers)
        names = set()
        aggregated = False
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise SpynqValueError(f"Sequential: item {i} is {type(layer).__name__}, not a spynq.nn layer")
            if layer.name is None:
                layer.name = f"{i}_{type(layer).__name__.lower()}"
            if layer.name in names:
                raise SpynqValueError(f"Sequential: two layers named {layer.name!r}")
            names.add(layer.name)
            layer.index = i
            if aggregated and layer.kind != "map":
                raise SpynqValueError(f"Sequential: {layer.name} needs the time axis, but it follows a TemporalAggregate")
            aggregated = aggregated or isinstance(layer, TemporalAggregate)

    @property
    def neuron_layers(self) -> list:
        return [l for l in self.layers if l.kind == "neuron"]

    def init(self, seed: int = 0) -> dict:
        """Parameters {layer name: {param name: float64 array}} (a pytree)."""
        rng = np.random.default_rng(seed)
        return {l.name: l.init(rng) for l in self.layers}

    def trainable(self, params: dict) -> dict:
        """The params pytree's shape with True where training updates the leaf: neuron
        parameters with learn=True, weights, biases, BN gamma / beta (not its running
        statistics, which ``Aux.updates`` carries). For an optimiser's mask."""
        return {l.name: {k: k not in fixed_keys(l) for k in params[l.name]} for l in self.layers}

    def reset_state(self) -> dict:
        """The state before the first step of a sample: nothing yet (each layer builds its
        initial state from the first input)."""
        return {l.name: None for l in self.layers}

    def step(self, params, state, x, ctx: Ctx):
        """One time step of the whole network: x [B, ...] -> (y, new state)."""
        new = {}
        for l in self.layers:
            x, new[l.name] = l.step(params[l.name], state[l.name], x, ctx)
        return x, new

    def apply(self, params, xs, *, xp=np, train: bool = False, seed: int = 0, style: str = "layer",
              merge_time: bool = False, scan: bool = False):
        """xs [T, B, ...] (time major) -> (output, Aux). The output is [T, B, ...], or
        [B, ...] after a TemporalAggregate. Every call starts every sample from the reset
        state. Run under JAX by passing xp=jax.numpy (params may stay numpy arrays).
        merge_time (style "layer"): synaptic layers run once on [T*B, ...] (faster; equal
        to the step-by-step numbers only to BLAS rounding). scan (JAX, style "layer"):
        neuron layers loop with jax.lax.scan (for training: far shorter jit compiles)."""
        if style not in STYLES:
            raise SpynqValueError(f"style {style!r}: choose one of {STYLES}")
        ctx = Ctx(xp, train, seed, merge_time and style == "layer", scan and style == "layer")
        if style == "layer":
            x, timed = xs, True
            for l in self.layers:
                x = l.seq(params[l.name], x, ctx) if timed else l.forward(params[l.name], x, ctx)
                timed = timed and not isinstance(l, TemporalAggregate)
            return x, Aux.of(ctx)
        state, ys = self.reset_state(), []
        for t in range(xs.shape[0]):
            ctx.t = t
            y, state = self.step(params, state, xs[t], ctx)
            ys.append(y)
        aggregated = any(isinstance(l, TemporalAggregate) for l in self.layers)
        return (ys[-1] if aggregated else xp.stack(ys)), Aux.of(ctx)

    def placement(self, backend: str = "cpu", params: dict | None = None) -> list:
        """Where each neuron layer runs with backend=...: on a kernel backend ("golden" |
        "csim" | "cosim" | "fpga") every maximal run of fully connected layers the LIF
        kernel computes (spynq.nn.deploy: the mapping and its conditions), the rest on
        "cpu". Some conditions depend on parameter values (an all-zero bias, per-channel
        values that are equal): params default self.init(0)."""
        if backend not in BACKENDS:
            raise SpynqValueError(f"backend {backend!r}: choose one of {BACKENDS}")
        if backend == "cpu":
            return ["cpu"] * len(self.neuron_layers)
        from . import deploy

        return deploy.placement(self, backend, params)

    def run(self, rasters, params=None, *, backend: str = "cpu", style: str = "layer", time_major: bool = False,
            train: bool = False, seed: int = 0, merge_time: bool = False, **opts):
        """Run on rasters (batch, T, ...) (bool or real; time_major=True: (T, batch, ...))
        with numpy; a spynq.lif.result.LifResult over the neuron layers:
          spikes[l] (batch, T, *shape) bool, counts[l] (batch, *shape) int,
          v_last[l] (batch, *shape) state after the last step, v_max[l] (batch, *shape)
          largest integrated membrane h; info: layers (names), ran_on (per layer),
          output (the network's output as apply returns it), style.
        params default: self.init(0).
        backend "golden" | "csim" | "cosim" | "fpga": the kernel-computable runs of FC
        layers run there, one spynq.lif LifNetwork each (spynq.nn.deploy.run; opts go to
        spynq.lif.backends.run); info also has placement (= ran_on), kernel_runs (per
        run: layers, network, the export Report, the kernel's info) and notes."""
        from ..lif.result import LifResult

        where = self.placement(backend, params)
        if params is None:
            params = self.init(0)
        x = real_array(rasters, "rasters")
        if x.ndim not in (3, 5) or 0 in x.shape[:2]:
            raise SpynqValueError(f"rasters: shape {x.shape}, wants (batch, T, n) or (batch, T, C, H, W) with "
                                  "at least one sample and one step")
        if backend != "cpu":
            from . import deploy

            return deploy.run(self, x, params, backend, style=style, time_major=time_major, train=train, seed=seed,
                              merge_time=merge_time, **opts)
        xs = x if time_major else np.swapaxes(x, 0, 1)
        t0 = time.perf_counter()
        out, aux = self.apply(params, xs, xp=np, train=train, seed=seed, style=style, merge_time=merge_time)
        seconds = time.perf_counter() - t0
        spikes, counts, v_last, v_max = [], [], [], []
        for l in self.neuron_layers:
            r = aux.records[l.name]
            s = np.swapaxes(r["s"], 0, 1) != 0
            spikes.append(s)
            counts.append(s.sum(axis=1))
            v_last.append(np.asarray(r["v"][-1]))
            v_max.append(np.asarray(r["h"]).max(axis=0))
        info = {"layers": [l.name for l in self.neuron_layers], "ran_on": where, "placement": where, "output": out,
                "style": style}
        return LifResult("cpu", spikes, counts, v_last, v_max, seconds=seconds, info=info)


def fold_batchnorm(net: Sequential, params: dict):
    """(net, params) with every BatchNorm that directly follows a Linear / Conv2d folded
    into it (eval-mode BN: the same outputs up to rounding, one layer fewer)."""
    layers, out = [], {}
    skip = set()
    for i, l in enumerate(net.layers):
        if i in skip:
            continue
        nxt = net.layers[i + 1] if i + 1 < len(net.layers) else None
        if isinstance(l, (Linear, Conv2d)) and isinstance(nxt, BatchNorm):
            if isinstance(l, Linear):
                new = Linear(l.n_in, l.n_out, bias=True, name=l.name)
            else:
                new = Conv2d(l.c_in, l.c_out, l.k, l.stride, l.padding, bias=True, name=l.name)
            out[l.name] = fold_bn(params[l.name], params[nxt.name], nxt.eps)
            layers.append(new)
            skip.add(i + 1)
        else:
            layers.append(copy.copy(l))  # the new Sequential renumbers its layers: leave net's alone
            out[l.name] = params[l.name]
    return Sequential(*layers), out
