"""Energy per call from the board's power rails (PMBus, read through pynq.get_rails and
pynq.DataRecorder). Off the board, or on an image whose sensors are not readable, every
figure is None with the reason, so a table can say why its energy column is empty."""
from __future__ import annotations

import time


def rails():
    """({name: pynq Rail with a power sensor}, why): the board's rails, or {} and the reason."""
    import warnings

    try:
        import pynq

        with warnings.catch_warnings():  # "Could not initialise libsensors" off the board
            warnings.simplefilter("ignore")
            found = {n: r for n, r in pynq.get_rails().items() if getattr(r, "power", None) is not None}
    except Exception as e:  # no libsensors / no PMBus (workstation, CI)
        return {}, f"no power rails readable here ({type(e).__name__}: {e})"
    if not found:
        return {}, "pynq.get_rails() found no rail with a power sensor"
    return found, "PMBus rails " + ", ".join(sorted(found))


def measure(fn, repeats: int = 5, interval_s: float = 0.01) -> dict:
    """Run fn() `repeats` times while the rails are sampled every interval_s; returns
    {"seconds": per call, "watts": mean board power over the run (sum of rails) or None,
    "joules": energy per call or None, "why": where the power came from or why not}.
    The sampling thread costs some CPU: calls shorter than the interval are repeated so
    the run spans several samples."""
    found, why = rails()
    t0 = time.perf_counter()
    if not found:
        for _ in range(repeats):
            fn()
        return {"seconds": (time.perf_counter() - t0) / repeats, "watts": None, "joules": None, "why": why}
    import pynq

    recorder = pynq.DataRecorder(*[r.power for r in found.values()])
    with recorder.record(interval_s):
        t0 = time.perf_counter()
        n = 0
        while n < repeats or time.perf_counter() - t0 < 5 * interval_s:
            fn()
            n += 1
        dt = time.perf_counter() - t0
    frame = recorder.frame.drop(columns=["Mark"], errors="ignore")
    if frame.empty:
        return {"seconds": dt / n, "watts": None, "joules": None, "why": why + ": no sample recorded"}
    watts = float(frame.sum(axis=1).mean())
    return {"seconds": dt / n, "watts": watts, "joules": watts * dt / n, "why": why}
