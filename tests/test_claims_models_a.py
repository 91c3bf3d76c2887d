"""Ledger claims computed with the issue-10 builders of spynq.nn.models (Oli-N, AIA,
DA-LIF, the review's LIF baseline): each runs the builder and matches."""
import pytest

from spynq import claims

BUILDER_CLAIMS = ("oli.limit.identity", "oli.inference", "oli.lreg", "aia.merge.network", "dalif.overhead.network",
                  "review.if.network")


@pytest.fixture(scope="module")
def results():
    """The builder claims evaluated, and every claim of these papers listed (not run)."""
    out = {}
    for paper in ("oli", "aia", "dalif", "review"):
        for c in claims.claims(paper):
            out[c.id] = claims.evaluate(c) if c.id in BUILDER_CLAIMS or c.compute is None else None
    return {k: r for k, r in out.items() if r is not None}


@pytest.mark.parametrize("cid", BUILDER_CLAIMS)
def test_builder_claims_match(results, cid):
    r = results[cid]
    assert r.status == "matches", (cid, r.why, r.note)
    assert r.claim.compute is not None and r.note


def test_values_and_notes(results):
    assert results["dalif.overhead.network"].reproduced == 2.0
    assert "bitwise equal" in results["oli.limit.identity"].note
    assert "'oli1': 1920" in results["oli.inference"].note  # T (M + 1) n_out = 8 * 5 * 48
    assert "= the LIF network's" in results["aia.merge.network"].note
    assert not [k for k, r in results.items() if r.status == "out of reach" and "builder" in r.why]
