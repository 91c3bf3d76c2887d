"""The ledger entries that the STCA and BIDL builders, the STCA module and BIDL's R-STDP
made computable (spynq.claims.stca, spynq.claims.bidl)."""
from __future__ import annotations

import numpy as np
import pytest

from spynq import claims
from spynq.nn.rstdp import inject_noise


@pytest.fixture(scope="module")
def ledger():
    return {r.claim.id: r for p in ("stca", "bidl") for r in claims.run(p)}


MATCH = ["stca.params.module", "stca.params.nmnist", "stca.params.cifar10dvs", "stca.params.cifar10dvs_vanilla",
         "stca.params.caltech", "stca.attention", "stca.equivariance", "stca.limits", "stca.loss.mse",
         "bidl.rstdp.population", "bidl.rstdp.trace", "bidl.rstdp.ltp", "bidl.rstdp.reward",
         "bidl.rstdp.toy_refcode", "bidl.rstdp.noise"]


def test_computed_claims_match(ledger):
    for k in MATCH:
        assert ledger[k].status == "matches", (k, ledger[k].why, ledger[k].note)
    assert not [k for k, r in ledger.items() if r.status == "failed"]


def test_reproduced_values(ledger):
    v = {k: r.reproduced for k, r in ledger.items()}
    assert v["stca.params.module"] == 49_152
    assert "C = 256: 196,608" in ledger["stca.params.module"].note and "C = 512: 786,432" in ledger[
        "stca.params.module"].note
    assert v["stca.params.nmnist"] == 17_181_440 and v["stca.params.caltech"] == 7_356_928
    assert v["stca.params.cifar10dvs"] - v["stca.params.cifar10dvs_vanilla"] == 3 * (256 ** 2 + 512 ** 2)
    assert v["bidl.rstdp.ltp"] == pytest.approx(0.95 ** 4, rel=1e-15)
    assert v["bidl.rstdp.population"] == 77


def test_stca_gradient_claim(ledger):
    pytest.importorskip("jax")
    r = ledger["stca.grad"]
    assert r.status == "matches" and 0 <= r.reproduced < 1e-5


def test_the_paper_rate_rstdp_toy_differs_with_its_reason(ledger):
    r = ledger["bidl.rstdp.toy"]
    assert r.status == "differs" and "LTD" in r.why
    assert ledger["bidl.rstdp.fig11"].status == "out of reach"
    assert ledger["stca.acc"].status == "out of reach"


def test_noise_injection_sets_exactly_n_distinct_pixels():
    x = np.zeros((3, 2, 5, 6))
    y = inject_noise(x, 0.25, seed=3)  # floor(0.25 * 30) = 7 per channel-frame
    assert np.all(y.sum(axis=(-2, -1)) == 7)
    assert not np.array_equal(y[0, 0], y[0, 1])  # drawn anew per channel and frame
    ones = inject_noise(np.ones((1, 1, 4, 4)), 0.5)
    np.testing.assert_array_equal(ones, 1.0)  # pixels already at 1 stay 1
    np.testing.assert_array_equal(inject_noise(x, 0.25, seed=3), y)
