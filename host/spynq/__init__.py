"""spynq: SNN kernels on the ZCU104 through PYNQ, verified against numpy golden models."""
__version__ = "0.1.0"
