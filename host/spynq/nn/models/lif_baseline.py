"""The review's LIF baseline (direct-training survey, Sec. 2; models_neurons.md section 5):
U^t = tau U^{t-1} (1 - O^{t-1}) + W O_{l-1}^t, O^t = Heav(U^t - V_th), a hard reset to
the resting potential 0 ("fall to resting potential", the note's reading of Eq.1-2), tau
in (0, 1] the "time leak constant" (a decay factor; tau = 1 is IF), trained by BPTT with
the review's dynamic surrogate (Eq.5-6): phi'(x) = (K/2)(1 - tanh^2(K x)) with K(i)
rising from K_min to K_max over the epochs (``Net.on_epoch``). The neuron is
nn.AIA(f="identity", lam=tau): exactly AIA's Eq.2, the same charge rule.
The review gives no architecture or constants: a spiking MLP (64 -> 128 -> 10 LIF
spiking outputs, spike-count cross-entropy), tau = 0.5, V_th = 1, K_min = 1, K_max = 10
(V2's example) are our choices.
"""
from __future__ import annotations

from ... import nn

PAPER = "review"
TASK = "digits_rate"
DEFAULTS = {"epochs": 10, "lr": 5e-3, "batch": 64, "T": 8, "loss": "ce", "optimizer": "adam",
            "build": {"n_in": 64, "hidden": 128, "n_classes": 10}}
K_MIN, K_MAX = 1.0, 10.0


class Net(nn.Sequential):
    """A Sequential whose neurons follow the review's K(i) schedule during training."""

    k_min, k_max = K_MIN, K_MAX

    def on_epoch(self, epoch: int, epochs: int) -> bool:
        sg = nn.DynamicTanh.at_epoch(epoch, epochs, self.k_min, self.k_max)
        for l in self.neuron_layers:
            l.surrogate = sg
        return True  # the surrogate is static in the jitted step: rebuild it


def neuron(tau: float = 0.5, v_th: float = 1.0, name=None):
    return nn.AIA(lam=tau, f="identity", v_th=v_th, surrogate=nn.DynamicTanh(k=K_MIN), name=name)


def build(n_in: int = 64, hidden: int = 128, n_classes: int = 10, tau: float = 0.5, v_th: float = 1.0) -> Net:
    return Net(nn.Linear(n_in, hidden, name="fc1"), neuron(tau, v_th, "lif1"), nn.Linear(hidden, n_classes, name="fc2"),
               neuron(tau, v_th, "lif2"))
