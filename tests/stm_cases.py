"""Shared STM test cases: the random networks every tier is checked on, and edge cases."""
import numpy as np

from spynq.stm import encode, randnet
from spynq.stm.model import CPT, Categorical, Network, StateGaussian

N_RANDOM = 200


def random_cases(n=N_RANDOM, seed=2024):
    """(network, populations, evidence) triples; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        net = randnet.random_network(rng)
        pops = net.sample(randnet.random_sizes(rng, net), seed=i)
        yield net, pops, randnet.random_evidence(rng, net, int(rng.integers(1, 4)))


def zero_sum_case():
    """Two children whose messages have disjoint support: the root's weight sum is 0."""
    net = Network("disjoint")
    a = net.root("A", Categorical([0.5, 0.5]))
    ident = CPT([[1.0, 0.0], [0.0, 1.0]])
    b = net.add("B", a, ident)
    c = net.add("C", a, ident)
    net.add("KB", b, ident, observed=True)
    net.add("KC", c, ident, observed=True)
    return net, net.sample(64, seed=1), np.array([[0, 1], [0, 0]])


def max_size_case():
    """Kernel maxima: 16 nodes, 4096-sample populations, 16-state root."""
    c = encode.C
    net = Network("maxima")
    rng = np.random.default_rng(7)
    a = net.root("A", Categorical(np.full(c["STM_MAX_STATES"], 1 / c["STM_MAX_STATES"])))
    b = net.add("B", a, StateGaussian(rng.normal(0, 3, c["STM_MAX_STATES"]), rng.uniform(0.5, 2, c["STM_MAX_STATES"])))
    leaves = 0
    while len(net.nodes) < c["STM_MAX_NODES"]:
        parent = b if leaves % 2 else a
        dist = (StateGaussian(rng.normal(0, 2, c["STM_MAX_STATES"]), np.ones(c["STM_MAX_STATES"]))
                if parent is a else None)
        if dist is None:
            from spynq.stm.model import LinearGaussian
            dist = LinearGaussian(1.0, 0.0, 1.0)
        net.add(f"E{leaves}", parent, dist, observed=True)
        leaves += 1
    pops = net.sample({"A": c["STM_MAX_SAMPLES"], "B": c["STM_MAX_SAMPLES"]}, seed=3)
    return net, pops, randnet.random_evidence(rng, net, 2, tails=0.0)
