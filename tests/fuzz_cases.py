"""Mutation fuzzing of the packed calls (issue 9, item 8): seeded mutations of valid calls,
and a worker that runs them on golden and csim in a subprocess.

A case is a valid packed call of one kernel (the random cases of tests/<k>_cases.py) with
1-3 mutations: header and layer-table words (bit flips, 0, 0xFFFFFFFF, small and large
values, the value of another field), swapped offset fields or whole node/layer records,
net_words changed, the net or input buffer truncated or extended, a scalar set to 0, max,
max + 1, 2^32 - 1, ..., optionally with the input grown to what the new call reads.
Everything is drawn from numpy's Generator with a fixed seed: case i of a kernel is the
same on every run, so a failure names a case that can be replayed
(``python tests/fuzz_cases.py show <kernel> <i>``).

For each case both sides go through spynq.hw.runner.execute (check_call first). They
agree when they return the same words (a BAD_NET beat included), or both reject the call
with a SpynqError. Anything else is a finding: different words, one side rejecting what
the other runs, an exception that is not a SpynqError, or the process dying.

The worker (``python tests/fuzz_cases.py run <kernel> <start> <stop> [--asan] [--valid]``)
prints one JSON line when a case begins and one with its verdict; `run_cases` starts it,
and after a crash or a hang names the case that was running and goes on with the next in
a new worker. --asan loads the AddressSanitizer + UBSan build of the csim library
(`asan_env` is the environment it needs); --valid runs the kernel's random valid cases
instead of the mutated ones.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from spynq.errors import SpynqError  # noqa: E402
from spynq.hw import runner  # noqa: E402
from spynq.lif import encode as le, golden as lg  # noqa: E402
from spynq.snnwm import encode as we  # noqa: E402
from spynq.stm import encode as se  # noqa: E402

KERNELS = ("stm", "lif_delay", "snnwm")
SEED = 9008  # issue 9, item 8
N_CASES = 250  # mutated calls per kernel in make test
N_BASE = 40  # valid calls they are drawn from
U32 = 1 << 32
# a mutation that makes the call read or write more than this, or run more than
# GROW_MAX_BATCH samples, is left for check_call to refuse (the input is not grown to it):
# make test stays fast (an STM call of batch 4096 takes 5 s in csim). The limits at their
# maximum are run by tests/test_bad_calls.py.
GROW_IN_WORDS, GROW_OUT_WORDS, GROW_MAX_BATCH = 1 << 16, 1 << 16, 512
BAD_NET = {"stm": se.C["STM_ST_BAD_NET"], "lif_delay": le.C["LIF_ST_BAD_NET"], "snnwm": we.C["SNNWM_ST_BAD_NET"]}
# scalar names after net_words and their kernel maxima
SCALAR_MAX = {"stm": (("batch", se.C["STM_MAX_BATCH"]),),
              "lif_delay": (("n_steps", le.C["LIF_MAX_T"]), ("batch", le.C["LIF_MAX_BATCH"])),
              "snnwm": (("n_steps", we.C["SNNWM_MAX_T"]), ("batch", we.C["SNNWM_MAX_BATCH"]))}
SAN_FLAGS = ("-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g")
SAN_OPT = "-O1"
UBSAN_SUPP = TESTS / "fuzz_ubsan.supp"


# ---- the valid calls mutations start from ----

def base_calls(kernel: str, n: int = N_BASE, small: bool = True):
    """(net, net_words, input words, scalars) of the kernel's random valid cases; small:
    the small cases (small synapse stores) of LIF and SNNWM."""
    import lif_cases
    import snnwm_cases
    import stm_cases

    if kernel == "stm":
        for net, pops, ev in stm_cases.random_cases(n):
            p = se.pack_network(net, pops)
            yield p.net, p.net_words, se.pack_evidence(net, ev), (len(ev),)
        return
    mod = lif_cases if kernel == "lif_delay" else snnwm_cases
    gen = mod.small_cases(n) if small else mod.random_cases(n)
    for net, rasters in gen:
        a = mod.packed(net, rasters)
        yield a[0], a[1], a[2], tuple(a[3:])


# ---- layout of a kernel's net buffer: which words are header / table / offsets ----

def _names(prefix: str, C: dict) -> dict:
    return {v: k[len(prefix):].lower() for k, v in C.items() if k.startswith(prefix)}


STM_NODE_FIELDS = _names("STM_NF_", se.C)
LIF_LAYER_FIELDS = _names("LIF_LF_", le.C)
WM_STAGE_FIELDS = _names("SNNWM_SF_", we.C)
WM_HDR_FIELDS = _names("SNNWM_H_", we.C)


@dataclass
class Layout:
    """Where the header, the record table and the offset fields of a net buffer are."""
    table: int  # first word of the record table
    rec_words: int  # words per record (node / layer / stage)
    n_rec: int
    head_end: int  # words up to here are header, table (and SNNWM's w2 taps)
    offset_fields: tuple  # field indices in a record that hold word offsets
    hdr_names: dict
    rec_names: dict
    rec_kind: str

    def name(self, i: int) -> str:
        if i < self.table:
            return f"hdr.{self.hdr_names.get(i, i)}"
        k, f = divmod(i - self.table, self.rec_words)
        if k < self.n_rec:
            return f"{self.rec_kind}{k}.{self.rec_names.get(f, f)}"
        return "w2 taps" if i < self.head_end else "payload"


def layout(kernel: str, net: np.ndarray) -> Layout:
    if kernel == "stm":
        C = se.C
        n = int(net[1])
        return Layout(C["STM_HDR_WORDS"], C["STM_NODE_WORDS"], n, C["STM_HDR_WORDS"] + n * C["STM_NODE_WORDS"],
                      (C["STM_NF_PARAMS"], C["STM_NF_SAMPLE_OFS"]), {0: "magic", 1: "n_nodes", 2: "n_evidence"},
                      STM_NODE_FIELDS, "node")
    if kernel == "lif_delay":
        C = le.C
        n = int(net[1])
        return Layout(C["LIF_HDR_WORDS"], C["LIF_LAYER_WORDS"], n, lg.header_words(n), (C["LIF_LF_SYN_OFS"],),
                      {0: "magic", 1: "n_layers", 2: "n_in"}, LIF_LAYER_FIELDS, "layer")
    C = we.C
    n = int(net[C["SNNWM_H_N_LAYERS"]]) + int(net[C["SNNWM_H_READOUT"]])
    return Layout(C["SNNWM_HDR_WORDS"], C["SNNWM_STAGE_WORDS"], n, int(net[C["SNNWM_H_P"]]),
                  (C["SNNWM_SF_W1_OFS"], C["SNNWM_SF_W2_OFS"]), {**WM_HDR_FIELDS, 0: "magic"},
                  WM_STAGE_FIELDS, "stage")


# ---- mutations ----

@dataclass
class Case:
    kernel: str
    index: int
    base: int
    ops: list = field(default_factory=list)  # what was done, for the report
    net: np.ndarray = None
    net_words: int = 0
    inp: np.ndarray = None
    scalars: tuple = ()

    def describe(self) -> str:
        s = ", ".join(f"{n}={v}" for (n, _), v in zip(SCALAR_MAX[self.kernel], self.scalars))
        return (f"{self.kernel} fuzz case {self.index} (base call {self.base}; net_words={self.net_words}, "
                f"len(net)={len(self.net)}, len(input)={len(self.inp)}, {s}): " + "; ".join(self.ops or ["unmutated"]))


INTERESTING = sorted({0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 63, 64, 127, 128, 255, 256}
                     | {v for k in (10, 12, 15, 16, 18, 20, 24, 31) for v in ((1 << k) - 1, 1 << k, (1 << k) + 1)}
                     | {U32 - 2, U32 - 1})


def _new_value(rng, v: int, case: Case, lay: Layout):
    """A mutated value of word v and how it was made."""
    op = int(rng.integers(10))
    if op == 0:
        bits = rng.choice(32, int(rng.integers(1, 4)), replace=False)
        m = int(sum(1 << int(b) for b in bits))
        return v ^ m, f"bits {sorted(int(b) for b in bits)} flipped"
    if op == 1:
        return 0, "0"
    if op == 2:
        return U32 - 1, "all ones"
    if op == 3:
        return int(rng.integers(0, 21)), "small"
    if op == 4:
        return int(rng.choice(INTERESTING)), "edge value"
    if op == 5:
        return (v + int(rng.choice([-4, -1, 1, 4]))) % U32, "off by a little"
    if op == 6:  # the value of another header/table word (a size where an offset goes, ...)
        j = int(rng.integers(0, min(lay.head_end, len(case.net))))
        return int(case.net[j]), f"copy of net[{j}] ({lay.name(j)})"
    if op == 7:
        return (case.net_words + int(rng.integers(-8, 9))) % U32, "near net_words"
    if op == 8:
        return int(rng.integers(0, U32)), "random"
    return (v << int(rng.integers(1, 9))) % U32, "shifted up"


def _set_word(case: Case, i: int, v: int, why: str, lay: Layout):
    old = int(case.net[i])
    case.net[i] = v
    case.ops.append(f"net[{i}] ({lay.name(i)}) 0x{old:08x} -> 0x{v:08x} ({why})")


def _grow_input(case: Case, rng) -> str | None:
    """Grow (random words) the input to what the call now reads, within GROW_*_WORDS."""
    try:
        n_in, n_out = runner.golden(case.kernel).call_sizes(case.net, min(case.net_words, len(case.net)),
                                                            *case.scalars)
    except (SpynqError, ValueError, TypeError):
        return None
    if len(case.inp) < n_in <= GROW_IN_WORDS and n_out <= GROW_OUT_WORDS and case.scalars[-1] <= GROW_MAX_BATCH:
        old = len(case.inp)
        case.inp = np.concatenate([case.inp, rng.integers(0, U32, n_in - old, dtype=np.uint64).astype(np.uint32)])
        return f"input grown {old} -> {n_in} words"
    return None


def _mutate(rng, case: Case, lay: Layout):
    k = int(rng.choice(10, p=[.34, .06, .12, .05, .08, .05, .05, .07, .13, .05]))
    n = len(case.net)
    if n == 0 and k in (0, 1, 2, 3, 5):  # truncated to nothing: only sizes, input and scalars left
        k = int(rng.choice([4, 6, 7, 8]))
    if k == 0:  # a header or table word
        i = int(rng.integers(0, min(lay.head_end, n)))
        v, why = _new_value(rng, int(case.net[i]), case, lay)
        _set_word(case, i, v, why, lay)
    elif k == 1:  # any word
        i = int(rng.integers(0, n))
        v, why = _new_value(rng, int(case.net[i]), case, lay)
        _set_word(case, i, v, why, lay)
    elif k == 2:  # two offset fields swapped (within a record or between two)
        a, b = rng.integers(0, lay.n_rec, 2)
        fa, fb = rng.choice(lay.offset_fields, 2)
        i, j = lay.table + int(a) * lay.rec_words + int(fa), lay.table + int(b) * lay.rec_words + int(fb)
        if i == j or max(i, j) >= n:
            return _mutate(rng, case, lay)
        case.net[i], case.net[j] = case.net[j], case.net[i]
        case.ops.append(f"net[{i}] ({lay.name(i)}) and net[{j}] ({lay.name(j)}) swapped: "
                        f"0x{int(case.net[j]):08x} <-> 0x{int(case.net[i]):08x}")
    elif k == 3:  # two whole records swapped
        if lay.n_rec < 2 or lay.table + lay.n_rec * lay.rec_words > n:
            return _mutate(rng, case, lay)
        a, b = sorted(int(x) for x in rng.choice(lay.n_rec, 2, replace=False))
        ra = slice(lay.table + a * lay.rec_words, lay.table + (a + 1) * lay.rec_words)
        rb = slice(lay.table + b * lay.rec_words, lay.table + (b + 1) * lay.rec_words)
        case.net[ra], case.net[rb] = case.net[rb].copy(), case.net[ra].copy()
        case.ops.append(f"{lay.rec_kind} records {a} and {b} swapped")
    elif k == 4:  # net_words
        old = case.net_words
        case.net_words = int(rng.choice([0, 1, old - 4, old - 1, old + 1, old + 4, n, n + 1, lay.head_end,
                                         int(rng.integers(0, max(old, 1))), U32 - 1])) % U32
        case.ops.append(f"net_words {old} -> {case.net_words}")
    elif k == 5:  # net buffer truncated
        cut = int(rng.integers(0, n))
        case.net = case.net[:cut].copy()
        if rng.random() < 0.6:
            case.net_words = min(case.net_words, cut)
        case.ops.append(f"net buffer truncated to {cut} words, net_words {case.net_words}")
    elif k == 6:  # net buffer extended with random words
        extra = int(rng.choice([1, 3, 4, 64, 1000]))
        case.net = np.concatenate([case.net, rng.integers(0, U32, extra, dtype=np.uint64).astype(np.uint32)])
        if rng.random() < 0.5:
            case.net_words = len(case.net)
        case.ops.append(f"net buffer extended by {extra} random words, net_words {case.net_words}")
    elif k == 7:  # input truncated or extended
        m = len(case.inp)
        new = int(rng.choice([0, max(m - 4, 0), max(m - 1, 0), m + 1, m + 4, 2 * m + 8]))
        case.inp = (case.inp[:new].copy() if new <= m else
                    np.concatenate([case.inp, rng.integers(0, U32, new - m, dtype=np.uint64).astype(np.uint32)]))
        case.ops.append(f"input {m} -> {new} words")
    elif k == 8:  # a scalar
        s = list(case.scalars)
        j = int(rng.integers(len(s)))
        name, mx = SCALAR_MAX[case.kernel][j]
        old = s[j]
        s[j] = int(rng.choice([0, 1, old - 1, old + 1, 2 * old, mx, mx + 1, mx - 1, U32 - 1, 1 << 31])) % U32
        case.scalars = tuple(s)
        case.ops.append(f"{name} {old} -> {s[j]}")
        if rng.random() < 0.6:
            grown = _grow_input(case, rng)
            if grown:
                case.ops.append(grown)
    else:  # an input word (for rasters: also the padding bits after n_in)
        if not len(case.inp):
            return _mutate(rng, case, lay)
        i = int(rng.integers(len(case.inp)))
        old = int(case.inp[i])
        case.inp[i] = int(rng.integers(0, U32)) if rng.random() < 0.5 else old ^ (1 << int(rng.integers(32)))
        case.ops.append(f"input[{i}] 0x{old:08x} -> 0x{int(case.inp[i]):08x}")


def cases(kernel: str, n: int = N_CASES, seed: int = SEED):
    """The kernel's n mutated calls; deterministic for (kernel, n, seed). Every 16th is an
    unmutated base call (a control: it must run and agree)."""
    rng = np.random.default_rng([seed, KERNELS.index(kernel)])
    bases = list(base_calls(kernel))
    for i in range(n):
        b = int(rng.integers(len(bases)))
        net, net_words, inp, scalars = bases[b]
        case = Case(kernel, i, b, [], net.copy(), int(net_words), inp.copy(), tuple(int(s) for s in scalars))
        if i % 16:
            lay = layout(kernel, net)
            for _ in range(int(rng.choice([1, 2, 3], p=[.6, .25, .15]))):
                _mutate(rng, case, lay)
        yield case


def valid_cases(kernel: str, n: int | None = None):
    """The kernel's random valid cases (tests/<k>_cases.py random_cases, full size)."""
    import stm_cases

    n = stm_cases.N_RANDOM if n is None else n
    for i, (net, net_words, inp, scalars) in enumerate(base_calls(kernel, n, small=False)):
        yield Case(kernel, i, i, ["random valid case"], net, int(net_words), inp, tuple(int(s) for s in scalars))


# ---- one case on both sides ----

def _side(kernel: str, backend: str, case: Case, opt: str) -> dict:
    try:
        out, _, _ = runner.execute(kernel, backend, case.net, case.net_words, case.inp, case.scalars, opt=opt,
                                   timeout_s=60.0 if backend == "csim" else None)
    except SpynqError as e:
        return {"kind": "reject", "type": type(e).__name__, "msg": str(e)[:300]}
    except Exception as e:  # noqa: BLE001  (any other exception is a finding)
        return {"kind": "error", "type": type(e).__name__, "msg": str(e)[:300]}
    out = np.asarray(out, np.uint32)
    bad = len(out) == 4 and int(out[0]) == BAD_NET[kernel] and not out[1:].any()
    return {"kind": "bad_net" if bad else "words", "words": out}


def verdict(g: dict, c: dict) -> tuple[str, str]:
    """(class, detail): agree_words, agree_bad_net, agree_reject, or a finding
    (disagree, unclear_error)."""
    if "error" in (g["kind"], c["kind"]):
        side = "golden" if g["kind"] == "error" else "csim"
        e = g if side == "golden" else c
        return "unclear_error", f"{side} raised {e['type']}: {e['msg']}"
    if g["kind"] == c["kind"] == "reject":
        return "agree_reject", f"{g['type']}: {g['msg']}"
    if g["kind"] in ("words", "bad_net") and c["kind"] in ("words", "bad_net"):
        gw, cw = g["words"], c["words"]
        if len(gw) == len(cw) and np.array_equal(gw, cw):
            return ("agree_bad_net" if g["kind"] == "bad_net" else "agree_words"), f"{len(gw)} words"
        n = min(len(gw), len(cw))
        diff = np.flatnonzero(gw[:n] != cw[:n])
        first = (f"first difference at word {int(diff[0])}: golden 0x{int(gw[diff[0]]):08x}, "
                 f"csim 0x{int(cw[diff[0]]):08x}; {len(diff)} words differ" if len(diff) else "")
        return "disagree", (f"golden {len(gw)} words (head {[hex(int(x)) for x in gw[:6]]}), csim {len(cw)} words "
                            f"(head {[hex(int(x)) for x in cw[:6]]}); {first}")
    desc = {k: (f"{v['type']}: {v['msg']}" if v["kind"] == "reject" else f"{v['kind']} ({len(v['words'])} words)")
            for k, v in (("golden", g), ("csim", c))}
    return "disagree", f"golden: {desc['golden']}; csim: {desc['csim']}"


def run_one(case: Case, opt: str = "-O2") -> dict:
    t0 = time.perf_counter()
    g = _side(case.kernel, "golden", case, opt)
    t1 = time.perf_counter()
    c = _side(case.kernel, "csim", case, opt)
    cls, detail = verdict(g, c)
    return {"i": case.index, "class": cls, "detail": detail, "golden_s": round(t1 - t0, 4),
            "csim_s": round(time.perf_counter() - t1, 4)}


# ---- the subprocess side ----

def asan_env() -> dict:
    """Environment of a Python that loads the ASan/UBSan csim libraries: libasan preloaded
    (it must come first), leaks not reported (the interpreter's own), every report fatal
    with exit code 86, and UBSan's "left shift of negative value" in the open ap_types
    headers suppressed (fuzz_ubsan.supp: benign with GCC, triggered by valid input)."""
    libasan = subprocess.run(["g++", "-print-file-name=libasan.so"], capture_output=True, text=True,
                             check=True).stdout.strip()
    return dict(os.environ, LD_PRELOAD=libasan, PYTHONMALLOC="malloc",
                ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=86:halt_on_error=1",
                UBSAN_OPTIONS=f"halt_on_error=1:exitcode=86:print_stacktrace=1:suppressions={UBSAN_SUPP}")


def build_asan(kernel: str):
    """The ASan + UBSan csim library (built here, outside the preloaded interpreter)."""
    from spynq.hw import csim

    return csim.build(kernel, SAN_OPT, SAN_FLAGS)


def _use_asan_builds():
    """Make csim load the sanitizer builds: csim.load passes only -D flags, so add ours."""
    from spynq.hw import csim

    build = csim.build
    csim.build = lambda kernel, opt="-O2", extra=(): build(kernel, opt, tuple(SAN_FLAGS) + tuple(extra))


def worker(kernel: str, start: int, stop: int, asan: bool, valid: bool, n: int, seed: int):
    opt = SAN_OPT if asan else "-O2"
    if asan:
        _use_asan_builds()
    gen = valid_cases(kernel, stop) if valid else cases(kernel, n, seed)
    for case in gen:
        if case.index < start:
            continue
        if case.index >= stop:
            break
        print(json.dumps({"begin": case.index, "case": case.describe()}), flush=True)
        if os.environ.get("SPYNQ_FUZZ_ABORT_AT") == str(case.index):  # test_fuzz: a crash must name its case
            os.abort()
        print(json.dumps(run_one(case, opt)), flush=True)


def canary(kernel: str):
    """Under ASan: read past a net buffer through the library's C ABI (check_call skipped
    on purpose), which ASan must report; a run that reports nothing here proves nothing."""
    import ctypes

    from spynq.hw import csim

    _use_asan_builds()
    lib = csim.load(kernel, SAN_OPT)
    net = np.zeros(8, np.uint32)
    s = np.zeros(4, np.uint32)
    p = ctypes.POINTER(ctypes.c_uint32)
    lib.spynq_csim_run(net.ctypes.data_as(p), 4096, s.ctypes.data_as(p), 0, s.ctypes.data_as(p),
                       np.zeros(4, np.uint32).ctypes.data_as(p))
    print("canary: no report", flush=True)


def asan_is_live(kernel: str) -> tuple[bool, str]:
    """(ASan reported the canary's over-read, how the canary process ended)."""
    env = asan_env()
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "canary", kernel], capture_output=True,
                         text=True, timeout=300, cwd=REPO, env=env)
    hit = res.returncode == 86 and "heap-buffer-overflow" in res.stderr and "spynq_to_beats" in res.stderr
    return hit, f"exit {res.returncode}: {res.stderr.strip().splitlines()[:3] if res.stderr.strip() else res.stdout}"


def run_cases(kernel: str, start: int = 0, stop: int = N_CASES, asan: bool = False, valid: bool = False,
              n: int = N_CASES, seed: int = SEED, timeout: float = 300.0) -> dict:
    """Run cases [start, stop) in worker subprocesses: {"results": [verdicts], "crashes":
    [{case, returncode or "timeout", stderr}], "seconds": s}. A worker that dies or hangs is
    replaced by one starting after the case it was running."""
    env = asan_env() if asan else dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    results, crashes, t0 = [], [], time.monotonic()
    while start < stop:
        cmd = [sys.executable, str(Path(__file__).resolve()), "run", kernel, str(start), str(stop), "--n", str(n),
               "--seed", str(seed)] + (["--asan"] if asan else []) + (["--valid"] if valid else [])
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)
            out, err, rc = res.stdout, res.stderr, res.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
            rc = f"timeout after {timeout:g} s"
        begun = None
        for line in out.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "begin" in rec:
                begun = rec
            elif "class" in rec:
                results.append(rec)
                begun = None
        sanitizer = any(s in err for s in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"))
        if rc == 0 and not sanitizer:
            break
        if begun is None:  # died between cases (start-up): nothing to skip, so stop
            crashes.append({"case": f"{kernel}: worker for cases {start}.. died outside a case",
                            "returncode": rc, "stderr": err[-6000:]})
            break
        crashes.append({"case": begun["case"], "index": begun["begin"], "returncode": rc, "stderr": err[-6000:]})
        start = begun["begin"] + 1
    return {"results": results, "crashes": crashes, "seconds": time.monotonic() - t0}


FINDINGS = ("disagree", "unclear_error")


def summary(kernel: str, run: dict, descr=None) -> str:
    """Counts per class and every finding with its case."""
    counts = {}
    for r in run["results"]:
        counts[r["class"]] = counts.get(r["class"], 0) + 1
    lines = [f"{kernel}: {len(run['results'])} cases in {run['seconds']:.1f} s: {counts}; "
             f"{len(run['crashes'])} crashes/hangs"]
    for r in run["results"]:
        if r["class"] in FINDINGS:
            lines.append(f"  {r['class']}: {descr(r['i']) if descr else r['i']}\n    {r['detail']}")
    for c in run["crashes"]:
        lines.append(f"  crash ({c['returncode']}): {c['case']}\n    {c['stderr'][-2500:]}")
    return "\n".join(lines)


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="worker: JSON lines on stdout")
    r.add_argument("kernel", choices=KERNELS)
    r.add_argument("start", type=int)
    r.add_argument("stop", type=int)
    r.add_argument("--asan", action="store_true")
    r.add_argument("--valid", action="store_true")
    r.add_argument("--n", type=int, default=N_CASES)
    r.add_argument("--seed", type=int, default=SEED)
    s = sub.add_parser("show", help="print one case's mutations and its words")
    s.add_argument("kernel", choices=KERNELS)
    s.add_argument("index", type=int)
    s.add_argument("--n", type=int, default=N_CASES)
    s.add_argument("--seed", type=int, default=SEED)
    c = sub.add_parser("canary", help="under ASan: an over-read ASan must report")
    c.add_argument("kernel", choices=KERNELS)
    f = sub.add_parser("asan", help="the fuzz and random valid cases under ASan+UBSan (make fuzz-asan)")
    f.add_argument("--n", type=int, default=N_CASES)
    f.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args(argv)
    if a.cmd == "run":
        worker(a.kernel, a.start, a.stop, a.asan, a.valid, a.n, a.seed)
        return 0
    if a.cmd == "canary":
        canary(a.kernel)
        return 0
    if a.cmd == "show":
        case = next(c for c in cases(a.kernel, a.n, a.seed) if c.index == a.index)
        np.set_printoptions(threshold=64, formatter={"int": lambda x: f"0x{x:08x}"})
        print(case.describe())
        print("net", case.net[:min(len(case.net), 128)], "\ninput", case.inp[:32])
        print(run_one(case))
        return 0
    ok, t_all = True, time.monotonic()
    for kernel in KERNELS:
        t0 = time.monotonic()
        build_asan(kernel)
        live, how = asan_is_live(kernel)
        print(f"{kernel}: ASan+UBSan build {time.monotonic() - t0:.1f} s; canary over-read "
              f"{'reported' if live else 'NOT reported (' + how + ')'}", flush=True)
        ok &= live
        for valid in (False, True):
            import stm_cases

            run = run_cases(kernel, 0, stm_cases.N_RANDOM if valid else a.n, asan=True, valid=valid, n=a.n,
                            seed=a.seed, timeout=1800.0)
            print(("valid " if valid else "fuzz ") + summary(kernel, run), flush=True)
            ok &= not run["crashes"] and not any(r["class"] in FINDINGS for r in run["results"])
    print(f"fuzz-asan: {'no reports, no findings' if ok else 'FAILED'} in {time.monotonic() - t_all:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
