"""What the LIF and SNNWM networks share: a chain of fully connected stages, stage s+1
taking stage s's spikes, each with an (n_in, n_out) weight matrix."""
from __future__ import annotations

import numpy as np

from .errors import SpynqValueError
from .rasters import check as check_rasters
from .validate import real_array


def weight_matrix(w, what: str) -> np.ndarray:
    """A finite, non-empty (n_in, n_out) float matrix."""
    w = real_array(w, what)
    if w.ndim != 2 or w.shape[0] < 1 or w.shape[1] < 1:
        raise SpynqValueError(f"{what} must be a non-empty (n_in, n_out) matrix, got shape {w.shape}")
    return w


class Chain:
    """Subclasses set `stages` (their layers in order) and name them in stage_name."""

    stages: list

    def stage_name(self, i: int) -> str:
        return f"layer {i}"

    def check_links(self) -> None:
        st = self.stages
        for i in range(1, len(st)):
            if st[i].n_in != st[i - 1].n_out:
                raise SpynqValueError(f"{self.stage_name(i)} has n_in={st[i].n_in} but {self.stage_name(i - 1)} "
                                      f"has n_out={st[i - 1].n_out}")

    @property
    def n_in(self) -> int:
        return self.stages[0].n_in

    @property
    def n_out(self) -> int:
        return self.stages[-1].n_out

    @property
    def sizes(self) -> list[int]:
        return [self.n_in] + [s.n_out for s in self.stages]

    def check_rasters(self, rasters) -> np.ndarray:
        return check_rasters(rasters, self.n_in)
