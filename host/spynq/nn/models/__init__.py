"""The software-path models of the papers, built from spynq.nn (issues 10 and 11).

Each model is a module here registered in MODELS by its command-line name. A model module
provides:
  build(**config) -> a network with init(seed) / apply(params, xs, xp=np) / run(rasters,
                     params) (an nn.Sequential, or a small class with the same methods), at
                     the paper's architecture scaled to run here; config overrides sizes;
  PAPER             the paper key of spynq.claims (e.g. "dalif");
  TASK              the name of its small training task in spynq.nn.tasks;
  DEFAULTS          the training hyper-parameters for that task (epochs, lr, T, ...).
`python -m spynq train NAME` (spynq.nn.train) trains it on TASK with progress and a
checkpoint that `run` loads.
"""
from __future__ import annotations

import importlib

MODELS: dict[str, str] = {
    # name: module (relative to this package); each helper adds its own lines
    "oli": "oli", "aia": "aia", "dalif": "dalif", "lnm": "lnm", "lif_baseline": "lif_baseline",
    "stca": "stca", "bidl_convlif": "bidl_convlif", "bidl_liaf": "bidl_liaf",
    "oli_snn": "oli_snn",
}


def get(name: str):
    """The model module registered as `name`."""
    from ...errors import SpynqValueError

    if name not in MODELS:
        raise SpynqValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    return importlib.import_module(f".{MODELS[name]}", __name__)
