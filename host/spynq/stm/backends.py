"""STM inference on every backend, one API and one result type.

  native  float C++ for the CPU (spynq.native), the baseline a CPU user would run
  cpu     numpy float64 reference (the paper's maths)
  golden  numpy fixed-point model of the kernel (bit-exact with csim, cosim, fpga)
  csim    the HLS C++ built with g++ and called through ctypes
  cosim   the HLS C++ behind the Vitis-shaped shell in Verilator, driven by the PYNQ driver
  fpga    the overlay on a ZCU104 board through PYNQ
  auto    fpga when an overlay is loaded, else cpu
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import SpynqValueError
from ..hw import csim, runner
from ..hw.board import resolve_backend
from ..validate import check_type

from . import encode, reference
from .model import CPT, Network
from .result import ST_BAD_NET, StmResult



def decode_out(out: np.ndarray, n_root: int, batch: int):
    """Split the kernel's out words into status, underflow counts, the root's unnormalised
    UQ1.31 weights and their sum."""
    if batch and out[0] == ST_BAD_NET and len(out) < batch * encode.out_row_words(n_root):
        raise ValueError("the kernel rejected the net buffer (STM_ST_BAD_NET)")
    rows = np.asarray(out[:batch * encode.out_row_words(n_root)]).reshape(batch, -1)
    h = encode.C["STM_OUT_HDR_WORDS"]
    raw = rows[:, h:h + n_root].astype(np.int64)
    total = rows[:, 4].astype(np.int64) | (rows[:, 5].astype(np.int64) << 32)
    return rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), raw, total


def _fixed_result(name, network, pops, packed, out, batch, seconds, info=None) -> StmResult:
    status, uf, raw, total = decode_out(out, packed.n_root, batch)
    weights = raw / np.where(total > 0, total, 1)[:, None].astype(float)  # divisive normalisation
    return StmResult(name, network, pops[network.root_node.name], weights, status, uf, raw, seconds, info or {})


def run_cpu(network: Network, pops: dict, evidence) -> StmResult:
    t0 = time.perf_counter()
    w, zero = reference.infer_weights(network, pops, evidence)
    dt = time.perf_counter() - t0
    return StmResult("cpu", network, pops[network.root_node.name], w, reference.status_from_zero(zero),
                     np.zeros(len(w), np.int64), None, dt)


def run_fixed(backend: str, network: Network, pops: dict, evidence, **opts) -> StmResult:
    """One kernel call on a fixed-point backend through spynq.hw.runner.execute; opts:
    overlay=NAME (csim, cosim: build and check as that overlay's kernel), ol= (fpga: a loaded
    overlay), timeout_s=, opt= (csim), backpressure= (cosim). fpga checks against the
    overlay loaded on the board."""
    packed = encode.pack_network(network, pops, runner.limits("stm", backend, opts.get("overlay"), opts.get("ol")))
    ev = encode.pack_evidence(network, evidence)
    batch = len(network.evidence_array(evidence))
    out, seconds, info = runner.execute("stm", backend, packed.net, packed.net_words, ev, (batch,), **opts)
    return _fixed_result(backend, network, pops, packed, out, batch, seconds, info)


def run_golden(network: Network, pops: dict, evidence) -> StmResult:
    return run_fixed("golden", network, pops, evidence)


def csim_call(net: np.ndarray, net_words: int, ev: np.ndarray, batch: int, opt: str = "-O2") -> np.ndarray:
    """Run the HLS top function natively on packed buffers; returns the out words."""
    return csim.call("stm", net, net_words, ev, (batch,), opt)


def infer(network: Network, pops: dict, evidence, backend: str = "auto", **opts) -> StmResult:
    """Posterior weights of the root for each evidence set on the chosen backend."""
    check_type(network, "network", Network)
    network.validate()  # nodes are mutable: check the structure as it is now, on every backend
    pops = network.check_populations(pops)
    network.evidence_array(evidence)
    if backend == "native":  # float C++ CPU baseline (spynq.native); opts: threads= (0: all cores)
        from ..native import stm as native_stm

        return native_stm.infer(network, pops, evidence, **opts)
    backend = resolve_backend(backend)
    if backend == "cpu":
        return run_cpu(network, pops, evidence)
    # the kernel's per-node state limit also bounds an observed table leaf's child states
    # (encode.check_limits checks the hidden nodes)
    most = runner.limits("stm", backend, opts.get("overlay"), opts.get("ol"))["STM_MAX_STATES"]
    for n in network.evidence_nodes:
        if isinstance(n.dist, CPT) and n.dist.n_states > most:
            raise SpynqValueError(f"{n.name!r}: {n.dist.n_states} child states, the kernel takes at most {most}")
    return run_fixed(backend, network, pops, evidence, **opts)
