"""AIA (Shen et al.), models_neurons.md section 2: u = lam u (1 - o) + f(x), lam = 0.5,
v_th = 1, reset to 0, rectangular surrogate (a = 1, tdBN's [7]). Default f: the Cached
AIA of Table 1's best row, f(x) = beta x with beta learnable per output channel (1 at
init, so the model starts as LIF), folded into the conv weights at inference
(``Net.inference``: BN folded into the conv first, then w' = beta w, b' = beta b; the
same spikes, no extra parameters). f="grad" (R1, f'(x) = x in the backward only),
"quadratic" (R2) and "identity" (association off: LIF) are selectable.
The paper's network is a "VGG-9" whose layer list is not given; scaled to 8x8 digits:
conv3x3(1->16)-BN-AIA, conv3x3(16->32)-BN-AIA, avgpool 2, conv3x3(32->32)-BN-AIA, avgpool 2,
flatten, FC(128->10) read out as its mean over time (cross-entropy; an AIA output layer
with spike-count cross-entropy stalled near 20 % here: with the rectangular surrogate a
silent output neuron gets no gradient). Adam, lr 1e-3 as the paper (raised to 5e-3 for a
short run)."""
from __future__ import annotations

import copy

import numpy as np

from ... import nn
from ...errors import SpynqValueError

PAPER = "aia"
TASK = "digits_rate"
DEFAULTS = {"epochs": 6, "lr": 5e-3, "batch": 64, "T": 8, "loss": "ce", "optimizer": "adam", "image": True,
            "build": {"channels": (16, 32, 32), "n_classes": 10, "f": "cached"}}


class Net(nn.Sequential):
    def inference(self, params):
        return fold_cache(self, params)


def build(channels=(16, 32, 32), n_classes: int = 10, size: int = 8, in_ch: int = 1, f: str = "cached",
          lam: float = 0.5) -> Net:
    c1, c2, c3 = channels

    def aia(c):
        return nn.AIA(lam=lam, f=f, channels=c if f == "cached" else None)

    return Net(nn.Conv2d(in_ch, c1, 3, 1, 1), nn.BatchNorm(c1), aia(c1),
               nn.Conv2d(c1, c2, 3, 1, 1), nn.BatchNorm(c2), aia(c2), nn.AvgPool2d(2),
               nn.Conv2d(c2, c3, 3, 1, 1), nn.BatchNorm(c3), aia(c3), nn.AvgPool2d(2),
               nn.Flatten(), nn.Linear(c3 * (size // 4) ** 2, n_classes), nn.TemporalAggregate("mean"))


def fold_cache(net, params):
    """(net, params) for inference: BatchNorm folded into its conv (nn.fold_batchnorm),
    then every cached AIA's beta into the synaptic layer right before it (per output
    channel: w' = beta w, b' = beta b) and the neuron replaced by AIA(f="identity").
    Returns a plain nn.Sequential."""
    fnet, fp = nn.fold_batchnorm(net, params)
    layers, out = [], {}
    for i, l in enumerate(fnet.layers):
        if isinstance(l, nn.AIA) and l.f == "cached":
            prev = layers[-1]
            if not isinstance(prev, (nn.Linear, nn.Conv2d)):
                raise SpynqValueError(f"{l.name}: the cached beta folds into a Linear / Conv2d right before it")
            beta = np.asarray(fp[l.name]["beta"], dtype=np.float64) * np.ones(prev.n_out if isinstance(prev, nn.Linear)
                                                                              else prev.c_out)
            w = np.asarray(out[prev.name]["w"])
            out[prev.name] = dict(out[prev.name], w=w * beta.reshape((-1,) + (1,) * (w.ndim - 1)))
            if "b" in out[prev.name]:
                out[prev.name]["b"] = beta * np.asarray(out[prev.name]["b"])
            new = nn.AIA(lam=1.0, f="identity", v_th=l.specs["v_th"], v_reset=l.v_reset, reset=l.reset,
                         strict=l.strict, surrogate=l.surrogate, name=l.name)
            new.specs = {k: v for k, v in l.specs.items() if k != "beta"}
            layers.append(new)
            out[l.name] = {k: v for k, v in fp[l.name].items() if k != "beta"}
        else:
            layers.append(copy.copy(l))
            out[l.name] = fp[l.name]
    return nn.Sequential(*layers), out


def varied_params(net, seed: int = 1) -> dict:
    """Parameters with non-trivial beta and batch-norm statistics (init has beta = 1 and
    identity BN), so a fold that drops a factor shows; for the fold's test and claim."""
    p = net.init(seed)
    rng = np.random.default_rng(seed + 3)
    for l in net.layers:
        if isinstance(l, nn.AIA):
            p[l.name]["beta"] = rng.uniform(0.5, 1.8, p[l.name]["beta"].shape)
        elif isinstance(l, nn.BatchNorm):
            c = l.channels
            p[l.name] = {"gamma": rng.uniform(0.8, 1.5, c), "beta": rng.normal(0, 0.2, c),
                         "mean": rng.normal(0, 0.1, c), "var": rng.uniform(0.5, 2, c)}
    return p
