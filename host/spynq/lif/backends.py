"""LIF networks on every backend, one API and one result type.

  cpu     numpy float64 reference (the papers' maths)
  golden  numpy fixed-point model of the kernel (bit-exact with csim, cosim, fpga)
  csim    the HLS C++ built with g++ and called through ctypes
  cosim   the HLS C++ behind the Vitis-shaped shell in Verilator, driven by the PYNQ driver
  fpga    the overlay on a ZCU104 board through PYNQ
  auto    fpga when an overlay is loaded, else cpu

Networks larger than one kernel call (more than LIF_MAX_LAYERS layers, LIF_MAX_SYN
synapse words or LIF_MAX_N neurons in a layer) are split by ``plan_calls`` into
consecutive calls: groups of whole layers, and a layer too large on its own into column
tiles (independent neurons on the same input raster; the partition idea of the
mapping-limit paper). The limits are those of the kernel the calls run on: the overlay
loaded on the board (``spynq.overlays.active``), or the one named with ``overlay=`` (csim
then builds the kernel with that overlay's parameters). Splitting is exact, so every
fixed-point backend stays bit-exact whatever the plan.
"""
from __future__ import annotations


import numpy as np

from ..bench import timed
from ..hw import csim, runner
from ..hw.board import resolve_backend
from ..validate import check_type

from . import encode, golden, reference
from .encode import C
from .model import LifLayer, LifNetwork
from .result import LifResult

V_SCALE = float(1 << C["LIF_V_FRAC"])


def plan_calls(network: LifNetwork, limits: dict = C) -> list[list[tuple[int, slice | None]]]:
    """Kernel calls for a network on a kernel with `limits` (its config constants): each
    call is a list of (layer index, column slice or None); a call with a column slice
    holds that single layer tile."""
    max_syn, max_n = limits["LIF_MAX_SYN"], limits["LIF_MAX_N"]
    if network.n_in > limits["LIF_MAX_IN"]:
        raise ValueError(f"{network.n_in} inputs: this kernel takes at most {limits['LIF_MAX_IN']}")
    calls, cur, words = [], [], 0
    for k, layer in enumerate(network.layers):
        w = encode.syn_words(layer.n_in, layer.n_out)
        if w > max_syn or layer.n_out > max_n:
            if cur:
                calls.append(cur)
                cur, words = [], 0
            cols = min(max(1, max_syn // (layer.n_in * encode.LANES)) * encode.LANES, max_n)
            calls += [[(k, slice(c, min(c + cols, layer.n_out)))] for c in range(0, layer.n_out, cols)]
            continue
        if cur and (words + w > max_syn or len(cur) == limits["LIF_MAX_LAYERS"]):
            calls.append(cur)
            cur, words = [], 0
        cur.append((k, None))
        words += w
    if cur:
        calls.append(cur)
    return calls


def _sub_network(network: LifNetwork, call) -> LifNetwork:
    layers = []
    for k, cols in call:
        layer = network.layers[k]
        if cols is not None:
            d = layer.delays
            d = d if d is None or d.ndim == 1 else d[:, cols]
            layer = LifLayer(layer.weights[:, cols], d, layer.params)
        layers.append(layer)
    return LifNetwork(layers)


def run_fixed(name: str, network: LifNetwork, rasters, call_fn, info=None, limits: dict = C) -> LifResult:
    """Run the plan for a kernel with `limits`, each call through call_fn(packed,
    raster_words, T, batch) -> (out words, seconds)."""
    r = network.check_rasters(rasters)
    batch, T, _ = r.shape
    if batch > limits["LIF_MAX_BATCH"]:
        raise ValueError(f"batch {batch}: the kernel takes at most {limits['LIF_MAX_BATCH']} samples per call")
    if not 1 <= T <= limits["LIF_MAX_T"]:
        raise ValueError(f"T={T}: the kernel takes 1..{limits['LIF_MAX_T']} steps")
    if network.max_delay >= limits["LIF_RING"]:
        raise ValueError(f"delay {network.max_delay}: the kernel's ring buffers take delays "
                         f"0..{limits['LIF_RING'] - 1}")
    n_layers = len(network.layers)
    acc = {key: [[] for _ in range(n_layers)] for key in ("spikes", "counts", "v_last", "v_max")}
    outs, seconds, calls = [], 0.0, plan_calls(network, limits)
    layer_input = {0: r}
    for call in calls:
        sub = _sub_network(network, call)
        packed = encode.pack_network(sub)
        src = layer_input[call[0][0]]
        out, dt = call_fn(packed, encode.pack_rasters(src), T, batch)
        seconds += dt
        outs.append(out)
        dec = encode.decode_out(out, packed.sizes, T, batch)
        for pos, (k, cols) in enumerate(call):
            for key in acc:
                acc[key][k].append(dec[key][pos])
            if cols is None or cols.stop == network.layers[k].n_out:
                spikes = np.concatenate(acc["spikes"][k], axis=-1)
                layer_input[k + 1] = spikes
    res = {key: [np.concatenate(v, axis=-1) for v in vals] for key, vals in acc.items()}
    return LifResult(name, res["spikes"], res["counts"],
                     [v / V_SCALE for v in res["v_last"]], [v / V_SCALE for v in res["v_max"]],
                     seconds, dict(info or {}, calls=len(calls)),
                     {"out": outs, "v_last": res["v_last"], "v_max": res["v_max"], "plan": calls})


def golden_call(packed, raster_words, T, batch):
    return timed(golden.run, packed.net, packed.net_words, raster_words, T, batch)


def csim_call(net: np.ndarray, net_words: int, rasters: np.ndarray, n_steps: int, batch: int,
              opt: str = "-O2") -> np.ndarray:
    """Run the HLS top function natively on packed buffers; returns the out words."""
    return csim.call("lif_delay", net, net_words, rasters, (n_steps, batch), opt)


def run(network: LifNetwork, rasters, backend: str = "auto", **opts) -> LifResult:
    """Run `network` on rasters (batch, T, n_in) bool; readouts of every layer.

    opts for the fixed-point backends (spynq.hw.runner.execute): overlay=NAME (csim, cosim:
    build and plan as that overlay's kernel), ol= (fpga: a loaded overlay), timeout_s=,
    opt= (csim), backpressure= (cosim). fpga plans for the overlay loaded on the board."""
    check_type(network, "network", LifNetwork)
    network.validate()  # layers are mutable: check them as they are now, on every backend
    rasters = network.check_rasters(rasters)
    backend = resolve_backend(backend)
    if backend == "cpu":
        return reference.run(network, rasters)
    call, info, limits = runner.caller("lif_delay", backend, **opts)
    res = run_fixed(backend, network, rasters, lambda p, rw, T, batch: call(p.net, p.net_words, rw, T, batch),
                    None, limits)
    res.info.update(info)
    return res
