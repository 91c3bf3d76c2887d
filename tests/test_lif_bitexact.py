"""golden (numpy) and csim (g++ build of the HLS C++) of the LIF delay kernel agree bit for
bit on the out buffer: 200 random networks covering every delay mode, delays 0 and D-1,
membrane saturation, silent layers and both reset modes; back-to-back deliveries into one
ring slot; raster padding bits; header values outside the state range; the kernel built
with the all-kernels overlay's smaller limits; and bad arguments. Every csim run also
checks the loop-carried distances the RUN loop's DEPENDENCE pragmas declare."""
import numpy as np
import pytest

from spynq import overlays
from spynq.hw import csim
from spynq.lif import backends, encode, golden
from spynq.lif.model import random_network, random_rasters

from lif_cases import checks, hazards, packed, random_cases, same_slot_cases

V_MAX = encode.V_MAX


def test_random_networks_bit_exact():
    seen = {"saturated": 0, "silent_layer": 0, "subtract": 0, "zero": 0, "current": 0, "refractory": 0,
            "axonal": 0, "synapse": 0, "none": 0, "delay0": 0, "delay_max": 0}
    n = 0
    hazards(reset=True)
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
    assert hazards() == (0, 0, 0)


def test_back_to_back_same_slot_deliveries():
    """Every input spikes in the same steps, half with delay 0 and half with D-1, into 1, 2,
    3 and 4 lane groups over several layers: the slots get many deliveries in a row (the
    copies of the small layers take them in turn). csim equals golden, and no ring or
    state read comes closer to its last write than the declared distance."""
    hazards(reset=True)
    for k, (net, r) in enumerate(same_slot_cases()):
        args = packed(net, r)
        np.testing.assert_array_equal(golden.run(*args), backends.csim_call(*args), err_msg=f"case {k}")
        assert hazards() == (0, 0, 0), k


@pytest.mark.parametrize("switch, kind", [("LIF_CSIM_ONE_COPY", 0), ("LIF_CSIM_NO_PAD", 1)])
def test_distance_check_sees_a_broken_order(switch, kind):
    """The distance check can fail: built with one ring copy (LIF_CSIM_ONE_COPY), a one-group
    layer takes consecutive spikes' deliveries into the same cell one iteration apart;
    without padding (LIF_CSIM_NO_PAD), a quiet step updates a state 4 iterations after the
    last update. C semantics still give the golden answer (which is why equality alone
    proves nothing about the pipeline), but the check counts the too-close reads."""
    sw = {switch: 1}
    net, r = next(same_slot_cases())
    args = packed(net, r)
    hazards(sw, reset=True)
    np.testing.assert_array_equal(golden.run(*args), csim.call("lif_delay", *args[:3], args[3:], defines=sw))
    found = hazards(sw)
    assert found[kind] > 100 and found[1 - kind] == found[2] == 0, found


def test_raster_padding_bits_are_not_inputs():
    """Bits past n_in in a raster row (padding to whole beats) are set in the packed words:
    golden ignores them, so must the kernel (finding L1)."""
    rng = np.random.default_rng(12)
    for n_in, sizes in ((20, [70, 200, 10]), (130, [64, 30]), (128, [40])):
        net = random_network(rng, [n_in, *sizes], "synapse", 20)
        buf, words, rw, T, batch = packed(net, random_rasters(rng, 2, 15, n_in, 0.2))
        dirty = rw.copy().reshape(batch * T, -1)
        pad = np.ones(dirty.shape[1] * 32, bool)
        pad[:n_in] = False
        pad_words = np.packbits(pad, bitorder="little").view("<u4")
        dirty |= pad_words  # every padding bit set, in every row
        dirty = dirty.ravel()
        assert (dirty != rw).any() == (n_in % 128 != 0)
        g = golden.run(buf, words, dirty, T, batch)
        np.testing.assert_array_equal(g, golden.run(buf, words, rw, T, batch))
        np.testing.assert_array_equal(g, backends.csim_call(buf, words, dirty, T, batch), err_msg=str(n_in))


def test_header_values_outside_the_state_range():
    """v_reset and theta are 32-bit header words the golden model does not clip (the host
    encoder keeps them in Q7.16): with v_reset = +-2^28 the kernel, which keeps 24-bit
    states, still follows golden (V = v_reset is held by a flag)."""
    rng = np.random.default_rng(13)
    net = random_network(rng, [30, 40, 20], "axonal", 10, weight_scale=4, reset="zero", refractory=1)
    buf, words, rw, T, batch = packed(net, random_rasters(rng, 2, 30, 30, 0.3))
    for vreset, theta in ((1 << 28, 1 << 16), (-(1 << 28), 1 << 15), (5 << 16, 1 << 30)):
        b = buf.copy()
        for k in range(2):
            f = encode.C["LIF_HDR_WORDS"] + k * encode.C["LIF_LAYER_WORDS"]
            b[f + encode.C["LIF_LF_VRESET"]] = np.uint32(vreset & 0xFFFFFFFF)
            b[f + encode.C["LIF_LF_THETA"]] = np.uint32(theta)
        g = golden.run(b, words, rw, T, batch)
        np.testing.assert_array_equal(g, backends.csim_call(b, words, rw, T, batch))
        v_last = encode.decode_out(g, net.sizes, T, batch)["v_last"]
        if theta < 1 << 23:  # neurons fire: some end held at the out-of-range v_reset
            assert any((v == vreset).any() for v in v_last), vreset


ALL = overlays.kernel_params("all", "lif_delay") or {"LIF_MAX_N": 512, "LIF_MAX_T": 512}


def test_overlay_setting_bit_exact():
    """The kernel compiled with the all-kernels overlay's smaller limits gives the same out
    words on cases within those limits (only the limits change, not the formats)."""
    lim = encode.C | ALL
    assert lim["LIF_MAX_N"] < encode.C["LIF_MAX_N"] or lim["LIF_MAX_T"] < encode.C["LIF_MAX_T"]
    rng = np.random.default_rng(14)
    cases = [(random_network(rng, [300, lim["LIF_MAX_N"], 100], "synapse", 127), 30),
             (random_network(rng, [lim["LIF_MAX_IN"], 64, 64, 3], "mixed", 40), lim["LIF_MAX_T"])]
    cases += [(net, r.shape[1]) for net, r in random_cases(4, seed=15)]
    hazards(ALL, reset=True)
    for k, (net, T) in enumerate(cases):
        r = random_rasters(rng, 2, T, net.n_in, 0.05)
        args = packed(net, r)
        np.testing.assert_array_equal(golden.run(*args), csim.call("lif_delay", *args[:3], args[3:], defines=ALL),
                                      err_msg=f"case {k}")
    assert hazards(ALL) == (0, 0, 0)


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


@pytest.mark.parametrize("setting", ["default", "all"])
def test_event_fifo_depth_is_the_largest_occupancy(setting):
    """The event FIFO is sized to its true maximum, T * ceil(LIF_MAX_IN / 128) entries: a
    widest, longest input with every 128-bit block non-empty reaches exactly that, and no
    write finds the FIFO full (which in hardware would stall RUN for ever)."""
    from spynq.hw.hlsparse import constants

    defines = {} if setting == "default" else ALL
    env = constants("lif_delay", defines)
    rng = np.random.default_rng(16)
    net = random_network(rng, [env["LIF_MAX_IN"], 64, 130], None, weight_scale=3)
    r = random_rasters(rng, 1, env["LIF_MAX_T"], env["LIF_MAX_IN"], 0.1)
    args = packed(net, r)
    checks(defines, reset=True)
    np.testing.assert_array_equal(golden.run(*args), csim.call("lif_delay", *args[:3], args[3:], defines=defines))
    c = checks(defines)
    assert c["fifo_max"] == env["EV_DEPTH"] == env["LIF_MAX_T"] * env["LIF_MAX_IN"] // 128, c
    assert c["fifo_full"] == c["ring"] == c["state"] == 0, c
