"""The overlays overlays/zcu104 can build (overlays/zcu104/overlays.json, the one place
where each overlay's kernels and their compile-time parameters are chosen), and the
limits a kernel has in each: the host plans its calls for the overlay that is loaded."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .hw.cconfig import REPO, read_constants, repo_path
from .errors import SpynqValueError

SPEC = repo_path("overlays/zcu104/overlays.json")


@lru_cache(maxsize=None)
def _spec() -> dict:
    return {k: v for k, v in json.loads(SPEC.read_text()).items() if not k.startswith("_")}


def names() -> tuple:
    return tuple(_spec())


def _get(name: str) -> dict:
    try:
        return _spec()[name]
    except KeyError:
        raise SpynqValueError(f"unknown overlay {name!r}; overlays/zcu104/overlays.json has {list(_spec())}") from None


def doc(name: str) -> str:
    return _get(name).get("doc", "")


def kernels(name: str) -> tuple:
    """Kernel folders (under hls/) of an overlay, in block-design order."""
    return tuple(_get(name)["kernels"])


def kernel_params(name: str | None, kernel: str) -> dict:
    """Overlay parameters kernel `kernel` is compiled with in overlay `name` (None: defaults)."""
    if name is None:
        return {}
    ks = _get(name)["kernels"]
    if kernel not in ks:
        raise SpynqValueError(f"overlay {name!r} has no kernel {kernel!r}; it has {list(ks)}")
    return dict(ks[kernel])


def limits(kernel: str, name: str | None = None) -> dict:
    """The constants of hls/<kernel>/<kernel>_config.h as compiled into overlay `name`."""
    return read_constants(f"{kernel}/{kernel}_config.h", kernel_params(name, kernel))


def top(kernel: str) -> str:
    from .kernels import KERNELS

    return KERNELS[kernel].top


def build_dir(name: str | None, kernel: str) -> Path:
    """Where scripts/build_hls.sh builds `kernel` for overlay `name`."""
    return REPO / "build" / "hls" / (name or "default") / top(kernel)


def report_dir(name: str | None, kernel: str) -> Path:
    return build_dir(name, kernel) / "reports"


def hls_defines(name: str, kernel: str) -> str:
    """The -D flags of `kernel` in overlay `name`, as the HLS build passes them."""
    return " ".join(f"-D{k}={v}" for k, v in sorted(kernel_params(name, kernel).items()))


def bitfile(name: str) -> Path:
    """The bitstream of overlay `name` (its .hwh beside it): the checkout's, else the
    one the installed wheel carries."""
    return repo_path(f"overlays/zcu104/spynq_{name}.bit")


def from_bitfile(path) -> str | None:
    """The overlay a bitstream was built as (spynq_<name>.bit), None if it is not one."""
    stem = Path(str(path)).stem
    name = stem[len("spynq_"):] if stem.startswith("spynq_") else None
    return name if name in _spec() else None


def of(ol) -> str | None:
    """The overlay a loaded pynq.Overlay is (its bitstream's name), else the active one."""
    return from_bitfile(getattr(ol, "bitfile_name", "") or "") or active()


def active() -> str | None:
    """The spynq overlay loaded in the board's programmable logic, from any process
    (pynq.PL keeps the bitstream name in its global state); None without a board or
    when another design is loaded."""
    import warnings

    try:
        import pynq

        with warnings.catch_warnings():  # pynq warns "No devices found" on a workstation
            warnings.simplefilter("ignore")
            if not pynq.Device.devices:
                return None
            name = pynq.PL.bitfile_name
    except Exception:  # no board, no XRT, no PL state: not an error, just no FPGA
        return None
    return from_bitfile(name) if name else None


def main(argv=None) -> int:
    """For the build scripts: `python -m spynq.overlays names | kernels NAME | tops NAME |
    defines NAME KERNEL` prints one answer per line (space-separated)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    what, rest = (args[0], args[1:]) if args else ("", [])
    try:
        if what == "names" and not rest:
            print(" ".join(names()))
        elif what == "kernels" and len(rest) == 1:
            print(" ".join(kernels(rest[0])))
        elif what == "tops" and len(rest) == 1:
            print(" ".join(top(k) for k in kernels(rest[0])))
        elif what == "defines" and len(rest) == 2:
            print(hls_defines(*rest))
        else:
            print("usage: python -m spynq.overlays names | kernels NAME | tops NAME | defines NAME KERNEL",
                  file=sys.stderr)
            return 2
    except ValueError as e:
        print(f"spynq.overlays: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
