"""BIDL's ConvLIAF network (analog LIAF hidden layers, a linear read-out)
as a registered model: spynq.nn.models.bidl.build("liaf", ...)."""
from __future__ import annotations

from .bidl import DEFAULTS as _D
from .bidl import PAPER, TASK  # noqa: F401
from .bidl import build as _build

# the read-out is a linear layer's mean current (logits), not a rate: no logit scale
DEFAULTS = dict(_D, logit_scale=1.0)


def build(**config):
    return _build("liaf", **config)
