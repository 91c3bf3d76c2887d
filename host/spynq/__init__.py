"""spynq: SNN kernels on the ZCU104 through PYNQ, verified against numpy golden models."""
__version__ = "0.1.0"


def __getattr__(name):
    # spynq.Overlay is a pynq.Overlay subclass: built on first use, so that importing
    # spynq needs no pynq (workstations, CI, the software path).
    if name == "Overlay":
        from .hw.board import _overlay_class

        return _overlay_class()
    raise AttributeError(f"module 'spynq' has no attribute {name!r}")
