"""Shared STM test cases: the random networks every tier is checked on, and edge cases."""
import numpy as np

from spynq import overlays
from spynq.stm import encode, randnet
from spynq.stm.model import CPT, Categorical, Network, StateGaussian

N_RANDOM = 200

# A setting for the tests only: the fewest lanes, a fusion that divides nothing, small maxima.
ODD_SETTING = {"STM_LANES": 4, "STM_EV_FUSE": 3, "STM_MAX_SAMPLES": 1024, "STM_MAX_HIDDEN": 6}


def parameter_settings() -> dict:
    """Non-default STM parameter settings to build and test: every overlay's (overlays.json:
    "all" has half the lanes, one evidence child per pass, at most 8 hidden nodes, and keeps
    4096 samples so the paper's workloads run at N = 4000) and ODD_SETTING."""
    out = {f"overlay {o}": overlays.kernel_params(o, "stm") for o in overlays.names()
           if "stm" in overlays.kernels(o) and overlays.kernel_params(o, "stm")}
    if ODD_SETTING not in out.values():
        out["odd"] = ODD_SETTING
    return out


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


def extreme_operand_buffers():
    """(name, net words, net_words, evidence words, batch): operands at the edges of the
    kernel's narrowed energy products (a*x where neither factor fits 26 bits, |d|*r where
    r is the wide factor or neither is narrow), Q15.16 extremes of b and evidence, and raw
    words outside a node's states (the kernel clamps them to the last row / column)."""
    from spynq.stm.model import CPT, LinearGaussian, StateGaussian, Uniform

    rng = np.random.default_rng(11)
    net = Network("wide_a")  # a and most x wide: d saturates, its sign sets the rounding of t
    s = net.root("S", Uniform(-2000.0, 2000.0))
    net.add("E1", s, LinearGaussian(900.0, -5000.0, 3000.0), observed=True)
    net.add("E2", s, LinearGaussian(-30000.0, 30000.0, 5000.0), observed=True)
    pops = net.sample(200, seed=3)
    ev = {"E1": rng.uniform(-32000, 32000, 4), "E2": [0.0, 31000.0, -31000.0, 12.5]}
    p = encode.pack_network(net, pops)
    yield net.name, p.net, p.net_words, encode.pack_evidence(net, ev), 4

    net = Network("wide_r")  # r ~ 70.7 wide: d narrow near the diagonal, else both wide
    s = net.root("S", Uniform(-2000.0, 2000.0))
    h = net.add("H", s, LinearGaussian(1.0, 0.0, 0.01))
    net.add("E3", h, LinearGaussian(1.0, 0.0, 0.01), observed=True)
    net.add("E4", h, LinearGaussian(0.001, 20000.0, 0.5), observed=True)
    pops = net.sample({"S": 120, "H": 100}, seed=4)
    near = pops["H"][rng.integers(0, 100, 6)] + np.array([0.0, 0.05, 0.5, 3.0, -0.2, 40.0])
    ev = {"E3": near, "E4": rng.uniform(-32000, 32000, 6)}
    p = encode.pack_network(net, pops)
    yield net.name, p.net, p.net_words, encode.pack_evidence(net, ev), 6

    net = Network("states_out_of_range")
    a = net.root("A", Categorical([0.1, 0.2, 0.3, 0.4]))
    b = net.add("B", a, StateGaussian([-20000.0, -3.0, 3.0, 20000.0], [0.01, 0.5, 2.0, 100.0]))
    net.add("C", a, CPT([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [1 / 3, 1 / 3, 1 / 3]]),
            observed=True)
    net.add("D", b, LinearGaussian(600.0, 100.0, 0.02), observed=True)
    pops = net.sample({"A": 40, "B": 50}, seed=5)
    ev = {"C": [0, 2, 1, 0], "D": [20000.0, -31000.0, 0.0, 5.0]}
    p = encode.pack_network(net, pops)
    evw = encode.pack_evidence(net, ev)
    row = encode.evidence_row_words(2)
    col_c = [n.name for n in net.evidence_nodes].index("C")
    evw[col_c], evw[row + col_c] = 7, 0xFFFFFFFF  # child states >= cs: the last column
    buf = p.net.copy()
    a_idx = p.order.index("A")
    a_ofs = int(buf[encode.C["STM_HDR_WORDS"] + a_idx * encode.C["STM_NODE_WORDS"] + encode.C["STM_NF_SAMPLE_OFS"]])
    buf[a_ofs:a_ofs + 3] = [9, 0xFFFFFFF0, 4]  # parent states >= ps: the last row
    yield net.name, buf, p.net_words, evw, 4
