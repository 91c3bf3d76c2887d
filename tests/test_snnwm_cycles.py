"""The SNNWM cycle model follows the kernel's loops: its trip counts equal the trips the
HLS C++ really makes (csim counters), bytes_moved counts every beat of the call, and its
cycles stand against the work the kernel counts itself (op counters in the out buffer)."""
import numpy as np

from spynq.hw import csim
from spynq.snnwm import backends, cycles, encode
from spynq.snnwm.encode import LANES
from spynq.snnwm.model import random_network, random_rasters

from snnwm_cases import packed, random_cases


def csim_trips(net, r):
    csim.trips("snnwm", cycles.LOOPS)  # reset
    backends.csim_call(*packed(net, r))
    return csim.trips("snnwm", cycles.LOOPS)


def test_trip_counts_match_the_kernel():
    for i, (net, r) in enumerate(random_cases(40, seed=77)):
        model = cycles.snnwm_cycles(net, r)
        assert {k: model.trips.get(k, 0) for k in cycles.LOOPS} == csim_trips(net, r), i


def test_bytes_moved_counts_every_beat():
    for net, r in random_cases(5, seed=4):
        rep = cycles.snnwm_cycles(net, r)
        args = packed(net, r)
        out = backends.csim_call(*args)
        assert rep.bytes_moved == 4 * (len(args[0]) + len(args[2]) + len(out))


def test_model_against_the_kernels_own_work_counts():
    """512-512 window layer, T = 16, densities 0.05 and 0.1, L = 1, 2, 4, 8. The kernel's op
    counters (csim out buffer: mac, add, v_writes) and the rasters count the work without
    the model. The mat-vec visits only nonzero inputs, a lane group per cycle: MAC trips *
    n_out == mac * G. Every input row is read once whatever L (add == input spikes, ACC one
    cycle per row beat); V is written once per window (v_writes == T/L * n_out) while the
    neuron loop still steps every t (UPD trips == T * G). Efficiency: the compute loops
    take no less than the work at 64 MACs and 64 neuron updates per cycle, and at the
    designed schedule no more than 1.35x it; with the raster and out-buffer beats, the
    steady time per sample is within 1.35x too."""
    rng = np.random.default_rng(0)
    n, T, batch, G = 512, 16, 2, 512 // LANES
    for density in (0.05, 0.1):
        r = random_rasters(rng, batch, T, n, density)
        for L in (1, 2, 4, 8):
            net = random_network(rng, [n, n], L, "window")
            args = packed(net, r)
            out = backends.csim_call(*args)
            cnt = encode.decode_out(out, net.sizes, T, batch, False)["counts"][0]
            rep = cycles.snnwm_cycles(net, r)
            mac = int(cnt["mac"].sum())
            assert rep.trips["MAC"] * n == mac * G
            assert cnt["add"].tolist() == r.sum(axis=(1, 2)).tolist()
            assert rep.trips["ACC"] == batch * T * (n // 128)
            assert cnt["v_writes"].tolist() == [T // L * n] * batch
            assert rep.trips["UPD"] == batch * T * G
            work = (mac / LANES + batch * T * n / LANES) / batch  # cycles per sample at 64 lanes
            assert work <= rep.compute / batch <= 1.35 * work, (density, L)
            io = (len(args[2]) + len(out)) / 4 / batch  # raster and out beats per sample
            assert rep.steady_per_sample <= 1.35 * (work + io), (density, L)
