"""BIDL's ConvLIF network (spike outputs, firing rates)
as a registered model: spynq.nn.models.bidl.build("convlif", ...)."""
from __future__ import annotations

from .bidl import DEFAULTS, PAPER, TASK  # noqa: F401
from .bidl import build as _build


def build(**config):
    return _build("convlif", **config)
