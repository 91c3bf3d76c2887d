"""golden (numpy) and csim (g++ build of the HLS C++) of the SNNWM kernel agree bit for
bit on the out buffer (spikes, v_last, v_max, readout values and the op counters): 200
random networks with L = 1, L = T, T not a multiple of L, all-zero and all-one trains,
saturating membranes and clipping readouts, window and overlap layers; thresholds and
rest potentials outside the 24-bit state; bad arguments; and csim built with the overlay
parameter settings (smaller limits, same results)."""
import numpy as np
import pytest

from spynq import overlays
from spynq.hw import cconfig, csim
from spynq.snnwm import backends, encode, golden
from spynq.snnwm.model import random_network, random_rasters

from snnwm_cases import packed, random_cases, small_cases

# Overlay parameter settings (hls/snnwm/snnwm_config.h) besides the defaults: every
# overlay's (overlays/zcu104/overlays.json), and the smallest the code takes (one beat of
# inputs, so the NZ loop never has a next mask).
SETTINGS = {f"overlay {o}": overlays.kernel_params(o, "snnwm") for o in overlays.names()
            if "snnwm" in overlays.kernels(o) and overlays.kernel_params(o, "snnwm")}
SETTINGS["smallest"] = {"SNNWM_MAX_N": 128, "SNNWM_MAX_T": 64, "SNNWM_MAX_SYN": 16384}


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


def test_threshold_and_rest_outside_the_state_range():
    """The header takes any int32 theta and v_rest (golden: V = v_rest after a spike,
    unsaturated, decayed at the next step). The kernel keeps V in 24 bits and carries
    "fired" instead, so these must still match: v_rest far above and below the state
    range, theta below V_MIN (always fires) and above V_MAX (never fires)."""
    rng = np.random.default_rng(31)
    C = encode.C
    f = [C["SNNWM_HDR_WORDS"] + k * C["SNNWM_STAGE_WORDS"] for k in range(3)]
    th, vr = C["SNNWM_SF_THETA"], C["SNNWM_SF_VREST"]
    combos = [(1 << 14, 0x7FFFFF00), (1 << 14, -(1 << 31)), (-(1 << 30), -(1 << 31)), (-(1 << 30), 1 << 29),
              ((1 << 23) + 5, 0x7FFFFFFF), (1 << 16, (1 << 23) + 3)]
    seen_rest = 0
    for i, (theta, vrest) in enumerate(combos):
        net = random_network(rng, [40, 70, 30, 6], int(rng.integers(1, 5)), "mixed", readout=True, T=13,
                             weight_scale=4.0)
        buf, words, rw, T, batch = packed(net, random_rasters(rng, 2, 13, 40, 0.3))
        buf = buf.copy()
        for k in (0, 1):
            buf[f[k] + th] = np.uint32(theta & 0xFFFFFFFF)
            buf[f[k] + vr] = np.uint32(vrest & 0xFFFFFFFF)
        g = golden.run(buf, words, rw, T, batch)
        np.testing.assert_array_equal(g, backends.csim_call(buf, words, rw, T, batch), err_msg=f"combo {i}")
        dec = encode.decode_out(g, net.sizes, T, batch, True)
        seen_rest += int(np.any(dec["v_last"][0] == vrest))
    assert seen_rest >= 3  # the reset value itself reached the out buffer


def _within(net, T, lim) -> bool:
    p = encode.pack_network(net)
    P = int(p.net[encode.C["SNNWM_H_P"]])
    return (max(net.sizes) <= lim["SNNWM_MAX_N"] and T <= lim["SNNWM_MAX_T"] and P <= lim["SNNWM_MAX_HDR_WORDS"]
            and all(layer.L <= lim["SNNWM_MAX_L"] for layer in net.layers)
            and (net.readout is None or net.readout.K <= lim["SNNWM_MAX_K"])
            and p.net_words - P <= lim["SNNWM_MAX_SYN"])


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_overlay_settings_bit_exact(setting):
    """csim built with -D<parameter>=value equals golden on random cases within the
    setting's limits and on a case at them; one step beyond its T limit it rejects the
    call (golden, at the default limits, accepts it), so the build did take the setting."""
    params = SETTINGS[setting]
    lim = cconfig.read_constants("snnwm/snnwm_config.h", params)

    def run(args):
        return csim.call("snnwm", args[0], args[1], args[2], args[3:], defines=params)

    cases = random_cases(40, seed=606) if lim["SNNWM_MAX_N"] >= 200 else small_cases(40, seed=607)
    n = 0
    for net, r in cases:
        if _within(net, r.shape[1], lim):
            args = packed(net, r)
            np.testing.assert_array_equal(golden.run(*args), run(args), err_msg=f"{setting}: {net}")
            n += 1
    assert n >= 20
    rng = np.random.default_rng(5)
    N, Tm = lim["SNNWM_MAX_N"], lim["SNNWM_MAX_T"]
    n_out = lim["SNNWM_MAX_SYN"] // N  # W1 of n_in = N inputs fills the store
    edge = random_network(rng, [N, n_out], Tm, "window", T=Tm, weight_scale=3.0)
    assert _within(edge, Tm, lim)
    args = packed(edge, random_rasters(rng, 1, Tm, N, 0.2))
    g = golden.run(*args)
    np.testing.assert_array_equal(g, run(args))
    assert encode.decode_out(g, edge.sizes, Tm, 1, False)["spikes"][0].any()
    small = random_network(rng, [10, 8], 2, "window")
    args = packed(small, random_rasters(rng, 1, Tm + 1, 10, 0.3))
    assert golden.run(*args)[0] == 0 and run(args).tolist() == [encode.C["SNNWM_ST_BAD_NET"], 0, 0, 0]
