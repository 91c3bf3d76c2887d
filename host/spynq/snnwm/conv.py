"""Convolutional SNNWM layers and pooling on the numpy software path (float).

The SNNWM paper (seed 003, "Spiking neural network with working memory", Table 2) runs
its DVS networks as convolutional SNNWM stacks (e.g. 128C3-MP2-...). These layers keep
the semantics of the fully connected SNNWM layers of ``spynq.snnwm.model`` with the
matrix product replaced by a 2-D convolution: for every output channel and position,

  window  (Algorithm 1, eq. 7-8): the input train is cut into windows of L steps; each
          window's spikes are first combined with the dendrite weights W2 (one number
          per input channel and pixel: x = sum_k W2[k] s(e - k), e the window's nominal
          last step), then convolved once with W1; the resulting current is fed to the
          LIF neuron on each of the window's steps.
  overlap (eq. 6): the current at step t is conv(W1, sum_k W2[k] s(t - k)), delays
          0..L-1 (s = 0 before the train starts), every step.

followed by the LIF update of eq. 1-4 in the FC reference's order: V = exp(-1/tau) V + I,
spike when V >= threshold, reset to V_rest, V starting at 0. The W2 combination ("collect")
is literally ``spynq.snnwm.reference.collect`` over the segments of
``spynq.snnwm.reference.segments`` (same delay alignment, same zero-padded last window
when L does not divide T), applied to every channel and pixel; so a 1 x 1 convolution
over a 1 x 1 map is the FC WindowLayer exactly (tested). Both steps are linear: window
sum first, then one convolution per window (per step in overlap mode).

Chosen where the paper is silent (documented here, used by ``spynq.snnwm.gesture``):
  * padding: "same" (pad = k // 2) and stride 1 for C3, as in the SpikingJelly VGG
    networks the paper compares with (Fang et al. 2021a); both are parameters.
  * no batch norm at inference (it folds into W1 and a bias; a bias is supported).
  * pooling acts per time step on the layer's output spikes: MP2 = 2x2 max pool, stride
    2 (on binary spikes: logical OR, output stays binary); AP2 = 2x2 average pool (output
    is a float current in {0, .25, .5, .75, 1}, fed as such to the next layer, as the
    paper's VGG for DVS-CIFAR10 does).

Arrays are (batch, T, C, H, W), channel-first like the paper's PyTorch code. The
convolution is vectorised as kh*kw shifted matrix products in channel-last layout
(no im2col copy of the whole input).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import SpynqValueError
from ..validate import as_array, check_choice, check_finite, int_scalar, positive, real_array, real_scalar

MODES = ("window", "overlap")


# --------------------------------------------------------------------------- time axis


def n_windows(T: int, L: int) -> int:
    return -(-int_scalar(T, "T", 0) // int_scalar(L, "L", 1))


def collect_steps(x: np.ndarray, w2: np.ndarray, mode: str, dtype=np.float64):
    """The collect step of the FC reference on any per-step shape: x (B, T, ...) ->
    (B, segments, ...) with x_seg = sum_k w2[k] x(e - k) (spynq.snnwm.reference.collect
    and .segments, so the time convention is the FC layers' by construction), plus the
    segment index of every step."""
    from .reference import collect, segments, step_segment

    x = np.asarray(x)
    B, T = x.shape[:2]
    segs = segments(mode, int(np.size(w2)), T)
    xs = collect(x.reshape(B, T, -1), np.asarray(w2, float), segs)
    return xs.astype(dtype, copy=False).reshape((B, len(segs)) + x.shape[2:]), step_segment(segs, T)


def lif_scan(I: np.ndarray, tau: float, threshold: float = 1.0, v_rest: float = 0.0):
    """LIF over axis 1 of the step currents I (B, T, ...): V = decay * V + I(t); spike when
    V >= threshold; reset to v_rest. Returns (spikes bool (B, T, ...), v_last (B, ...))."""
    decay = math.exp(-1.0 / positive(tau, "tau"))
    v = np.zeros(I.shape[:1] + I.shape[2:], dtype=I.dtype)
    s = np.zeros(I.shape, dtype=bool)
    for t in range(I.shape[1]):
        v = v * I.dtype.type(decay) + I[:, t]
        f = v >= threshold
        s[:, t] = f
        v = np.where(f, I.dtype.type(v_rest), v)
    return s, v


# --------------------------------------------------------------------------- 2-D convolution


def conv2d(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0, bias=None,
           max_elems: int = 1 << 25) -> np.ndarray:
    """Cross-correlation as in PyTorch Conv2d: x (N, C, H, W), w (Co, C, kh, kw) ->
    (N, Co, H', W'), H' = (H + 2 p - kh) // stride + 1. Vectorised as kh*kw matrix
    products of the shifted input (channel-last) with w[:, :, dy, dx]; N is processed in
    chunks so the shifted copies stay below max_elems elements."""
    x = as_array(x, "conv2d x")
    w = as_array(w, "conv2d w")
    if x.ndim != 4 or w.ndim != 4:
        raise SpynqValueError(f"conv2d: x (N, C, H, W) and w (C_out, C, kh, kw), got shapes {x.shape}, {w.shape}")
    dt = np.result_type(x.dtype, w.dtype, np.float32)
    N, C, H, W = x.shape
    Co, Cw, kh, kw = w.shape
    if Cw != C:
        raise SpynqValueError(f"conv2d: input has {C} channels, weights expect {Cw}")
    p, s = int_scalar(padding, "conv2d padding", 0), int_scalar(stride, "conv2d stride", 1)
    Ho, Wo = (H + 2 * p - kh) // s + 1, (W + 2 * p - kw) // s + 1
    if Ho < 1 or Wo < 1:
        raise SpynqValueError(f"conv2d: kernel {kh}x{kw} larger than padded input {H + 2 * p}x{W + 2 * p}")
    wt = np.ascontiguousarray(np.transpose(w.astype(dt, copy=False), (2, 3, 1, 0)))  # (kh, kw, C, Co)
    out = np.empty((N, Ho, Wo, Co), dtype=dt)
    chunk = max(1, int(max_elems) // max(1, (H + 2 * p) * (W + 2 * p) * C))
    for a in range(0, N, chunk):
        xb = np.transpose(x[a:a + chunk].astype(dt, copy=False), (0, 2, 3, 1))  # NHWC
        if p:
            xb = np.pad(xb, ((0, 0), (p, p), (p, p), (0, 0)))
        else:
            xb = np.ascontiguousarray(xb)
        acc = np.zeros((xb.shape[0], Ho, Wo, Co), dtype=dt)
        for dy in range(kh):
            for dx in range(kw):
                xs = xb[:, dy:dy + s * (Ho - 1) + 1:s, dx:dx + s * (Wo - 1) + 1:s, :]
                acc += xs @ wt[dy, dx]
        out[a:a + chunk] = acc
    if bias is not None:
        out += np.asarray(bias, dt)
    return np.transpose(out, (0, 3, 1, 2))


def _fold(x):
    """(B, T, C, H, W) -> (B*T, C, H, W) and the function that undoes it."""
    B, T = x.shape[:2]
    return x.reshape((B * T,) + x.shape[2:]), (lambda y: y.reshape((B, T) + y.shape[1:]))


def max_pool2d(x: np.ndarray, k: int = 2, stride: int | None = None) -> np.ndarray:
    """k x k max pool over the last two axes (per step, per channel); floor on odd sizes.
    On bool spikes this is the logical OR of the block and stays bool."""
    return _pool(x, k, stride, "max")


def avg_pool2d(x: np.ndarray, k: int = 2, stride: int | None = None) -> np.ndarray:
    """k x k average pool over the last two axes; returns float."""
    return _pool(x, k, stride, "avg")


def _pool(x, k, stride, how):
    x = as_array(x, f"{how}_pool2d x")
    k = int_scalar(k, f"{how}_pool2d k", 1)
    s = k if stride is None else int_scalar(stride, f"{how}_pool2d stride", 1)
    if x.ndim < 2:
        raise SpynqValueError(f"{how}_pool2d: x needs (..., H, W), got shape {x.shape}")
    H, W = x.shape[-2:]
    if k > min(H, W):
        raise SpynqValueError(f"{how}_pool2d k={k}: larger than the {H}x{W} map (it would pool nothing)")
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    if s == k:  # non-overlapping: a reshape
        v = x[..., :Ho * k, :Wo * k].reshape(x.shape[:-2] + (Ho, k, Wo, k))
        if how == "max":
            return v.max(axis=(-3, -1))
        return v.mean(axis=(-3, -1), dtype=np.float64 if x.dtype == np.float64 else np.float32)
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(-2, -1))[..., ::s, ::s, :, :]
    return win.max(axis=(-2, -1)) if how == "max" else win.mean(axis=(-2, -1), dtype=np.float32)


# --------------------------------------------------------------------------- layers


@dataclass
class ConvWindowLayer:
    """A convolutional SNNWM layer: W1 (C_out, C_in, kh, kw), W2 (L,), LIF parameters.

    tau, threshold, v_rest as in ``SnnwmParams`` (decay exp(-1/tau)); mode "window" or
    "overlap"; padding/stride of the convolution; optional bias (C_out,) (folded batch
    norm); dtype of the arithmetic (float64 by default; float32 halves the time of the
    large gesture layers). ``pool`` = None, ("max", k) or ("avg", k) applied per step to
    the layer's output spikes (the "-MP2" after a "128C3").
    """

    w1: np.ndarray
    w2: np.ndarray
    tau: float = 2.0
    threshold: float = 1.0
    v_rest: float = 0.0
    mode: str = "window"
    padding: int = 1
    stride: int = 1
    bias: np.ndarray | None = None
    pool: tuple | None = None
    dtype: type = np.float64

    def __post_init__(self):
        self.w1 = real_array(self.w1, "ConvWindowLayer w1")
        self.w2 = real_array(self.w2, "ConvWindowLayer w2").reshape(-1)
        if self.w1.ndim != 4 or 0 in self.w1.shape:
            raise SpynqValueError(f"ConvWindowLayer w1: must be (C_out, C_in, kh, kw), none 0, got {self.w1.shape}")
        if self.w2.size < 1:
            raise SpynqValueError("ConvWindowLayer w2: needs at least one dendrite group (L >= 1)")
        check_choice(self.mode, "ConvWindowLayer mode", MODES)
        self.tau = positive(self.tau, "ConvWindowLayer tau")
        self.threshold = positive(self.threshold, "ConvWindowLayer threshold")  # <= 0 fires on no input
        self.v_rest = real_scalar(self.v_rest, "ConvWindowLayer v_rest")
        # more padding than the kernel reaches only adds all-padding outputs (and memory)
        self.padding = int_scalar(self.padding, "ConvWindowLayer padding", 0, max(self.w1.shape[2:]))
        self.stride = int_scalar(self.stride, "ConvWindowLayer stride", 1)
        if self.bias is not None:
            self.bias = real_array(self.bias, "ConvWindowLayer bias", ndim=1)
            if len(self.bias) != self.c_out:
                raise SpynqValueError(f"ConvWindowLayer bias: {len(self.bias)} values, needs C_out={self.c_out}")
        if self.pool is not None:
            if not (isinstance(self.pool, (tuple, list)) and len(self.pool) == 2 and self.pool[0] in ("max", "avg")):
                raise SpynqValueError(f"ConvWindowLayer pool={self.pool!r}: must be None, ('max', k) or ('avg', k)")
            self.pool = (self.pool[0], int_scalar(self.pool[1], "ConvWindowLayer pool size k", 1))
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise SpynqValueError(f"ConvWindowLayer dtype={self.dtype!r}: must be float32 or float64")

    @property
    def L(self) -> int:
        return int(self.w2.size)

    @property
    def c_in(self) -> int:
        return int(self.w1.shape[1])

    @property
    def c_out(self) -> int:
        return int(self.w1.shape[0])

    def out_hw(self, H: int, W: int, pooled: bool = True) -> tuple[int, int]:
        kh, kw = self.w1.shape[2:]
        Ho = (H + 2 * self.padding - kh) // self.stride + 1
        Wo = (W + 2 * self.padding - kw) // self.stride + 1
        if pooled and self.pool is not None:
            k = int(self.pool[1])
            Ho, Wo = (Ho - k) // k + 1, (Wo - k) // k + 1
        return Ho, Wo

    def currents(self, x: np.ndarray) -> np.ndarray:
        """Step currents (B, T, C_out, H', W') of the input x (B, T, C_in, H, W)."""
        x = np.asarray(x)
        dt = np.dtype(self.dtype)
        xs, seg_of = collect_steps(x, self.w2, self.mode, dt)  # (B, segments, C, H, W)
        flat, unfold = _fold(xs)
        I = unfold(conv2d(flat, self.w1.astype(dt), self.stride, self.padding, self.bias))
        return I[:, seg_of]  # every step gets its segment's current

    def forward(self, x: np.ndarray, return_state: bool = False):
        """x (B, T, C_in, H, W) bool spikes or float currents -> output spikes (pooled)
        (B, T, C_out, H'', W''); with return_state also (unpooled spikes, v_last)."""
        x = check_finite(as_array(x, "ConvWindowLayer input"), "ConvWindowLayer input")
        if x.ndim != 5 or x.shape[2] != self.c_in or 0 in x.shape:
            raise SpynqValueError(f"ConvWindowLayer input: must be (batch, T, C_in={self.c_in}, H, W), none 0, "
                                  f"got {x.shape}")
        Ho, Wo = self.out_hw(*x.shape[-2:], pooled=False)
        if self.pool is not None and self.pool[1] > min(Ho, Wo):
            raise SpynqValueError(f"ConvWindowLayer pool size k={self.pool[1]}: larger than the {Ho}x{Wo} output map")
        s, v = lif_scan(self.currents(x), self.tau, self.threshold, self.v_rest)
        out = s
        if self.pool is not None:
            out = (max_pool2d if self.pool[0] == "max" else avg_pool2d)(s, int(self.pool[1]))
        return (out, s, v) if return_state else out

    __call__ = forward

    def counts(self, x: np.ndarray) -> dict:
        """Operation counts of this layer on input x (B, T, C, H, W), in the FC kernel's terms
        (spynq.snnwm.counts), totals over the batch: mac = kernel taps * C_out for every
        non-zero collected input value (a convolution per segment: once per window in
        window mode, every step in overlap mode), add = input spikes read by the collect
        step, v_reads = v_writes = segments * neurons."""
        from .counts import tap_multiplicity

        x = np.asarray(x)
        B, T = x.shape[:2]
        xs, seg_of = collect_steps(x, self.w2, self.mode)
        Ho, Wo = self.out_hw(*x.shape[-2:], pooled=False)
        kh, kw = self.w1.shape[2:]
        n_seg = xs.shape[1]
        neurons = self.c_out * Ho * Wo
        # every non-zero input value feeds (up to, at the borders) kh * kw * C_out products
        pop = (x != 0).reshape(B, T, -1).sum(axis=2).astype(np.int64)
        return {"mac": int((xs != 0).sum()) * kh * kw * self.c_out,
                "add": int((pop @ tap_multiplicity(self.mode, self.L, T)).sum()),
                "v_reads": B * n_seg * neurons, "v_writes": B * n_seg * neurons}


def flatten_steps(x: np.ndarray) -> np.ndarray:
    """(B, T, C, H, W) -> (B, T, C*H*W) in C-order (channel, row, column), PyTorch's flatten."""
    return x.reshape(x.shape[:2] + (-1,))


# --------------------------------------------------------------------------- direct loops


def direct_conv_layer(layer: ConvWindowLayer, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slow, literal implementation for tests: per output channel, position and step, the
    sum over delays, input channels and kernel taps of W2 * W1 * s, then the LIF loop.
    Returns (pooled spikes, v_last)."""
    x = np.asarray(x, float)
    B, T, C, H, W = x.shape
    Co, _, kh, kw = layer.w1.shape
    p, st = layer.padding, layer.stride
    xp = np.zeros((B, T, C, H + 2 * p, W + 2 * p))
    xp[:, :, :, p:p + H, p:p + W] = x
    Ho, Wo = layer.out_hw(H, W, pooled=False)
    L = layer.L
    I = np.zeros((B, T, Co, Ho, Wo))
    for b in range(B):
        for t in range(T):
            if layer.mode == "window":  # w2[k] weights the step k before the window's nominal end
                e = (t // L) * L + L - 1
            else:  # overlap: delays 0..L-1 from the current step
                e = t
            taps = [(e - k, k) for k in range(L) if 0 <= e - k < T]
            for o in range(Co):
                for i in range(Ho):
                    for j in range(Wo):
                        acc = 0.0 if layer.bias is None else float(layer.bias[o])
                        for tt, k in taps:
                            patch = xp[b, tt, :, i * st:i * st + kh, j * st:j * st + kw]
                            acc += layer.w2[k] * float(np.sum(layer.w1[o] * patch))
                        I[b, t, o, i, j] = acc
    decay = math.exp(-1.0 / layer.tau)
    v = np.zeros((B, Co, Ho, Wo))
    s = np.zeros((B, T, Co, Ho, Wo), bool)
    for t in range(T):
        for idx in np.ndindex(v.shape):
            v[idx] = decay * v[idx] + I[(idx[0], t) + idx[1:]]
            if v[idx] >= layer.threshold:
                s[(idx[0], t) + idx[1:]] = True
                v[idx] = layer.v_rest
    if layer.pool is not None:
        k = int(layer.pool[1])
        Hq, Wq = (Ho - k) // k + 1, (Wo - k) // k + 1
        q = np.zeros((B, T, Co, Hq, Wq), bool if layer.pool[0] == "max" else float)
        for idx in np.ndindex(q.shape):
            blk = s[idx[:3]][idx[3] * k:idx[3] * k + k, idx[4] * k:idx[4] * k + k]
            q[idx] = blk.max() if layer.pool[0] == "max" else blk.mean()
        return q, v
    return s, v
