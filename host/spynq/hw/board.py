"""Board detection and overlay loading (PYNQ on a ZCU104)."""
from __future__ import annotations

from pathlib import Path

from .. import overlays

# The overlay with all three kernels (overlays/zcu104/overlays.json, "all"), in the
# checkout or, installed from the wheel, in its package data.
OVERLAY_BIT = overlays.bitfile("all")


def overlay_loaded() -> bool:
    """True on a PYNQ board whose programmable logic holds an overlay with a spynq kernel."""
    import warnings

    try:
        import pynq

        with warnings.catch_warnings():  # pynq warns "No devices found" on a workstation
            warnings.simplefilter("ignore")
            devices = pynq.Device.devices
        if not devices:
            return False
        ip_dict = pynq.Device.active_device.ip_dict or {}
    except Exception:  # no board, no XRT, no PL server: not an error, just no FPGA
        return False
    return any(str(d.get("type", "")).startswith("spynq:hls:") for d in ip_dict.values())


# Every kernel runs on these backends with one API (see README, "Backends").
BACKENDS = ("cpu", "golden", "csim", "cosim", "fpga")


def best_backend() -> str:
    """What backend="auto" means: the FPGA when an overlay is loaded, else the numpy CPU path."""
    return "fpga" if overlay_loaded() else "cpu"


def resolve_backend(backend: str) -> str:
    """The backend a run uses: "auto" resolved, unknown names rejected with the choices."""
    if backend == "auto":
        return best_backend()
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {('auto',) + BACKENDS}")
    return backend


def load_overlay(bitfile: Path | str | None = None):
    """Download the spynq overlay (the .hwh must sit next to the .bit)."""
    path = Path(bitfile or OVERLAY_BIT)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: build it with scripts/build_overlay.sh <name> on a Vivado "
                                "machine, then copy the .bit and .hwh to the board (scripts/deploy_board.sh)")
    import pynq

    from . import runner  # noqa: F401  (defines the kernels' drivers, which pynq binds by VLNV)

    return pynq.Overlay(str(path))
