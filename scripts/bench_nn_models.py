"""Software-path models (spynq.nn.models): numpy forward time per sample of each model's
builder network, and optionally its training run (issue 10's closing numbers).

For every registered model (or those named): build it with its DEFAULTS, init(seed), load
its small task at the model's T, and time the numpy forward (the inference path that runs
on the board) on a batch of the test rasters: median of --repeats runs after a warm-up,
in ms per sample. With --train, also train it (`spynq train`'s train_model, the same
defaults) and report training seconds and test accuracy before -> after.

Not a test: run it by hand, e.g.
    .venv/bin/python scripts/bench_nn_models.py --train --json build/bench/nn_models.json
Timings depend on the machine's load; the header says which machine and thread count.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: a per-core figure

import numpy as np  # noqa: E402


def forward_ms(name: str, batch: int, repeats: int, seed: int) -> dict:
    from spynq.nn import models, tasks

    m = models.get(name)
    cfg = dict(m.DEFAULTS)
    task = tasks.load(m.TASK, T=cfg.get("T", 8), seed=seed, n=cfg.get("n"), image=cfg.get("image", False))
    net = m.build(**dict(cfg.get("build", {})))
    params = net.init(seed)
    x = np.swapaxes(np.asarray(task.x_test[:batch], np.float64), 0, 1)  # time-major [T, B, ...]
    forms = {"training form": (net, params)}
    if hasattr(net, "inference"):  # e.g. Oli's precomputed time-varying weights
        inf = net.inference(params)
        forms["inference form"] = inf if isinstance(inf, tuple) else (net, inf)
    row = {"model": name, "paper": m.PAPER, "task": m.TASK, "T": task.T, "batch": x.shape[1],
           "input": list(x.shape[2:])}
    for form, (n, p) in forms.items():
        n.apply(p, x)  # warm-up
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            n.apply(p, x)
            ts.append(time.perf_counter() - t0)
        row[form] = 1e3 * statistics.median(ts) / x.shape[1]
    return row


def main(argv=None) -> int:
    from spynq.nn import models

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help=f"default: all of {sorted(models.MODELS)}")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train", action="store_true", help="also train each model on its task (minutes each)")
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args(argv)
    names = a.models or sorted(models.MODELS)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, "
          f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, seed {a.seed}")
    rows = []
    for name in names:
        row = forward_ms(name, a.batch, a.repeats, a.seed)
        if a.train:
            from spynq.nn.train import train_model

            s = train_model(name, seed=a.seed, log=None)
            row.update(train_seconds=s["seconds"], epochs=s["epochs"], before=s["before"]["test"],
                       after=s["after"]["test"])
        rows.append(row)
        fwd = " / ".join(f"{row[f]:.3f} ({f})" for f in ("training form", "inference form") if f in row)
        trained = (f"; trained {row['epochs']} epochs in {row['train_seconds']:.0f} s, test "
                   f"{row['before']:.1%} -> {row['after']:.1%}") if a.train else ""
        print(f"{name:14s} {row['task']:16s} T={row['T']:2d}  forward {fwd} ms/sample{trained}", flush=True)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"machine": platform.platform(), "cores": os.cpu_count(),
                                            "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
