"""Operation and membrane-memory counts: what the window unit does (the kernel counts the
same numbers itself and returns them in its out buffer) and what a per-step event-driven
LIF path would do for the same input, for the op-count study.

Window unit, per sample and stage (snnwm_config.h):
  mac       sum over segments of nnz(x) * n_out   (W1 products, rows with x_i != 0)
  add       spikes read by the collect step        (W2 accumulations: spikes are bits)
  v_reads   segments * n_out                       (membrane read once per segment)
  v_writes  segments * n_out                       (written once per segment)
Per-step LIF (spynq.lif without delays), per sample and layer:
  mac (synaptic accumulates) = input spikes * n_out; v_reads = v_writes = T * n_out.
So in window mode the membrane-access ratio per-step / window is T / ceil(T / L) = L
when L divides T.
"""
from __future__ import annotations

import numpy as np

from .reference import segments

KEYS = ("mac", "add", "v_reads", "v_writes")


def tap_multiplicity(mode: str, K: int, T: int) -> np.ndarray:
    """m[t]: how many times the collect step reads the input row of step t."""
    m = np.zeros(T, np.int64)
    for _, _, e in segments(mode, K, T):
        lo, hi = max(0, e - K + 1), min(e, T - 1)
        if lo <= hi:
            m[lo:hi + 1] += 1
    return m


def stage_counts(spikes_in: np.ndarray, x: np.ndarray, mode: str, K: int, n_out: int) -> dict:
    """Per-sample counts (each a (batch,) int64 array) of one stage, from its input spikes
    and the collected x (batch, segments, n_in)."""
    batch, T, _ = spikes_in.shape
    n_seg = len(segments(mode, K, T))
    pop = spikes_in.sum(axis=2).astype(np.int64)  # (batch, T)
    v = 0 if mode == "readout" else n_seg * n_out
    return {"mac": (x != 0).sum(axis=(1, 2)).astype(np.int64) * n_out,
            "add": pop @ tap_multiplicity(mode, K, T),
            "v_reads": np.full(batch, v, np.int64), "v_writes": np.full(batch, v, np.int64)}


def totals(per_stage: list) -> list:
    return [{k: int(np.sum(c[k])) for k in KEYS} for c in per_stage]


def per_step_lif_counts(spikes_in: np.ndarray, n_out: int) -> dict:
    """What a per-step event-driven LIF layer (spynq.lif, no delays) does for the same input
    (batch, T, n_in): one synaptic accumulate per input spike and output neuron, one read
    and one write of V per neuron per step. Totals over the batch (ints)."""
    s = np.asarray(spikes_in, bool)
    batch, T, _ = s.shape
    return {"mac": int(s.sum()) * n_out, "add": 0, "v_reads": batch * T * n_out, "v_writes": batch * T * n_out}


def window_counts(network, rasters, backend: str = "golden") -> list:
    """Counts of every stage of `network` on `rasters` (totals over the batch)."""
    from .backends import run

    return run(network, rasters, backend).counts
