"""The reproduction ledger's data model: a Claim, how it is evaluated, and the table.

A claim is a number (or a yes/no property) that a paper states or that follows from its
equations, with where it is stated, the paper's value (typed from the paper: the thing
compared against) and a tolerance, and a ``compute`` function that obtains the
reproduced value by running the project's code (spynq.nn, spynq.nn_costs, ...). The
status is decided here, never typed in:
  matches       the reproduced value is within the tolerance of the paper's
  differs       it is not; ``why_differs`` says what is known about the gap (an erratum
                of the paper, an assumption of ours), else the gap itself is the reason
  out of reach  ``out_of_reach`` says why it cannot be computed here (a data set, a GPU
                run, a builder not in the tree); compute may also raise OutOfReach
  failed        compute raised an error: a bug in the project's code, shown as such.
``kind`` is "reproduced" (the project's code computes it) or "arithmetic" (a check of
the paper's own printed numbers against each other, e.g. an improvement arrow: the
reproduced value is computed from other typed-in table entries, not by a model).
"""
from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import SpynqValueError

STATUSES = ("matches", "differs", "out of reach", "failed")
KINDS = ("reproduced", "arithmetic")


class OutOfReach(Exception):
    """Raised by a compute function that cannot run here (the message says why)."""


@dataclass(frozen=True)
class Measured:
    """A reproduced value with a note on how it was obtained (shown beside it)."""
    value: Any
    note: str = ""


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    where: str
    statement: str
    value: Any = None                 # the paper's value: a number, a bool (a property), or None
    tol: float = 0.0                  # |reproduced - value| <= tol + rtol * |value|
    rtol: float = 0.0
    compute: Callable[[], Any] | None = None
    unit: str = ""
    why_differs: str = ""
    out_of_reach: str = ""
    kind: str = "reproduced"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SpynqValueError(f"claim {self.id}: kind {self.kind!r}, choose one of {KINDS}")
        if (self.compute is None) == (not self.out_of_reach):
            raise SpynqValueError(f"claim {self.id}: give either compute or out_of_reach (exactly one)")
        if self.compute is not None and self.value is None:
            raise SpynqValueError(f"claim {self.id}: a computed claim needs the paper's value to compare with")
        if not self.id.startswith(self.paper + "."):
            raise SpynqValueError(f"claim {self.id}: the id must start with its paper {self.paper!r}")


@dataclass
class Result:
    claim: Claim
    status: str
    reproduced: Any = None
    note: str = ""
    why: str = ""
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        c = self.claim
        return {"id": c.id, "paper": c.paper, "where": c.where, "statement": c.statement, "kind": c.kind,
                "paper_value": _jsonable(c.value), "tol": c.tol, "rtol": c.rtol, "unit": c.unit,
                "reproduced": _jsonable(self.reproduced), "note": self.note, "status": self.status,
                "why": self.why, "seconds": round(self.seconds, 4)}


def _jsonable(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if hasattr(v, "dtype") and v.dtype.kind == "b":
        return bool(v)
    if isinstance(v, (int,)) or (hasattr(v, "dtype") and getattr(v, "dtype").kind in "iu"):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f if math.isfinite(f) else str(f)


def within(claim: Claim, reproduced) -> bool:
    want = claim.value
    if isinstance(want, bool) or isinstance(reproduced, bool):
        return bool(reproduced) is want if isinstance(want, bool) else False
    return abs(float(reproduced) - float(want)) <= claim.tol + claim.rtol * abs(float(want))


def evaluate(claim: Claim) -> Result:
    if claim.compute is None:
        return Result(claim, "out of reach", why=claim.out_of_reach)
    t0 = time.perf_counter()
    try:
        got = claim.compute()
    except OutOfReach as e:
        return Result(claim, "out of reach", why=str(e), seconds=time.perf_counter() - t0)
    except Exception as e:  # a bug: shown, not hidden
        tb = traceback.format_exception_only(type(e), e)[-1].strip()
        return Result(claim, "failed", why=tb, seconds=time.perf_counter() - t0)
    dt = time.perf_counter() - t0
    note = ""
    if isinstance(got, Measured):
        got, note = got.value, got.note
    if within(claim, got):
        return Result(claim, "matches", got, note, seconds=dt)
    why = claim.why_differs or f"reproduced {fmt(got)} vs the paper's {fmt(claim.value)} (tolerance {claim.tol:g})"
    return Result(claim, "differs", got, note, why, seconds=dt)


def fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) or (hasattr(v, "dtype") and v.dtype.kind in "iu"):
        return f"{int(v):,}"
    if isinstance(v, float):
        if v == int(v) and abs(v) >= 1e4:
            return f"{int(v):,}"
        return f"{v:.6g}"
    return str(v)


def summary(results: list[Result]) -> dict:
    out = {s: 0 for s in STATUSES}
    for r in results:
        out[r.status] += 1
    return out


def summary_by_kind(results: list[Result]) -> dict:
    return {k: summary([r for r in results if r.claim.kind == k]) for k in KINDS}


def table(results: list[Result], details: bool = False) -> str:
    """The ledger as text: one row per claim (paper, claim, where, paper value,
    reproduced, status and why); details=True adds the statement and how the value was
    obtained under each row; then the summary per paper and per kind."""
    rows = [("paper", "claim", "where", "paper value", "reproduced", "status")]
    for r in results:
        c = r.claim
        unit = f" {c.unit}" if c.unit and c.value is not None and not isinstance(c.value, bool) else ""
        status = r.status + (f": {r.why}" if r.why else "")
        rows.append((c.paper, c.id[len(c.paper) + 1:], c.where, fmt(c.value) + unit,
                     fmt(r.reproduced) + (unit if r.reproduced is not None else ""), status))
    w = [max(len(row[i]) for row in rows[:]) for i in range(5)]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(row[j].ljust(w[j]) for j in range(5)) + "  " + row[5])
        if i == 0:
            lines.append("  ".join("-" * w[j] for j in range(5)) + "  " + "-" * 6)
        elif details:
            r = results[i - 1]
            lines.append(" " * (w[0] + 2) + f"claim: {r.claim.statement}")
            if r.note:
                lines.append(" " * (w[0] + 2) + f"how:   {r.note}")
    s = summary(results)
    lines.append("")
    papers = list(dict.fromkeys(r.claim.paper for r in results))
    if len(papers) > 1:
        for p in papers:
            sp = summary([r for r in results if r.claim.paper == p])
            lines.append(f"{p:8s} " + ", ".join(f"{n} {k}" for k, n in sp.items() if k != "failed" or n))
    lines.append(f"{len(results)} claims: " + ", ".join(f"{n} {k}" for k, n in s.items()))
    for kind, sk in summary_by_kind(results).items():
        n = sum(sk.values())
        what = "computed by the project's code" if kind == "reproduced" else "checks of the papers' own printed numbers"
        lines.append(f"  {kind} ({what}): {n}: " + ", ".join(f"{v} {k}" for k, v in sk.items()))
    return "\n".join(lines)
