"""A spiking transformer backbone: Spikformer (Zhou et al., ICLR 2023), the baseline of
Oli-SNN (models_neurons.md 1.4, Eq.10), built from spynq.nn layers with the neurons and
synapses made by a factory (``Units``), so Spikformer (LIF) and Oli-SNN (Oli-L,
spynq.nn.models.oli_snn) are one code:

    X_0  = SPS(I) + RPE(SPS(I))                   (the paper's CPEG: the relative position conv)
    X'_p = SSA(X_{p-1}) + X_{p-1}
    X_p  = MLP(X'_p) + X'_p,   p = 1..depth
    Yhat = head(mean over tokens (X_depth)), averaged over the T steps

Per time step, on [B, C, H, W] (the token map stays 2-D: H x W tokens of C channels):
  SPS   stages conv3x3 (no bias) - BN - neuron, channels in -> dim/8 -> dim/4 -> dim/2 -> dim,
        each optionally followed by MaxPool(3, stride 2, pad 1) (Spikformer CIFAR: pools
        after the last two stages; ``pools`` chooses; 8x8 digits with one pool: 4 x 4 = 16 tokens)
  RPE   conv3x3 dim -> dim (no bias) - BN - neuron, added to its input
  SSA   Q, K, V = neuron(BN(Linear(X))) each (spikes), per head (d = dim / heads):
        Y = (Q K^T) V * scale  (no softmax; scale 0.125 as Spikformer), then a neuron at
        threshold 0.5, then Linear - BN - neuron (the projection)
  MLP   Linear dim -> mlp_ratio dim - BN - neuron - Linear -> dim - BN - neuron
  head  mean over the tokens, Linear dim -> classes, then the mean over T
A "Linear" over a token's channels is a 1x1 Conv2d here (the same weights and bias,
PyTorch's Conv2d layout (out, in, 1, 1)), so BN is BatchNorm1d over channels with its
statistics over batch and tokens, as Spikformer's. Spikformer averages over T before the
head; the head is linear, so averaging after it is the same up to rounding, and it lets
the step-by-step style produce the output with a running mean. Neurons (``Units``
default): SpikingJelly's LIF as Spikformer configures it, tau 2, v_th 1 (0.5 in the
attention), hard reset to 0, decay_input, detach_reset, sigmoid surrogate (alpha 4)
(``LoopLIF``: the step loop also under JAX, no lax.scan).

Both iteration styles run the same graph (``_graph``): style="layer" (each layer over all
T steps; attention and residual sums act on [T, B, ...]) and style="step" (the whole
backbone once per step; the attention mixes tokens within a step, never across steps,
so nothing needs the time axis). They agree exactly except BatchNorm in train mode
(per-step statistics; spynq.nn.layers.BatchNorm). With binary Q, K, V and scale 2^-3 the
attention's sums are exact in floating point (integer multiples of 1/8), whatever the order.
"""
from __future__ import annotations

import numpy as np

from ..errors import SpynqValueError
from .base import Ctx, Layer
from .layers import BatchNorm, Conv2d, GlobalAvgPool, Linear, TemporalAggregate
from .network import Aux, Sequential
from .neurons import LIF
from .ops import _pad_hw, max_pool2d
from .surrogate import Sigmoid

SCALE = 0.125  # Spikformer's fixed attention scale


class MaxPool2dPad(Layer):
    """Max pooling with padding (-inf, as torch.nn.MaxPool2d): Spikformer's SPS pool
    MaxPool2d(3, 2, 1); nn.MaxPool2d has no padding."""

    def __init__(self, k: int = 3, stride: int = 2, padding: int = 1, name: str | None = None):
        super().__init__(name)
        self.k, self.stride, self.padding = int(k), int(stride), int(padding)

    def forward(self, p, x, ctx):
        return max_pool2d(_pad_hw(x, self.padding, ctx.xp, value=-np.inf), self.k, self.stride, ctx.xp)


class LoopLIF(LIF):
    """LIF whose T steps always run as the Python step loop, also when a JAX forward asks
    for lax.scan: at the few steps of these backbones (T = 4) the unrolled loop compiles
    faster (45 s against 70 s for the digits model's gradient here) and runs faster."""

    def seq(self, p, xs, ctx):
        return self.step_loop(p, xs, ctx)


class Units:
    """The backbone's synapse and neuron factory (Spikformer: Conv2d and SpikingJelly LIF).
    synapse(name, c_in, c_out, k, padding, bias): the layer feeding a BN + neuron;
    neuron(name, channels, v_th, source): source is the name of the synapse whose BN
    feeds it (None for the attention neuron, which no weight feeds)."""

    def synapse(self, name, c_in, c_out, k, padding, bias):
        return Conv2d(c_in, c_out, k, 1, padding, bias=bias, name=name)

    def neuron(self, name, channels, v_th, source):
        return LoopLIF(tau=2.0, v_th=v_th, v_reset=0.0, detach_reset=True, surrogate=Sigmoid(4.0), name=name)


def spiking_attention(q, k, v, heads: int, scale: float, xp):
    """Spikformer's SSA core on token maps [..., C, H, W] (any leading axes): per head
    (channels split in `heads` blocks of d), Y_i = scale sum_j (q_i . k_j) v_j, no softmax."""
    lead, (C, H, W) = tuple(q.shape[:-3]), tuple(q.shape[-3:])
    d, N = C // heads, H * W

    def split(z):
        return xp.reshape(z, lead + (heads, d, N))

    qh, kh, vh = split(q), split(k), split(v)
    att = (xp.swapaxes(qh, -1, -2) @ kh) * scale  # [..., heads, N_i, N_j]
    y = vh @ xp.swapaxes(att, -1, -2)  # [..., heads, d, N_i]
    return xp.reshape(y, lead + (C, H, W))


class Spikformer(Sequential):
    """The backbone above as an nn.Sequential's layers (init, trainable, run, records per
    neuron layer) executed as a graph with residuals. Layer names: sps{i}[_bn|_lif|_pool],
    rpe[_bn|_lif], b{p}_{q,k,v,proj,fc1,fc2}[_bn|_lif], b{p}_attn_lif, gap, head, mean."""

    def __init__(self, in_channels: int = 1, dim: int = 32, depth: int = 1, heads: int = 2, classes: int = 10,
                 sps=None, pools=None, mlp_ratio: int = 4, scale: float = SCALE, units: Units | None = None):
        chans = tuple(int(c) for c in (sps or (in_channels, dim // 8, dim // 4, dim // 2, dim)))
        if chans[0] != in_channels or chans[-1] != dim or len(chans) < 2 or min(chans) < 1:
            raise SpynqValueError(f"Spikformer: SPS channels {chans} must run from in_channels={in_channels} to "
                                  f"dim={dim}, each at least 1")
        n_st = len(chans) - 1
        pools = tuple(bool(b) for b in (pools if pools is not None else [i >= n_st - 2 for i in range(n_st)]))
        if len(pools) != n_st:
            raise SpynqValueError(f"Spikformer: pools {pools} for {n_st} SPS stages")
        if heads < 1 or dim % heads:
            raise SpynqValueError(f"Spikformer: dim={dim} does not split into heads={heads}")
        if depth < 0 or mlp_ratio < 1 or classes < 1:
            raise SpynqValueError(f"Spikformer: depth={depth}, mlp_ratio={mlp_ratio}, classes={classes}")
        self.units = units or Units()
        self.in_channels, self.dim, self.depth, self.heads, self.classes = in_channels, dim, depth, heads, classes
        self.sps_channels, self.pools, self.mlp_ratio, self.scale = chans, pools, int(mlp_ratio), float(scale)
        L = []

        def unit(name, c_in, c_out, k, bias):
            syn = self.units.synapse(name, c_in, c_out, k, k // 2, bias)
            trio = (syn, BatchNorm(c_out, name=f"{name}_bn"), self.units.neuron(f"{name}_lif", c_out, 1.0, syn.name))
            L.extend(trio)
            return trio

        self.sps = []
        for i, (a, b) in enumerate(zip(chans, chans[1:])):
            stage = unit(f"sps{i}", a, b, 3, False)
            if pools[i]:
                stage += (MaxPool2dPad(name=f"sps{i}_pool"),)
                L.append(stage[-1])
            self.sps.append(stage)
        self.rpe = unit("rpe", dim, dim, 3, False)
        self.blocks = []
        hidden = self.mlp_ratio * dim
        for p in range(depth):
            blk = {n: unit(f"b{p}_{n}", dim, dim, 1, True) for n in ("q", "k", "v")}
            blk["attn"] = self.units.neuron(f"b{p}_attn_lif", dim, 0.5, None)
            L.append(blk["attn"])
            blk["proj"] = unit(f"b{p}_proj", dim, dim, 1, True)
            blk["fc1"] = unit(f"b{p}_fc1", dim, hidden, 1, True)
            blk["fc2"] = unit(f"b{p}_fc2", hidden, dim, 1, True)
            self.blocks.append(blk)
        self.gap, self.head = GlobalAvgPool(name="gap"), Linear(dim, classes, name="head")
        self.agg = TemporalAggregate("mean", name="mean")
        super().__init__(L + [self.gap, self.head, self.agg])

    # ------------------------------------------------------------------ the graph
    def _graph(self, run, x, xp):
        """Eq.10 on x ([T, B, C, H, W] with run = each layer's seq, or [B, C, H, W] with run
        = its step): the one definition both styles execute."""
        def chain(layers, z):
            for l in layers:
                z = run(l, z)
            return z

        for stage in self.sps:
            x = chain(stage, x)
        x = x + chain(self.rpe, x)
        for blk in self.blocks:
            q, k, v = (chain(blk[n], x) for n in ("q", "k", "v"))
            a = run(blk["attn"], spiking_attention(q, k, v, self.heads, self.scale, xp))
            x = x + chain(blk["proj"], a)
            x = x + chain(blk["fc2"], chain(blk["fc1"], x))
        return chain((self.gap, self.head, self.agg), x)

    def prepare(self, params, ctx: Ctx) -> None:
        """Called once per forward before the graph (each step calls it: it must be
        idempotent for a context): a hook for what the layers share (Oli-SNN's Olis)."""

    def _check(self, x, what):
        if x.ndim != (5 if what == "xs" else 4) or x.shape[-3] != self.in_channels:
            want = "[T, B, C, H, W]" if what == "xs" else "[B, C, H, W]"
            raise SpynqValueError(f"Spikformer: {what} {tuple(x.shape)}, wants {want} with C = {self.in_channels}")

    def step(self, params, state, x, ctx: Ctx):
        """One time step of the whole backbone: x [B, C, H, W] -> (running mean of the
        logits [B, classes], new state)."""
        self._check(x, "x")
        self.prepare(params, ctx)
        new = dict(state)

        def run(l, z):
            y, new[l.name] = l.step(params[l.name], state[l.name], z, ctx)
            return y

        return self._graph(run, x, ctx.xp), new

    def apply(self, params, xs, *, xp=np, train: bool = False, seed: int = 0, style: str = "layer",
              merge_time: bool = False, scan: bool = False):
        """xs [T, B, C, H, W] -> (logits [B, classes], Aux); Sequential.apply's options."""
        self._check(xs, "xs")
        if style != "layer":
            return super().apply(params, xs, xp=xp, train=train, seed=seed, style=style)
        ctx = Ctx(xp, train, seed, merge_time, scan)
        self.prepare(params, ctx)
        out = self._graph(lambda l, z: l.seq(params[l.name], z, ctx), xs, xp)
        return out, Aux.of(ctx)

    def tokens(self, hw) -> int:
        """Tokens per step for an input of spatial size hw = (H, W)."""
        h, w = hw
        for pool in self.pools:
            if pool:
                h, w = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
        return h * w
