"""The SNNWM paper's DVS128-Gesture network (Table 2, "VGG-small", 16 steps) as a hybrid:
convolutional SNNWM layers on the numpy path, the fully connected SNNWM layer and the
temporal-fusion readout on any SNNWM backend (cpu, golden, csim, cosim, fpga).

Layer list (Table 2, DVS128 Gesture): 128C3-MP2-128C3-MP2-128C3-MP2-128C3-MP2-512-11
  input  2 x S x S event frames (ON/OFF polarity), T = 16 steps (Table 1)
  4 x [128C3: SNNWM conv 3x3, 128 channels, pad 1 -> LIF spikes -> MP2: 2x2 max pool]
  flatten (channel, row, column) -> 128 * (S/16)^2 spike trains
  512:  SNNWM fully connected window layer (WindowLayer)
  11:   temporal-fusion readout (eq. 9, ReadoutLayer with T + 1 dendrite delays 0..T):
        the 11 gesture classes, read once at the last step.
The numbers after the table's letters follow the paper's legend (output channels before
C, kernel size after C, pool size after MP); "512-11" are the FC layers.

Chosen where the paper is silent (all parameters of ``GestureConfig``):
  * S = 128 (the sensor) by default; tests and quick runs use a downsampled S (32 or 64;
    S must be a multiple of 16 for the four MP2). Downsampling is a block OR of the
    128 x 128 frame, as when SpikingJelly frames are resized with max pooling.
  * working-memory length L = 4 for every SNNWM layer (divides T = 16; the paper sweeps L
    in Fig. 7 without giving the value of Table 4), window mode (Algorithm 1).
  * tau = 2 (SpikingJelly's default LIF), threshold 1, V_rest 0; no batch norm.
  * input coding: the paper feeds normalised frames as currents ("direct coding"); our
    frames are binary (event present in the pixel and time bin), so direct coding and
    spike input coincide.
  * weights: random (no trained model is available). W1 ~ N(0, 1) / sqrt(fan_in), W2 ~
    1 + 0.25 N(0, 1) (close to a plain window sum). Each hidden layer's W1 is then scaled
    so that it fires at ``target_rate`` (10 %) on a calibration batch drawn from a
    different seed, layer by layer (a bisection on the scale), so that spikes reach the
    readout; where the sparse input cannot reach that rate at any scale (the first layer
    at 128 x 128: positions without an event nearby never fire), half of the largest
    reachable rate. The readout's W1 ~ N(0, 1) / sqrt(512), W2 ~ U(0.5, 1.5).
  * conv arithmetic in float32 (the 64 x 64 x 128 layers dominate the time); the FC part
    is whatever the backend does (float64 on cpu, fixed point on golden/csim/fpga).

FC part on the kernel backends (golden, csim, cosim, fpga): one kernel call takes at most
SNNWM_MAX_IN = 1024 inputs and SNNWM_MAX_SYN = 262144 W1 words. At S = 32 the 512-neuron
layer has 512 inputs; with the readout it needs 294912 words, so ``fc_plan`` runs it as
column tiles (independent neurons on the same input, 2 x 256 neurons) and the readout as
a call of its own; spikes and readout are bit-identical to one call. At S >= 48 the layer
has more than 1024 inputs and only the cpu backend runs it (ValueError on the others):
input rows cannot be split across calls because every call fires its neurons.

The same builder takes the paper's DVS-CIFAR10 VGG string (``DVS_CIFAR10_VGG``, average
pooling) via ``build_hybrid(arch=...)``.
"""
from __future__ import annotations

import functools
import math
import re
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpynqValueError
from ..validate import as_array, check_choice, check_finite, check_int_range, int_scalar, positive, real_scalar
from .conv import ConvWindowLayer, collect_steps, flatten_steps, lif_scan

GESTURE_VGG_SMALL = "128C3-MP2-128C3-MP2-128C3-MP2-128C3-MP2-512-11"
DVS_CIFAR10_VGG = "16C3-AP2-32C3-AP2-64C3-64C3-AP2-128C3-128C3-AP2-128C3-128C3-AP2-256-10"
GESTURE_T = 16  # Table 1
GESTURE_CLASSES = 11
SENSOR = 128  # DVS128


def parse_arch(arch: str) -> list[tuple]:
    """'128C3-MP2-512-11' -> [('conv', 128, 3), ('pool', 'max', 2), ('fc', 512), ('fc', 11)]."""
    out = []
    for tok in arch.replace(" ", "").split("-"):
        if m := re.fullmatch(r"(\d+)C(\d+)", tok):
            out.append(("conv", int(m.group(1)), int(m.group(2))))
        elif m := re.fullmatch(r"(MP|AP)(\d+)", tok):
            out.append(("pool", "max" if m.group(1) == "MP" else "avg", int(m.group(2))))
        elif re.fullmatch(r"\d+", tok):
            out.append(("fc", int(tok)))
        else:
            raise SpynqValueError(f"unknown layer {tok!r} in {arch!r}")
    if not out or out[-1][0] != "fc":
        raise SpynqValueError("the architecture must end with the readout size")
    kinds = [k[0] for k in out]
    if "fc" in kinds and any(k != "fc" for k in kinds[kinds.index("fc"):]):
        raise SpynqValueError("fully connected layers must come after all conv/pool layers")
    return out


@dataclass
class GestureConfig:
    """Everything the paper leaves open; see the module docstring for why."""

    arch: str = GESTURE_VGG_SMALL
    size: int = SENSOR
    T: int = GESTURE_T
    L: int = 4
    tau: float = 2.0
    threshold: float = 1.0
    v_rest: float = 0.0
    mode: str = "window"
    target_rate: float = 0.10
    calib_batch: int = 2
    conv_dtype: type = np.float32

    def __post_init__(self):
        self.size = _frame_size(self.size)
        self.T = int_scalar(self.T, "T", 1)
        self.L = int_scalar(self.L, "L", 1)
        self.tau = positive(self.tau, "tau")
        self.threshold = positive(self.threshold, "threshold")
        self.v_rest = real_scalar(self.v_rest, "v_rest")
        check_choice(self.mode, "mode", ("window", "overlap"))
        self.target_rate = real_scalar(self.target_rate, "target_rate", 0.0, 1.0, lo_open=True, hi_open=True)
        self.calib_batch = int_scalar(self.calib_batch, "calib_batch", 1)


def _frame_size(size) -> int:
    size = int_scalar(size, "size", 1, SENSOR)
    if SENSOR % size:
        raise SpynqValueError(f"size={size}: must divide the sensor's {SENSOR} pixels (e.g. 32, 64, 128)")
    return size


# --------------------------------------------------------------------------- input


def dvs_frames(batch: int, T: int = GESTURE_T, size: int = SENSOR, seed=0, radius: float = 14.0,
               speed: float = 4.0, p_edge: float = 0.6, p_noise: float = 0.002, labels=None):
    """Random DVS-like event frames (batch, T, 2, size, size) bool and labels (batch,).

    A bright disk (the "hand", radius px at 128 x 128) moves for T frames; a pixel gets an ON
    event (channel 0) where the disk arrives and OFF (channel 1) where it leaves, each
    kept with probability p_edge (sensor misses), plus independent background noise events
    (p_noise per pixel, polarity and frame). Gesture class k (0..10) sets the motion:
    k < 8: straight sweep in direction 2 pi k / 8; 8, 9: clockwise / counter-clockwise
    circle; 10: random jitter in place. The frame is rendered at 128 x 128 and, if size
    < 128, downsampled by a block OR. With the defaults 0.6 % of the (pixel, polarity,
    frame) bins carry an event at 128 x 128 (1.7 % at 64, 4.7 % at 32). The labels only make the
    frames look like gestures; the weights are random, so the readout is not a classifier.
    """
    rng = np.random.default_rng(seed)
    batch, T, size = int_scalar(batch, "batch", 1), int_scalar(T, "T", 1), _frame_size(size)
    if labels is None:
        labels = rng.integers(0, GESTURE_CLASSES, batch)
    else:
        labels = check_int_range(labels, "labels", 0, GESTURE_CLASSES - 1)
        if labels.shape != (batch,):
            raise SpynqValueError(f"labels: shape {labels.shape}, needs (batch={batch},)")
    yy, xx = np.mgrid[0:SENSOR, 0:SENSOR]
    out = np.zeros((batch, T, 2, SENSOR, SENSOR), bool)
    for b in range(batch):
        k = int(labels[b])
        c0 = rng.uniform(40, 88, 2)
        phase = rng.uniform(0, 2 * np.pi)
        pos = []
        for t in range(T + 1):  # frame t compares positions t and t + 1
            if k < 8:
                a = 2 * np.pi * k / 8
                p = c0 + (t - T / 2) * speed * np.array([np.cos(a), np.sin(a)])
            elif k < 10:
                sgn = 1 if k == 8 else -1
                a = phase + sgn * t * speed / 20.0
                p = c0 + 20.0 * np.array([np.cos(a), np.sin(a)])
            else:
                p = c0 + rng.normal(0, speed / 2, 2)
            pos.append(p)
        disks = [(xx - p[0]) ** 2 + (yy - p[1]) ** 2 <= radius ** 2 for p in pos]
        for t in range(T):
            on = disks[t + 1] & ~disks[t]
            off = disks[t] & ~disks[t + 1]
            out[b, t, 0] = on & (rng.random(on.shape) < p_edge)
            out[b, t, 1] = off & (rng.random(off.shape) < p_edge)
    out |= rng.random(out.shape) < p_noise
    if size < SENSOR:
        f = SENSOR // size
        out = out.reshape(batch, T, 2, size, f, size, f).any(axis=(4, 6))
    return out, labels


# --------------------------------------------------------------------------- network


def _fc_model():
    try:
        from . import model
    except ImportError as e:  # the core package is not there yet
        raise ImportError("spynq.snnwm.model (the SNNWM core) is needed for the FC part") from e
    return model


def _fc_currents(x, w1, w2, mode):
    """Step currents of an FC SNNWM layer (same time convention as the conv layers)."""
    xs, seg_of = collect_steps(x, w2, mode)
    return (xs @ w1)[:, seg_of]


def _q(w, frac: int = 12):
    """Round to the kernel's grid (Q3.12 weights by default)."""
    return np.round(np.asarray(w, float) * (1 << frac)) / (1 << frac)


def _calibrate(I0: np.ndarray, tau, threshold, v_rest, target: float, iters: int = 14) -> float:
    """Scale s such that the LIF driven by s * I0 fires at about `target` (bisection in log s)."""
    def rate(s):
        return float(lif_scan(I0 * I0.dtype.type(s), tau, threshold, v_rest)[0].mean())

    lo, hi = 1e-4, 1e4
    # a sparse input leaves many positions without any input: they can never fire, so aim
    # at half of the largest reachable rate when the target is not reachable
    target = min(float(target), 0.5 * rate(hi))
    for _ in range(iters):
        mid = math.sqrt(lo * hi)
        if rate(mid) < target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


@dataclass
class HybridNetwork:
    """conv: ConvWindowLayer list (numpy); fc: a spynq.snnwm.model.SnnwmNetwork (its window
    layers and temporal-fusion readout) run on a backend; input (C, H, W) per step."""

    conv: list
    fc: object
    input_shape: tuple
    T: int
    config: GestureConfig | None = None
    calibration: dict = field(default_factory=dict)

    @property
    def n_flat(self) -> int:
        c, h, w = self.input_shape
        for layer in self.conv:
            h, w = layer.out_hw(h, w)
            c = layer.c_out
        return c * h * w

    def conv_forward(self, frames: np.ndarray):
        """(B, T, C, H, W) frames -> flattened spike trains (B, T, n_flat) bool and the firing
        rate of each conv layer (before pooling)."""
        x = frames
        rates = []
        for layer in self.conv:
            x, s, _ = layer.forward(x, return_state=True)
            rates.append(float(s.mean()))
        flat = flatten_steps(np.asarray(x))
        if flat.dtype != bool:  # average pooling at the end: currents are not spikes
            raise SpynqValueError("the last conv stage must output spikes (max pool or none) for the FC kernel")
        return flat, rates

    def run(self, frames: np.ndarray, backend: str = "cpu", **opts) -> dict:
        """Conv part in numpy, then the FC part through spynq.snnwm.backends.run (``run_fc``).
        Returns {"readout" (B, classes), "predict", "fc" (SnnwmResult), "flat" spikes,
        "conv_rates", "flat_rate", "seconds": {"conv", "fc", "total"}, "per_sample": ...}."""
        frames = check_finite(as_array(frames, "frames"), "frames")
        want = (self.T,) + tuple(self.input_shape)
        if frames.ndim != 5 or frames.shape[1:] != want or len(frames) < 1:
            raise SpynqValueError(f"frames must be (batch >= 1,) + {want}, got {frames.shape}")
        t0 = time.perf_counter()
        flat, rates = self.conv_forward(frames)
        t1 = time.perf_counter()
        res = run_fc(self.fc, flat, backend, **opts)
        t2 = time.perf_counter()
        B = frames.shape[0]
        readout = None if res.readout is None else np.asarray(res.readout, float)
        sec = {"conv": t1 - t0, "fc": t2 - t1, "total": t2 - t0}
        return {"backend": backend, "readout": readout,
                "predict": None if readout is None else np.argmax(readout, axis=1),
                "fc": res, "flat": flat, "conv_rates": rates, "flat_rate": float(flat.mean()),
                "fc_rates": [float(np.asarray(s).mean()) for s in res.spikes],
                "seconds": sec, "per_sample": {k: v / B for k, v in sec.items()},
                "fc_backend_seconds": float(getattr(res, "seconds", float("nan")))}


def fc_plan(fc, T: int | None = None) -> list[tuple]:
    """Kernel calls for the FC part: [("net", network)] when it fits one call
    (encode.check_limits), else one call per column tile of every window layer
    (independent neurons on the same input; each tile's W1 fits SNNWM_MAX_SYN) and then
    the readout on its own. Inputs beyond SNNWM_MAX_IN cannot be split (the neurons of a
    call integrate every input), so such layers raise ValueError."""
    from . import encode
    from .encode import C as KC

    model = _fc_model()
    try:
        encode.check_limits(fc, T)
        return [("net", fc)]
    except ValueError:
        pass
    calls = []
    for k, layer in enumerate(fc.layers):
        if layer.n_in > KC["SNNWM_MAX_IN"]:
            raise SpynqValueError(f"FC layer {k} has {layer.n_in} inputs; the SNNWM kernel takes at most "
                             f"{KC['SNNWM_MAX_IN']} (use a smaller frame size, e.g. size=32)")
        cols = max(1, KC["SNNWM_MAX_SYN"] // (layer.n_in * encode.LANES)) * encode.LANES
        calls.append(("layer", k, [model.SnnwmNetwork([model.WindowLayer(layer.w1[:, c:c + cols], layer.w2,
                                                                         layer.params, layer.mode)])
                                   for c in range(0, layer.n_out, cols)]))
    if fc.readout is not None:
        calls.append(("readout", model.SnnwmNetwork([], readout=fc.readout)))
    return calls


def run_fc(fc, flat: np.ndarray, backend: str = "cpu", **opts):
    """The FC part on `backend`: one backends.run call when the network fits the kernel (or
    on cpu), else the calls of ``fc_plan``, merged into one SnnwmResult (spikes, v_last,
    v_max concatenated over tiles; counts summed; seconds summed; info["calls"])."""
    from . import backends
    from .result import SnnwmResult

    flat = np.asarray(flat, bool)
    plan = [("net", fc)] if backend == "cpu" else fc_plan(fc, flat.shape[1])
    if len(plan) == 1:
        res = backends.run(fc, flat, backend, **opts)
        res.info = dict(res.info, calls=1)
        return res
    spikes, v_last, v_max, counts, seconds, readout, n = [], [], [], [], 0.0, None, 0
    x = flat
    for call in plan:
        if call[0] == "layer":
            parts = [backends.run(net, x, backend, **opts) for net in call[2]]
            n += len(parts)
            seconds += sum(r.seconds for r in parts)
            x = np.concatenate([r.spikes[0] for r in parts], axis=2)
            spikes.append(x)
            v_last.append(np.concatenate([r.v_last[0] for r in parts], axis=1))
            v_max.append(np.concatenate([r.v_max[0] for r in parts], axis=1) if all(r.v_max for r in parts) else None)
            counts.append({k: sum(r.counts[0][k] for r in parts) for k in parts[0].counts[0]})
        else:
            r = backends.run(call[1], x, backend, **opts)
            n += 1
            seconds += r.seconds
            readout = r.readout
            counts.append(r.counts[-1])
    return SnnwmResult(backend, spikes, v_last, readout, counts, seconds, {"T": flat.shape[1], "calls": n},
                       None, v_max)


def build_hybrid(config: GestureConfig | None = None, seed: int = 0, calib_seed: int = 10_000) -> HybridNetwork:
    """Random-weight network for config.arch at config.size (see module docstring)."""
    cfg = config or GestureConfig()
    model = _fc_model()
    spec = parse_arch(cfg.arch)
    rng = np.random.default_rng(seed)
    calib, _ = dvs_frames(cfg.calib_batch, cfg.T, cfg.size, seed=calib_seed)
    x = calib
    conv, C, H, W = [], 2, cfg.size, cfg.size
    scales = []
    i = 0
    while i < len(spec) and spec[i][0] != "fc":
        kind = spec[i]
        if kind[0] != "conv":
            raise SpynqValueError(f"pool without a conv before it at position {i} of {cfg.arch!r}")
        _, co, k = kind
        pool = None
        if i + 1 < len(spec) and spec[i + 1][0] == "pool":
            pool = (spec[i + 1][1], spec[i + 1][2])
            i += 1
        w1 = rng.standard_normal((co, C, k, k)) / math.sqrt(C * k * k)
        w2 = 1.0 + 0.25 * rng.standard_normal(cfg.L)
        layer = ConvWindowLayer(w1, w2, cfg.tau, cfg.threshold, cfg.v_rest, cfg.mode, padding=k // 2,
                                pool=pool, dtype=cfg.conv_dtype)
        s = _calibrate(layer.currents(x), cfg.tau, cfg.threshold, cfg.v_rest, cfg.target_rate)
        layer.w1 = layer.w1 * s
        scales.append(s)
        x = layer.forward(x)
        conv.append(layer)
        C, (H, W) = co, layer.out_hw(H, W)
        i += 1
    fc_sizes = [s[1] for s in spec[i:]]
    # FC weights and decay on the kernel's grids (Q3.12, UQ0.16) so that every backend
    # runs the same numbers and cpu and golden differ only in the kernel's rounding
    params = model.SnnwmParams.from_decay(_q(math.exp(-1.0 / cfg.tau), 16), cfg.threshold, cfg.v_rest)
    n_in = C * H * W
    xf = flatten_steps(np.asarray(x)).astype(float)
    layers = []
    for n_out in fc_sizes[:-1]:
        w1 = rng.standard_normal((n_in, n_out)) / math.sqrt(n_in)
        w2 = 1.0 + 0.25 * rng.standard_normal(cfg.L)
        s = _calibrate(_fc_currents(xf, w1, w2, cfg.mode), params.tau, cfg.threshold, cfg.v_rest, cfg.target_rate)
        w1, w2 = _q(w1 * s), _q(w2)
        scales.append(s)
        layers.append(model.WindowLayer(w1, w2, params, mode=cfg.mode))
        xf = lif_scan(_fc_currents(xf, w1, w2, cfg.mode), params.tau, cfg.threshold, cfg.v_rest)[0].astype(float)
        n_in = n_out
    readout = model.ReadoutLayer(_q(rng.standard_normal((n_in, fc_sizes[-1])) / math.sqrt(n_in)),
                                 _q(rng.uniform(0.5, 1.5, cfg.T + 1)))
    fc = model.SnnwmNetwork(layers, readout=readout)
    return HybridNetwork(conv, fc, (2, cfg.size, cfg.size), cfg.T, cfg,
                         {"scales": scales, "calib_seed": calib_seed, "target_rate": cfg.target_rate})


@functools.lru_cache(maxsize=8)
def _cached(cfg_key, seed):
    return build_hybrid(GestureConfig(**dict(cfg_key)), seed)


def gesture_network(seed: int = 0, **config) -> HybridNetwork:
    """The Table 2 gesture network (cached per seed and config)."""
    cfg = GestureConfig(**config)
    key = tuple(sorted((k, v) for k, v in cfg.__dict__.items()))
    return _cached(key, int(seed))


def layer_table(net: HybridNetwork) -> list[dict]:
    """One row per layer: name, kind, shape in/out, parameters, L, mode."""
    rows = []
    c, h, w = net.input_shape
    for layer in net.conv:
        ho, wo = layer.out_hw(h, w, pooled=False)
        hp, wp = layer.out_hw(h, w)
        rows.append({"layer": f"{layer.c_out}C{layer.w1.shape[2]}" + (f"-{'MP' if layer.pool[0] == 'max' else 'AP'}"
                                                                      f"{layer.pool[1]}" if layer.pool else ""),
                     "in": [c, h, w], "conv_out": [layer.c_out, ho, wo], "out": [layer.c_out, hp, wp],
                     "params": int(layer.w1.size + layer.w2.size), "L": layer.L, "mode": layer.mode, "where": "numpy"})
        c, h, w = layer.c_out, hp, wp
    n = c * h * w
    for layer in net.fc.layers:
        w1 = np.asarray(layer.w1)
        rows.append({"layer": f"{w1.shape[1]}", "in": [n], "out": [w1.shape[1]], "params": int(w1.size + np.size(layer.w2)),
                     "L": int(np.size(layer.w2)), "mode": getattr(layer, "mode", "window"), "where": "backend"})
        n = w1.shape[1]
    if net.fc.readout is not None:
        w1 = np.asarray(net.fc.readout.w1)
        rows.append({"layer": f"{w1.shape[1]} (readout)", "in": [n], "out": [w1.shape[1]],
                     "params": int(w1.size + np.size(net.fc.readout.w2)), "L": int(np.size(net.fc.readout.w2)),
                     "mode": "temporal fusion", "where": "backend"})
    return rows


def run_gesture(backend: str = "cpu", batch: int = 2, seed: int = 0, size: int = SENSOR, **config) -> dict:
    """Build (cached) the gesture network, draw `batch` random gesture frames (seed) and run
    it with the FC part on `backend`. Returns the readout (batch, 11), predictions, the
    conv/FC/total seconds and the same per sample, firing rates, the layer table."""
    batch = int_scalar(batch, "batch", 1)
    net = gesture_network(seed, size=size, **config)
    frames, labels = dvs_frames(batch, net.T, size, seed=seed + 1)
    out = net.run(frames, backend)
    out.update({"labels": labels, "input_density": float(frames.mean()), "layers": layer_table(net),
                "size": size, "batch": batch, "seed": seed, "arch": net.config.arch})
    return out
