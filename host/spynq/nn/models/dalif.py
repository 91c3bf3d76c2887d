"""DA-LIF (Zhang, Yu, Zhang, Wang), models_neurons.md section 3: V = beta H_prev + alpha X
(Eq.9), hard reset to 0, v_th = 1, rectangular surrogate (a = 1), alpha and beta one
learnable tanh-parametrised scalar each per spiking layer, raw 1.0 at init (0.7616: the
note's reading, nn.DALIF). The paper's networks are ResNet-19/20 and VGG-11/16 with BN
after every conv; scaled to 8x8 digits this is a VGG-style stack
conv3x3(1->16)-BN-DALIF, conv3x3(16->16)-BN-DALIF, avgpool 2, conv3x3(16->32)-BN-DALIF,
avgpool 2, flatten, FC(128->10) with a mean-over-time membrane readout (the common
SpikingJelly head). Trained with SGD, momentum 0.9 as the paper (lr lowered to 0.05:
a 5-epoch run, not 1000). The latency-coded task: the decays decide how long a spike
is remembered."""
from __future__ import annotations

from ... import nn

PAPER = "dalif"
TASK = "digits_latency"
DEFAULTS = {"epochs": 8, "lr": 0.05, "batch": 64, "T": 8, "loss": "ce", "optimizer": "sgd", "image": True,
            "opt_kw": {"momentum": 0.9}, "build": {"channels": (16, 16, 32), "n_classes": 10}}


def build(channels=(16, 16, 32), n_classes: int = 10, size: int = 8, in_ch: int = 1, neuron=None) -> nn.Sequential:
    """neuron(): the spiking layer (default nn.DALIF(); pass e.g. a fixed-decay one for limits)."""
    neuron = neuron or nn.DALIF
    c1, c2, c3 = channels
    L = [nn.Conv2d(in_ch, c1, 3, 1, 1, bias=False), nn.BatchNorm(c1), neuron(),
         nn.Conv2d(c1, c2, 3, 1, 1, bias=False), nn.BatchNorm(c2), neuron(), nn.AvgPool2d(2),
         nn.Conv2d(c2, c3, 3, 1, 1, bias=False), nn.BatchNorm(c3), neuron(), nn.AvgPool2d(2),
         nn.Flatten(), nn.Linear(c3 * (size // 4) ** 2, n_classes), nn.TemporalAggregate("mean")]
    return nn.Sequential(*L)
