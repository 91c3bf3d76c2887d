"""Random STM networks and evidence for the bit-exactness tests and fuzzing.

Covers every distribution family, discrete and continuous parents, single-sample
populations, sizes up to the kernel maxima, and evidence far in the tails.
"""
from __future__ import annotations

import numpy as np

from .encode import C
from .model import CPT, Categorical, Gaussian, LinearGaussian, Network, StateGaussian, Uniform

SIZES = (1, 2, 3, 7, 16, 17, 33, 64, 100, 129, 250)


def _probs(rng, k):
    p = rng.dirichlet(np.full(k, 0.7))
    p = np.maximum(p, 1e-3)
    return p / p.sum()


def _child_dist(rng, parent):
    if parent.discrete:
        s = parent.n_states
        if rng.random() < 0.4:
            k = int(rng.integers(1, 6))
            return CPT([_probs(rng, k) for _ in range(s)])
        return StateGaussian(rng.normal(0, 3, s), rng.uniform(0.2, 3, s))
    return LinearGaussian(rng.uniform(-2, 2), rng.normal(0, 2), rng.uniform(0.1, 3))


def random_network(rng: np.random.Generator, max_hidden: int = 5, max_evidence: int = 5) -> Network:
    net = Network(f"rand{int(rng.integers(1 << 30))}")
    kind = rng.integers(3)
    if kind == 0:
        root = net.root("n0", Categorical(_probs(rng, int(rng.integers(1, 6)))))
    elif kind == 1:
        root = net.root("n0", Gaussian(rng.normal(0, 2), rng.uniform(0.5, 4)))
    else:
        lo = rng.normal(0, 3)
        root = net.root("n0", Uniform(lo, lo + rng.uniform(0.5, 10)))
    hidden = [root]
    for i in range(int(rng.integers(0, max_hidden))):
        parent = hidden[int(rng.integers(len(hidden)))]
        hidden.append(net.add(f"h{i + 1}", parent, _child_dist(rng, parent)))
    # every hidden leaf needs evidence; then sprinkle more observed leaves
    leaves = [h for h in hidden if not h.children]
    extra = int(rng.integers(0, max_evidence))
    targets = leaves + [hidden[int(rng.integers(len(hidden)))] for _ in range(extra)]
    for j, parent in enumerate(targets[: C["STM_MAX_NODES"] - len(hidden)]):
        net.add(f"e{j}", parent, _child_dist(rng, parent), observed=True)
    return net


def random_sizes(rng, network: Network, big: bool = False) -> dict:
    top = C["STM_MAX_SAMPLES"] if big else 250
    return {n.name: int(rng.choice([s for s in SIZES if s <= top] + ([top] if big else [])))
            for n in network.hidden_nodes}


def random_evidence(rng, network: Network, batch: int, tails: float = 0.25) -> np.ndarray:
    """Evidence drawn from the model, with a fraction pushed far into the tails."""
    pops = network.sample(batch + 1, seed=int(rng.integers(1 << 30)))
    ev = np.zeros((batch, len(network.evidence_nodes)))
    for j, node in enumerate(network.evidence_nodes):
        parent_vals = pops[node.parent.name][:batch]
        ev[:, j] = node.dist.sample(rng, batch, parent_vals)
        if not node.discrete:
            far = rng.random(batch) < tails
            ev[far, j] += rng.choice([-1, 1], far.sum()) * rng.choice([20.0, 200.0, 3e4], far.sum())
            ev[:, j] = np.clip(ev[:, j], -32000, 32000)
    return ev
