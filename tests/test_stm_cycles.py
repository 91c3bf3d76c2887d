"""The STM cycle model follows the kernel's loops: its trip counts equal the trips the
HLS C++ really makes (counted in C simulation, for the default and the overlays' settings),
and at the designed schedule its compute cycles are those of one likelihood evaluation
per lane per cycle, the evaluations counted here from the network itself."""
import pytest

from spynq.hw import csim
from spynq.hw.cconfig import read_constants
from spynq.stm import backends, cycles, encode, workloads

from stm_cases import ODD_SETTING, parameter_settings, random_cases

SETTINGS = {"default": {}, **{k: v for k, v in parameter_settings().items() if v != ODD_SETTING}}


def csim_trips(net, pops, ev, defines=()):
    csim.trips("stm", cycles.LOOPS, defines=defines)  # reset
    p = encode.pack_network(net, pops)
    csim.call("stm", p.net, p.net_words, encode.pack_evidence(net, ev), (len(ev),), defines=defines)
    return csim.trips("stm", cycles.LOOPS, defines=defines)


@pytest.mark.parametrize("setting", SETTINGS)
def test_trip_counts_match_the_kernel(setting):
    defines = SETTINGS[setting]
    cases = [(wl.network, wl.network.sample(333, seed=1), wl.evidence(3, seed=2))
             for wl in (b() for b in workloads.ALL)]
    cases += list(random_cases(30, seed=31))
    for net, pops, ev in cases:
        model = cycles.stm_cycles(net, pops, len(ev), params=defines)
        got = csim_trips(net, pops, ev, defines)
        assert {k: model.trips.get(k, 0) for k in cycles.LOOPS} == got, net.name


def counted_work(network, pops, batch: int):
    """Likelihood evaluations of one call, counted from the network's populations:
    (parent-sample pairs: 2 passes per hidden edge once, 1 per evidence set; evidence
    evaluations: one per observed leaf and parent sample, per evidence set)."""
    n = {v.name: len(pops[v.name]) for v in network.hidden_nodes}
    pairs = sum(n[v.name] * n[v.parent.name] for v in network.hidden_nodes if v.parent is not None)
    leaves = sum(n[v.parent.name] for v in network.evidence_nodes)
    return (2 + batch) * pairs, batch * leaves


def ideal_cycles(network, pops, batch, setting):
    """Cycles if every lane did one evaluation per cycle (STM_EV_FUSE per lane for evidence)."""
    c = read_constants("stm/stm_config.h", SETTINGS[setting])
    pairs, leaves = counted_work(network, pops, batch)
    return pairs / c["STM_LANES"] + leaves / (c["STM_LANES"] * c["STM_EV_FUSE"])


# The causal workloads are bound by their likelihood matrices: the designed schedule does
# them at one evaluation per lane per cycle, within 1.2x (pipeline depths, the per-node
# weight/combine/rescale passes, padding of the last lane group). A loop at II=2, or a
# model that drops a pass, falls outside.
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("build", workloads.CAUSAL, ids=lambda b: b.__name__)
def test_causal_compute_within_1p2_of_one_evaluation_per_lane_per_cycle(build, setting):
    wl = build()
    for n in (1000, 2000, 4000):
        pops = wl.network.sample(n, seed=0)
        rep = cycles.stm_cycles(wl.network, pops, batch=8, params=SETTINGS[setting])
        ideal = ideal_cycles(wl.network, pops, 8, setting)
        assert ideal <= rep.compute <= 1.2 * ideal, (n, ideal, rep.summary())


# Every workload, the multisensory ones included (one evidence pass and one weights pass
# per node and evidence set), keeps at least half the lanes busy on average.
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("build", workloads.ALL, ids=lambda b: b.__name__)
def test_at_least_half_the_lanes_evaluate_every_cycle(build, setting):
    wl = build()
    lanes = read_constants("stm/stm_config.h", SETTINGS[setting])["STM_LANES"]
    for n in (1000, 2000, 4000):
        pops = wl.network.sample(n, seed=0)
        rep = cycles.stm_cycles(wl.network, pops, batch=8, params=SETTINGS[setting])
        evaluations = sum(counted_work(wl.network, pops, 8))
        assert evaluations / rep.compute >= lanes / 2, (n, evaluations, rep.summary())


def test_bytes_moved_counts_every_beat():
    wl = workloads.two_layer_causal()
    pops, ev = wl.network.sample(100, seed=0), wl.evidence(5, seed=0)
    rep = cycles.stm_cycles(wl.network, pops, len(ev))
    p = encode.pack_network(wl.network, pops)
    out_words = len(backends.csim_call(p.net, p.net_words, encode.pack_evidence(wl.network, ev), len(ev)))
    assert rep.bytes_moved == 4 * (p.net_words + (-p.net_words % 4) + len(encode.pack_evidence(wl.network, ev))
                                   + out_words)
