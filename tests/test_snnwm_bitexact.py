"""golden (numpy) and csim (g++ build of the HLS C++) of the SNNWM kernel agree bit for
bit on the out buffer (spikes, v_last, v_max, readout values and the op counters): 200
random networks with L = 1, L = T, T not a multiple of L, all-zero and all-one trains,
saturating membranes and clipping readouts, window and overlap layers; and bad arguments."""
import numpy as np
import pytest

from spynq.snnwm import backends, encode, golden
from spynq.snnwm.model import random_network, random_rasters

from snnwm_cases import packed, random_cases


def test_random_networks_bit_exact():
    seen = {"L1": 0, "LT": 0, "partial": 0, "zeros": 0, "ones": 0, "saturated": 0, "clipped": 0,
            "window": 0, "overlap": 0, "readout": 0, "silent_layer": 0}
    n = 0
    for net, r in random_cases():
        args = packed(net, r)
        g = golden.run(*args)
        c = backends.csim_call(*args)
        assert g.dtype == c.dtype == np.uint32
        np.testing.assert_array_equal(g, c, err_msg=f"case {n}: {net}")
        T = r.shape[1]
        dec = encode.decode_out(g, net.sizes, T, r.shape[0], net.readout is not None)
        for k, layer in enumerate(net.layers):
            seen["L1"] += layer.L == 1
            seen["LT"] += layer.L == T and T > 1
            seen["partial"] += T % layer.L != 0
            seen[layer.mode] += 1
            seen["saturated"] += int(np.any(dec["v_max"][k] == encode.V_MAX))
            seen["silent_layer"] += int(not dec["spikes"][k].any())
        seen["zeros"] += int(not r.any())
        seen["ones"] += int(r.all())
        if net.readout is not None:
            seen["readout"] += 1
            seen["clipped"] += int(np.any(np.abs(dec["readout"]) >= 2**31 - 1))
        n += 1
    assert n == 200
    assert all(v >= 5 for v in seen.values()), seen


def test_run_api_on_fixed_backends_agrees():
    rng = np.random.default_rng(9)
    net = random_network(rng, [30, 20, 12, 5], 3, "mixed", readout=True, T=25)
    r = random_rasters(rng, 3, 25, 30, 0.2)
    g, c = backends.run(net, r, "golden"), backends.run(net, r, "csim")
    assert c.backend == "csim" and g.readout.shape == (3, 5)
    for k in range(2):
        np.testing.assert_array_equal(g.spikes[k], c.spikes[k])
        np.testing.assert_array_equal(g.v_max[k], c.v_max[k])
        assert g.spikes[k].shape == (3, 25, net.sizes[k + 1]) and g.v_last[k].dtype == float
    np.testing.assert_array_equal(g.readout, c.readout)
    assert g.counts == c.counts and len(g.counts) == 3
    with pytest.raises(ValueError, match="unknown backend"):
        backends.run(net, r, "gpu")


@pytest.mark.parametrize("corrupt", ["magic", "words", "steps", "layers", "n_in", "w1_ofs", "align", "alpha",
                                     "mode", "taps", "P"])
def test_bad_net_rejected_identically(corrupt):
    rng = np.random.default_rng(7)
    net = random_network(rng, [20, 70, 10], 3, "window", readout=True, T=9)
    buf, words, rw, T, batch = packed(net, random_rasters(rng, 2, 9, 20))
    buf = buf.copy()
    C = encode.C
    st1 = C["SNNWM_HDR_WORDS"] + C["SNNWM_STAGE_WORDS"]
    if corrupt == "magic":
        buf[0] ^= 1
    elif corrupt == "words":
        words = int(golden.MAX_NET_WORDS) + 1
        buf = np.resize(buf, words + 4)
    elif corrupt == "steps":
        T = C["SNNWM_MAX_T"] + 1
    elif corrupt == "layers":
        buf[C["SNNWM_H_N_LAYERS"]] = C["SNNWM_MAX_LAYERS"] + 1
    elif corrupt == "n_in":
        buf[st1 + C["SNNWM_SF_N_IN"]] += 1
    elif corrupt == "w1_ofs":
        buf[st1 + C["SNNWM_SF_W1_OFS"]] = words
    elif corrupt == "align":
        buf[st1 + C["SNNWM_SF_W1_OFS"]] -= 4
    elif corrupt == "alpha":
        buf[C["SNNWM_HDR_WORDS"] + C["SNNWM_SF_ALPHA"]] = 1 << 16
    elif corrupt == "mode":
        buf[st1 + C["SNNWM_SF_MODE"]] = C["SNNWM_MODE_WINDOW"]  # the last stage must be the readout
    elif corrupt == "taps":
        buf[C["SNNWM_HDR_WORDS"] + C["SNNWM_SF_TAPS"]] = C["SNNWM_MAX_L"] + 1
    else:
        buf[C["SNNWM_H_P"]] += 2
    g = golden.run(buf, words, rw, T, batch)
    c = backends.csim_call(buf, words, rw, T, batch)
    np.testing.assert_array_equal(g, c)
    assert len(g) == 4 and g[0] == encode.C["SNNWM_ST_BAD_NET"]


def test_empty_batch_writes_only_the_header():
    rng = np.random.default_rng(8)
    net = random_network(rng, [5, 4], 2)
    buf, words, rw, T, _ = packed(net, random_rasters(rng, 1, 3, 5))
    c = backends.csim_call(buf, words, rw, T, 0)
    np.testing.assert_array_equal(c, golden.run(buf, words, rw, T, 0))
    assert c.tolist() == [0, 0, 0, 0]
