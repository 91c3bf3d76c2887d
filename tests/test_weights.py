"""Weights in and out (spynq.weights): .npz and safetensors round trips, files written
by the safetensors package (and ours read by it), reference files built byte by byte
from the format's definition, one clear error per malformed file, and the key maps from
SpikingJelly / BIDL state_dict layouts onto spynq.nn params."""
import json
import math
import struct

import numpy as np
import pytest

from spynq import nn, weights as W
from spynq.errors import SpynqError, SpynqValueError


def st_bytes(header: dict, buf: bytes, pad: int = 0) -> bytes:
    """A safetensors file from its definition: u64 LE header length, JSON, buffer."""
    h = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(h)) + h + buf


def write(tmp_path, data: bytes, name="x.safetensors"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


ALL = {"f64": np.linspace(-1, 1, 6).reshape(2, 3), "f32": np.arange(4, dtype=np.float32) - 1.5,
       "f16": np.array([0.5, -2.0, 65504.0], np.float16), "i64": np.array([-(2 ** 40), 7]), "i32": np.array([3], np.int32),
       "i8": np.array([-128, 127], np.int8), "u8": np.arange(5, dtype=np.uint8), "bool": np.array([True, False, True]),
       "scalar": np.array(2.5), "empty": np.zeros((0, 3), np.float32)}


# ---------------------------------------------------------------------- round trips


def test_npz_round_trip_of_a_params_pytree(tmp_path):
    net = nn.Sequential(nn.Linear(4, 3), nn.DALIF(), nn.Linear(3, 2), nn.PLIF())
    p = net.init(5)
    W.save(tmp_path / "p.npz", p)
    flat = W.load(tmp_path / "p.npz")
    assert set(flat) == set(W.flatten(p)) and "0_linear.w" in flat
    back = W.unflatten(flat)
    for layer, d in p.items():
        for k, v in d.items():
            assert back[layer][k].dtype == np.asarray(v).dtype and np.array_equal(back[layer][k], v)


def test_safetensors_round_trip_every_dtype(tmp_path):
    W.save(tmp_path / "a.safetensors", ALL, metadata={"format": "np", "who": "spynq"})
    t, meta = W.read_safetensors(tmp_path / "a.safetensors")
    assert meta == {"format": "np", "who": "spynq"}
    for k, v in ALL.items():
        want = v.astype(np.float32) if v.dtype == np.float16 else v  # F16 reads as float32
        assert t[k].dtype == want.dtype and t[k].shape == v.shape and np.array_equal(t[k], want), k


def test_written_bytes_follow_the_definition(tmp_path):
    W.save_safetensors(tmp_path / "w.safetensors", {"b": np.array([1.0, 2.0], np.float32), "a": np.array(3.0)})
    data = (tmp_path / "w.safetensors").read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    assert n % 8 == 0 and (8 + n) % 8 == 0
    header = json.loads(data[8:8 + n])
    # larger items first: the F64 scalar, then the F32 pair
    assert header == {"a": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]},
                      "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}
    assert data[8 + n:] == struct.pack("<d", 3.0) + struct.pack("<2f", 1.0, 2.0)


def test_reference_file_built_by_hand(tmp_path):
    """Values packed with struct, little-endian, in the order the header says, header
    padded with spaces as writers do; BF16 is the top half of the float32 pattern."""
    bf16 = struct.pack("<3H", 0x3F80, 0xC020, 0x4049)  # 1.0, -2.5, 3.140625
    f16 = struct.pack("<2e", 0.25, -3.0)
    i32 = struct.pack("<2i", -5, 1 << 30)
    f64 = struct.pack("<d", math.pi)
    buf = f64 + i32 + bf16 + f16
    header = {"__metadata__": {"format": "pt"},
              "pi": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]},
              "n": {"dtype": "I32", "shape": [2, 1], "data_offsets": [8, 16]},
              "bf": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
              "h": {"dtype": "F16", "shape": [2], "data_offsets": [22, 26]}}
    t, meta = W.read_safetensors(write(tmp_path, st_bytes(header, buf, pad=5)))
    assert meta == {"format": "pt"}
    assert t["pi"].shape == () and float(t["pi"]) == math.pi
    assert t["n"].tolist() == [[-5], [1 << 30]]
    assert t["bf"].dtype == np.float32 and t["bf"].tolist() == [1.0, -2.5, 3.140625]
    assert t["h"].dtype == np.float32 and t["h"].tolist() == [0.25, -3.0]


def test_interoperates_with_the_safetensors_package(tmp_path):
    sn = pytest.importorskip("safetensors.numpy")
    data = {k: v for k, v in ALL.items()}
    sn.save_file(data, str(tmp_path / "theirs.safetensors"), metadata={"format": "pt"})
    t, meta = W.read_safetensors(tmp_path / "theirs.safetensors")
    assert meta == {"format": "pt"}
    for k, v in data.items():
        assert np.array_equal(t[k], v) and t[k].shape == v.shape, k
    W.save_safetensors(tmp_path / "ours.safetensors", data, {"k": "v"})
    back = sn.load_file(str(tmp_path / "ours.safetensors"))
    for k, v in data.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v), k


# ---------------------------------------------------------------------- malformed files

F32x2 = struct.pack("<2f", 1.0, 2.0)


def _e(dtype="F32", shape=(2,), off=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(off)}


MALFORMED = [
    ("short", b"\x01\x00\x00", "shorter than the 8-byte header length"),
    ("header past end", struct.pack("<Q", 1000) + b"{}", "runs past the end of the file"),
    ("not json", struct.pack("<Q", 5) + b"{abc}", "not valid UTF-8 JSON"),
    ("not utf8", struct.pack("<Q", 4) + b"\xff\xfe{}", "not valid UTF-8 JSON"),
    ("a list", st_bytes([1, 2], b""), "must be a JSON object"),
    ("duplicate", struct.pack("<Q", 2 * 64) + (b'{"a":' + json.dumps(_e()).encode() + b',"a":'
                                               + json.dumps(_e()).encode() + b"}").ljust(128) + F32x2, "appears twice"),
    ("missing field", st_bytes({"a": {"dtype": "F32", "shape": [2]}}, F32x2), "entry must have exactly"),
    ("extra field", st_bytes({"a": dict(_e(), extra=1)}, F32x2), "entry must have exactly"),
    ("unknown dtype", st_bytes({"a": _e("F8_E4M3", (8,))}, F32x2), "dtype 'F8_E4M3' is not one of"),
    ("bad shape", st_bytes({"a": _e(shape=(-2,))}, F32x2), "shape [-2] must be a list of non-negative"),
    ("bool shape", st_bytes({"a": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}}, F32x2), "shape"),
    ("bad offsets", st_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, F32x2), "must be [begin, end]"),
    ("backwards", st_bytes({"a": _e(shape=(0,), off=(8, 0))}, F32x2), "run backwards"),
    ("past buffer", st_bytes({"a": _e(shape=(4,), off=(0, 16))}, F32x2), "run past the 8-byte buffer"),
    ("size mismatch", st_bytes({"a": _e(shape=(3,), off=(0, 8))}, F32x2), "is 12 bytes, its offsets hold 8"),
    ("overlap", st_bytes({"a": _e(), "b": _e(shape=(1,), off=(4, 8))}, F32x2), "overlaps tensor 'a'"),
    ("hole", st_bytes({"a": _e(shape=(1,), off=(4, 8))}, F32x2), "bytes 0..4 of the buffer belong to no tensor"),
    ("trailing", st_bytes({"a": _e(shape=(1,), off=(0, 4))}, F32x2), "bytes 4..8 of the buffer belong to no tensor"),
    ("metadata", st_bytes({"__metadata__": {"a": 1}, "b": _e()}, F32x2), "__metadata__ must be an object of strings"),
]


@pytest.mark.parametrize("name,data,match", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_safetensors(tmp_path, name, data, match):
    with pytest.raises(SpynqValueError, match=match.replace("[", r"\[").replace("]", r"\]")) as e:
        W.load(write(tmp_path, data))
    assert str(e.value).startswith(str(tmp_path))


def test_size_bound_before_reading(tmp_path):
    p = write(tmp_path, st_bytes({"a": _e(shape=(512,), off=(0, 2048))}, bytes(2048)))
    assert W.load(p)["a"].shape == (512,)
    with pytest.raises(SpynqValueError, match="the limit is 1000 .* refused before reading"):
        W.load(p, max_bytes=1000)


def test_npz_reader_is_spynq_npzfile(tmp_path):
    np.savez(tmp_path / "o.npz", a=np.array([object()], dtype=object))
    with pytest.raises(SpynqValueError, match="pickled"):
        W.load(tmp_path / "o.npz")
    W.save(tmp_path / "b.npz", {"a": np.zeros(1000)})
    with pytest.raises(SpynqValueError, match="refused before decompressing"):
        W.load(tmp_path / "b.npz", max_bytes=100)


def test_save_rejects_what_the_formats_cannot_hold(tmp_path):
    with pytest.raises(SpynqError, match="dtype complex128"):
        W.save(tmp_path / "c.safetensors", {"a": np.zeros(2, complex)})
    with pytest.raises(SpynqValueError, match="unknown weights format"):
        W.save(tmp_path / "c.pt", {"a": np.zeros(2)})
    with pytest.raises(SpynqValueError, match="contains '.'"):
        W.flatten({"a.b": {"w": np.zeros(1)}})


# ---------------------------------------------------------------------- key maps


def plif_net():
    # Fang et al.'s PLIF network shape: conv = [Conv, BN, PLIF, MaxPool], fc = [Flatten, Linear, PLIF]
    return nn.Sequential(nn.Conv2d(2, 4, 3, 1, 1, bias=False), nn.BatchNorm(4), nn.PLIF(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 3 * 3, 5), nn.PLIF())


def spikingjelly_state_dict(rng):
    """What torch's state_dict() of that SpikingJelly model holds, keys and shapes."""
    f32 = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    return {"conv.0.weight": f32(4, 2, 3, 3), "conv.1.weight": f32(4), "conv.1.bias": f32(4),
            "conv.1.running_mean": f32(4), "conv.1.running_var": np.abs(f32(4)) + 0.1,
            "conv.1.num_batches_tracked": np.array(17, np.int64), "conv.2.w": np.array(-math.log(4.0 - 1.0), np.float32),
            "fc.1.weight": f32(5, 36), "fc.1.bias": f32(5), "fc.2.w": np.array(0.0, np.float32)}


def test_spikingjelly_layout_loads_and_runs(tmp_path):
    net = plif_net()
    sd = spikingjelly_state_dict(np.random.default_rng(0))
    W.save(tmp_path / "sj.safetensors", sd)
    p = W.from_state_dict(W.load(tmp_path / "sj.safetensors"), net, W.split_map(net))
    conv, bn, plif1, _, _, lin, plif2 = (l.name for l in net.layers)
    assert np.array_equal(p[bn]["gamma"], sd["conv.1.weight"].astype(np.float64))
    assert np.array_equal(p[bn]["var"], sd["conv.1.running_var"].astype(np.float64))
    assert np.array_equal(p[lin]["w"], sd["fc.1.weight"].astype(np.float64)) and p[lin]["w"].dtype == np.float64
    # SpikingJelly's w = -log(tau - 1): the PLIF layer behaves as LIF with tau = 4
    xs = np.random.default_rng(1).uniform(0, 2.5, (8, 2, 10))
    s_plif, _ = nn.Sequential(l := nn.PLIF()).apply({l.name: p[plif1]}, xs)
    s_lif, _ = nn.Sequential(m := nn.LIF(tau=4.0)).apply({m.name: m.init(np.random.default_rng(0))}, xs)
    assert np.array_equal(s_plif, s_lif) and s_plif.any()
    # and the inverse gives the torch keys back (num_batches_tracked as 0)
    back = W.to_state_dict(p, net, W.split_map(net))
    assert set(back) == set(sd) and int(back["conv.1.num_batches_tracked"]) == 0
    assert np.allclose(back["fc.1.weight"], sd["fc.1.weight"])


def test_sequential_layout_round_trip():
    net = nn.Sequential(nn.Linear(6, 4), nn.DALIF(), nn.Linear(4, 2), nn.LIF(2.0))
    p = net.init(3)
    m = W.sequential_map(net, "conv_fc.")
    sd = W.to_state_dict(p, net, m)
    # DA-LIF's learnable alpha, beta are entries; the fixed v_th / tau are configuration
    assert sorted(sd) == ["conv_fc.0.bias", "conv_fc.0.weight", "conv_fc.1.alpha", "conv_fc.1.beta",
                          "conv_fc.2.bias", "conv_fc.2.weight"]
    q = W.from_state_dict(sd, net, m)
    assert all(np.array_equal(q[k][kk], p[k][kk]) for k in p for kk in p[k])


def bidl_net():
    from spynq.nn import Param

    ch = lambda v: Param(value=v, per="channel", learn=True)  # noqa: E731  channel-share mode
    return nn.Sequential(nn.Conv2d(2, 3, 3, 1, 1), nn.BIDL(ch(0.3), ch(0.0), v_th=ch(0.5), channels=3),
                         nn.Flatten(), nn.Linear(3 * 4 * 4, 2), nn.BIDL())


def bidl_state_dict(rng):
    f32 = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    return {"clif1.p0.weight": f32(3, 2, 3, 3), "clif1.p0.bias": f32(3),
            "clif1.lif.alpha": np.full((1, 3, 1, 1), 0.25, np.float32), "clif1.lif.beta": f32(1, 3, 1, 1),
            "clif1.lif.theta": np.full((1, 3, 1, 1), 0.5, np.float32), "clif1.lif.v_0": np.zeros((1, 3, 1, 1), np.float32),
            "flif1.p0.weight": f32(2, 48), "flif1.p0.bias": f32(2), "flif1.lif.alpha": np.array(0.3, np.float32),
            "flif1.lif.beta": np.array(0.0, np.float32), "flif1.lif.theta": np.array(0.5, np.float32),
            "flif1.lif.v_0": np.array(0.0, np.float32)}


def test_bidl_layout():
    net = bidl_net()
    m = W.bidl_map(net, ["clif1", "flif1"])
    assert m == {"clif1.p0": "0_conv2d", "clif1.lif": "1_bidl", "flif1.p0": "3_linear", "flif1.lif": "4_bidl"}
    sd = bidl_state_dict(np.random.default_rng(2))
    p = W.from_state_dict(sd, net, m)
    assert p["1_bidl"]["alpha"].shape == (3,) and np.all(p["1_bidl"]["alpha"] == 0.25)  # [1, C, 1, 1] -> (C,)
    assert np.array_equal(p["1_bidl"]["beta"], sd["clif1.lif.beta"].reshape(3).astype(np.float64))
    bad = dict(sd, **{"flif1.lif.v_0": np.array(0.5, np.float32)})
    with pytest.raises(SpynqValueError, match="v_reset = 0.0 .*configuration"):
        W.from_state_dict(bad, net, m)
    membrane_bn = dict(sd, **{"clif1.lif.norm.weight": np.ones(3, np.float32)})
    with pytest.raises(SpynqValueError, match="BN on the membrane"):
        W.from_state_dict(membrane_bn, net, m)


def test_key_map_errors():
    net = plif_net()
    m = W.split_map(net)
    sd = spikingjelly_state_dict(np.random.default_rng(0))
    with pytest.raises(SpynqValueError, match=r"does not place: \['fc.9.weight'\]"):
        W.from_state_dict(dict(sd, **{"fc.9.weight": np.zeros(1)}), net, m)
    missing = {k: v for k, v in sd.items() if k != "fc.1.bias"}
    with pytest.raises(SpynqValueError, match=r"missing 1 key\(s\): \['fc.1.bias'\]"):
        W.from_state_dict(missing, net, m)
    init = net.init(0)
    kept = W.from_state_dict(missing, net, m, strict=False, params=init)
    assert np.array_equal(kept["5_linear"]["b"], init["5_linear"]["b"])
    with pytest.raises(SpynqValueError, match=r"fc.1.weight: shape \(5, 35\), the spynq parameter is \(5, 36\)"):
        W.from_state_dict(dict(sd, **{"fc.1.weight": np.zeros((5, 35))}), net, m)
    with pytest.raises(SpynqValueError, match="not a layer of the network"):
        W.from_state_dict(sd, net, {"conv.0": "nope"})
    with pytest.raises(SpynqValueError, match="no Flatten"):
        W.split_map(nn.Sequential(nn.Linear(2, 2)))


def test_hand_written_map_for_named_modules():
    """A residual block's named submodules (as SEW / spiking ResNets name them) mapped by
    hand onto spynq layers: the docstring's example."""
    net = nn.Sequential(nn.Conv2d(2, 2, 1, bias=False), nn.BatchNorm(2), nn.Flatten(), nn.Linear(2, 2), nn.PLIF(),
                        nn.Conv2d(2, 2, 1, bias=False), nn.BatchNorm(2))
    m = {"layer1.0.conv1": "0_conv2d", "layer1.0.bn1": "1_batchnorm", "fc": "3_linear", "layer1.0.sn1": "4_plif",
         "layer1.0.downsample.0": "5_conv2d", "layer1.0.downsample.1": "6_batchnorm"}
    p = net.init(2)
    sd = W.to_state_dict(p, net, m)
    assert "layer1.0.bn1.running_mean" in sd and "layer1.0.downsample.1.num_batches_tracked" in sd
    q = W.from_state_dict(sd, net, m)
    assert np.array_equal(q["1_batchnorm"]["mean"], sd["layer1.0.bn1.running_mean"])
    assert np.array_equal(q["6_batchnorm"]["gamma"], sd["layer1.0.downsample.1.weight"])
