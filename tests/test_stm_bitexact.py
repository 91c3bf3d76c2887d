"""golden (numpy) and csim (g++ build of the HLS C++) agree bit for bit on the out buffer, for
the default overlay parameters and for other settings."""
import numpy as np
import pytest

from spynq.hw import csim
from spynq.hw.cconfig import read_constants
from spynq.stm import backends, encode, golden, workloads
from spynq.stm.model import Gaussian, LinearGaussian, Network
from spynq.stm.result import ST_BAD_NET, ST_SATURATED, ST_ZERO_SUM

from stm_cases import extreme_operand_buffers, max_size_case, parameter_settings, random_cases, zero_sum_case

SETTINGS = parameter_settings()


def both(net, pops, ev):
    packed = encode.pack_network(net, pops)
    evw = encode.pack_evidence(net, ev)
    g = golden.run(packed.net, packed.net_words, evw, len(ev))
    c = backends.csim_call(packed.net, packed.net_words, evw, len(ev))
    return g, c


def test_random_networks_bit_exact():
    seen = 0
    flags = 0
    for net, pops, ev in random_cases():
        g, c = both(net, pops, ev)
        assert g.dtype == c.dtype == np.uint32
        np.testing.assert_array_equal(g, c, err_msg=f"network {net.name}")
        flags |= int(np.bitwise_or.reduce(g[:: encode.out_row_words(len(pops[net.root_node.name]))]))
        seen += 1
    assert seen == 200
    assert flags & ST_SATURATED, "the random cases must reach the tail-evidence saturation path"


def test_maxima_bit_exact():
    g, c = both(*max_size_case())
    np.testing.assert_array_equal(g, c)
    assert g[0] & (ST_ZERO_SUM | ST_BAD_NET) == 0


def test_zero_sum_is_flagged_identically():
    net, pops, ev = zero_sum_case()
    g, c = both(net, pops, ev)
    np.testing.assert_array_equal(g, c)
    row = encode.out_row_words(64)
    assert g[0] & ST_ZERO_SUM and g[2] == len(net.nodes)  # first zero sum at the root
    assert not np.any(g[4:row])  # all weights zero
    assert g[row] & ST_ZERO_SUM == 0  # the consistent evidence set is fine
    res = backends.infer(net, pops, ev, "csim")
    assert np.isnan(res.posterior()[0]).all() and np.isfinite(res.posterior()[1]).all()
    cpu = backends.infer(net, pops, ev, "cpu")
    assert cpu.status[0] & ST_ZERO_SUM and not cpu.status[1] & ST_ZERO_SUM


@pytest.mark.parametrize("corrupt", ["magic", "words", "batch", "parent", "align"])
def test_bad_net_rejected_identically(corrupt):
    net, pops, ev = next(random_cases(1, seed=5))
    p = encode.pack_network(net, pops)
    words, batch, buf = p.net_words, len(ev), p.net.copy()
    node0 = encode.C["STM_HDR_WORDS"]
    if corrupt == "magic":
        buf[0] ^= 1
    elif corrupt == "words":
        words = encode.C["STM_MAX_NET_WORDS"] + 1
        buf = np.resize(buf, words + 4)
    elif corrupt == "batch":
        batch = encode.C["STM_MAX_BATCH"] + 1
    elif corrupt == "parent":
        buf[node0 + encode.C["STM_NF_PARENT"]] = 0  # a node cannot be its own parent
    else:
        root = node0 + (len(net.nodes) - 1) * encode.C["STM_NODE_WORDS"]
        buf[root + encode.C["STM_NF_SAMPLE_OFS"]] += 1
    evw = encode.pack_evidence(net, ev)
    g = golden.run(buf, words, evw, batch)
    c = backends.csim_call(buf, words, evw, batch)
    np.testing.assert_array_equal(g, c)
    assert len(g) == 4 and g[0] == ST_BAD_NET


def test_empty_batch_writes_nothing():
    net, pops, ev = next(random_cases(1, seed=9))
    p = encode.pack_network(net, pops)
    assert len(backends.csim_call(p.net, p.net_words, encode.pack_evidence(net, ev), 0)) == 0


def _branches(nodes, child, parent, c):
    """Which factor the kernel's narrowed products take, for energy(c | x) of one edge
    over every parent sample (numpy, from the decoded buffer)."""
    from spynq.fixed import to_s32

    x = parent.samples.astype(np.int64)
    p = child.params.reshape(-1, 4)
    row = np.where((x >= 0) & (x < child.pstates), x, child.pstates - 1) if child.pstates > 1 else np.zeros_like(x)
    a, b, r = to_s32(p[row, 0]), to_s32(p[row, 1]), p[row, 2]
    fits26 = lambda v: (v >= -(1 << 25)) & (v < (1 << 25))  # noqa: E731
    d = np.clip(np.asarray(c, np.int64)[:, None] - (((a * x) >> 16) + b)[None, :], -SAT_D, SAT_D)
    ad = np.abs(d)
    return {"a wide, x narrow": (~fits26(a) & fits26(x)).any(), "a narrow, x wide": (fits26(a) & ~fits26(x)).any(),
            "a and x wide": (~fits26(a) & ~fits26(x)).any(),
            "d narrow, r wide": ((ad < 1 << 20) & (r >= 1 << 20)[None, :]).any(),
            "d wide, r narrow": ((ad >= 1 << 20) & (r < 1 << 20)[None, :]).any(),
            "d and r wide": ((ad >= 1 << 20) & (r >= 1 << 20)[None, :]).any()}


SAT_D = (1 << 31) - 1


def test_extreme_energy_operands_bit_exact():
    from spynq.fixed import to_s32

    seen = {}
    for name, net, words, evw, batch in extreme_operand_buffers():
        g = golden.run(net, words, evw, batch)
        c = backends.csim_call(net, words, evw, batch)
        np.testing.assert_array_equal(g, c, err_msg=name)
        nodes = golden.parse_net(net, words)
        ev = to_s32(np.asarray(evw, np.uint32)).reshape(batch, -1)
        for v in nodes:
            if v.kind != encode.C["STM_KIND_GAUSS"]:
                continue
            vals = v.samples if v.samples is not None else ev[:, v.evidence]
            for k, hit in _branches(nodes, v, nodes[v.parent], vals).items():
                seen[k] = seen.get(k, False) or bool(hit)
    assert all(seen.values()), seen


def _chain(hidden: int):
    """A root and a chain of hidden nodes, one observed leaf at the end."""
    net = Network(f"chain{hidden}")
    v = net.root("R", Gaussian(0.0, 1.0))
    for i in range(1, hidden):
        v = net.add(f"H{i}", v, LinearGaussian(0.9, 0.1, 0.7))
    net.add("E", v, LinearGaussian(1.0, 0.0, 0.5), observed=True)
    return net


@pytest.mark.parametrize("setting", SETTINGS)
def test_overlay_parameter_settings_equal_golden(setting):
    """A csim build with other overlay parameters gives the golden model's words bit for bit
    on every case within its limits, and rejects what lies beyond them."""
    defines = SETTINGS[setting]
    lim = read_constants("stm/stm_config.h", defines)
    wl = workloads.multi_layer_causal()  # 6 hidden nodes, 3 evidence leaves
    n_big = min(1024, lim["STM_MAX_SAMPLES"])
    cases = [(wl.network, wl.network.sample(n_big, seed=1), wl.evidence(2, seed=2))]
    cases += list(random_cases(40, seed=77))
    checked = 0
    for net, pops, ev in cases:
        p = encode.pack_network(net, pops)
        assert (len(net.hidden_nodes) <= lim["STM_MAX_HIDDEN"] and p.net_words <= lim["STM_MAX_NET_WORDS"]
                and max(map(len, pops.values())) <= lim["STM_MAX_SAMPLES"]), net.name
        evw = encode.pack_evidence(net, ev)
        g = golden.run(p.net, p.net_words, evw, len(ev))
        c = csim.call("stm", p.net, p.net_words, evw, (len(ev),), defines=defines)
        np.testing.assert_array_equal(g, c, err_msg=f"{net.name} with {defines}")
        checked += 1
    for name, net_w, words, evw, batch in extreme_operand_buffers():
        np.testing.assert_array_equal(golden.run(net_w, words, evw, batch),
                                      csim.call("stm", net_w, words, evw, (batch,), defines=defines), err_msg=name)
    assert checked == 41
    # one hidden node too many for this build: rejected, while the default build takes it
    net = _chain(lim["STM_MAX_HIDDEN"] + 1)
    p = encode.pack_network(net, net.sample(20, seed=0))
    evw = encode.pack_evidence(net, {"E": [0.5]})
    assert csim.call("stm", p.net, p.net_words, evw, (1,), defines=defines)[0] == ST_BAD_NET
    np.testing.assert_array_equal(golden.run(p.net, p.net_words, evw, 1), backends.csim_call(p.net, p.net_words, evw, 1))
