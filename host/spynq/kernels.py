"""The accelerated kernels: folder name under hls/ -> interface. The next kernels add a line."""
from .lif.interface import LIF_INTERFACE
from .snnwm.interface import SNNWM_INTERFACE
from .stm.interface import STM_INTERFACE

KERNELS = {"stm": STM_INTERFACE, "lif_delay": LIF_INTERFACE, "snnwm": SNNWM_INTERFACE}
# Python package of each kernel (spynq.<package>: model, encode, golden, driver, vectors).
PACKAGES = {"stm": "stm", "lif_delay": "lif", "snnwm": "snnwm"}
assert set(PACKAGES) == set(KERNELS)
