"""LIF networks on every backend, one API and one result type.

  native  float C++ for the CPU (spynq.native), the baseline a CPU user would run
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
from ..hw import limits as hw_limits
from ..hw.board import resolve_backend
from ..status import warn_clipped
from ..validate import check_type

from . import encode, golden, reference
from .encode import C
from .model import LifLayer, LifNetwork
from .result import LifResult
from ..errors import SpynqValueError

V_SCALE = float(1 << C["LIF_V_FRAC"])


def plan_calls(network: LifNetwork, limits: dict = C) -> list[list[tuple[int, slice | None]]]:
    """Kernel calls for a network on a kernel with `limits` (its config constants): each
    call is a list of (layer index, column slice or None); a call with a column slice
    holds that single layer tile."""
    max_syn, max_n = limits["LIF_MAX_SYN"], limits["LIF_MAX_N"]
    if network.n_in > limits["LIF_MAX_IN"]:
        raise SpynqValueError(f"{network.n_in} inputs: this kernel takes at most {limits['LIF_MAX_IN']}")
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


def batch_chunk(network: LifNetwork, calls, T: int, limits: dict = C) -> int:
    """Samples per kernel call: LIF_MAX_BATCH, or fewer where the largest call's out
    buffer would pass MAX_OUT_WORDS."""
    per = max(encode.out_words(_sub_network(network, call).sizes, T, 1) - C["LIF_OUT_HDR_WORDS"] for call in calls)
    return max(1, min(limits["LIF_MAX_BATCH"], (hw_limits.MAX_OUT_WORDS - C["LIF_OUT_HDR_WORDS"]) // per))


def run_fixed(name: str, network: LifNetwork, rasters, call_fn, info=None, limits: dict = C) -> LifResult:
    """Run the plan for a kernel with `limits`, each call through call_fn(packed,
    raster_words, T, batch) -> (out words, seconds); a batch larger than one call takes
    runs in consecutive chunks."""
    r = network.check_rasters(rasters)
    batch, T, _ = r.shape
    if not 1 <= T <= limits["LIF_MAX_T"]:
        raise SpynqValueError(f"T={T}: the kernel takes 1..{limits['LIF_MAX_T']} steps")
    if network.max_delay >= limits["LIF_RING"]:
        raise SpynqValueError(f"delay {network.max_delay}: the kernel's ring buffers take delays "
                         f"0..{limits['LIF_RING'] - 1}")
    n_layers = len(network.layers)
    keys = ("spikes", "counts", "v_last", "v_max", "status")
    acc = {key: [[] for _ in range(n_layers)] for key in keys}  # [layer][chunk] arrays
    outs, seconds, calls = [], 0.0, plan_calls(network, limits)
    chunk = batch_chunk(network, calls, T, limits)
    for b0 in range(0, max(batch, 1), chunk):
        rb = r[b0:b0 + chunk]
        part = {key: [[] for _ in range(n_layers)] for key in keys}  # [layer][column tile]
        layer_input = {0: rb}
        for call in calls:
            sub = _sub_network(network, call)
            packed = encode.pack_network(sub)
            out, dt = call_fn(packed, encode.pack_rasters(layer_input[call[0][0]]), T, len(rb))
            seconds += dt
            outs.append(out)
            dec = encode.decode_out(out, packed.sizes, T, len(rb))
            for pos, (k, cols) in enumerate(call):
                for key in keys:
                    part[key][k].append(dec[key][pos])
                if cols is None or cols.stop == network.layers[k].n_out:
                    layer_input[k + 1] = np.concatenate(part["spikes"][k], axis=-1)
        for k in range(n_layers):
            for key in keys[:4]:
                acc[key][k].append(np.concatenate(part[key][k], axis=-1))
            acc["status"][k].append(np.bitwise_or.reduce(part["status"][k], axis=0))  # over column tiles
    res = {key: [np.concatenate(v, axis=0) for v in vals] for key, vals in acc.items()}
    return LifResult(name, res["spikes"], res["counts"],
                     [v / V_SCALE for v in res["v_last"]], [v / V_SCALE for v in res["v_max"]],
                     seconds, dict(info or {}, calls=len(outs)),
                     {"out": outs, "v_last": res["v_last"], "v_max": res["v_max"], "plan": calls,
                      "batch_chunk": chunk}, res["status"])


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
    if backend == "native":  # float C++ CPU baseline (spynq.native); opts: threads= (0: all cores)
        from ..native import lif as native_lif

        return native_lif.run(network, rasters, **opts)
    backend = resolve_backend(backend)
    if backend == "cpu":
        res, clipped = reference.run(network, rasters, clip=True)
        res.layer_status = clipped.per_layer  # where the float run left the kernel's range
    else:
        call, info, limits = runner.caller("lif_delay", backend, **opts)
        res = run_fixed(backend, network, rasters, lambda p, rw, T, batch: call(p.net, p.net_words, rw, T, batch),
                        None, limits)
        res.info.update(info)
    warn_clipped(backend, res.layer_status, encode.STATUS_BITS)
    return res
