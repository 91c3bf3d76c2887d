"""The low-level call path (spynq.hw.runner.execute, spynq.hw.csim.call, the driver path)
never crashes, wraps or races on bad calls (issue 9, items 2 and 4, and the buffer
lengths of item 1; the reproductions of ../shared/reviews/bad_input_review.md).

Where a regression could crash the process (a heap over-read, a wrapped out count, a race
in the csim libraries' static state) the case runs in a subprocess with a timeout, so it
fails the test instead of killing pytest: a negative return code is the signal that
killed it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from spynq.errors import SpynqValueError
from spynq.hw import csim, runner
from spynq.lif import encode as le, golden as lg
from spynq.lif.model import LifLayer, LifNetwork
from spynq.snnwm import encode as we, golden as wg
from spynq.stm import encode as se, golden as sg

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
MAX_OUT = runner.MAX_OUT_WORDS


def run_py(code: str, timeout: float = 600) -> dict:
    """Run `code` in a fresh interpreter (tests/ importable); its last stdout line is JSON."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=timeout, cwd=REPO, env=env)
    assert res.returncode == 0, (f"subprocess exited with {res.returncode} (negative: killed by that signal, "
                                 f"a crash)\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# Each case: one call that must be refused with a clear error; the script prints
# {case: [exception class, message]}. These crashed or read garbage before the checks.
ATTEMPTS = r"""
import gc, json
import numpy as np
from spynq.hw import csim, runner
from spynq.lif import encode as le
from spynq.lif.model import random_network, random_rasters
from spynq.stm import encode as se
from stm_cases import random_cases

rng = np.random.default_rng(0)
lnet = random_network(rng, [10, 8], "mixed", 3)
lp, lr = le.pack_network(lnet), le.pack_rasters(random_rasters(rng, 1, 10, 10))
snet, pops, ev = next(random_cases(1, seed=5))
sp, sev = se.pack_network(snet, pops), se.pack_evidence(snet, ev)
one_row = se.pack_evidence(snet, ev[:1])
out = {}

def attempt(name, fn):
    try:
        fn()
        out[name] = ["ok", ""]
    except Exception as e:
        out[name] = [type(e).__name__, str(e)]

for be in ("csim", "golden"):
    ex = lambda *a: runner.execute(*a[:1], be, *a[1:])
    # review finding 4: net_words past the net buffer (SIGSEGV in csim)
    attempt(f"{be} lif net_words past net", lambda: ex("lif_delay", lp.net[:32].copy(), 262000, lr, (10, 1)))
    attempt(f"{be} stm net_words 2^32-1", lambda: ex("stm", sp.net, 0xFFFFFFFF, sev, (1,)))
    attempt(f"{be} stm net_words -1", lambda: ex("stm", sp.net, -1, sev, (1,)))
    attempt(f"{be} stm net_words 2^32+n", lambda: ex("stm", sp.net, 2**32 + sp.net_words, sev, (1,)))
    attempt(f"{be} stm net_words float", lambda: ex("stm", sp.net, float(sp.net_words), sev, (1,)))
    # batch larger than the rows in the input buffer (garbage rows, heap over-read)
    attempt(f"{be} stm batch past evidence", lambda: ex("stm", sp.net, sp.net_words, one_row, (4096,)))
    attempt(f"{be} lif batch past rasters", lambda: ex("lif_delay", lp.net, lp.net_words, lr, (10, 64)))
    attempt(f"{be} lif T past rasters", lambda: ex("lif_delay", lp.net, lp.net_words, lr, (11, 1)))
    # float or complex buffers, out-of-range words, scalars
    attempt(f"{be} stm float net", lambda: ex("stm", sp.net.astype(float), sp.net_words, sev, (len(ev),)))
    attempt(f"{be} stm complex evidence", lambda: ex("stm", sp.net, sp.net_words, sev.astype(complex), (len(ev),)))
    attempt(f"{be} lif negative word", lambda: ex("lif_delay", np.r_[lp.net.astype(np.int64)[:-1], -1],
                                                  lp.net_words, lr, (10, 1)))
    attempt(f"{be} lif 2-D net", lambda: ex("lif_delay", lp.net.reshape(-1, 4), lp.net_words, lr, (10, 1)))
    attempt(f"{be} lif batch 2^32", lambda: ex("lif_delay", lp.net, lp.net_words, lr, (10, 2**32)))
    attempt(f"{be} lif batch -1", lambda: ex("lif_delay", lp.net, lp.net_words, lr, (10, -1)))
    attempt(f"{be} lif T float", lambda: ex("lif_delay", lp.net, lp.net_words, lr, (10.0, 1)))
    attempt(f"{be} lif one scalar", lambda: ex("lif_delay", lp.net, lp.net_words, lr, (10,)))
# the same checks through csim.call itself
attempt("csim.call lif net_words past net", lambda: csim.call("lif_delay", lp.net[:32].copy(), 262000, lr, (10, 1)))
attempt("csim.call stm batch past evidence", lambda: csim.call("stm", sp.net, sp.net_words, one_row, (4096,)))
# review finding 5: trips wrote csim's whole counter array into a shorter one
attempt("csim.trips one label", lambda: csim.trips("lif_delay", ["RUN"]))
gc.collect()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def attempts():
    return run_py(ATTEMPTS)


@pytest.mark.parametrize("backend", ["csim", "golden"])
@pytest.mark.parametrize("case, error, words", [
    ("lif net_words past net", "SpynqValueError", ["net_words=262000", "holds only 32 words"]),
    ("stm net_words 2^32-1", "SpynqValueError", ["net_words=4294967295", "holds only"]),
    ("stm net_words -1", "SpynqValueError", ["net_words=-1", "2^32"]),
    ("stm net_words 2^32+n", "SpynqValueError", ["net_words=42949", "2^32"]),
    ("stm net_words float", "SpynqTypeError", ["net_words", "float"]),
    ("stm batch past evidence", "SpynqValueError", ["evidence", "batch=4096", "reads 32768 words", "the buffer holds 8"]),
    ("lif batch past rasters", "SpynqValueError", ["spikes_in", "batch=64", "reads 2560 words", "holds 40"]),
    ("lif T past rasters", "SpynqValueError", ["spikes_in", "n_steps=11", "reads 44 words", "holds 40"]),
    ("stm float net", "SpynqTypeError", ["net", "float64"]),
    ("stm complex evidence", "SpynqTypeError", ["evidence", "complex128"]),
    ("lif negative word", "SpynqValueError", ["net", "[0, 2^32)", "-1"]),
    ("lif 2-D net", "SpynqValueError", ["net", "1-D"]),
    ("lif batch 2^32", "SpynqValueError", ["batch=4294967296"]),
    ("lif batch -1", "SpynqValueError", ["batch=-1"]),
    ("lif T float", "SpynqTypeError", ["n_steps", "float"]),
    ("lif one scalar", "SpynqTypeError", ["n_steps", "batch"]),
])
def test_bad_buffers_and_counts_are_refused_before_anything_runs(attempts, backend, case, error, words):
    kind, msg = attempts[f"{backend} {case}"]
    assert kind == error, msg
    for w in words:
        assert w in msg, msg


def test_csim_call_and_trips_check_too(attempts):
    assert attempts["csim.call lif net_words past net"][0] == "SpynqValueError"
    assert attempts["csim.call stm batch past evidence"][0] == "SpynqValueError"
    kind, msg = attempts["csim.trips one label"]
    assert kind == "SpynqValueError" and "counts 5 loops" in msg, msg


class _Driver:
    """A kernel driver that must never be started: call_words checks before it."""

    def __init__(self, kernel):
        self.interface = runner.KERNELS[kernel]

    def call(self, *a, **k):
        raise AssertionError("the kernel was started")


def test_the_driver_path_checks_before_the_kernel_starts():
    """cosim and the board: the AXI masters ignore error responses, so a short buffer
    would be read past its end in DDR; call_words refuses the call first."""
    net, pops, ev = _stm_case()
    p = se.pack_network(net, pops)
    with pytest.raises(SpynqValueError, match="evidence.*batch=64.*reads 512 words.*holds 8"):
        runner.call_words(_Driver("stm"), p.net, p.net_words, se.pack_evidence(net, ev[:1]), (64,))
    with pytest.raises(SpynqValueError, match="net_words=.*holds only 8"):
        runner.call_words(_Driver("stm"), p.net[:8], p.net_words, se.pack_evidence(net, ev), (len(ev),))


def _stm_case():
    from stm_cases import random_cases

    return next(random_cases(1, seed=5))


@pytest.mark.parametrize("backend", ["golden", "csim"])
def test_a_call_the_kernel_rejects_still_gets_its_status(backend):
    """The checks refuse malformed calls; a well-formed call with a net the kernel rejects
    still runs and gets BAD_NET (it reads no input, so an empty input is fine)."""
    net, pops, ev = _stm_case()
    p = se.pack_network(net, pops)
    bad = p.net.copy()
    bad[0] ^= 1
    out, _, _ = runner.execute("stm", backend, bad, p.net_words, np.zeros(0, np.uint32), (len(ev),))
    assert out.tolist() == [se.C["STM_ST_BAD_NET"], 0, 0, 0]
    out, _, _ = runner.execute("stm", backend, p.net, p.net_words, np.zeros(0, np.uint32), (se.C["STM_MAX_BATCH"] + 1,))
    assert out.tolist() == [se.C["STM_ST_BAD_NET"], 0, 0, 0]


def test_integer_buffers_of_any_width_are_taken_as_words():
    net, pops, ev = _stm_case()
    p = se.pack_network(net, pops)
    evw = se.pack_evidence(net, ev)
    want = runner.execute("stm", "csim", p.net, p.net_words, evw, (len(ev),))[0]
    got = runner.execute("stm", "csim", p.net.astype(np.int64), np.int64(p.net_words), list(evw.tolist()),
                         (np.uint16(len(ev)),))[0]
    np.testing.assert_array_equal(got, want)


# ---- sizes: no wrap; each limit at its maximum and one past it ----

def _lif_review_net():
    """Review finding 1: every documented limit respected, 4 x (1 + 53517 x 20064) beats
    (20065 per sample with the status beat)."""
    L = lambda i, o: LifLayer(np.zeros((i, o)))  # noqa: E731
    return le.pack_network(LifNetwork([L(1, 1024), L(1024, 64), L(64, 1024), L(1024, 64)]))


def test_lif_out_words_past_2_32_are_rejected_not_wrapped():
    p = _lif_review_net()
    T = 1024
    per = le.out_words(p.sizes, T, 1) - 4
    b_max = (MAX_OUT - 4) // per  # the largest batch whose out buffer a call may have
    assert b_max == 53513 and 4 + b_max * per <= MAX_OUT < 4 + (b_max + 1) * per
    # the maximum: the golden model and the C++ count the same 64-bit size (not run: 17 GB)
    assert lg.call_sizes(p.net, p.net_words, T, b_max) == (b_max * T * 4, 4 + b_max * per)
    res = run_py(f"""
        import json, numpy as np
        from spynq.hw import csim
        from test_bad_calls import _lif_review_net
        p = _lif_review_net()
        lib = csim.load("lif_delay")
        U32P = csim._U32P
        s = lambda *v: np.array(v, np.uint32)
        words = {{b: int(lib.spynq_csim_out_words(p.net.ctypes.data_as(U32P), p.net_words, s({T}, b).ctypes.data_as(U32P)))
                 for b in ({b_max}, {b_max + 1}, 53517)}}
        # one past, run: the kernel answers with the status beat without touching the tiny input
        out = np.zeros(4, np.uint32)
        inp = np.zeros(4, np.uint32)
        rc = lib.spynq_csim_run(p.net.ctypes.data_as(U32P), p.net_words, inp.ctypes.data_as(U32P), 4,
                                s({T}, {b_max + 1}).ctypes.data_as(U32P), out.ctypes.data_as(U32P))
        print(json.dumps({{"words": words, "rc": int(rc), "out": out.tolist()}}))
    """)
    assert res["words"] == {str(b_max): 4 + b_max * per, str(b_max + 1): 4, "53517": 4}  # was 93060 for 53517
    assert res["rc"] == 4 and res["out"] == [le.C["LIF_ST_BAD_NET"], 0, 0, 0]
    # one past in golden: the same status, and the host says why before allocating anything
    tiny = np.zeros(4, np.uint32)
    assert lg.run(p.net, p.net_words, tiny, T, b_max + 1).tolist() == [le.C["LIF_ST_BAD_NET"], 0, 0, 0]
    assert lg.call_out_words(p.net, p.net_words, T, b_max + 1) == 4
    for backend in ("golden", "csim"):
        with pytest.raises(SpynqValueError, match=f"out buffer would be {4 + (b_max + 1) * per} words.*{MAX_OUT}"):
            runner.execute("lif_delay", backend, p.net, p.net_words, tiny, (T, b_max + 1))
    net = LifNetwork([LifLayer(np.zeros((1, 1024))), LifLayer(np.zeros((1024, 64))), LifLayer(np.zeros((64, 1024))),
                      LifLayer(np.zeros((1024, 64)))])
    with pytest.raises(SpynqValueError, match=f"at most {b_max} samples"):
        le.check_limits(net, T, b_max + 1)
    le.check_limits(net, T, b_max)


def _sizes_c(kernel, net, words, scalars, defines=()):
    lib = csim.load(kernel, defines=defines)
    s = np.array(scalars, np.uint32)
    return int(lib.spynq_csim_out_words(net.ctypes.data_as(csim._U32P), words, s.ctypes.data_as(csim._U32P)))


@pytest.mark.parametrize("kernel", ["lif_delay", "snnwm"])
def test_T_and_batch_limits_at_their_maximum_and_one_past(kernel):
    """Golden and C++ count the same out words at the largest T and batch (past 2^30, the
    sizes only), and both reject one past either."""
    rng = np.random.default_rng(3)
    if kernel == "lif_delay":
        from spynq.lif.model import random_network

        p, g, enc = le.pack_network(random_network(rng, [3, 1024], "mixed", 3)), lg, le
        t_max, b_max = le.C["LIF_MAX_T"], le.C["LIF_MAX_BATCH"]
    else:
        from spynq.snnwm.model import random_network

        p, g, enc = we.pack_network(random_network(rng, [3, 1024, 64, 1024, 64], 2, "window", False, 8)), wg, we
        t_max, b_max = we.C["SNNWM_MAX_T"], we.C["SNNWM_MAX_BATCH"]
    n = g.call_sizes(p.net, p.net_words, t_max, b_max)[1]
    assert n > 2**30 and n == _sizes_c(kernel, p.net, p.net_words, (t_max, b_max))
    for scalars in ((t_max + 1, 1), (1, b_max + 1)):
        assert g.call_sizes(p.net, p.net_words, *scalars) == (0, 4)
        assert _sizes_c(kernel, p.net, p.net_words, scalars) == 4
        for backend in ("golden", "csim"):
            out = runner.execute(kernel, backend, p.net, p.net_words, np.zeros(0, np.uint32), scalars)[0]
            assert out.tolist() == [1, 0, 0, 0], (backend, scalars)  # <K>_ST_BAD_NET
    assert enc.C[f"{'LIF' if kernel == 'lif_delay' else 'SNNWM'}_ST_BAD_NET"] == 1


LOWERED = r"""
import json, numpy as np
from spynq.errors import SpynqValueError
from spynq.hw import csim, limits
KERNEL = {kernel!r}
if KERNEL == "lif_delay":
    from spynq.lif import encode as enc, golden as g
    from spynq.lif.model import random_network, random_rasters
    rng = np.random.default_rng(4)
    net = random_network(rng, [5, 7, 70], "mixed", 5)
    p = enc.pack_network(net)
    per = enc.out_words(p.sizes, 6, 1) - 4
else:
    from spynq.snnwm import encode as enc, golden as g
    from spynq.snnwm.model import random_network, random_rasters
    rng = np.random.default_rng(4)
    net = random_network(rng, [5, 7, 70], 2, "mixed", True, 6)
    p = enc.pack_network(net)
    per = enc.out_words(p.sizes, 6, 1, p.readout) - 4
M = 4 + 3 * per  # batch 3 is the largest a call may have
limits.MAX_OUT_WORDS = M  # the host's and golden model's limit, as the build below has it
D = {{"SPYNQ_MAX_OUT_WORDS": M}}
rw = enc.pack_rasters(random_rasters(rng, 4, 6, 5, 0.3))
lib = csim.load(KERNEL, defines=D)
U32P = csim._U32P
res = {{}}
g3 = g.run(p.net, p.net_words, rw, 6, 3)
res["max equal"] = bool(len(g3) == M and np.array_equal(g3, csim.call(KERNEL, p.net, p.net_words, rw, (6, 3), defines=D)))
s = np.array([6, 4], np.uint32)
res["golden past"] = g.run(p.net, p.net_words, rw, 6, 4).tolist()
res["c words past"] = int(lib.spynq_csim_out_words(p.net.ctypes.data_as(U32P), p.net_words, s.ctypes.data_as(U32P)))
out = np.zeros(4, np.uint32)
rc = lib.spynq_csim_run(p.net.ctypes.data_as(U32P), p.net_words, rw.ctypes.data_as(U32P), len(rw),
                        s.ctypes.data_as(U32P), out.ctypes.data_as(U32P))
res["c past"] = [int(rc)] + out.tolist()
try:
    csim.call(KERNEL, p.net, p.net_words, rw, (6, 4), defines=D)
    res["host past"] = "accepted"
except SpynqValueError as e:
    res["host past"] = str(e)
res["M"] = M
print(json.dumps(res))
"""


@pytest.mark.parametrize("kernel", ["lif_delay", "snnwm"])
def test_out_word_limit_drives_golden_and_csim_alike(kernel):
    """The out-word limit lowered (the test switch -DSPYNQ_MAX_OUT_WORDS, the golden
    model's MAX_OUT_WORDS) so that small calls reach it: at the limit both answer bit for
    bit, one sample past it both reject the call (BAD_NET) and the host says why."""
    res = run_py(LOWERED.format(kernel=kernel))
    assert res["max equal"]
    assert res["golden past"] == [1, 0, 0, 0] and res["c words past"] == 4 and res["c past"] == [4, 1, 0, 0, 0]
    assert "out buffer would be" in res["host past"] and str(res["M"]) in res["host past"], res["host past"]


def test_stm_limits_keep_every_call_below_the_out_limit():
    """STM's largest call (4096 rows of 4096 root samples) is far below the limit, which
    stm_kernel.h asserts at compile time; one past batch or samples is rejected by both."""
    biggest = se.C["STM_MAX_BATCH"] * se.out_row_words(se.C["STM_MAX_SAMPLES"])
    assert biggest <= MAX_OUT // 64
    from spynq.stm.model import Gaussian, LinearGaussian, Network

    net = Network("wide")
    r = net.root("R", Gaussian(0.0, 1.0))
    net.add("E", r, LinearGaussian(1.0, 0.0, 0.5), observed=True)
    for n_root, ok in ((se.C["STM_MAX_SAMPLES"], True), (se.C["STM_MAX_SAMPLES"] + 1, False)):
        p = se.pack_network(net, net.sample(n_root, seed=1), limits={**se.C, "STM_MAX_SAMPLES": n_root})
        evw = se.pack_evidence(net, {"E": [0.25]})
        g = sg.run(p.net, p.net_words, evw, 1)
        np.testing.assert_array_equal(g, csim.call("stm", p.net, p.net_words, evw, (1,)))
        assert (len(g) == se.out_row_words(n_root)) == ok and (g[0] == se.C["STM_ST_BAD_NET"]) != ok
        b = se.C["STM_MAX_BATCH"]
        assert sg.call_sizes(p.net, p.net_words, b) == ((b * 4, b * se.out_row_words(n_root)) if ok else (0, 4))
        assert _sizes_c("stm", p.net, p.net_words, (b,)) == (b * se.out_row_words(n_root) if ok else 4)
        assert _sizes_c("stm", p.net, p.net_words, (b + 1,)) == 4 and sg.call_sizes(p.net, p.net_words, b + 1) == (0, 4)


# ---- concurrency ----

CONCURRENT = r"""
import json, threading
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from spynq.hw import csim, limits
KERNEL = {kernel!r}
if KERNEL == "stm":
    from stm_cases import random_cases
    from spynq.stm import encode
    cases = []
    for net, pops, ev in random_cases(10, seed=31):
        p = encode.pack_network(net, pops)
        cases.append((p.net, p.net_words, encode.pack_evidence(net, ev), (len(ev),)))
elif KERNEL == "lif_delay":
    from lif_cases import random_cases, packed
    cases = [(a[0], a[1], a[2], a[3:]) for a in (packed(*c) for c in random_cases(10, seed=32))]
else:
    from snnwm_cases import random_cases, packed
    cases = [(a[0], a[1], a[2], a[3:]) for a in (packed(*c) for c in random_cases(10, seed=33))]
serial = [csim.call(KERNEL, *c) for c in cases]
inside, most = [0], [0]
count = threading.Lock()

def one(i):
    with count:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
    try:
        return i, csim.call(KERNEL, *cases[i])
    finally:
        with count:
            inside[0] -= 1

order = [i for t in range(4) for i in np.random.default_rng(t).permutation(len(cases))]
with ThreadPoolExecutor(4) as ex:
    results = list(ex.map(one, order))
wrong = sum(not np.array_equal(r, serial[i]) for i, r in results)
print(json.dumps({{"calls": len(results), "wrong": int(wrong), "most_callers_at_once": most[0]}}))
"""


@pytest.mark.parametrize("kernel", ["stm", "lif_delay", "snnwm"])
def test_concurrent_csim_calls_equal_the_serial_ones(kernel):
    """4 threads x 10 calls into one csim library (review finding 2: SIGFPE, heap
    corruption, 81 of 100 wrong without the lock) give the serial results."""
    res = run_py(CONCURRENT.format(kernel=kernel))
    assert res["calls"] == 40 and res["wrong"] == 0
    assert res["most_callers_at_once"] >= 2  # the threads did overlap


# ---- timeouts and Ctrl-C ----

def _long_stm_call():
    """An STM call of a few seconds (4096 x 4096 likelihoods), and a short one."""
    from spynq.stm.model import Gaussian, LinearGaussian, Network

    net = Network("long")
    r = net.root("R", Gaussian(0.0, 1.0))
    h = net.add("H", r, LinearGaussian(0.9, 0.1, 0.7))
    net.add("E", h, LinearGaussian(1.0, 0.0, 0.5), observed=True)
    p = se.pack_network(net, net.sample(4096, seed=0))
    q = se.pack_network(net, net.sample(16, seed=0))
    ev = se.pack_evidence(net, {"E": [0.3]})
    return (p.net, p.net_words, ev, (1,)), (q.net, q.net_words, ev, (1,))


def test_a_long_csim_call_times_out_and_the_library_stays_locked_until_it_ends():
    long, short = _long_stm_call()
    want = sg.run(short[0], short[1], short[2], *short[3])
    csim.load("stm")
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="no answer within 0.5 s.*holds the library's lock until it ends"):
        runner.execute("stm", "csim", *long, timeout_s=0.5)
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(TimeoutError, match="stayed busy for 0.2 s"):
        csim.call("stm", *short, timeout_s=0.2)
    # a patient caller waits for the stray call and then gets its own answer
    np.testing.assert_array_equal(csim.call("stm", *short, timeout_s=120), want)


def test_ctrl_c_interrupts_a_long_csim_call():
    res = run_py(r"""
        import json, os, signal, threading, time
        from spynq.hw import csim
        from test_bad_calls import _long_stm_call
        long, _ = _long_stm_call()
        csim.load("stm")
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        t0 = time.monotonic()
        try:
            csim.call("stm", *long)
            msg = "not interrupted"
        except KeyboardInterrupt as e:
            msg = str(e)
        print(json.dumps({"seconds": time.monotonic() - t0, "msg": msg}))
    """, timeout=120)
    assert "interrupted" in res["msg"] and "background" in res["msg"], res["msg"]
    assert res["seconds"] < 2.0


def test_stm_node_table_past_net_words_is_a_bad_net_in_golden_too():
    """Fuzz case (n=1000, case 341): a net of only its header, whose node count says a
    table follows. stm_parse rejects it; golden raised numpy's unpacking error."""
    net = np.zeros(8, np.uint32)
    net[:3] = se.C["STM_MAGIC"], 4, 2
    inp = np.zeros(8, np.uint32)
    want = [se.C["STM_ST_BAD_NET"], 0, 0, 0]
    assert sg.run(net, 8, inp, 2).tolist() == want
    assert np.asarray(runner.execute("stm", "csim", net, 8, inp, (2,))[0]).tolist() == want
