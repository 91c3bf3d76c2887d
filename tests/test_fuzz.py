"""Fuzz suite (issue 9, item 8): mutated packed calls agree bit for bit on golden and csim,
or both sides reject them, and nothing crashes.

The cases and the worker are tests/fuzz_cases.py: 250 seeded mutations per kernel of the
random valid calls of tests/<k>_cases.py, run in one subprocess per kernel (a worker that
dies is replaced after the case it was running, which the failure names; replay one with
``python tests/fuzz_cases.py show <kernel> <i>``). The same cases plus the full-size random
valid cases under AddressSanitizer + UBSan are ``make fuzz-asan`` (165 s here with the
sanitizer builds cached, about 65 s more to build them; too long for make test,
so no ASan case runs here).
"""
from __future__ import annotations

import numpy as np
import pytest

import fuzz_cases as fc


@pytest.fixture(scope="module", params=fc.KERNELS)
def fuzz_run(request):
    return request.param, fc.run_cases(request.param)


def _describe(kernel):
    cases = {c.index: c for c in fc.cases(kernel)}
    return lambda i: cases[i].describe()


def test_mutated_calls_agree_or_both_reject(fuzz_run):
    kernel, run = fuzz_run
    findings = [r for r in run["results"] if r["class"] in fc.FINDINGS]
    assert not run["crashes"] and not findings, fc.summary(kernel, run, _describe(kernel))
    assert len(run["results"]) == fc.N_CASES, fc.summary(kernel, run)


def test_the_mutations_reach_every_outcome(fuzz_run):
    """Not a suite of calls check_call refuses: many mutated calls run to the end, many get
    the kernel's BAD_NET beat, some are refused before they run; the unmutated controls
    (every 16th case) run and agree."""
    kernel, run = fuzz_run
    by = {}
    for r in run["results"]:
        by.setdefault(r["class"], set()).add(r["i"])
    controls = set(range(0, fc.N_CASES, 16))
    assert controls <= by.get("agree_words", set()), fc.summary(kernel, run)
    counts = {k: len(v - controls) for k, v in by.items()}
    assert counts.get("agree_words", 0) >= 60 and counts.get("agree_bad_net", 0) >= 60 \
        and counts.get("agree_reject", 0) >= 15, counts


def _side(kind, words=None, err="SpynqValueError"):
    if kind in ("reject", "error"):
        return {"kind": kind, "type": err, "msg": "m"}
    return {"kind": kind, "words": np.asarray(words, np.uint32)}


def test_the_verdict_flags_any_difference():
    w = [0, 5, 7, 9]
    assert fc.verdict(_side("words", w), _side("words", w))[0] == "agree_words"
    assert fc.verdict(_side("bad_net", [1, 0, 0, 0]), _side("bad_net", [1, 0, 0, 0]))[0] == "agree_bad_net"
    assert fc.verdict(_side("reject"), _side("reject"))[0] == "agree_reject"
    cls, detail = fc.verdict(_side("words", w), _side("words", [0, 5, 6, 9]))
    assert cls == "disagree" and "word 2" in detail, detail
    assert fc.verdict(_side("words", w), _side("words", w[:3]))[0] == "disagree"
    assert fc.verdict(_side("bad_net", [1, 0, 0, 0]), _side("reject"))[0] == "disagree"
    assert fc.verdict(_side("words", w), _side("error", err="IndexError"))[0] == "unclear_error"


def test_a_crash_names_its_case_and_the_rest_still_run(monkeypatch):
    monkeypatch.setenv("SPYNQ_FUZZ_ABORT_AT", "3")
    run = fc.run_cases("stm", 0, 6)
    assert [c["index"] for c in run["crashes"]] == [3], run["crashes"]
    assert run["crashes"][0]["returncode"] < 0 and "stm fuzz case 3 " in run["crashes"][0]["case"]
    assert [r["i"] for r in run["results"]] == [0, 1, 2, 4, 5]
