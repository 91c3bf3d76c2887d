"""The one error type of spynq: every rejection of bad input is a SpynqError, and also a
ValueError or TypeError so callers that catch those keep working. The message names the
argument, the value and the limit."""
from __future__ import annotations


class SpynqError(Exception):
    """Base of every error spynq raises on purpose."""


class SpynqValueError(SpynqError, ValueError):
    """An argument of the right type with a value spynq cannot take."""


class SpynqTypeError(SpynqError, TypeError):
    """An argument of the wrong type (or dtype)."""


class SpynqSaturationWarning(UserWarning):
    """A result a fixed-point format had to clip (or, on cpu, would have clipped): the
    result's status words say which samples and layers."""
