"""Board detection and overlay loading (PYNQ on a ZCU104)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .. import overlays
from ..errors import SpynqTypeError, SpynqValueError

# The overlay with all three kernels (overlays/zcu104/overlays.json, "all"), in the
# checkout or, installed from the wheel, in its package data.
OVERLAY_BIT = overlays.bitfile("all")


def overlay_loaded() -> bool:
    """True on a PYNQ board whose programmable logic holds a spynq overlay, seen from any
    process (pynq.PL's global state), not only the one that downloaded it."""
    return overlays.active() is not None


# Every kernel runs on these backends with one API (see README, "Backends"); "native" is
# the float C++ CPU baseline (spynq.native), which "auto" never picks: it is a comparison.
BACKENDS = ("cpu", "native", "golden", "csim", "cosim", "fpga")


def best_backend() -> str:
    """What backend="auto" means: the FPGA when an overlay is loaded, else the numpy CPU path."""
    return "fpga" if overlay_loaded() else "cpu"


def resolve_backend(backend: str) -> str:
    """The backend a run uses: "auto" resolved, unknown names rejected with the choices."""
    if not isinstance(backend, str):
        raise SpynqTypeError(f"backend={backend!r}: a name, one of {('auto',) + BACKENDS}")
    if backend == "auto":
        return best_backend()
    if backend not in BACKENDS:
        raise SpynqValueError(f"unknown backend {backend!r}; choose from {('auto',) + BACKENDS}")
    return backend


def check_registers(ip) -> None:
    """The kernel's register offsets (spynq.hw.interface) against the .hwh's register map,
    which pynq hands every IP: an HLS release that lays the arguments out differently is
    caught here, not by a kernel computing on the wrong pointers."""
    regs = getattr(ip, "_registers", None) or {}  # pynq.DefaultIP keeps the .hwh's map there
    want = ip.interface.register_map()
    bad = [(name, regs[name]["address_offset"], r["address_offset"]) for name, r in want.items()
           if name in regs and int(regs[name]["address_offset"]) != r["address_offset"]]
    if bad:
        raise RuntimeError(f"{ip.interface.top}: the .hwh register map disagrees with spynq's interface "
                           f"(name, .hwh offset, expected): {bad}; rebuild the IP or update the interface")


@lru_cache(maxsize=None)
def _overlay_class():
    import pynq

    from ..kernels import KERNELS
    from . import runner  # noqa: F401  (defines the kernels' drivers, which pynq binds by VLNV)

    class Overlay(pynq.Overlay):
        """A spynq overlay on the board: the bitstream and .hwh with every kernel's driver
        bound (spynq.hw.runner), the register map checked against the .hwh, each kernel
        under its hls/ folder name (``ol.kernels["stm"]``), and the limits and clock of
        this overlay. Its drivers keep cacheable buffers between calls
        (``ol.kernels[k].free_buffers()`` releases them). An overlay already in the PL is
        not downloaded again unless ``download=True``.

            ol = spynq.Overlay()                       # overlays/zcu104/spynq_all.bit
            backends.infer(net, pops, ev, "fpga", ol=ol)
        """

        def __init__(self, bitfile=None, download=None, **kwargs):
            path = Path(bitfile or OVERLAY_BIT)
            if not path.exists():
                raise FileNotFoundError(f"{path} not found: no bitstream ships with spynq; build it with "
                                        "scripts/build_overlay.sh <name> on a Vivado machine, then copy the .bit "
                                        "and .hwh to the board (scripts/deploy_board.sh)")
            self.name = overlays.from_bitfile(path)
            if self.name is None:
                raise SpynqValueError(f"{path.name} is not a spynq overlay (spynq_<name>.bit, names in overlays.json)")
            if download is None:
                download = overlays.active() != self.name
            super().__init__(str(path), download=download, **kwargs)
            self.kernels = {}
            for k in overlays.kernels(self.name):
                ip = getattr(self, f"{KERNELS[k].top}_0")
                if not hasattr(ip, "interface"):
                    raise RuntimeError(f"{KERNELS[k].top}_0 is bound to {type(ip).__name__}, not a spynq driver")
                check_registers(ip)
                self.kernels[k] = ip

        def limits(self, kernel: str) -> dict:
            """The kernel's limits as compiled into this overlay."""
            return overlays.limits(kernel, self.name)

        @property
        def clock_mhz(self) -> float:
            """The PL clock the board gives now (pynq.Clocks), not the one the Tcl asked for."""
            return float(pynq.Clocks.fclk0_mhz)

    return Overlay


def session(bitfile: Path | str | None = None):
    """(backend, overlay, note) for a notebook or script: ("fpga", spynq.Overlay, ...) on a
    ZCU104 whose spynq bitstream is present, else ("cpu", None, why) - the fixed-point
    golden model runs everywhere beside it."""
    import warnings

    try:
        import pynq

        with warnings.catch_warnings():  # pynq warns "No devices found" on a workstation
            warnings.simplefilter("ignore")
            on_board = bool(pynq.Device.devices)
    except Exception as e:  # no pynq, no XRT
        return "cpu", None, f"no PYNQ board here ({type(e).__name__}): cpu and golden backends only"
    if not on_board:
        return "cpu", None, "no PYNQ device here: cpu and golden backends only"
    path = Path(bitfile or OVERLAY_BIT)
    if not path.exists():
        return "cpu", None, (f"{path.name} not found (no bitstream ships with spynq: build it with "
                             "scripts/build_overlay.sh on a Vivado machine): cpu and golden backends only")
    ol = load_overlay(path)
    return "fpga", ol, f"spynq overlay '{ol.name}' loaded, PL clock {ol.clock_mhz:g} MHz"


def load_overlay(bitfile: Path | str | None = None):
    """The spynq overlay on this board (spynq.Overlay; downloaded if the PL holds another)."""
    return _overlay_class()(bitfile)
