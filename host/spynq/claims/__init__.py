"""The reproduction ledger (issue 10 item 7): every checkable claim of the papers, each
computed by running the project's code, with the paper's value and a status.
``python -m spynq claims [--paper NAME] [--json]``.

One module per paper, each with PAPER (the short name), TITLE and ``claims()`` returning
its list of spynq.claims.registry.Claim. Adding a paper: write claims/<name>.py and add
its name to PAPERS below (nothing else changes).
"""
from __future__ import annotations

import importlib

from ..errors import SpynqValueError
from .registry import Claim, Measured, OutOfReach, Result, evaluate, fmt, summary, summary_by_kind, table  # noqa: F401

__all__ = ["PAPERS", "Claim", "Measured", "OutOfReach", "Result", "claims", "evaluate", "fmt", "module", "run",
           "summary", "summary_by_kind", "table", "titles"]

# papers in the order of the notes (models_neurons.md sections 1-7)
PAPERS = ("oli", "aia", "dalif", "lnm", "review", "bidl", "stca", "axonal", "wtcrl", "spikeprop", "ib_hebbian")


def module(paper: str):
    if paper not in PAPERS:
        raise SpynqValueError(f"paper {paper!r}: choose one of {', '.join(PAPERS)}")
    return importlib.import_module(f"{__name__}.{paper}")


def claims(paper: str | None = None) -> list[Claim]:
    papers = PAPERS if paper is None else (paper,)
    out, seen = [], set()
    for p in papers:
        m = module(p)
        for c in m.claims():
            if c.paper != m.PAPER:
                raise SpynqValueError(f"claim {c.id} registered by {p} names paper {c.paper!r}")
            if c.id in seen:
                raise SpynqValueError(f"claim id {c.id} appears twice")
            seen.add(c.id)
            out.append(c)
    return out


def run(paper: str | None = None) -> list[Result]:
    return [evaluate(c) for c in claims(paper)]


def titles() -> dict:
    return {p: module(p).TITLE for p in PAPERS}
