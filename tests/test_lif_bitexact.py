"""golden (numpy) and csim (g++ build of the HLS C++) of the LIF delay kernel agree bit for
bit on the out buffer: 200 random networks covering every delay mode, delays 0 and D-1,
membrane saturation, silent layers and both reset modes; and bad arguments."""
import numpy as np
import pytest

from spynq.lif import backends, encode, golden
from spynq.lif.model import random_network, random_rasters

from lif_cases import packed, random_cases

V_MAX = encode.V_MAX


def test_random_networks_bit_exact():
    seen = {"saturated": 0, "silent_layer": 0, "subtract": 0, "zero": 0, "current": 0, "refractory": 0,
            "axonal": 0, "synapse": 0, "none": 0, "delay0": 0, "delay_max": 0}
    n = 0
    for net, r in random_cases():
        args = packed(net, r)
        g = golden.run(*args)
        c = backends.csim_call(*args)
        assert g.dtype == c.dtype == np.uint32
        np.testing.assert_array_equal(g, c, err_msg=f"case {n}: {net}")
        dec = encode.decode_out(g, net.sizes, r.shape[1], r.shape[0])
        for k, layer in enumerate(net.layers):
            seen["saturated"] += int(np.any(dec["v_max"][k] == V_MAX))
            seen["silent_layer"] += int(not dec["spikes"][k].any())
            seen[layer.params.reset] += 1
            seen["current"] += layer.params.beta is not None
            seen["refractory"] += layer.params.refractory > 0
            seen[layer.delay_mode or "none"] += 1
            if layer.delays is not None:
                seen["delay0"] += int((layer.delays == 0).any())
                seen["delay_max"] += int((layer.delays == encode.C["LIF_RING"] - 1).any())
        n += 1
    assert n == 200
    assert all(v >= 5 for v in seen.values()), seen


def test_target_network_bit_exact():
    rng = np.random.default_rng(5)
    net = random_network(rng, [700, 128, 128, 20], "synapse", 64)
    r = random_rasters(rng, 2, 100, 700, 0.05)
    args = packed(net, r)
    np.testing.assert_array_equal(golden.run(*args), backends.csim_call(*args))


def test_split_network_runs_the_same_plan():
    """A 1024-input, 4 x 1024-neuron network does not fit one call: csim and golden run the
    same plan of column tiles and agree; the tiles reproduce the unsplit golden model."""
    rng = np.random.default_rng(6)
    net = random_network(rng, [1024, 1024, 300, 64, 10], "axonal", 20, weight_scale=3)
    plan = backends.plan_calls(net)
    assert len(plan) > 2 and all(len(c) == 1 for c in plan[:4])
    r = random_rasters(rng, 1, 12, 1024, 0.05)
    g = backends.run(net, r, "golden")
    c = backends.run(net, r, "csim")
    for k in range(len(net.layers)):
        np.testing.assert_array_equal(g.spikes[k], c.spikes[k])
        np.testing.assert_array_equal(g.raw["v_last"][k], c.raw["v_last"][k])
    # the tiling changes nothing: compare with the golden model of the whole network
    layers = [dict(n_in=l.n_in, n_out=l.n_out, w=np.round(l.weights * 4096).astype(np.int64),
                   d=l.synapse_delays(), theta=round(l.params.threshold * 65536),
                   vreset=round(l.params.v_reset * 65536), refractory=l.params.refractory,
                   alpha=round(l.params.alpha * 65536),
                   beta=0 if l.params.beta is None else round(l.params.beta * 65536),
                   flags=(1 if l.params.reset == "subtract" else 0) | (2 if l.params.beta is not None else 0))
              for l in net.layers]
    whole = golden.simulate(layers, r)
    for k in range(len(net.layers)):
        np.testing.assert_array_equal(whole["spikes"][k], g.spikes[k])


@pytest.mark.parametrize("corrupt", ["magic", "words", "steps", "layers", "n_in", "syn_ofs", "align", "alpha"])
def test_bad_net_rejected_identically(corrupt):
    rng = np.random.default_rng(7)
    net = random_network(rng, [20, 70, 10], "synapse", 5)
    buf, words, rw, T, batch = packed(net, random_rasters(rng, 2, 9, 20))
    buf = buf.copy()
    lay1 = encode.C["LIF_HDR_WORDS"] + encode.C["LIF_LAYER_WORDS"]
    if corrupt == "magic":
        buf[0] ^= 1
    elif corrupt == "words":
        words = int(golden.MAX_NET_WORDS) + 1
        buf = np.resize(buf, words + 4)
    elif corrupt == "steps":
        T = encode.C["LIF_MAX_T"] + 1
    elif corrupt == "layers":
        buf[1] = encode.C["LIF_MAX_LAYERS"] + 1
    elif corrupt == "n_in":
        buf[lay1 + encode.C["LIF_LF_N_IN"]] += 1
    elif corrupt == "syn_ofs":
        buf[lay1 + encode.C["LIF_LF_SYN_OFS"]] = words
    elif corrupt == "align":
        buf[lay1 + encode.C["LIF_LF_SYN_OFS"]] -= 4
    else:
        buf[lay1 + encode.C["LIF_LF_ALPHA"]] = 1 << 16
    g = golden.run(buf, words, rw, T, batch)
    c = backends.csim_call(buf, words, rw, T, batch)
    np.testing.assert_array_equal(g, c)
    assert len(g) == 4 and g[0] == encode.C["LIF_ST_BAD_NET"]


def test_empty_batch_writes_only_the_header():
    rng = np.random.default_rng(8)
    net = random_network(rng, [5, 4], None)
    buf, words, rw, T, _ = packed(net, random_rasters(rng, 1, 3, 5))
    c = backends.csim_call(buf, words, rw, T, 0)
    np.testing.assert_array_equal(c, golden.run(buf, words, rw, T, 0))
    assert c.tolist() == [0, 0, 0, 0]


def test_run_api_on_fixed_backends_agrees():
    rng = np.random.default_rng(9)
    net = random_network(rng, [30, 20, 5], "mixed", 10)
    r = random_rasters(rng, 3, 25, 30, 0.2)
    g, c = backends.run(net, r, "golden"), backends.run(net, r, "csim")
    assert c.backend == "csim" and c.info["calls"] == 1
    for k in range(2):
        np.testing.assert_array_equal(g.spikes[k], c.spikes[k])
        np.testing.assert_array_equal(g.counts[k], c.counts[k])
        np.testing.assert_array_equal(g.v_max[k], c.v_max[k])
        assert g.spikes[k].shape == (3, 25, net.sizes[k + 1]) and g.v_last[k].dtype == float
    with pytest.raises(ValueError, match="unknown backend"):
        backends.run(net, r, "gpu")
