"""The native float CPU baselines (spynq.native) against the numpy cpu backends.

LIF and SNNWM: identical spikes, counts and membranes (compared exactly) on networks whose
weights and decays are on the kernel's grid (multiples of 2^-12 and 2^-16), where the
native float32 delay rings (LIF), float32 W1 storage and float64 sums (SNNWM) are exact
and the float64 neuron updates round as numpy's: random networks (every layer fires)
with every delay mode, delays past the last step, refractory periods, both reset modes,
the current state, window/overlap modes and the readout; one and two threads.

STM: float32 against float64, with the likelihood matrices over distinct parent values
and kept between calls as in the cpu backend (and without the cache). Per evidence set,
max_l |w_native - w_cpu| <= 1e-5 * max_l w_cpu on the paper's workloads (energies of a few units: float32's 2^-24 relative
rounding, times the population sums) and <= 1e-3 on random networks with evidence far in
the tails (energies up to the cap E_CAP = 65536, where float32 resolves 2^-8, so
exp(-E) moves by up to ~4e-3 relative in the worst sample; measured 3e-4 over 200
networks); the posterior within 1e-5 on the workloads; identical ST_* status bits.
"""
import shutil
import subprocess
import zipfile

import numpy as np
import pytest

from spynq import native
from spynq.lif import backends as lif
from spynq.lif import demos
from spynq.lif import model as lif_model
from spynq.snnwm import backends as snnwm
from spynq.snnwm import model as snnwm_model
from spynq.stm import backends as stm
from spynq.stm import randnet, workloads
from spynq.stm.result import ST_SATURATED

pytestmark = pytest.mark.skipif(not native.available()[0], reason="no C++ compiler for the native baselines")


def _same_lif(a, b):
    for k in range(len(a.spikes)):
        assert np.array_equal(a.spikes[k], b.spikes[k]), f"layer {k} spikes"
        assert np.array_equal(a.counts[k], b.counts[k]), f"layer {k} counts"
        assert np.array_equal(a.v_last[k], b.v_last[k]), f"layer {k} v_last"
        assert np.array_equal(a.v_max[k], b.v_max[k]), f"layer {k} v_max"


@pytest.mark.parametrize("seed", range(16))
def test_lif_native_equals_cpu_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    T = int(rng.integers(1, 40))
    sizes = [int(rng.integers(1, 70)) for _ in range(int(rng.integers(2, 5)))]
    # delays up to 1.5 T: some arrive after the last step and must be dropped
    net = lif_model.random_network(rng, sizes, ("mixed", "synapse", "axonal", None)[seed % 4],
                                   max_delay=int(rng.integers(0, 1.5 * T + 2)), weight_scale=4.0,
                                   current=(None, True, False)[seed % 3], reset=(None, "zero", "subtract")[seed % 3],
                                   refractory=None if seed % 2 else int(rng.integers(0, 5)))
    r = lif_model.random_rasters(rng, int(rng.integers(1, 6)), T, sizes[0], float(rng.uniform(0.05, 0.5)))
    cpu = lif.run(net, r, "cpu")
    assert all(s.any() for s in cpu.spikes)  # the comparison is about spikes, not silence
    for threads in (1, 2):
        res = lif.run(net, r, "native", threads=threads)
        assert res.backend == "native" and 1 <= res.info["threads"] <= threads
        _same_lif(cpu, res)


def test_lif_native_wide_ring_takes_32_bit_offsets():
    """2 * ring * n_out > 65536 (64 slots of 600 neurons): the 32-bit offset path."""
    rng = np.random.default_rng(7)
    net = lif_model.random_network(rng, [30, 600, 10], "synapse", max_delay=63, weight_scale=6.0)
    r = lif_model.random_rasters(rng, 2, 90, 30, 0.3)
    cpu = lif.run(net, r, "cpu")
    assert all(s.any() for s in cpu.spikes)
    _same_lif(cpu, lif.run(net, r, "native"))


def test_lif_native_equals_cpu_on_the_benchmark_network():
    shape = demos.benchmark_shape(T=100)  # 700-128-128-20, per-synapse delays 0..64
    r = shape.rasters(2, seed=4)
    cpu = lif.run(shape.network, r, "cpu")
    assert all(int(s.sum()) > 0 for s in cpu.spikes)
    _same_lif(cpu, lif.run(shape.network, r, "native"))


@pytest.mark.parametrize("seed", range(12))
def test_snnwm_native_equals_cpu_on_random_networks(seed):
    rng = np.random.default_rng(100 + seed)
    T = int(rng.integers(1, 30))
    sizes = [int(rng.integers(2, 40)) for _ in range(int(rng.integers(2, 6)))]
    net = snnwm_model.random_network(rng, sizes, int(rng.integers(1, 7)), ("mixed", "window", "overlap")[seed % 3],
                                     bool(seed % 2), T, weight_scale=3.0)
    r = snnwm_model.random_rasters(rng, int(rng.integers(1, 5)), T, sizes[0], float(rng.uniform(0.05, 0.5)))
    cpu = snnwm.run(net, r, "cpu")
    # something to compare: the first layer fires, or (readout only) the readout is not 0
    assert cpu.spikes[0].any() if cpu.spikes else np.any(cpu.readout)
    for threads in (1, 2):
        res = snnwm.run(net, r, "native", threads=threads)
        for k in range(len(cpu.spikes)):
            assert np.array_equal(cpu.spikes[k], res.spikes[k]), f"layer {k} spikes"
            assert np.array_equal(cpu.v_last[k], res.v_last[k]) and np.array_equal(cpu.v_max[k], res.v_max[k])
        assert (cpu.readout is None) == (res.readout is None)
        if cpu.readout is not None:
            assert np.array_equal(cpu.readout, res.readout)
        assert cpu.counts == res.counts
        for a, b in zip(cpu.raw["counts_per_sample"], res.raw["counts_per_sample"]):
            assert all(np.array_equal(a[key], b[key]) for key in a)


def _rel_dev(a, b):
    """Per evidence set: max |a - b| relative to the row's largest cpu weight."""
    return np.abs(a.weights - b.weights).max(axis=1) / np.maximum(a.weights.max(axis=1), 1e-300)


@pytest.mark.parametrize("build", workloads.ALL, ids=lambda b: b.__name__)
def test_stm_native_within_float32_rounding_on_the_workloads(build):
    wl = build()
    pops = wl.network.sample(1000, seed=3)
    ev = wl.evidence(4, seed=5)
    cpu = stm.infer(wl.network, pops, ev, "cpu")
    for threads in (1, 2):
        res = stm.infer(wl.network, pops, ev, "native", threads=threads)
        assert np.array_equal(res.status, cpu.status)
        assert _rel_dev(cpu, res).max() <= 1e-5
        if wl.network.root_node.discrete:
            assert np.abs(res.posterior() - cpu.posterior()).max() <= 1e-5
        # the weights are not the prior's: the evidence moved them (else the bound says little)
        assert np.abs(cpu.weights - 1.0 / cpu.weights.shape[1]).max() > 1e-2 / cpu.weights.shape[1]


def test_stm_native_within_float32_rounding_on_random_networks():
    worst = 0.0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        net = randnet.random_network(rng)
        pops = net.sample(randnet.random_sizes(rng, net), seed=seed)
        ev = randnet.random_evidence(rng, net, 3)
        cpu = stm.infer(net, pops, ev, "cpu")
        res = stm.infer(net, pops, ev, "native", threads=1 + seed % 2)
        assert np.array_equal(res.status, cpu.status), seed
        ok = cpu.valid
        if ok.any():
            worst = max(worst, float(_rel_dev(cpu, res)[ok].max()))
    assert worst <= 1e-3


def test_stm_native_impossible_evidence_saturates_like_cpu():
    wl = workloads.two_layer_causal()
    pops = wl.network.sample(200, seed=1)
    ev = wl.evidence(2, seed=2)
    ev[1] = 3e4  # every sample's likelihood underflows: the kernel's cap, ST_SATURATED
    cpu, res = stm.infer(wl.network, pops, ev, "cpu"), stm.infer(wl.network, pops, ev, "native")
    assert cpu.status[1] & ST_SATURATED and np.array_equal(res.status, cpu.status)
    assert np.all(np.isfinite(res.weights)) and _rel_dev(cpu, res).max() <= 1e-3


def test_stm_native_cache_follows_the_populations():
    """The kept likelihood matrices are keyed on the populations' contents: a call without
    the cache gives the same numbers, and a population changed in place is seen."""
    from spynq.native import stm as native_stm

    wl = workloads.multi_layer_causal()
    pops = wl.network.sample(300, seed=1)
    ev = wl.evidence(3, seed=2)
    native_stm.clear_cache()
    first = stm.infer(wl.network, pops, ev, "native")
    assert len(native_stm._CACHE) == 5  # one per hidden edge
    again = stm.infer(wl.network, pops, ev, "native")
    fresh = stm.infer(wl.network, pops, ev, "native", cache=False)
    assert np.array_equal(first.weights, again.weights) and np.array_equal(first.weights, fresh.weights)
    pops["C1"][:] = pops["C1"][::-1] + 0.5  # in place: a new population, same array object
    moved = stm.infer(wl.network, pops, ev, "native")
    cpu = stm.infer(wl.network, pops, ev, "cpu")
    assert not np.allclose(moved.weights, first.weights) and _rel_dev(cpu, moved).max() <= 1e-5


def test_native_threads_argument_is_checked():
    shape = demos.benchmark_shape(sizes=(20, 10), T=5)
    with pytest.raises(ValueError, match="threads"):
        lif.run(shape.network, shape.rasters(1), "native", threads=-1)


def test_native_sources_ship_in_the_wheel(tmp_path):
    """The board builds the baselines with its own gcc: the wheel must carry the sources."""
    from spynq.hw.cconfig import REPO

    env = {"WHEEL_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "WHEEL_BACKEND": str(REPO / "build" / "wheel-backend")}
    p = subprocess.run([str(REPO / "scripts" / "build_wheel.sh")], capture_output=True, text=True, timeout=300,
                       env=env, cwd=REPO)
    assert p.returncode == 0, p.stderr[-2000:]
    names = set(zipfile.ZipFile(p.stdout.strip().splitlines()[-1]).namelist())
    for k in native.KERNELS:
        assert f"spynq/native/{k}_native.cpp" in names
    assert "spynq/native/native_common.h" in names


XCHECK = r"""// Cross-check: the native LIF and SNNWM entry points on a fixed random network; prints
// a hash of every output byte/double, equal on x86 and aarch64 if the builds agree.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>
extern "C" int spynq_native_lif_run(int, const int*, const int*, const float* const*, const uint16_t* const*, const int*,
                                    const int*, const double*, const int*, const uint8_t*, int, int, uint8_t* const*,
                                    double* const*, double* const*, int);
extern "C" int spynq_native_snnwm_run(int, const int*, const int*, const int*, const int*, const float* const*,
                                      const double* const*, const double*, const uint8_t*, int, int, uint8_t* const*,
                                      double* const*, double* const*, int64_t* const*, int);
static uint64_t rs = 88172645463325252ull;
static uint64_t rnd() { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static uint64_t h = 1469598103934665603ull;
static void mix(const void* p, size_t n) { const uint8_t* c = (const uint8_t*)p; for (size_t i = 0; i < n; ++i) { h ^= c[i]; h *= 1099511628211ull; } }
int main() {
    const int B = 3, T = 60, n0 = 50, n1 = 40, n2 = 30;
    std::vector<uint8_t> in(B * T * n0);
    for (auto& x : in) x = rnd() % 5 == 0;
    int nin[2] = {n0, n1}, nout[2] = {n1, n2};
    std::vector<float> w1(n0 * n1), w2(n1 * n2);
    for (auto& x : w1) x = ((int)(rnd() % 4001) - 1500) / 4096.0f;
    for (auto& x : w2) x = ((int)(rnd() % 4001) - 1500) / 4096.0f;
    std::vector<uint16_t> d1(n0 * n1), d2(n1 * n2);
    for (auto& x : d1) x = rnd() % 20;
    for (auto& x : d2) x = rnd() % 20;
    const float* w[2] = {w1.data(), w2.data()};
    const uint16_t* d[2] = {d1.data(), d2.data()};
    int mode[2] = {2, 2}, ring[2] = {32, 32};
    double par[8] = {0.9 * 65536 / 65536, 0.6, 1.0, 0.0, 58982.0 / 65536, 0.0, 0.8, -0.1};
    int ipar[6] = {1, 0, 2, 0, 1, 1};
    std::vector<uint8_t> s1(B * T * n1), s2(B * T * n2);
    std::vector<double> vl1(B * n1), vl2(B * n2), vm1(B * n1), vm2(B * n2);
    uint8_t* sp[2] = {s1.data(), s2.data()};
    double* vl[2] = {vl1.data(), vl2.data()};
    double* vm[2] = {vm1.data(), vm2.data()};
    spynq_native_lif_run(2, nin, nout, w, d, mode, ring, par, ipar, in.data(), B, T, sp, vl, vm, 1);
    mix(s1.data(), s1.size()); mix(s2.data(), s2.size());
    mix(vl1.data(), vl1.size() * 8); mix(vl2.data(), vl2.size() * 8); mix(vm1.data(), vm1.size() * 8); mix(vm2.data(), vm2.size() * 8);
    long spikes = 0; for (auto x : s2) spikes += x;
    // SNNWM: one window layer L=4 then a readout K=T+1
    int sin_[2] = {n0, n1}, sout[2] = {n1, 10}, K[2] = {4, T + 1}, smode[2] = {0, 2};
    std::vector<float> a1(n0 * n1), a2(n1 * 10);
    for (auto& x : a1) x = ((int)(rnd() % 8001) - 3000) / 4096.0f;
    for (auto& x : a2) x = ((int)(rnd() % 8001) - 3000) / 4096.0f;
    std::vector<double> t1 = {0.5, 0.75, 1.0, 0.25}, t2(T + 1);
    for (auto& x : t2) x = ((int)(rnd() % 4001) - 1000) / 4096.0;
    const float* aw[2] = {a1.data(), a2.data()};
    const double* tw[2] = {t1.data(), t2.data()};
    double dp[6] = {0.9, 1.0, 0.0, 0, 0, 0};
    std::vector<uint8_t> o1(B * T * n1);
    std::vector<double> v1(B * n1), m1(B * n1), ro(B * 10), dummy(B * 10);
    std::vector<int64_t> z1(B), z2(B);
    uint8_t* osp[2] = {o1.data(), nullptr};
    double* ovl[2] = {v1.data(), ro.data()};
    double* ovm[2] = {m1.data(), dummy.data()};
    int64_t* nz[2] = {z1.data(), z2.data()};
    spynq_native_snnwm_run(2, sin_, sout, K, smode, aw, tw, dp, in.data(), B, T, osp, ovl, ovm, nz, 1);
    mix(o1.data(), o1.size()); mix(v1.data(), v1.size() * 8); mix(m1.data(), m1.size() * 8); mix(ro.data(), ro.size() * 8);
    mix(z1.data(), z1.size() * 8); mix(z2.data(), z2.size() * 8);
    long s1n = 0; for (auto x : o1) s1n += x;
    printf("lif spikes %ld snnwm spikes %ld hash %016llx\n", spikes, s1n, (unsigned long long)h);
}
"""


@pytest.mark.skipif(not (shutil.which("aarch64-linux-gnu-g++") and shutil.which("qemu-aarch64")),
                    reason="no aarch64 cross compiler and qemu-aarch64 (apt-get install g++-aarch64-linux-gnu "
                           "qemu-user)")
def test_lif_and_snnwm_native_give_the_same_bits_on_the_boards_arm_cores(tmp_path):
    """The ZCU104's Cortex-A53 build (gcc's default there fuses multiply-adds; the flags say
    -ffp-contract=off) gives bit-identical spikes, membranes and counts to this machine's."""
    drv = tmp_path / "xcheck.cpp"
    drv.write_text(XCHECK)
    srcs = [str(native.SRC_DIR / f"{k}_native.cpp") for k in ("lif", "snnwm")]
    outs = []
    for cxx, arch, run in (("g++", "-march=native", []), ("aarch64-linux-gnu-g++", "-mcpu=cortex-a53", ["qemu-aarch64"])):
        exe = tmp_path / f"x_{cxx}"
        flags = [f for f in native.BASE_FLAGS if f not in ("-shared", "-fPIC")] + list(native.KERNEL_FLAGS["lif"])
        subprocess.run([cxx, *flags, arch, "-static", f"-I{native.SRC_DIR}", str(drv), *srcs, "-o", str(exe)],
                       check=True, capture_output=True, timeout=300)
        outs.append(subprocess.run([*run, str(exe)], check=True, capture_output=True, text=True, timeout=120).stdout)
    assert outs[0] == outs[1] and "hash" in outs[0], outs
