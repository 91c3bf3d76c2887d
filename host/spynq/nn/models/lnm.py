"""LNM, learnable neuron models (Jahns, Moreno, Kinsy; only the abstract exists): the
note's placeholder (section 4, an assumption, nn.LNM): h = v + P(v) + x with a learnable
degree-2 polynomial P(v) = c0 + c1 v + c2 v^2 per layer (c = (0, -0.5, 0) at init: a
leak of 0.5, LIF-like), hard reset to 0, v_th = 1, |h| <= 4 as the blow-up guard, ATan
surrogate. A spiking MLP n_in -> 64 -> 64 -> classes with a spike-count MSE loss (the
rate target 1 for the label, 0 elsewhere). Task: the temporal-order task (the drift
decides how long the first volley is remembered)."""
from __future__ import annotations

from ... import nn

PAPER = "lnm"
TASK = "first"
DEFAULTS = {"epochs": 10, "lr": 1e-2, "batch": 64, "T": 8, "loss": "mse", "optimizer": "adam",
            "build": {"n_in": 32, "hidden": (64, 64), "n_classes": 2}}


def build(n_in: int = 32, hidden=(64, 64), n_classes: int = 2, coeffs=(0.0, -0.5, 0.0), v_clip: float = 4.0,
          learn: bool = True) -> nn.Sequential:
    L, a = [], n_in
    for h in tuple(hidden) + (n_classes,):
        L += [nn.Linear(a, h), nn.LNM(coeffs=coeffs, v_clip=v_clip, learn=learn)]
        a = h
    return nn.Sequential(*L)
