"""Helpers the paper modules share: run neuron layers of spynq.nn on a fixed random
input and compare two of them; small architecture builders as lists of spynq.nn layers."""
from __future__ import annotations

import numpy as np

from .registry import Measured, OutOfReach

T_STEPS, BATCH, WIDTH = 12, 3, 40


def inputs(seed: int = 0, T: int = T_STEPS, B: int = BATCH, N: int = WIDTH, scale: float = 1.5, dyadic: bool = True):
    """[T, B, N] input currents; dyadic (multiples of 1/64) so that equal update rules
    written in a different order give bitwise-equal floats."""
    x = np.random.default_rng(seed).uniform(-0.25 * scale, scale, size=(T, B, N))
    return np.round(x * 64) / 64 if dyadic else x


def run_layer(layer, xs, params=None, xp=np):
    """(spikes, h, v) of one neuron layer (a one-layer Sequential), each [T, B, N]."""
    from .. import nn

    net = nn.Sequential(layer)
    p = net.init(0) if params is None else {layer.name: params}
    _, aux = net.apply(p, xs, xp=xp)
    r = aux.records[layer.name]
    return np.asarray(r["s"]), np.asarray(r["h"]), np.asarray(r["v"])


def same_dynamics(a, b, xs=None, pa=None, pb=None, tol: float = 0.0) -> Measured:
    """Measured(True) when two neuron layers give identical spikes and states (within
    tol) on the same input; the note gives the spike count and the largest difference."""
    xs = inputs() if xs is None else xs
    sa, ha, va = run_layer(a, xs, pa)
    sb, hb, vb = run_layer(b, xs, pb)
    dv = float(max(np.max(np.abs(ha - hb)), np.max(np.abs(va - vb))))
    same = bool(np.array_equal(sa, sb)) and dv <= tol
    return Measured(same, f"{int(sa.sum())} vs {int(sb.sum())} spikes of {sa.size}, max |dV| = {dv:.3g}")


def need_jax():
    try:
        import jax  # noqa: F401
    except ImportError:
        raise OutOfReach("needs jax (the optional training extra) for gradients") from None


def delta(a: float, b: float, nd: int = 2) -> float:
    """b - a rounded as the paper prints its improvement arrows."""
    return round(b - a, nd)


# --------------------------------------------------------------- architectures


def resnet18_layers(in_ch: int = 3, classes: int = 1000, stem: str = "imagenet", neuron=None) -> list:
    """The layers of a ResNet-18 (torchvision's BasicBlock layout) as spynq.nn layers,
    for counting: stem conv (7x7/2 ImageNet, 3x3/1 CIFAR) + BN, four stages of two
    blocks (conv3x3-BN-conv3x3-BN, a 1x1 conv + BN downsample where the shape changes),
    the FC head. ``neuron()`` (if given) adds one spiking layer after the stem and after
    each BN of a block (17 in all), where spiking ResNets put them."""
    from .. import nn

    L = []
    if stem == "imagenet":
        L += [nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False), nn.BatchNorm(64)]
    else:
        L += [nn.Conv2d(in_ch, 64, 3, 1, 1, bias=False), nn.BatchNorm(64)]
    if neuron:
        L.append(neuron())
    c = 64
    for width in (64, 128, 256, 512):
        for b in range(2):
            stride = 2 if (b == 0 and width != 64) else 1
            L += [nn.Conv2d(c, width, 3, stride, 1, bias=False), nn.BatchNorm(width)]
            L += [neuron()] if neuron else []
            L += [nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm(width)]
            L += [neuron()] if neuron else []
            if stride != 1 or c != width:
                L += [nn.Conv2d(c, width, 1, stride, 0, bias=False), nn.BatchNorm(width)]
            c = width
    L.append(nn.Linear(512, classes))
    return L


def count(layers) -> int:
    from ..nn_costs import count_params

    return count_params(layers)
