#!/usr/bin/env python3
"""Census of bad input at the public API (issue 9's closing numbers): every attempt of a
generated battery (one bad argument at a time against a valid baseline: model
parameters, weights, delays, rasters, evidence, populations, backend names, .npz files)
runs on cpu, golden and csim in a worker subprocess (8 GB address-space limit, a timeout,
a crash names its attempt and the next worker goes on), and is classed as the review
classed its attempts (reviews/bad_input_review.md):

  ok            runs on every backend, the fixed tiers agree bit for bit, no NaN
  clear_error   rejected with a spynq error (SpynqError: ValueError/TypeError) on a
                backend, the others run or reject it clearly too (the CLI: one
                `spynq: error:` line, exit 2)
  unclear_error any other exception (a traceback from inside numpy, zipfile, ctypes...)
  silent_wrong  the fixed tiers disagree, or NaN in a result no status bit explains, or
                the CLI exits 0 on an invalid count
  crash / hang / memory   the worker died, timed out, or grew past 2 GB

    .venv/bin/python scripts/bad_input_census.py [--every K] [--json FILE]

The packed-buffer calls have their own census: tests/fuzz_cases.py (golden vs csim on
mutated calls; `make fuzz-asan` under AddressSanitizer).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("cpu", "golden", "csim")
MEMORY_BYTES = 2 << 30
BAD_SCALARS = [np.nan, np.inf, -np.inf, -1, -1e-9, 0, 1, 1.5, 1e30, 2 ** 31, 2 ** 64, 0.5, 1 + 1j, "x", None,
               True, [0.5], np.float32(0.25)]


# ---- the battery: (name, make) with make() -> {backend: thunk}; one bad argument each ----

def _lif_attempts():
    from spynq.lif import backends
    from spynq.lif.model import LifLayer, LifNetwork, LifParams

    rng = np.random.default_rng(0)
    w0, w1 = rng.uniform(-1, 1, (12, 8)), rng.uniform(-1, 1, (8, 4))
    d0 = rng.integers(0, 5, (12, 8))
    r0 = rng.random((2, 16, 12)) < 0.3
    base = dict(alpha=0.9, beta=0.8, threshold=1.0, reset="subtract", v_reset=0.0, refractory=1)

    def net(params=None, weights=w0, delays=d0):
        return LifNetwork([LifLayer(weights, delays, LifParams(**dict(base, **(params or {})))),
                           LifLayer(w1, None, LifParams(alpha=0.5))])

    def runs(make_net, rasters=r0):
        return {b: (lambda b=b: backends.run(make_net(), rasters, b)) for b in BACKENDS}

    for field in ("alpha", "beta", "threshold", "v_reset", "refractory", "reset"):
        for v in BAD_SCALARS + ["zero", "none"]:
            yield f"lif LifParams {field}={v!r}", lambda f=field, v=v: runs(lambda: net({f: v}))
    bad_w = {"nan": np.where(np.eye(12, 8) > 0, np.nan, w0), "inf": w0 * np.inf, "huge": w0 * 100,
             "complex": w0 + 1j, "1-D": w0[:, 0], "3-D": w0[None], "empty": np.zeros((12, 0)), "int": (w0 > 0) * 3,
             "object": np.array([[object()] * 8] * 12), "string": np.full((12, 8), "a")}
    for k, w in bad_w.items():
        yield f"lif weights {k}", lambda w=w: runs(lambda: net(weights=w, delays=None))
    bad_d = {"negative": d0 - 3, "ring": d0 + 127, "huge": d0 * 10 ** 12, "fraction": d0 + 0.5, "nan": d0 * np.nan,
             "shape": d0[:5], "axonal": d0[:, 0], "complex": d0 + 0j, "bool": d0 > 2}
    for k, d in bad_d.items():
        yield f"lif delays {k}", lambda d=d: runs(lambda: net(delays=d))
    for k, r in _bad_rasters(r0).items():
        yield f"lif rasters {k}", lambda r=r: runs(net, r)
    for b in ("gpu", None, 3, ""):
        yield f"lif backend {b!r}", lambda b=b: {"any": lambda: backends.run(net(), r0, b)}


def _bad_rasters(r0):
    return {"float": r0 * 0.5, "twos": r0 * 2, "negative": -r0.astype(int), "nan": np.where(r0, np.nan, 0),
            "complex": r0 + 0j, "2-D": r0[0], "4-D": r0[None], "n_in+1": np.zeros((2, 16, 13), bool),
            "T=0": np.zeros((2, 0, 12), bool), "batch=0": np.zeros((0, 16, 12), bool),
            "T=5000": np.zeros((1, 5000, 12), bool), "list": r0.tolist(), "string": "spikes", "None": None}


def _snnwm_attempts():
    from spynq.snnwm import backends
    from spynq.snnwm.model import ReadoutLayer, SnnwmNetwork, SnnwmParams, WindowLayer

    rng = np.random.default_rng(1)
    w1, w2, wr = rng.uniform(-1, 1, (12, 8)), rng.uniform(0, 1, 4), rng.uniform(-1, 1, (8, 3))
    r0 = rng.random((2, 16, 12)) < 0.3
    base = dict(tau=2.0, threshold=1.0, v_rest=0.0)

    def net(params=None, w1=w1, w2=w2, mode="window", ro=True):
        layer = WindowLayer(w1, w2, SnnwmParams(**dict(base, **(params or {}))), mode)
        return SnnwmNetwork([layer], ReadoutLayer(wr, np.ones(17)) if ro else None)

    def runs(make_net, rasters=r0):
        return {b: (lambda b=b: backends.run(make_net(), rasters, b)) for b in BACKENDS}

    for field in ("tau", "threshold", "v_rest"):
        for v in BAD_SCALARS:
            yield f"snnwm SnnwmParams {field}={v!r}", lambda f=field, v=v: runs(lambda: net({f: v}))
    for k, w in {"nan": w1 * np.nan, "huge": w1 * 100, "complex": w1 + 1j, "1-D": w1[:, 0], "empty": w1[:, :0],
                 "string": np.full((12, 8), "a")}.items():
        yield f"snnwm w1 {k}", lambda w=w: runs(lambda: net(w1=w))
    for k, w in {"nan": w2 * np.nan, "empty": w2[:0], "2-D": w2[None], "huge": w2 * 100, "L=T+1": np.ones(17),
                 "L=1000": np.ones(1000)}.items():
        yield f"snnwm w2 {k}", lambda w=w: runs(lambda: net(w2=w))
    for m in ("readout", "sliding", None, 1):
        yield f"snnwm mode {m!r}", lambda m=m: runs(lambda: net(mode=m))
    for k, r in _bad_rasters(r0).items():
        yield f"snnwm rasters {k}", lambda r=r: runs(net, r)


def _stm_attempts():
    from spynq.stm import backends
    from spynq.stm.model import CPT, Categorical, Gaussian, LinearGaussian, Network, StateGaussian

    def net(root=None, mid=None, leaf=None):
        n = Network("census")
        a = n.root("A", root or Categorical([0.3, 0.7]))
        b = n.add("B", a, mid or StateGaussian([-1.0, 1.0], [0.5, 0.5]))
        n.add("E", b, leaf or LinearGaussian(1.0, 0.0, 0.4), observed=True)
        return n

    ev0 = np.array([[0.5], [-0.3], [1.2]])

    def runs(make, ev=ev0, samples=64):
        def thunk(b):
            n = make()
            return backends.infer(n, n.sample(samples, seed=0), ev, b)
        return {b: (lambda b=b: thunk(b)) for b in BACKENDS}

    for v in BAD_SCALARS:
        yield f"stm Gaussian mean={v!r}", lambda v=v: runs(lambda: net(root=Gaussian(v, 1.0), mid=LinearGaussian(1, 0, 1)))
        yield f"stm Gaussian std={v!r}", lambda v=v: runs(lambda: net(root=Gaussian(0.0, v), mid=LinearGaussian(1, 0, 1)))
        yield f"stm LinearGaussian a={v!r}", lambda v=v: runs(lambda: net(leaf=LinearGaussian(v, 0.0, 0.4)))
        yield f"stm LinearGaussian std={v!r}", lambda v=v: runs(lambda: net(leaf=LinearGaussian(1.0, 0.0, v)))
        yield f"stm StateGaussian std={v!r}", lambda v=v: runs(lambda: net(mid=StateGaussian([-1.0, 1.0], [v, 0.5])))
        yield f"stm evidence={v!r}", lambda v=v: runs(net, np.array([[v]], dtype=object))
        yield f"stm samples={v!r}", lambda v=v: runs(net, ev0, v)
    for k, p in {"negative": [-0.1, 1.1], "sum 0.9": [0.2, 0.7], "nan": [np.nan, 1.0], "empty": [], "2-D": [[0.5, 0.5]],
                 "17 states": [1 / 17] * 17}.items():
        yield f"stm Categorical {k}", lambda p=p: runs(lambda: net(root=Categorical(p)))
    for k, t in {"impossible": [[1.0, 0.0], [1.0, 0.0]], "rows": [[0.5, 0.5]], "nan": [[np.nan, 1], [0.5, 0.5]],
                 "17 child states": [[1 / 17] * 17] * 2}.items():
        def make(t=t):
            n = Network("census-cpt")
            a = n.root("A", Categorical([0.5, 0.5]))
            n.add("E", a, CPT(t), observed=True)
            return n
        yield f"stm CPT {k}", lambda make=make: {b: (lambda b=b: backends.infer(make(), make().sample(32, seed=0),
                                                                                 np.array([[1]]), b)) for b in BACKENDS}
    for k, ev in {"nan": ev0 * np.nan, "inf": ev0 * np.inf, "complex": ev0 + 1j, "columns": np.zeros((3, 2)),
                  "1-D": ev0[:, 0], "empty": ev0[:0], "string": "ev", "huge": ev0 * 1e300}.items():
        yield f"stm evidence {k}", lambda ev=ev: runs(net, ev)
    for b in ("gpu", None):
        yield f"stm backend {b!r}", lambda b=b: {"any": lambda: backends.infer(net(), net().sample(8), ev0, b)}


def _file_attempts():
    from spynq.lif.model import LifLayer, LifNetwork, LifParams
    from spynq.snnwm.model import SnnwmNetwork

    tmp = Path(tempfile.mkdtemp(prefix="census_"))
    good = tmp / "good.npz"
    LifNetwork([LifLayer(np.ones((3, 2)), None, LifParams(alpha=0.5))]).save_npz(good)
    with np.load(good) as z:
        fields = dict(z)

    def variant(name, edit):
        p = tmp / f"{name}.npz"
        f = dict(fields)
        edit(f)
        np.savez(p, **f)
        return p

    files = {
        "random bytes": tmp / "random.npz", "empty": tmp / "empty.npz", "truncated": tmp / "trunc.npz",
        "zip bomb": tmp / "bomb.npz",
        "no version": variant("nover", lambda f: f.pop("format_version")),
        "version 99": variant("v99", lambda f: f.update(format_version=np.array(99))),
        "layers 2.5": variant("layers", lambda f: f.update(n_layers=np.array(2.5))),
        "extra field": variant("extra", lambda f: f.update(surprise=np.zeros(3))),
        "bad params json": variant("json", lambda f: f.update(layer0_params=np.array("{not json"))),
        "object array": tmp / "pickle.npz",
    }
    files["random bytes"].write_bytes(np.random.default_rng(0).bytes(4096))
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(good.read_bytes()[:100])
    with zipfile.ZipFile(files["zip bomb"], "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("layer0_weights.npy", b"\0" * (512 << 20))
    np.savez(files["object array"], layer0_weights=np.array([object()], dtype=object))
    for k, p in files.items():
        for cls in (LifNetwork, SnnwmNetwork):
            yield f"file {cls.__name__}.load_npz {k}", lambda p=p, cls=cls: {"any": lambda: cls.load_npz(p)}


class CliTraceback(Exception):
    """The CLI printed a traceback (an unclear error)."""


class CliAccepted(Exception):
    """The CLI succeeded on an argument that makes no sense (silently wrong)."""


def _cli(argv, must_fail: bool):
    """Run `spynq argv` in-process: a clear error is exit 2 with one `spynq: error:` line."""
    import contextlib
    import io

    from spynq import cli
    from spynq.errors import SpynqValueError

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = cli.main(argv)
        except SystemExit as e:  # argparse's own rejections
            rc = e.code
    text = err.getvalue().strip()
    if "Traceback" in text:
        raise CliTraceback(f"traceback: {text.splitlines()[-1]}")
    if rc == 2 and text:
        raise SpynqValueError(text.splitlines()[-1])
    if must_fail:
        raise CliAccepted(f"exit {rc} for an invalid argument")
    return None


def _cli_attempts():
    bad_counts = ["0", "-1", "-3", "1.5", "x", "1e9"]
    for cmd, flag in (("stm", "--samples"), ("stm", "--batch"), ("lif jeffress", "--trials"),
                      ("lif speech", "--batch"), ("lif speech", "--steps"), ("snnwm", "--batch"), ("snnwm", "--size"),
                      ("bench stm", "--repeats"), ("bench lif", "--sizes"), ("bench stm", "--batch")):
        for v in bad_counts:
            argv = cmd.split() + [flag, v] + (["--out", tempfile.mkdtemp()] if cmd.startswith("bench") else [])
            yield f"cli {cmd} {flag} {v}", lambda argv=argv: {"any": lambda: _cli(argv, True)}
    for argv in (["stm", "--workload", "nope"], ["stm", "--backend", "gpu"], ["bench", "stm", "--workloads", "nope"],
                 ["bench", "lif", "--sizes", "a,b"], ["bench", "stm", "--out", "/proc/none"], ["nope"],
                 ["resources", "--overlay", "nope"]):
        yield f"cli {' '.join(argv)}", lambda argv=argv: {"any": lambda: _cli(argv, True)}


GROUPS = {"cli": _cli_attempts, "lif": _lif_attempts, "snnwm": _snnwm_attempts, "stm": _stm_attempts, "files": _file_attempts}


def attempts():
    for group, gen in GROUPS.items():
        for name, make in gen():
            yield group, name, make


# ---- classing ----

def _has_unflagged_nan(res) -> bool:
    arrays = []
    for key in ("v_last", "v_max", "weights"):
        v = getattr(res, key, None)
        arrays += v if isinstance(v, list) else [] if v is None else [v]
    if getattr(res, "readout", None) is not None:
        arrays.append(res.readout)
    nan = any(np.isnan(np.asarray(a, float)).any() for a in arrays)
    if not nan or not hasattr(res, "valid"):
        return nan
    return bool(np.isnan(np.asarray(res.weights, float))[np.asarray(res.valid, bool)].any())  # STM: flagged rows


def _raw_words(res):
    raw = res.raw if isinstance(getattr(res, "raw", None), dict) else {}
    out = raw.get("out", getattr(res, "raw_out", None))
    if out is None:
        return None
    return np.concatenate([np.asarray(o, np.uint32).ravel() for o in (out if isinstance(out, list) else [out])])


def run_attempt(make) -> tuple[str, str]:
    from spynq.errors import SpynqError

    outcome = {}
    try:
        thunks = make()
    except SpynqError as e:
        return "clear_error", f"{type(e).__name__}: {e}"[:200]
    except Exception as e:  # noqa: BLE001  (the census records it)
        return "unclear_error", f"building: {type(e).__name__}: {e}"[:200]
    for b, thunk in thunks.items():
        try:
            outcome[b] = ("ran", thunk())
        except SpynqError as e:
            outcome[b] = ("clear", f"{type(e).__name__}: {e}"[:160])
        except CliAccepted as e:
            return "silent_wrong", str(e)
        except Exception as e:  # noqa: BLE001
            outcome[b] = ("unclear", f"{type(e).__name__}: {e}"[:160])
    unclear = {b: v for b, (k, v) in outcome.items() if k == "unclear"}
    if unclear:
        return "unclear_error", json.dumps(unclear)
    ran = {b: v for b, (k, v) in outcome.items() if k == "ran"}
    if "golden" in ran and "csim" in ran:
        g, c = _raw_words(ran["golden"]), _raw_words(ran["csim"])
        if g is not None and c is not None and not np.array_equal(g, c):
            return "silent_wrong", "golden and csim out words differ"
    if ("golden" in ran) != ("csim" in ran):
        return "silent_wrong", "golden and csim disagree on rejecting: " + json.dumps(
            {b: (k if k != "ran" else "ran") for b, (k, v) in outcome.items()})
    for b, res in ran.items():
        if _has_unflagged_nan(res):
            return "silent_wrong", f"{b}: NaN in a result with no status bit"
    if len(ran) < len(outcome):
        return "clear_error", json.dumps({b: v for b, (k, v) in outcome.items() if k == "clear"})
    return "ok", ",".join(ran)


def worker(start: int, every: int):
    import warnings

    warnings.simplefilter("ignore")
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    for i, (group, name, make) in enumerate(attempts()):
        if i < start or i % every:
            continue
        print(json.dumps({"begin": i, "group": group, "name": name}), flush=True)
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        cls, detail = run_attempt(make)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the process's peak so far
        if rss > max(before, MEMORY_BYTES):  # this attempt raised the peak past the bound
            cls, detail = "memory", f"peak RSS {rss / 2**30:.1f} GB; {detail}"
        print(json.dumps({"i": i, "group": group, "name": name, "class": cls, "detail": detail,
                          "seconds": round(time.perf_counter() - t0, 3)}), flush=True)


def census(every: int = 1, timeout: float = 120.0) -> dict:
    """Run the battery in worker subprocesses: {"results": [...], "seconds": s}."""
    results, start, t0 = [], 0, time.monotonic()
    env = dict(os.environ, PYTHONPATH=str(REPO / "host"))
    while True:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(start), "--every", str(every)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * 20, cwd=REPO, env=env)
            out, err, rc = res.stdout, res.stderr, res.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err, rc = "", "timeout"
        begun = None
        for line in out.splitlines():
            rec = json.loads(line)
            if "begin" in rec:
                begun = rec
            else:
                results.append(rec)
                begun = None
        if rc == 0 or begun is None:
            break
        results.append(dict(begun, i=begun["begin"], **{"class": "hang" if rc == "timeout" else "crash",
                                                        "detail": f"exit {rc}: {err[-300:]}"}))
        start = begun["begin"] + 1
    return {"results": results, "seconds": time.monotonic() - t0}


CLASSES = ("ok", "clear_error", "unclear_error", "silent_wrong", "crash", "hang", "memory")


def table(run: dict) -> str:
    groups = sorted({r["group"] for r in run["results"]})
    lines = ["| group | attempts | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 2) + "|"]
    for g in groups + ["all"]:
        rs = [r for r in run["results"] if g in ("all", r["group"])]
        lines.append(f"| {g} | {len(rs)} | " + " | ".join(str(sum(r["class"] == c for r in rs)) for c in CLASSES) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1, help="run every K-th attempt")
    ap.add_argument("--json", type=Path, help="write every attempt's class and detail here")
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker is not None:
        worker(a.worker, a.every)
        return 0
    run = census(a.every)
    print(table(run))
    print(f"{len(run['results'])} attempts in {run['seconds']:.1f} s")
    for r in run["results"]:
        if r["class"] not in ("ok", "clear_error"):
            print(f"  {r['class']}: {r['name']}: {r['detail']}")
    if a.json:
        a.json.write_text(json.dumps(run, indent=1))
    bad = sum(r["class"] not in ("ok", "clear_error") for r in run["results"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
