"""matplotlib for spynq's figures: the file-writing Agg backend for scripts, the CLI and
CI, but the one already chosen where a user picked one (Jupyter's inline backend, a
desktop window), so notebook figures still show."""
from __future__ import annotations


def pyplot():
    import matplotlib

    backend = matplotlib.get_backend().lower()
    if "inline" not in backend and "ipympl" not in backend and "widget" not in backend:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
