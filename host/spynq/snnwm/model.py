"""SNNWM networks: parameters, layers, validation, the .npz file format.

A network is a chain of up to 4 fully connected SNNWM layers (``WindowLayer``: W1
(n_in, n_out), W2 (L,) = dendrite delays 0..L-1, LIF parameters, mode "window" or
"overlap"), optionally followed by the temporal-fusion readout (``ReadoutLayer``: W1
(n_in, n_out), W2 (K,) over delays 0..K-1 counted back from the last step; the paper
uses K = T + 1). The update order is written once in hls/snnwm/snnwm_config.h.

.npz format (``save_npz`` / ``load_npz``), one file:
  format_version     int, currently 1
  n_layers           int >= 0 (0: a readout-only network)
  layer{i}_w1        float64 (n_in, n_out)
  layer{i}_w2        float64 (L,)
  layer{i}_params    JSON string: SnnwmParams fields and "mode"
  readout_w1, readout_w2   present (both) when the network has a readout
and nothing else. load_npz reads it through spynq.npzfile (sizes bounded before
decompressing, no pickles, one clear error per inconsistent or missing field).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from .. import npzfile
from ..chain import Chain, weight_matrix
from ..errors import SpynqTypeError, SpynqValueError
from ..rasters import random_rasters  # noqa: F401  (re-exported: spynq.snnwm.model.random_rasters)
from ..validate import check_choice, check_type, positive, real_array, real_scalar

MODES = ("window", "overlap")


@dataclass
class SnnwmParams:
    """tau: membrane time constant in steps (decay = exp(-1/tau), eq. 5); the neuron fires
    when V >= threshold and is reset to v_rest (Algorithm 1). V starts at 0."""

    tau: float
    threshold: float = 1.0
    v_rest: float = 0.0

    @property
    def decay(self) -> float:
        return float(np.exp(-1.0 / self.tau))

    @classmethod
    def from_decay(cls, decay: float, threshold: float = 1.0, v_rest: float = 0.0) -> "SnnwmParams":
        """Parameters with exp(-1/tau) == decay (0 < decay < 1)."""
        decay = real_scalar(decay, "decay", 0.0, 1.0, lo_open=True, hi_open=True)
        return cls(tau=-1.0 / float(np.log(decay)), threshold=threshold, v_rest=v_rest)

    def validate(self, where: str = "params") -> None:
        positive(self.tau, f"{where}: tau")
        positive(self.threshold, f"{where}: threshold")
        real_scalar(self.v_rest, f"{where}: v_rest")


class _TapStage:
    """W1 (n_in, n_out) and W2, one weight per delay: what both stage kinds hold."""

    def __init__(self, w1, w2, what: str):
        self.w1 = real_array(w1, f"{what}w1", finite=False)  # validate() says which value is not
        self.w2 = real_array(w2, f"{what}w2", finite=False)

    @property
    def n_in(self) -> int:
        return self.w1.shape[0]

    @property
    def n_out(self) -> int:
        return self.w1.shape[1]

    def validate(self, where: str) -> None:
        self.w1 = weight_matrix(self.w1, f"{where}: w1")
        self.w2 = w = real_array(self.w2, f"{where}: w2")
        if w.ndim != 1 or w.size < 1:
            raise SpynqValueError(f"{where}: w2 must be a non-empty vector (one weight per delay), got shape {w.shape}")


class WindowLayer(_TapStage):
    """An SNNWM layer: x_i = sum_k w2_k s_i(e - k), I = x W1, LIF neurons (eq. 6-8)."""

    def __init__(self, w1, w2, params: SnnwmParams, mode: str = "window"):
        super().__init__(w1, w2, "")
        self.params = params
        self.mode = mode

    @property
    def L(self) -> int:
        return self.w2.shape[0]

    def validate(self, where: str = "layer") -> None:
        super().validate(where)
        check_choice(self.mode, f"{where}: mode", MODES)
        check_type(self.params, f"{where}: params", SnnwmParams)
        self.params.validate(f"{where} params")

    def __repr__(self) -> str:
        return f"WindowLayer({self.n_in}->{self.n_out}, L={self.L}, {self.mode})"


class ReadoutLayer(_TapStage):
    """Temporal-fusion readout (eq. 9): o_j = sum_k w2_k sum_i w1_ij s_i(T-1-k), from step T-1."""

    def __init__(self, w1, w2):
        super().__init__(w1, w2, "readout ")

    @property
    def K(self) -> int:
        return self.w2.shape[0]

    def validate(self, where: str = "readout") -> None:
        super().validate(where)

    def __repr__(self) -> str:
        return f"ReadoutLayer({self.n_in}->{self.n_out}, K={self.K})"


class SnnwmNetwork(Chain):
    """WindowLayers then an optional ReadoutLayer; stage s+1 takes stage s's spikes."""

    def __init__(self, layers: list, readout: ReadoutLayer | None = None):
        check_type(layers, "SnnwmNetwork layers", (list, tuple))
        self.layers = list(layers)
        self.readout = readout
        self.validate()

    @property
    def stages(self) -> list:
        return self.layers + ([self.readout] if self.readout is not None else [])

    def stage_name(self, i: int) -> str:
        return "readout" if i == len(self.layers) else f"layer {i}"

    def validate(self) -> None:
        if not self.layers and self.readout is None:
            raise SpynqValueError("an SnnwmNetwork needs at least one layer or a readout")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, WindowLayer):
                raise SpynqTypeError(f"layer {i} is a {type(layer).__name__}, not a WindowLayer")
            layer.validate(f"layer {i}")
        if self.readout is not None:
            if not isinstance(self.readout, ReadoutLayer):
                raise SpynqTypeError(f"readout is a {type(self.readout).__name__}, not a ReadoutLayer")
            self.readout.validate()
        self.check_links()

    # ---- file format
    def save_npz(self, path) -> None:
        self.validate()  # a file written here always loads
        arrays = npzfile.network_header(len(self.layers))
        for i, layer in enumerate(self.layers):
            arrays[f"layer{i}_w1"] = np.asarray(layer.w1, np.float64)
            arrays[f"layer{i}_w2"] = np.asarray(layer.w2, np.float64)
            p = {k: float(v) for k, v in asdict(layer.params).items()}  # numpy scalars are not JSON
            arrays[f"layer{i}_params"] = np.array(json.dumps(dict(p, mode=layer.mode)))
        if self.readout is not None:
            arrays["readout_w1"] = np.asarray(self.readout.w1, np.float64)
            arrays["readout_w2"] = np.asarray(self.readout.w2, np.float64)
        np.savez(path, **arrays)

    @classmethod
    def load_npz(cls, path, max_bytes: int = npzfile.MAX_BYTES) -> "SnnwmNetwork":
        """Read a file of save_npz; max_bytes bounds its uncompressed size (spynq.npzfile)."""
        z, n = npzfile.read_network(path, "SNNWM", 0, max_bytes)
        fields = {"format_version", "n_layers"} | {f"layer{i}_{f}" for i in range(n) for f in ("w1", "w2", "params")}
        if "readout_w1" in z or "readout_w2" in z or n == 0:  # a readout has both; a net has a layer or one
            fields |= {"readout_w1", "readout_w2"}
        npzfile.check_fields(z, fields, (), path)
        layers = []
        with npzfile.model_errors(path):
            for i in range(n):
                p = npzfile.json_field(z, f"layer{i}_params", path, _PARAM_TYPES)
                mode = p.pop("mode")
                layers.append(WindowLayer(npzfile.array_field(z, f"layer{i}_w1", path, 2),
                                          npzfile.array_field(z, f"layer{i}_w2", path, 1), SnnwmParams(**p), mode))
            readout = None
            if "readout_w1" in z:
                readout = ReadoutLayer(npzfile.array_field(z, "readout_w1", path, 2),
                                       npzfile.array_field(z, "readout_w2", path, 1))
            return cls(layers, readout)

    def __repr__(self) -> str:
        return f"SnnwmNetwork(sizes={self.sizes}, layers={self.layers}, readout={self.readout})"


_NUM = (int, float)
_PARAM_TYPES = {"tau": _NUM, "threshold": _NUM, "v_rest": _NUM, "mode": (str,)}


def random_network(rng: np.random.Generator, sizes, L: int = 4, mode: str = "window", readout: bool = False,
                   T: int | None = None, weight_scale: float = 2.0, quantized: bool = True) -> SnnwmNetwork:
    """A random network for tests and benchmarks.

    sizes = [n_in, n_1, ..., n_last]: every pair is a WindowLayer, except the last pair,
    which is the ReadoutLayer when readout=True (its W2 has T + 1 taps, delays 0..T as in
    the paper, so T is required). mode: "window", "overlap" or "mixed" (random per layer).
    w1 ~ N(0.2, 1) * weight_scale / sqrt(n_in), w2 ~ U(0.2, 1.2) / sqrt(L) ... 1.2;
    quantized=True puts W1, W2 and the decay on the kernel's grid (Q3.12, UQ0.16).
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise SpynqValueError("sizes needs at least [n_in, n_out]")
    if readout and T is None:
        raise SpynqValueError("readout=True needs T (its W2 has T + 1 taps)")

    def q12(w):
        return np.round(w * 4096) / 4096 if quantized else w

    def w1(n_in, n_out):
        return q12((rng.normal(0.2, 1.0, (n_in, n_out)) * weight_scale / np.sqrt(n_in)).clip(-7.9, 7.9))

    pairs = list(zip(sizes[:-1], sizes[1:]))
    layer_pairs = pairs[:-1] if readout else pairs
    layers = []
    for n_in, n_out in layer_pairs:
        m = mode if mode != "mixed" else str(rng.choice(MODES))
        if m not in MODES:
            raise SpynqValueError(f"mode {mode!r}: use 'window', 'overlap' or 'mixed'")
        w2 = q12(rng.uniform(0.2, 1.2, L) / np.sqrt(L) * 1.5)
        decay = float(rng.uniform(0.5, 0.97))
        if quantized:
            decay = round(decay * 65536) / 65536
        params = SnnwmParams.from_decay(decay, threshold=float(np.round(rng.uniform(0.5, 1.5), 4)),
                                        v_rest=float(np.round(rng.uniform(-0.3, 0.2), 4)) if rng.random() < 0.5 else 0.0)
        layers.append(WindowLayer(w1(n_in, n_out), w2, params, m))
    ro = None
    if readout:
        n_in, n_out = pairs[-1]
        ro = ReadoutLayer(w1(n_in, n_out), q12(rng.uniform(-0.5, 1.0, T + 1)))
    return SnnwmNetwork(layers, ro)
