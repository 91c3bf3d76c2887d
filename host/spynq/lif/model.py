"""LIF networks with delays: parameters, layers, validation, the .npz file format.

A network is a chain of fully connected spiking layers. Layer l maps n_in inputs to
n_out LIF neurons with weights W (n_in, n_out) and integer delays that are absent
(None), axonal (shape (n_in,), d_ij = d_i, as in the axonal-delay speech paper) or per
synapse (shape (n_in, n_out), as in SpikeProp with delays and SpiNNaker 2). The update
order is written once in hls/lif_delay/lif_delay_config.h and spynq.lif.golden.

.npz format (``save_npz`` / ``load_npz``), one file:
  format_version      int, currently 1
  n_layers            int >= 1
  layer{i}_weights    float64 (n_in, n_out)
  layer{i}_delays     int64 (n_in,) or (n_in, n_out); absent when the layer has none
  layer{i}_params     JSON string of LifParams fields
and nothing else. load_npz reads it through spynq.npzfile (sizes bounded before
decompressing, no pickles, one clear error per inconsistent or missing field).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import npzfile
from ..chain import Chain, weight_matrix
from ..errors import SpynqTypeError, SpynqValueError
from ..rasters import random_rasters  # noqa: F401  (re-exported: spynq.lif.model.random_rasters)
from ..validate import check_choice, check_int_range, check_type, int_scalar, positive, real_array, real_scalar

RESETS = ("zero", "subtract")
MAX_REFRACTORY = (1 << 31) - 1  # steps (the kernel takes 0..LIF_MAX_REFRACTORY)


@dataclass
class LifParams:
    """alpha: membrane decay per step in [0, 1); beta: synaptic-current decay in [0, 1)
    or None (no current state); reset "zero" (to v_reset) or "subtract" (V -= threshold);
    refractory: steps after a spike during which V is held and no spike occurs."""

    alpha: float
    beta: float | None = None
    threshold: float = 1.0
    reset: str = "zero"
    v_reset: float = 0.0
    refractory: int = 0

    def validate(self, where: str = "params") -> None:
        real_scalar(self.alpha, f"{where}: alpha", 0.0, 1.0, hi_open=True)
        if self.beta is not None:
            real_scalar(self.beta, f"{where}: beta (or None)", 0.0, 1.0, hi_open=True)
        positive(self.threshold, f"{where}: threshold")
        check_choice(self.reset, f"{where}: reset", RESETS)
        real_scalar(self.v_reset, f"{where}: v_reset")
        int_scalar(self.refractory, f"{where}: refractory", 0, MAX_REFRACTORY)


@dataclass
class LifLayer:
    weights: np.ndarray  # (n_in, n_out)
    delays: np.ndarray | None = None  # None, (n_in,) axonal or (n_in, n_out) per synapse
    params: LifParams = field(default_factory=lambda: LifParams(alpha=0.9))

    def __post_init__(self):
        self.weights = real_array(self.weights, "weights", finite=False)  # validate() says which is not
        if self.delays is not None:
            self.delays = check_int_range(self.delays, "delays")

    @property
    def n_in(self) -> int:
        return self.weights.shape[0]

    @property
    def n_out(self) -> int:
        return self.weights.shape[1]

    @property
    def delay_mode(self) -> str | None:
        if self.delays is None:
            return None
        return "axonal" if self.delays.ndim == 1 else "synapse"

    def synapse_delays(self) -> np.ndarray:
        """Delays as a full (n_in, n_out) int64 matrix (0 where the layer has none)."""
        if self.delays is None:
            return np.zeros(self.weights.shape, np.int64)
        if self.delays.ndim == 1:
            return np.repeat(self.delays[:, None], self.n_out, axis=1)
        return self.delays

    def validate(self, where: str = "layer") -> None:
        # the fields are public and mutable: check them again as they are now
        self.weights = weight_matrix(self.weights, f"{where}: weights")
        if self.delays is not None:
            self.delays = d = check_int_range(self.delays, f"{where}: delays", 0)
            if d.shape not in ((self.n_in,), (self.n_in, self.n_out)):
                raise SpynqValueError(f"{where}: delays shape {d.shape} must be (n_in,)={(self.n_in,)} (axonal) "
                                      f"or (n_in, n_out)={self.weights.shape} (per synapse)")
        check_type(self.params, f"{where}: params", LifParams)
        self.params.validate(f"{where} params")


class LifNetwork(Chain):
    """A chain of LifLayers; layer l+1 takes layer l's spikes."""

    def __init__(self, layers: list[LifLayer]):
        check_type(layers, "LifNetwork layers", (list, tuple))
        self.layers = list(layers)
        self.validate()

    @property
    def stages(self) -> list[LifLayer]:
        return self.layers

    def validate(self) -> None:
        if not self.layers:
            raise SpynqValueError("a LifNetwork needs at least one layer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, LifLayer):
                raise SpynqTypeError(f"layer {i} is a {type(layer).__name__}, not a LifLayer")
            layer.validate(f"layer {i}")
        self.check_links()

    @property
    def max_delay(self) -> int:
        return max((int(layer.delays.max()) if layer.delays is not None and layer.delays.size else 0)
                   for layer in self.layers)

    # ---- file format
    def save_npz(self, path) -> None:
        self.validate()  # a file written here always loads
        arrays = npzfile.network_header(len(self.layers))
        for i, layer in enumerate(self.layers):
            arrays[f"layer{i}_weights"] = np.asarray(layer.weights, np.float64)
            if layer.delays is not None:
                arrays[f"layer{i}_delays"] = np.asarray(layer.delays, np.int64)
            arrays[f"layer{i}_params"] = np.array(json.dumps(_params_json(layer.params)))
        np.savez(path, **arrays)

    @classmethod
    def load_npz(cls, path, max_bytes: int = npzfile.MAX_BYTES) -> "LifNetwork":
        """Read a file of save_npz; max_bytes bounds its uncompressed size (spynq.npzfile)."""
        z, n = npzfile.read_network(path, "LIF", 1, max_bytes)
        npzfile.check_fields(z, {"format_version", "n_layers"} | {f"layer{i}_{f}" for i in range(n)
                                                                  for f in ("weights", "params")},
                             {f"layer{i}_delays" for i in range(n)}, path)
        layers = []
        with npzfile.model_errors(path):
            for i in range(n):
                params = LifParams(**npzfile.json_field(z, f"layer{i}_params", path, _PARAM_TYPES))
                w = npzfile.array_field(z, f"layer{i}_weights", path, 2)
                d = npzfile.array_field(z, f"layer{i}_delays", path, (1, 2), "iu") if f"layer{i}_delays" in z else None
                layers.append(LifLayer(w, d, params))
            return cls(layers)

    def __repr__(self) -> str:
        modes = [layer.delay_mode or "none" for layer in self.layers]
        return f"LifNetwork(sizes={self.sizes}, delays={modes}, max_delay={self.max_delay})"


_NUM = (int, float)
_PARAM_TYPES = {"alpha": _NUM, "beta": _NUM + (type(None),), "threshold": _NUM, "reset": (str,),
                "v_reset": _NUM, "refractory": (int,)}


def _params_json(p: LifParams) -> dict:
    """LifParams as plain JSON values (numpy scalars are not JSON serialisable)."""
    d = asdict(p)
    return {k: v if v is None or isinstance(v, str) else (int(v) if k == "refractory" else float(v))
            for k, v in d.items()}


def random_network(rng: np.random.Generator, sizes, delay_mode: str | None = "synapse", max_delay: int = 16,
                   weight_scale: float = 2.0, current: bool | None = None, reset: str | None = None,
                   refractory: int | None = None, quantized: bool = True) -> LifNetwork:
    """A random network for tests and benchmarks.

    delay_mode: None, "axonal", "synapse" or "mixed" (a random mode per layer); delays are
    uniform in 0..max_delay. Unset options (None) are drawn per layer. weights ~
    N(0.2, 1) * weight_scale / sqrt(n_in). quantized=True puts weights and decays on the
    kernel's grid (Q3.12, UQ0.16), so cpu and golden differ only by rounding in the loop.
    """
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        mode = delay_mode if delay_mode != "mixed" else rng.choice([None, "axonal", "synapse"])
        w = (rng.normal(0.2, 1.0, (n_in, n_out)) * weight_scale / np.sqrt(n_in)).clip(-7.9, 7.9)
        if mode is None:
            d = None
        elif mode == "axonal":
            d = rng.integers(0, max_delay + 1, n_in)
        elif mode == "synapse":
            d = rng.integers(0, max_delay + 1, (n_in, n_out))
        else:
            raise SpynqValueError(f"delay_mode {mode!r}: use None, 'axonal', 'synapse' or 'mixed'")
        alpha = float(rng.uniform(0.5, 0.99))
        use_cur = bool(rng.integers(0, 2)) if current is None else current
        beta = float(rng.uniform(0.3, 0.95)) if use_cur else None
        if quantized:
            w = np.round(w * 4096) / 4096
            alpha = round(alpha * 65536) / 65536
            beta = None if beta is None else round(beta * 65536) / 65536
        params = LifParams(alpha=alpha, beta=beta, threshold=float(np.round(rng.uniform(0.5, 1.5), 4)),
                           reset=reset or str(rng.choice(RESETS)),
                           v_reset=float(np.round(rng.uniform(-0.3, 0.2), 4)) if rng.random() < 0.5 else 0.0,
                           refractory=int(rng.integers(0, 4)) if refractory is None else refractory)
        layers.append(LifLayer(w, d, params))
    return LifNetwork(layers)
