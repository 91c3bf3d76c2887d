"""Operation, parameter and energy accounting for layers described by plain shapes.

One shape class per synaptic layer kind, independent of where the layer lives:
``Linear(n_in, n_out)`` and ``Conv2d(c_in, c_out, k, stride, padding)`` at an input map
(C, H, W). ``shapes_of`` derives them from a spynq.nn.Sequential, ``kernel_shapes`` from
the kernels' LifNetwork / SnnwmNetwork (their weights are (n_in, n_out), no bias), and
``kernel_costs`` counts a run of those on a kernel backend.

Per sample and per time step, a synaptic layer does
  dense MACs   every multiply of the dense layer, padded taps included (the usual count:
               H_out W_out C_out C_in k^2 for a conv, n_in n_out for a linear layer);
  ACs          on a binary (spike) input, one accumulate per spike and real connection:
               sum over input spikes of the spike's fan-out (n_out for a linear layer;
               for a conv the number of output positions that see the pixel, times C_out,
               so border pixels count fewer and padding none). A measured count, from the
               spikes of a run (``synops``), or ``acs_from_rate`` from a firing rate;
  MACs         on a real-valued input (the encoding layer, a LIAF layer's analog output):
               the dense MACs (every input multiplies; DA-LIF Table III counts the
               first layer so).
``costs`` runs a network on inputs and returns these per layer, measured.

Parameter counts are the learnable entries (torch's sum of p.numel() over parameters()):
weights and biases, BN gamma and beta (running statistics are buffers, not counted), and
a neuron layer's learnable parameters (spynq.nn Param(learn=True); per layer 1, per
channel C).

Energy (DA-LIF Table III, which cites Horowitz's 45 nm figures without printing them):
E = MACs * 4.6 pJ + ACs * 0.9 pJ. These constants reproduce the table's three energies
to its four decimals from the op counts it prints (spynq.claims.dalif).

BIDL Table 1 (ConvLIF / ConvLIAF vs Conv2D, Conv3D, ConvLSTM): ``bidl_table1`` is the
table's closed forms; ``bidl_ops`` derives the same numbers from the per-output op counts
of the pieces (a conv output: Q multiplies, Q - 1 accumulations + 1 bias add; on spikes
the multiplies vanish; a LIF/LIAF neuron: V + I and + beta adds, one alpha * R multiply;
an LSTM cell: 4 gates of input + hidden convs, 3 products, 1 add), and the tests check
that the two agree for any shape.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SpynqTypeError, SpynqValueError

E_MAC_PJ = 4.6  # 32-bit float multiply-accumulate, 45 nm (Horowitz 2014), as DA-LIF [35]
E_AC_PJ = 0.9   # 32-bit float add, 45 nm


def energy_mj(macs, acs, e_mac_pj: float = E_MAC_PJ, e_ac_pj: float = E_AC_PJ) -> float:
    """E = MACs * E_MAC + ACs * E_AC, in mJ."""
    return (float(macs) * e_mac_pj + float(acs) * e_ac_pj) * 1e-9


# ------------------------------------------------------------------------- shapes


def _pos_int(x, what, lo=1) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or int(x) < lo:
        raise SpynqValueError(f"{what}={x!r}: must be an integer >= {lo}")
    return int(x)


@dataclass(frozen=True)
class Linear:
    n_in: int
    n_out: int
    bias: bool = True

    def __post_init__(self):
        _pos_int(self.n_in, "Linear n_in")
        _pos_int(self.n_out, "Linear n_out")

    def out_shape(self, in_shape) -> tuple:
        if int(np.prod(in_shape)) != self.n_in or len(in_shape) != 1:
            raise SpynqValueError(f"Linear({self.n_in}, {self.n_out}): input shape {tuple(in_shape)}, wants ({self.n_in},)")
        return (self.n_out,)

    @property
    def params(self) -> int:
        return self.n_in * self.n_out + (self.n_out if self.bias else 0)

    def dense_macs(self, in_shape=None) -> int:
        return self.n_in * self.n_out

    def fanout(self, in_shape=None) -> np.ndarray:
        """Connections per input element."""
        return np.full((self.n_in,), self.n_out, np.int64)


@dataclass(frozen=True)
class Conv2d:
    c_in: int
    c_out: int
    k: int
    stride: int = 1
    padding: int = 0
    bias: bool = True

    def __post_init__(self):
        for f in ("c_in", "c_out", "k", "stride"):
            _pos_int(getattr(self, f), f"Conv2d {f}")
        _pos_int(self.padding, "Conv2d padding", 0)

    def _out_hw(self, h, w):
        ho = (h + 2 * self.padding - self.k) // self.stride + 1
        wo = (w + 2 * self.padding - self.k) // self.stride + 1
        if ho < 1 or wo < 1:
            raise SpynqValueError(f"{self}: input map {h}x{w} is smaller than the kernel")
        return ho, wo

    def out_shape(self, in_shape) -> tuple:
        if len(in_shape) != 3 or in_shape[0] != self.c_in:
            raise SpynqValueError(f"{self}: input shape {tuple(in_shape)}, wants ({self.c_in}, H, W)")
        return (self.c_out,) + self._out_hw(in_shape[1], in_shape[2])

    @property
    def params(self) -> int:
        return self.c_out * self.c_in * self.k * self.k + (self.c_out if self.bias else 0)

    def dense_macs(self, in_shape) -> int:
        c, ho, wo = self.out_shape(in_shape)
        return c * ho * wo * self.c_in * self.k * self.k

    def _axis_fanout(self, n):
        """For each input index along one axis: how many output positions read it."""
        no = (n + 2 * self.padding - self.k) // self.stride + 1
        f = np.zeros(n, np.int64)
        for o in range(no):
            lo = o * self.stride - self.padding
            f[max(lo, 0):min(lo + self.k, n)] += 1
        return f

    def fanout(self, in_shape) -> np.ndarray:
        self.out_shape(in_shape)
        _, h, w = in_shape
        per_pixel = np.outer(self._axis_fanout(h), self._axis_fanout(w)) * self.c_out
        return np.broadcast_to(per_pixel, tuple(in_shape)).astype(np.int64)


SHAPES = (Linear, Conv2d)


def synops(shape, spikes) -> int:
    """Accumulates a binary input causes: sum of spikes * fan-out. spikes (..., *in_shape),
    any leading axes (time, batch) summed; values must be 0 or 1."""
    s = np.asarray(spikes)
    if not np.all((s == 0) | (s == 1)):
        raise SpynqValueError("synops: the input holds values other than 0 and 1 (real input: count MACs)")
    if isinstance(shape, Linear):
        in_shape = (s.shape[-1],)
    elif isinstance(shape, Conv2d):
        in_shape = tuple(s.shape[-3:])
    else:
        raise SpynqTypeError(f"synops: {type(shape).__name__} is not a spynq.nn_costs shape")
    f = shape.fanout(in_shape)
    per_input = s.reshape((-1,) + f.shape).astype(np.int64).sum(axis=0)
    return int(np.sum(per_input * f))


def acs_from_rate(shape, in_shape, rate: float, T: int = 1) -> float:
    """ACs of a spiking input with a mean firing rate (spikes per input element and step)
    over T steps, when only the rate is known: rate x real connections x T (exact for a
    uniform rate; a measured spike map gives ``synops``)."""
    if not 0.0 <= rate <= 1.0:
        raise SpynqValueError(f"rate={rate}: a firing rate per step is in [0, 1]")
    return float(rate) * int(shape.fanout(tuple(in_shape)).sum()) * int(T)


# ------------------------------------------------------------ from spynq.nn / kernels


def _nn():
    from . import nn

    return nn


def learnable_params(layer, p: dict) -> int:
    """Learnable entries of one spynq.nn layer's params (BN running statistics and
    fixed neuron constants excluded)."""
    from .nn.network import fixed_keys

    fixed = fixed_keys(layer)
    return int(sum(np.size(v) for k, v in p.items() if k not in fixed))


def count_params(layers, seed: int = 0) -> int:
    """Learnable parameters of spynq.nn layers (a Sequential or any list of layers, e.g.
    the layers of a residual network that Sequential cannot chain)."""
    nn = _nn()
    if isinstance(layers, nn.Sequential):
        layers = layers.layers
    rng = np.random.default_rng(seed)
    total = 0
    for layer in layers:
        if not isinstance(layer, nn.Layer):
            raise SpynqTypeError(f"count_params: {type(layer).__name__} is not a spynq.nn layer")
        total += learnable_params(layer, layer.init(rng))
    return total


def shape_of(layer):
    """The nn_costs shape of a spynq.nn Linear / Conv2d (None for other layers)."""
    nn = _nn()
    if isinstance(layer, nn.Linear):
        return Linear(layer.n_in, layer.n_out, layer.bias)
    if isinstance(layer, nn.Conv2d):
        return Conv2d(layer.c_in, layer.c_out, layer.k, layer.stride, layer.padding, layer.bias)
    return None


def _map_shape(layer, in_shape) -> tuple:
    """Per-sample output shape of a spynq.nn layer (no run)."""
    nn = _nn()
    sh = shape_of(layer)
    if sh is not None:
        return sh.out_shape(in_shape)
    if isinstance(layer, (nn.AvgPool2d, nn.MaxPool2d)):
        c, h, w = in_shape
        return (c, (h - layer.k) // layer.stride + 1, (w - layer.k) // layer.stride + 1)
    if isinstance(layer, (nn.GlobalAvgPool, nn.GlobalMaxPool)):
        return (in_shape[0],)
    if isinstance(layer, nn.Flatten):
        return (int(np.prod(in_shape)),)
    return tuple(in_shape)  # neurons, BN, dropout, aggregation keep the per-step shape


@dataclass
class LayerCost:
    """One synaptic layer, per sample: counts summed over the T steps (T = 1 for shapes_of)."""
    name: str
    shape: object
    in_shape: tuple
    out_shape: tuple
    params: int
    dense_macs: int
    acs: int = 0
    macs: int = 0
    input_rate: float | None = None  # mean input value (spike rate when binary); None: not run
    binary_input: bool | None = None

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("name", "in_shape", "out_shape", "params", "dense_macs", "acs", "macs",
                                           "input_rate", "binary_input")}
        d["shape"] = repr(self.shape)
        d["in_shape"], d["out_shape"] = list(self.in_shape), list(self.out_shape)
        return d


def shapes_of(net, in_shape, T: int = 1) -> list[LayerCost]:
    """Per synaptic layer of a spynq.nn.Sequential: shape, parameters and dense MACs of
    one sample over T steps, from the per-step input shape (C, H, W) or (N,); no run."""
    out, shp = [], tuple(int(x) for x in in_shape)
    rng = np.random.default_rng(0)
    for layer in net.layers:
        sh = shape_of(layer)
        nxt = _map_shape(layer, shp)
        if sh is not None:
            out.append(LayerCost(layer.name, sh, shp, nxt, learnable_params(layer, layer.init(rng)),
                                 sh.dense_macs(shp) * T))
        shp = nxt
    return out


def costs(net, params, xs, *, seed: int = 0) -> list[LayerCost]:
    """Run a spynq.nn.Sequential (eval mode, numpy) on xs [T, B, ...] and count, per
    synaptic layer and per sample (mean over the batch), the ACs of its measured binary
    input or the MACs of a real one."""
    nn = _nn()
    xs = np.asarray(xs, dtype=np.float64)
    T, B = xs.shape[:2]
    ctx = nn.Ctx(np, False, seed)
    res, x, timed = [], xs, True
    for layer in net.layers:
        sh = shape_of(layer)
        if sh is not None:
            per = tuple(x.shape[2:] if timed else x.shape[1:])
            steps = T if timed else 1
            binary = bool(np.all((x == 0) | (x == 1)))
            lc = LayerCost(layer.name, sh, per, sh.out_shape(per), learnable_params(layer, params[layer.name]),
                           sh.dense_macs(per) * steps, input_rate=float(np.mean(x)), binary_input=binary)
            if binary:
                lc.acs = synops(sh, x) / B
            else:
                lc.macs = lc.dense_macs
            res.append(lc)
        x = layer.seq(params[layer.name], x, ctx) if timed else layer.forward(params[layer.name], x, ctx)
        timed = timed and not isinstance(layer, nn.TemporalAggregate)
    return res


def kernel_shapes(network) -> list[Linear]:
    """The fully connected layers of a LifNetwork or SnnwmNetwork (readout included) as
    shapes; weights (n_in, n_out), no bias. Delays and the SNNWM window taps are not
    weights of the product and are not counted here."""
    from .lif.model import LifNetwork
    from .snnwm.model import SnnwmNetwork

    if isinstance(network, LifNetwork):
        stages = network.layers
    elif isinstance(network, SnnwmNetwork):
        stages = network.stages
    else:
        raise SpynqTypeError(f"kernel_shapes: {type(network).__name__} is not a LifNetwork or SnnwmNetwork")
    return [Linear(s.n_in, s.n_out, bias=False) for s in stages]


def kernel_costs(network, rasters, backend: str = "golden") -> list[LayerCost]:
    """ACs per stage and sample of a LifNetwork or SnnwmNetwork on rasters (batch, T,
    n_in), from the spikes measured on `backend` (each stage's input: the rasters, then
    the spikes of the stage before): one accumulate per input spike and output, as a
    per-step event-driven layer does. (The SNNWM window unit's own MAC / ADD counts,
    which the kernel reports, are spynq.snnwm.counts.)"""
    from .lif.model import LifNetwork

    r = np.asarray(rasters)
    if isinstance(network, LifNetwork):
        from .lif import backends
    else:
        from .snnwm import backends
    shapes = kernel_shapes(network)
    res = backends.run(network, r, backend)
    inputs = ([r] + [np.asarray(x) for x in res.spikes])[:len(shapes)]
    out = []
    B, T = r.shape[:2]
    for i, (sh, x) in enumerate(zip(shapes, inputs)):
        x = x.astype(np.int64)
        out.append(LayerCost(f"stage{i}", sh, (sh.n_in,), (sh.n_out,), sh.params, sh.dense_macs() * T,
                             acs=synops(sh, x) / B, input_rate=float(x.mean()), binary_input=True))
    return out


lif_costs = kernel_costs


def totals(layers: list[LayerCost]) -> dict:
    return {k: sum(getattr(l, k) for l in layers) for k in ("params", "dense_macs", "acs", "macs")}


# ------------------------------------------------------------------ BIDL Table 1

BIDL_LAYERS = ("ConvLIAF", "ConvLIF", "Conv2D", "Conv3D", "ConvLSTM")


def bidl_table1(T, H, W, C, K, U, I, J) -> dict:
    """BIDL Table 1 as printed: {layer: (MUL, ADD, weights)}, R = T H W C, Q = I J K."""
    R, Q = T * H * W * C, I * J * K
    return {"ConvLIAF": ((Q + 1) * R, (Q + 2) * R, (Q + 1) * C),
            "ConvLIF": (R, (Q + 2) * R, (Q + 1) * C),
            "Conv2D": (Q * R, Q * R, (Q + 1) * C),
            "Conv3D": (U * Q * R, U * Q * R, (U * Q + 1) * C),
            "ConvLSTM": ((4 * (Q + I * J * C) + 3) * R, (4 * (Q + I * J * C) + 1) * R, (Q + I * J * C + 1) * 4 * C)}


def _conv_ops(taps: int, spiking: bool) -> tuple[int, int]:
    """(MUL, ADD) of one conv output with `taps` products plus a bias: taps - 1
    accumulations + the bias add; on a spike input every product is an accumulate."""
    return (0, taps) if spiking else (taps, taps)


NEURON_OPS = {"LIF": (1, 2), "LIAF": (1, 2)}  # alpha * R; V + I and + beta (BIDL Eq.6-10)
LSTM_CELL_OPS = (3, 1)  # f * c, i * g, o * tanh(c); c = f * c + i * g


def bidl_ops(T, H, W, C, K, U, I, J) -> dict:
    """Table 1 derived from the pieces (module docstring): {layer: (MUL, ADD, weights)}.
    The maps keep the H x W size ("same" padding, stride 1); every output element of the
    [T, H, W, C] tensor costs the same; weights are the nn_costs shapes' parameters."""
    R = T * H * W * C
    conv = Conv2d(K, C, I, padding=I // 2)  # I = J: square kernels, as Table 1's setting
    if I != J:
        raise SpynqValueError(f"bidl_ops: I={I}, J={J}: square kernels only")
    q = conv.dense_macs((K, H, W)) // (H * W * C)  # products per output element = I J K
    out = {}
    for name, spiking in (("ConvLIAF", False), ("ConvLIF", True)):
        m, a = _conv_ops(q, spiking)
        nm, na = NEURON_OPS[name[4:]]
        out[name] = ((m + nm) * R, (a + na) * R, conv.params)
    m, a = _conv_ops(q, False)
    out["Conv2D"] = (m * R, a * R, conv.params)
    m, a = _conv_ops(U * q, False)  # a U x I x J kernel over K channels ("same" in time)
    out["Conv3D"] = (m * R, a * R, U * q * C + C)
    hidden = Conv2d(C, C, I, padding=I // 2, bias=False)
    qh = hidden.dense_macs((C, H, W)) // (H * W * C)
    m_x, _ = _conv_ops(q, False)
    # one gate: input conv (q products, q - 1 adds, a bias) + hidden conv (qh products,
    # qh - 1 adds) + their sum: q + qh adds
    gate_mul, gate_add = m_x + qh, q + qh
    cm, ca = LSTM_CELL_OPS
    out["ConvLSTM"] = ((4 * gate_mul + cm) * R, (4 * gate_add + ca) * R, 4 * (conv.params + hidden.params))
    return out


def bidl_fig4() -> dict:
    """Table 1 at BIDL Fig.4's setting: T = 8, H = W = 16, C = K = 64, U = I = J = 3."""
    return bidl_ops(T=8, H=16, W=16, C=64, K=64, U=3, I=3, J=3)
