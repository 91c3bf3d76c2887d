"""LNM, learnable neuron models (Jahns, Moreno, Kinsy; abstract only): models_neurons.md
section 4. spynq.nn.LNM is the note's placeholder polynomial model (an assumption)."""
from __future__ import annotations

from . import _common as C
from .registry import Claim, Measured

PAPER = "lnm"
TITLE = "Learning neuron dynamics within deep SNNs (LNM; abstract only)"


def _limit(decay_input: bool):
    def f():
        from .. import nn

        out = []
        for tau in (2.0, 4.0):
            lnm = nn.LNM(coeffs=(0.0, -1.0 / tau), input_scale=1.0 / tau if decay_input else 1.0, learn=False)
            out.append(C.same_dynamics(lnm, nn.LIF(tau=tau, decay_input=decay_input), C.inputs(0, scale=0.75 * tau)))
        return Measured(all(m.value for m in out), "tau = 2, 4: " + "; ".join(m.note for m in out))
    return f


def claims() -> list:
    return [
        Claim("lnm.limit.lif", PAPER, "Abstract (placeholder, note 4)", "the linear polynomial c = (0, -1/tau) with "
              "input gain 1/tau is the SpikingJelly LIF (decay_input)", True, compute=_limit(True)),
        Claim("lnm.limit.lif_plain", PAPER, "Abstract (placeholder, note 4)", "c = (0, -1/tau), input gain 1 is "
              "V = (1 - 1/tau) V + X (LIF without input decay)", True, compute=_limit(False)),
        Claim("lnm.sota", PAPER, "Abstract", "state-of-the-art results on CIFAR-10, CIFAR-100, ImageNet, CIFAR-10 "
              "DVS", None, out_of_reach="only the abstract is available: no equation, degree, numbers or "
                                        "architecture to reproduce"),
    ]
