"""Convert a trained axonal-delay SNN's state_dict into a LifNetwork.

Expected keys (the layout of the speech paper's PyTorch models and of most SLAYER-style
code; plain numpy arrays or torch tensors, torch is imported only if a value is a tensor):
  fc{i}.weight   (n_out, n_in)  torch.nn.Linear layout, transposed here to (n_in, n_out)
  fc{i}.bias     optional; the kernel has no bias, so a nonzero bias raises
  delay{i}       the delays of layer i, one of
                   (n_out_i,)        axonal delays of fc{i}'s *outputs* (the paper's VAD
                                     after each FC: "Input-128FC-VAD-128FC-VAD-Output"),
                                     which in spynq belong to layer i+1's inputs;
                   (n_out_i, n_in_i) per-synapse delays of layer i (Linear layout),
                 with delay_convention="input", a 1-D delay{i} of shape (n_in_i,) is the
                 axonal delay of layer i's inputs instead.
i runs over the sorted integers found in the fc{i}.weight keys (fc0, fc1, ... or fc1,
fc2, ...). A `prefix` (e.g. "module.") is stripped first.
Delays are made integers as eq. 5 of the paper: min(max(0, round(d)), max_delay).
A VAD delay on the last layer only shifts the output spikes in time; by default it is
dropped with the note in `info` (spike counts change only through spikes pushed past T),
output_delay="error" raises instead.
"""
from __future__ import annotations

import re

import numpy as np

from .model import LifLayer, LifNetwork, LifParams
from ..errors import SpynqValueError

_FC = re.compile(r"^fc(\d+)\.weight$")


def _numpy(v) -> np.ndarray:
    """numpy view of an array-like; torch tensors are detached and moved to the CPU."""
    if isinstance(v, np.ndarray):
        return v
    mod = type(v).__module__
    if mod.startswith("torch"):
        import torch  # noqa: F401  (only reached when the caller already has torch tensors)

        return v.detach().cpu().numpy()
    return np.asarray(v)


def _int_delays(d, max_delay: int) -> np.ndarray:
    return np.clip(np.rint(np.asarray(d, float)), 0, max_delay).astype(np.int64)


def from_state_dict(state: dict, params: LifParams | list | None = None, max_delay: int = 64,
                    delay_convention: str = "output", output_delay: str = "drop", prefix: str = "",
                    info: dict | None = None) -> LifNetwork:
    """LifNetwork from a state_dict-like mapping (see the module docstring for the keys).

    params: one LifParams for every layer, a list with one per layer, or None for the
    speech paper's SHD neuron (`demos.alpha_params()`: alpha kernel, tau_s = 1).
    info: if a dict is given, notes on what was dropped or clipped are added to it.
    """
    if delay_convention not in ("output", "input"):
        raise SpynqValueError("delay_convention must be 'output' or 'input'")
    if output_delay not in ("drop", "error"):
        raise SpynqValueError("output_delay must be 'drop' or 'error'")
    sd = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    idx = sorted(int(m.group(1)) for k in sd if (m := _FC.match(k)))
    if not idx:
        raise SpynqValueError("no fc{i}.weight keys found")
    notes = info if info is not None else {}
    weights = []
    for i in idx:
        w = np.asarray(_numpy(sd[f"fc{i}.weight"]), float)
        if w.ndim != 2:
            raise SpynqValueError(f"fc{i}.weight must be 2-D (n_out, n_in), got shape {w.shape}")
        b = sd.get(f"fc{i}.bias")
        if b is not None and np.any(np.asarray(_numpy(b), float) != 0):
            raise SpynqValueError(f"fc{i}.bias is nonzero; the LIF kernel has no bias input")
        weights.append(w.T)
    for a, b in zip(weights[:-1], weights[1:]):
        if a.shape[1] != b.shape[0]:
            raise SpynqValueError(f"layer sizes do not chain: {a.shape} then {b.shape} (as (n_in, n_out))")
    delays: list = [None] * len(idx)
    clipped = 0
    for pos, i in enumerate(idx):
        if f"delay{i}" not in sd:
            continue
        raw = np.asarray(_numpy(sd[f"delay{i}"]), float)
        if raw.ndim > 2 or (raw.ndim == 2 and 1 in raw.shape and raw.size > 1):
            raw = raw.reshape(-1)  # e.g. (n, 1, 1) delay parameters of SLAYER-style code
        d = _int_delays(raw, max_delay)
        clipped += int(np.sum((np.rint(raw) > max_delay) | (np.rint(raw) < 0)))
        n_in, n_out = weights[pos].shape
        if d.ndim == 2:
            if d.shape != (n_out, n_in):
                raise SpynqValueError(f"delay{i} shape {d.shape}: per-synapse delays must be (n_out, n_in)="
                                 f"{(n_out, n_in)}")
            target = pos
            d = d.T
        elif delay_convention == "input":
            if d.shape != (n_in,):
                raise SpynqValueError(f"delay{i} shape {d.shape} must be (n_in,)={(n_in,)} (input convention)")
            target = pos
        else:
            if d.shape != (n_out,):
                raise SpynqValueError(f"delay{i} shape {d.shape} must be (n_out,)={(n_out,)} (output convention)")
            target = pos + 1
            if target == len(idx):
                if output_delay == "error":
                    raise SpynqValueError(f"delay{i} delays the network output; spynq has no output delay")
                notes.setdefault("dropped", []).append(f"delay{i} (axonal delay of the output layer)")
                continue
        if delays[target] is not None:
            raise SpynqValueError(f"two delay tensors map onto layer {target}")
        delays[target] = d
    if clipped:
        notes["clipped_delays"] = clipped
    if params is None:
        from .demos import alpha_params

        params = alpha_params()
    plist = list(params) if isinstance(params, (list, tuple)) else [params] * len(idx)
    if len(plist) != len(idx):
        raise SpynqValueError(f"{len(plist)} LifParams for {len(idx)} layers")
    return LifNetwork([LifLayer(w, d, p) for w, d, p in zip(weights, delays, plist)])
