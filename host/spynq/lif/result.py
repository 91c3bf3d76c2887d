"""The result type every LIF backend returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..status import combine


@dataclass
class LifResult:
    """Readouts of every layer (the last one is the network output).

    spikes[l]  (batch, T, n_l) bool     counts[l] (batch, n_l) int
    v_last[l]  (batch, n_l) float: membrane after the last step (after reset)
    v_max[l]   (batch, n_l) float: largest integrated membrane (before reset)
    raw: fixed-point tiers put the kernel's out words and integer states here.
    layer_status[l] (batch,) int: LIF_SS_* bits of what the kernel clipped in layer l
    (V_SAT membrane, I_SAT current state); on cpu, where the float result left that range.
    """

    backend: str
    spikes: list
    counts: list
    v_last: list
    v_max: list
    seconds: float = float("nan")
    info: dict = field(default_factory=dict)
    raw: dict | None = None
    layer_status: list | None = None

    @property
    def status(self) -> np.ndarray | None:
        """(batch,) LIF_SS_* bits, OR over the layers."""
        return combine(self.layer_status)

    @property
    def batch(self) -> int:
        return self.spikes[-1].shape[0]

    @property
    def output_spikes(self) -> np.ndarray:
        return self.spikes[-1]

    @property
    def output_counts(self) -> np.ndarray:
        return self.counts[-1]

    def predict(self) -> np.ndarray:
        """Class per sample: most output spikes, ties broken by the larger v_max."""
        c = self.counts[-1].astype(float)
        return np.argmax(c + 1e-6 * np.tanh(self.v_max[-1]), axis=1)
