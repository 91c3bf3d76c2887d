"""The accelerated kernels: folder name under hls/ -> interface. The next kernels add a line."""
from .stm.interface import STM_INTERFACE

KERNELS = {"stm": STM_INTERFACE}
