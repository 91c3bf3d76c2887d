"""STCA-SNN (Li and Yang; models_neurons.md section 7): PLIF neurons (learnable a per
layer, tau = 1/sigmoid(a), tau_0 = 2, V_th = 1, hard reset to 0, ATan surrogate), conv
without bias + BN, the STCA module (spynq.nn.attention), spiking dropout, voting.

``build()`` is the N-MNIST network of Table 2 scaled to 8x8 digits frames [T, B, 1, 8, 8]:
    C C3-BN-PLIF-MP2 - C C3-BN-STCA-PLIF-MP2 - DP - hidden FC-PLIF - DP - (classes*vote) FC-PLIF
    - Voting (mean of each class's `vote` neurons) - mean over T (firing rates)
``paper(name)`` builds the paper's three Table 2 networks at full size (for counting).
Placement (note 7.3, [INFERRED]): "pre" (default; the equations, Eq.4-12: Conv -> BN ->
STCA -> PLIF, STCA gates the membrane input) or "post" (Table 2's order: STCA gates the
neuron's spikes).
"""
from __future__ import annotations

from ... import nn
from ...errors import SpynqValueError
from ..attention import STCA
from ..base import Layer

PAPER = "stca"
TASK = "digits_rate"
# spike MSE on the voted firing rates (Eq.13; train.py's "mse" compares the aggregated rates
# as they are), Adam (Table 1); lr 1e-2 rather than 1e-3 and T = 8 rather than 10: a few
# epochs on 2 cores (the small net starts almost silent: at 1e-3 it barely moves in 4 epochs)
DEFAULTS = {"epochs": 10, "lr": 1e-2, "batch": 64, "T": 8, "image": True, "loss": "mse"}

PLACEMENTS = ("pre", "post")


class Voting(Layer):
    """[N, classes * g] -> [N, classes]: the mean of each class's g consecutive neurons
    (STCA's voting layer, an average pool of width g; BIDL's population decoding)."""

    def __init__(self, group: int, name: str | None = None):
        super().__init__(name)
        self.group = int(group)

    def forward(self, p, x, ctx):
        n = x.shape[-1]
        if n % self.group:
            raise SpynqValueError(f"{self.name}: {n} inputs do not split into groups of {self.group}")
        return ctx.xp.mean(x.reshape(x.shape[:-1] + (n // self.group, self.group)), axis=-1)


def plif(tau0: float = 2.0, v_th: float = 1.0, **kw):
    return nn.PLIF(tau0=tau0, v_th=v_th, v_reset=0.0, reset="hard", surrogate=nn.ATan(2.0), **kw)


def conv_block(c_in, c_out, *, attention=False, placement="pre", heads=4, scale="one", tau0=2.0):
    """Conv(no bias)-BN-PLIF with STCA before (pre) or after (post) the neuron."""
    if placement not in PLACEMENTS:
        raise SpynqValueError(f"STCA placement {placement!r}: choose one of {PLACEMENTS}")
    L = [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm(c_out)]
    att = [STCA(c_out, heads, scale)] if attention else []
    return L + att + [plif(tau0)] if placement == "pre" else L + [plif(tau0)] + att


def build(channels: int = 16, hidden: int = 64, classes: int = 10, vote: int = 10, in_shape=(1, 8, 8),
          attention: bool = True, placement: str = "pre", heads: int = 4, scale: str = "one", dropout: float = 0.5,
          tau0: float = 2.0) -> nn.Sequential:
    c_in, h, w = in_shape
    if h % 4 or w % 4:
        raise SpynqValueError(f"STCA-SNN: frames {h}x{w}, the two 2x2 max pools need multiples of 4")
    kw = dict(placement=placement, heads=heads, scale=scale, tau0=tau0)
    L = conv_block(c_in, channels, **kw) + [nn.MaxPool2d(2)]
    L += conv_block(channels, channels, attention=attention, **kw) + [nn.MaxPool2d(2)]
    L += [nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels * (h // 4) * (w // 4), hidden, bias=False),
          plif(tau0), nn.Dropout(dropout), nn.Linear(hidden, classes * vote, bias=False), plif(tau0),
          Voting(vote), nn.TemporalAggregate("mean")]
    return nn.Sequential(*L)


def paper(name: str, attention: bool = True, fc_bias: bool | None = None) -> nn.Sequential:
    """Table 2's networks at the note's input sizes (7.5): "nmnist" 2x34x34, "cifar10dvs"
    and "caltech" 2x48x48; 3x3 convs with padding 1, no bias, BN after each, STCA after the
    layers Table 2 marks. FC bias: CIFAR10-DVS's 10FC with, the others without (the
    note's derivation; fc_bias overrides)."""
    def convs(spec, c):
        L = []
        for item in spec:
            if item == "S":
                if attention:
                    L.append(STCA(c))
            elif item in ("MP", "AP"):
                L.append(nn.MaxPool2d(2) if item == "MP" else nn.AvgPool2d(2))
            else:
                L += [nn.Conv2d(c, item, 3, 1, 1, bias=False), nn.BatchNorm(item), plif()]
                c = item
        return L, c

    if name == "nmnist":
        L, c = convs([128, "MP", 128, "S", "MP"], 2)
        b = bool(fc_bias)
        L += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(c * 8 * 8, 2048, bias=b), plif(), nn.Dropout(0.5),
              nn.Linear(2048, 100, bias=b), plif(), Voting(10)]
    elif name == "cifar10dvs":
        L, c = convs([64, 128, "AP", 256, 256, "S", "AP", 512, 512, "S", "AP", 512, 512, "AP"], 2)
        L += [nn.Flatten(), nn.Linear(c * 3 * 3, 10, bias=True if fc_bias is None else fc_bias), plif()]
    elif name == "caltech":
        L, c = convs([64, "MP", 128, "MP", 256, "S", "MP", 256, "S", "MP", 512], 2)
        b = bool(fc_bias)
        L += [nn.Flatten(), nn.Dropout(0.8), nn.Linear(c * 3 * 3, 1024, bias=b), plif(), nn.Dropout(0.5),
              nn.Linear(1024, 101, bias=b), plif()]
    else:
        raise SpynqValueError(f"STCA paper network {name!r}: choose nmnist, cifar10dvs or caltech")
    return nn.Sequential(*L)
