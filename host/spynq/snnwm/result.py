"""The result type every SNNWM backend returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..status import combine


@dataclass
class SnnwmResult:
    """Readouts of every window/overlap layer and of the temporal-fusion readout.

    spikes[l]  (batch, T, n_l) bool
    v_last[l]  (batch, n_l) float: membrane after the last step (after reset)
    readout    (batch, n_out) float: o_j of eq. 9 at the last step, or None
    counts[s]  per stage (layers, then the readout if any): {"mac", "add", "v_reads",
               "v_writes"} as ints summed over the batch (per sample in
               raw["counts_per_sample"][s], (batch,) int64 arrays)
    v_max[l]   (batch, n_l) float: largest integrated membrane (before reset)
    raw: fixed-point tiers put the kernel's out words and integer states here.
    stage_status[s] (batch,) int: SNNWM_SS_* bits of what the kernel clipped in stage s
    (V_SAT membrane, I_SAT current / readout); on cpu, where the float result left that range.
    """

    backend: str
    spikes: list
    v_last: list
    readout: np.ndarray | None
    counts: list
    seconds: float = float("nan")
    info: dict = field(default_factory=dict)
    raw: dict | None = None
    v_max: list = field(default_factory=list)
    stage_status: list | None = None

    @property
    def status(self) -> np.ndarray | None:
        """(batch,) SNNWM_SS_* bits, OR over the stages."""
        return combine(self.stage_status)

    @property
    def batch(self) -> int:
        return (self.readout if self.readout is not None else self.spikes[-1]).shape[0]

    @property
    def output_spikes(self) -> np.ndarray | None:
        return self.spikes[-1] if self.spikes else None

    def predict(self) -> np.ndarray:
        """Class per sample: the largest readout value, else the most output spikes."""
        if self.readout is not None:
            return np.argmax(self.readout, axis=1)
        return np.argmax(self.spikes[-1].sum(axis=1), axis=1)
