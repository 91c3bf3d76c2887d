#!/usr/bin/env python3
"""Execute the board notebooks (overlays/zcu104/notebooks/*.ipynb) with nbclient and store
their outputs: the committed copies carry the outputs of this run.

    .venv/bin/python scripts/run_notebooks.py              # every notebook, in place
    .venv/bin/python scripts/run_notebooks.py --out DIR    # executed copies in DIR
    .venv/bin/python scripts/run_notebooks.py stm_inference.ipynb

The kernel is this interpreter (a "python3" kernelspec written to a temporary
JUPYTER_PATH entry, which Jupyter searches first), so a fresh clone or CI needs nothing
registered; the notebooks run in a scratch folder, so nothing is left beside them. A cell
that raises, or takes longer than --timeout seconds, fails the run (exit 1).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "overlays" / "zcu104" / "notebooks"
CELL_TIMEOUT_S = 300


@contextmanager
def this_python_kernel():
    """A python3 kernelspec for sys.executable, found before any registered one."""
    with tempfile.TemporaryDirectory(prefix="spynq_kernels_") as d:
        spec = Path(d) / "kernels" / "python3"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (spynq)", "language": "python"}))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = d + (os.pathsep + old if old else "")
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


def execute(path: Path, out: Path | None = None, timeout: int = CELL_TIMEOUT_S) -> float:
    """Run the notebook at `path` top to bottom in a fresh kernel and write it with its
    outputs to `out` (default: in place). Returns the seconds it took; raises
    nbclient.exceptions.CellExecutionError (with the cell and traceback) when a cell fails."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_keep = {k: os.environ.get(k) for k in ("MPLBACKEND",)}
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures inline, never a window
    t0 = time.perf_counter()
    try:
        with this_python_kernel(), tempfile.TemporaryDirectory(prefix="spynq_nb_") as cwd:
            # local sockets (ipc) rather than TCP on localhost: nothing listens on the network
            km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(cwd) / "kernel-ipc"))
            try:
                NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3", allow_errors=False,
                               resources={"metadata": {"path": cwd}}).execute()
            finally:  # a kernel manager passed in is ours to stop
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
    finally:
        for k, v in env_keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = time.perf_counter() - t0
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, out or path)
    return seconds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", help="notebook file names (default: all)")
    p.add_argument("--out", help="write the executed copies here instead of in place")
    p.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    a = p.parse_args(argv)
    paths = [NOTEBOOKS / n for n in a.names] if a.names else sorted(NOTEBOOKS.glob("*.ipynb"))
    out = Path(a.out) if a.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    from nbclient.exceptions import CellExecutionError

    failed = 0
    for path in paths:
        try:
            s = execute(path, out / path.name if out else None, a.timeout)
            print(f"{path.name}: {s:.1f} s", flush=True)
        except CellExecutionError as e:
            failed += 1
            print(f"{path.name}: FAILED\n{e}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
