"""Demonstrations for the LIF-with-delays kernel: a Jeffress sound-localisation circuit,
the axonal-delay speech network's shape, and the benchmark shape of the issue.

  jeffress / estimate_itd / jeffress_accuracy:
      Jeffress (1948) coincidence detectors. Two input neurons (left and right ear) carry
      the same spike train, the right one shifted by the interaural time difference
      Δ (in steps, right(t) = left(t - Δ), Δ in -max_itd..max_itd). Detector k sees the
      left ear through synaptic delay dL(k) and the right ear through dR(k), so it is
      tuned to Δ_k = dL(k) - dR(k): both copies of a spike arrive in the same step iff
      Δ = Δ_k. Weights and leak are chosen so that only such a coincidence crosses the
      threshold; the detector that fires most gives the estimate. Checkable by hand:
      Δ -> detector Δ + max_itd (`Jeffress.expected_detector`), and for noise-free
      trains that detector fires once per input spike and every other detector strictly
      less (see `jeffress`), so the estimate is exact for every Δ in range.
  speech_shape_network:
      the In-128FC-VAD-128FC-VAD-Out network of the axonal-delay speech paper (seed 003,
      "learnable axonal delay ... spoken word recognition", SHD settings) with random
      weights and random per-neuron delays 0..64.
  benchmark_shape:
      the issue's 700-128-128-20 network with per-synapse delays 0..64, T = 100, 5 %
      input density (constructor and raster generator; the numbers come from the bench).
Every function returns plain numbers/arrays so the CLI, the plots and the tests can use
them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..hw.cconfig import read_constants
from .model import LifLayer, LifNetwork, LifParams, random_rasters
from ..errors import SpynqValueError

_C = read_constants("lif_delay/lif_delay_config.h")
W_STEP = 2.0 ** -_C["LIF_W_FRAC"]  # the kernel's weight grid (Q3.12)
DECAY_STEP = 2.0 ** -_C["LIF_DECAY_FRAC"]  # its decay grid (UQ0.16)

# --------------------------------------------------------------------------- Jeffress

# Chosen (exactly representable in binary, so the fixed-point golden sees the same numbers):
JEFFRESS_WEIGHT = 0.625  # one arrival: 0.625 < 1; two coincident arrivals: 1.25 >= 1
JEFFRESS_LEAK = 0.25  # membrane decay per step; no synaptic current (delta synapse)
JEFFRESS_THRESHOLD = 1.0


@dataclass
class Jeffress:
    """A Jeffress coincidence-detector network and what each detector is tuned to.

    network: one LifLayer, 2 inputs (0 = left ear, 1 = right ear) -> n_detectors outputs,
        per-synapse delays (2, n_detectors).
    tuned[k] = left_delay[k] - right_delay[k]: the Δ that detector k detects.
    """

    network: LifNetwork
    max_itd: int
    left_delay: np.ndarray
    right_delay: np.ndarray
    tuned: np.ndarray
    layout: str
    notes: str = ""

    @property
    def n_detectors(self) -> int:
        return int(self.tuned.size)

    def expected_detector(self, itd: int) -> int:
        """The detector that must win for a true Δ = itd (= itd + max_itd)."""
        hit = np.flatnonzero(self.tuned == int(itd))
        if hit.size != 1:
            raise SpynqValueError(f"Δ = {itd} is outside -{self.max_itd}..{self.max_itd}")
        return int(hit[0])

    def rasters(self, itds, T: int = 128, rate: float = 0.15, seed=0, jitter: float = 0.0, p_drop: float = 0.0,
                p_extra: float = 0.0) -> np.ndarray:
        """Input rasters for these detectors; see `itd_rasters`."""
        return itd_rasters(itds, self.max_itd, T=T, rate=rate, seed=seed, jitter=jitter, p_drop=p_drop,
                           p_extra=p_extra, latest_arrival_margin=int(max(self.left_delay.max(),
                                                                          self.right_delay.max())))


def jeffress(max_itd: int = 8, n_detectors: int | None = None, layout: str = "counter",
             weight: float = JEFFRESS_WEIGHT, leak: float = JEFFRESS_LEAK,
             threshold: float = JEFFRESS_THRESHOLD) -> Jeffress:
    """Build the detector array for Δ in -max_itd..max_itd (one detector per Δ).

    n_detectors, if given, must be 2 * max_itd + 1 (one detector per integer Δ).
    Detector k is tuned to Δ_k = k - max_itd. Delay layouts (both give dL - dR = Δ_k):
      "counter" (default, Jeffress's counter-running delay lines): dL(k) = ceil(k/2),
          dR(k) = max_itd - floor(k/2). The two lines run in opposite directions and
          advance on alternate detectors, so every integer Δ has a detector and the
          longest delay is only max_itd (a plain dL = k, dR = max - k would resolve
          only even Δ).
      "one_sided": dL(k) = k, dR(k) = max_itd; longest delay 2 * max_itd.
    Neuron (chosen; the demo needs a pure coincidence detector): no synaptic current
    stage, membrane decay `leak` = 0.25, weight 0.625, threshold 1, reset to zero.
    Why only coincidences fire: each synapse delivers at most one spike per step, so in a
    step where only one arrives v <= leak * v_prev + w < 0.25 * 1 + 0.625 = 0.875 < 1
    (v_prev < threshold after the reset), while two arrivals in one step give v >= 1.25.
    So detector k fires in step t iff a left spike at t - dL(k) and a right spike at
    t - dR(k) exist. With right = left shifted by Δ that is a pair of left spikes
    `lag = Δ_k - Δ` apart: the tuned detector (lag 0) fires once for every spike, any
    other detector at most n - 1 times for n spikes (at most one partner per spike, and
    the first (lag > 0) or last (lag < 0) spike has none). Hence argmax == the true Δ
    whenever every arrival falls inside the run (itd_rasters guarantees that).
    """
    M = int(max_itd)
    if M < 0:
        raise SpynqValueError("max_itd must be >= 0")
    if n_detectors is not None and int(n_detectors) != 2 * M + 1:
        raise SpynqValueError(f"n_detectors must be 2 * max_itd + 1 = {2 * M + 1} (one per integer Δ)")
    k = np.arange(2 * M + 1)
    if layout == "counter":
        dl, dr = (k + 1) // 2, M - k // 2
    elif layout == "one_sided":
        dl, dr = k, np.full_like(k, M)
    else:
        raise SpynqValueError(f"unknown layout {layout!r}: 'counter' or 'one_sided'")
    if not (weight < threshold <= 2 * weight and leak * threshold + weight < threshold and 0 <= leak < 1):
        raise SpynqValueError("need w < threshold <= 2 w and leak * threshold + w < threshold for a pure "
                         "coincidence detector")
    weights = np.full((2, k.size), float(weight))
    delays = np.stack([dl, dr]).astype(np.int64)
    layer = LifLayer(weights, delays, _delta_params(leak, threshold))
    return Jeffress(network=LifNetwork([layer]), max_itd=M, left_delay=dl, right_delay=dr, tuned=dl - dr,
                    layout=layout, notes=f"detector k tuned to Δ = k - {M}")


def _delta_params(leak: float, threshold: float) -> LifParams:
    """LIF without a synaptic current stage: v = leak * v + input (see the core's LifParams)."""
    return LifParams(alpha=float(leak), beta=None, threshold=float(threshold), reset="zero")


def itd_rasters(itds, max_itd: int, T: int = 128, rate: float = 0.15, seed=0, jitter: float = 0.0,
                p_drop: float = 0.0, p_extra: float = 0.0, latest_arrival_margin: int | None = None) -> np.ndarray:
    """(batch, T, 2) bool rasters: column 0 left ear, column 1 the right ear = left shifted by Δ.

    A source train is Bernoulli(rate) over the steps t in [max_itd, T - max_itd - margin),
    margin = latest_arrival_margin (default max_itd, the longest delay of the "counter"
    layout), so that both ears' spikes and their delayed arrivals stay inside 0..T-1; at
    least one source spike is forced. left = source, right = source shifted by Δ.
    Noise (chosen; the paper-free part of the demo), applied to each ear independently:
      jitter: every spike moves by round(N(0, jitter^2)) steps (clipped into 0..T-1),
      p_drop: every spike is deleted with this probability,
      p_extra: every silent step gets a spurious spike with this probability.
    """
    itds = np.atleast_1d(np.asarray(itds, np.int64))
    M = int(max_itd)
    if np.any(np.abs(itds) > M):
        raise SpynqValueError(f"|Δ| must be <= max_itd = {M}")
    margin = M if latest_arrival_margin is None else int(latest_arrival_margin)
    lo, hi = M, T - M - margin
    if hi - lo < 1:
        raise SpynqValueError(f"T = {T} too short for max_itd = {M} and delays up to {margin}")
    rng = np.random.default_rng(seed)
    B = itds.size
    src = rng.random((B, hi - lo)) < rate
    none = ~src.any(axis=1)
    src[none, rng.integers(0, hi - lo, int(none.sum()))] = True
    out = np.zeros((B, T, 2), bool)
    for b in range(B):
        t = lo + np.flatnonzero(src[b])
        for ear, shift in ((0, 0), (1, int(itds[b]))):
            ts = t + shift
            if jitter > 0:
                ts = np.clip(ts + np.rint(rng.normal(0.0, jitter, ts.size)).astype(np.int64), 0, T - 1)
            if p_drop > 0:
                ts = ts[rng.random(ts.size) >= p_drop]
            out[b, ts, ear] = True
            if p_extra > 0:
                out[b, :, ear] |= rng.random(T) < p_extra
    return out


def _as_network(net) -> LifNetwork:
    return net.network if isinstance(net, Jeffress) else net


def tuned_itds(network) -> np.ndarray:
    """Δ each detector is tuned to, read from the network's delays: dL(k) - dR(k)."""
    layer = _as_network(network).layers[0]
    d = np.asarray(layer.delays)
    if d.ndim != 2 or d.shape[0] != 2:
        raise SpynqValueError("a Jeffress network has per-synapse delays of shape (2, n_detectors)")
    return (d[0] - d[1]).astype(np.int64)


def detector_counts(network, rasters, backend: str = "cpu", **kw) -> np.ndarray:
    """(batch, n_detectors) spike counts of the detectors."""
    from .backends import run

    r = run(_as_network(network), np.asarray(rasters, bool), backend=backend, **kw)
    return np.asarray(r.counts[-1], np.int64)


def estimate_from_counts(counts, tuned) -> np.ndarray:
    """Estimated Δ per sample: the tuned Δ of the detector that fired most.

    Ties (possible only with noise) go to the detector with the smallest |Δ|, then the
    negative one (chosen: the centre is the a-priori likeliest). A sample where no
    detector fired gets NaN, so the result is float.
    """
    counts = np.asarray(counts)
    tuned = np.asarray(tuned)
    order = np.lexsort((tuned, np.abs(tuned)))  # centre first
    best = order[np.argmax(counts[:, order], axis=1)]
    est = tuned[best].astype(float)
    est[counts.max(axis=1) == 0] = np.nan
    return est


def estimate_itd(network, rasters, backend: str = "cpu", **kw) -> np.ndarray:
    """Estimated Δ (float, NaN if no detector fired) per sample of rasters (batch, T, 2)."""
    return estimate_from_counts(detector_counts(network, rasters, backend, **kw), tuned_itds(network))


# noise-free and one noisy condition (chosen). Noisy: each spike of each ear moves by
# round(N(0, 0.4^2)) steps (nonzero, i.e. +-1, with p = 0.21, so a left/right pair is
# misaligned with p ~ 0.35), 5 % of the spikes are lost and every step carries a
# spurious spike with p = 0.01 per ear
CONDITIONS = {"clean": dict(jitter=0.0, p_drop=0.0, p_extra=0.0),
              "jitter": dict(jitter=0.4, p_drop=0.05, p_extra=0.01)}


def jeffress_accuracy(backend: str = "cpu", n_trials: int = 200, seed: int = 0, max_itd: int = 8, T: int = 128,
                      rate: float = 0.15, conditions: dict | None = None, layout: str = "counter", **kw) -> dict:
    """Accuracy of the Jeffress estimate vs the true Δ, per noise condition.

    n_trials samples with Δ drawn uniformly from -max_itd..max_itd (seeded), every Δ
    appearing at least once when n_trials >= 2 * max_itd + 1 (the first 2M+1 trials run
    through all of them). Returns {"backend", "max_itd", "T", "rate", "n_trials",
    condition: {"exact" (fraction estimate == Δ), "mae" (mean |estimate - Δ|, a silent
    array counted as the largest possible error 2 * max_itd), "silent" (fraction with no
    detector spike), "per_itd" {Δ: exact rate}, "counts_mean" (2M+1, 2M+1) mean detector
    counts per true Δ (rows) -- what `plots.jeffress_counts` draws, "params"}}.
    """
    j = jeffress(max_itd, layout=layout)
    rng = np.random.default_rng(seed)
    all_itds = np.arange(-max_itd, max_itd + 1)
    itds = np.concatenate([all_itds, rng.integers(-max_itd, max_itd + 1, max(0, n_trials - all_itds.size))])[
        :n_trials]
    conds = CONDITIONS if conditions is None else conditions
    out = {"backend": backend, "max_itd": int(max_itd), "T": int(T), "rate": float(rate), "n_trials": int(n_trials),
           "layout": layout}
    for i, (name, noise) in enumerate(conds.items()):
        x = j.rasters(itds, T=T, rate=rate, seed=(seed, i), **noise)
        counts = detector_counts(j, x, backend, **kw)
        est = estimate_from_counts(counts, j.tuned)
        silent = np.isnan(est)
        err = np.where(silent, 2 * max_itd, np.abs(np.nan_to_num(est) - itds))
        cm = np.zeros((all_itds.size, j.n_detectors))
        for r, d in enumerate(all_itds):
            if np.any(itds == d):
                cm[r] = counts[itds == d].mean(axis=0)
        out[name] = {"exact": float(np.mean(~silent & (est == itds))), "mae": float(err.mean()),
                     "silent": float(silent.mean()),
                     "per_itd": {int(d): float(np.mean(est[itds == d] == d)) for d in all_itds if np.any(itds == d)},
                     "counts_mean": cm.tolist(), "params": dict(noise)}
    return out


# ------------------------------------------------------------------ speech network shape

SHD_TAU_S = 1.0  # Table 1 of the speech paper: tau_s = tau_r = 1 for SHD (5 for N-TIDIGITS)
SHD_MAX_DELAY = 64  # Table 1: delay threshold theta_d = 64 for SHD (128 for N-TIDIGITS)
SHD_INPUTS, SHD_CLASSES = 700, 20  # SHD: 700 cochlear channels, 20 spoken digits


def alpha_params(tau_s: float = SHD_TAU_S, threshold: float = 1.0, quantized: bool = True) -> LifParams:
    """Current-based LIF whose PSP is the paper's alpha kernel eps(t) = t/tau exp(1 - t/tau).

    With current decay = membrane decay = a = exp(-1/tau), a unit input at step 0 gives
    I[n] = a^n and v[n] = sum_m a^(n-m) a^m = (n + 1) a^n = tau * eps(n + 1): the
    paper's kernel sampled one step later and scaled by tau (so the weights are divided
    by tau). Threshold: the paper's theta_u = 10 mV is only a scale; 1 here. The
    refractory kernel nu(t) = -alpha_r theta t/tau_r exp(1 - t/tau_r) (alpha_r = 2,
    tau_r = 1: -2.0, -1.5, -0.8, -0.4 theta in the 4 steps after a spike) is replaced by
    the kernel's reset to zero (chosen: the hardware has a reset and an optional
    refractory count, not a refractory kernel; the reset removes >= theta at once, so
    these neurons recover faster than the paper's).
    quantized: round the decay onto the kernel's UQ0.16 grid, so that the float and the
    fixed-point tiers run the same model and differ only by rounding inside the loop.
    """
    a = float(np.exp(-1.0 / tau_s))
    if quantized:
        a = round(a / DECAY_STEP) * DECAY_STEP
    return LifParams(alpha=a, beta=a, threshold=float(threshold), reset="zero")


def _random_weights(rng, n_in, n_out, gain, tau_s, quantized):
    # N(0, (gain / sqrt(n_in))^2) / tau_s; gain 3 chosen so that a 5 % input raster keeps
    # every layer of the 700-128-128-20 shape active but far from saturated (T = 100,
    # measured ~10, 13, 15 % of neuron-steps with axonal delays, ~7 % per synapse);
    # quantized: rounded onto the kernel's Q3.12 weight grid
    w = rng.normal(0.0, gain / np.sqrt(n_in), (n_in, n_out)) / tau_s
    return np.round(w / W_STEP) * W_STEP if quantized else w


def speech_shape_network(n_in: int = SHD_INPUTS, hidden=(128, 128), n_out: int = SHD_CLASSES,
                         max_delay: int = SHD_MAX_DELAY, seed=0, tau_s: float = SHD_TAU_S, gain: float = 3.0,
                         input_delays: bool = False, quantized: bool = True) -> LifNetwork:
    """Input-128FC-VAD-128FC-VAD-Output (the paper's D128-SNN) with random weights and delays.

    The paper puts a variable axonal delay (VAD) on the output of every hidden layer, one
    delay per neuron, clipped to 0..theta_d (eq. 5), theta_d = 64 for SHD. In spynq's
    terms a neuron's axonal delay belongs to the *next* layer's inputs, so layers 2 and
    3 get axonal delays (n_in,) drawn uniformly from 0..max_delay, and layer 1 has none
    (the input spikes are not delayed in the paper; input_delays=True adds them too).
    Neurons: `alpha_params(tau_s)`. Not modelled: the local skip-connections (DL128) and
    anything learned -- weights are N(0, (gain/sqrt(n_in))^2)/tau_s, seeded.
    quantized (default): weights and decays on the kernel's grids (Q3.12, UQ0.16), so
    cpu (float) and golden (fixed point) see the same model.
    """
    rng = np.random.default_rng(seed)
    sizes = [int(n_in), *[int(h) for h in hidden], int(n_out)]
    params = alpha_params(tau_s, quantized=quantized)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = _random_weights(rng, a, b, gain, tau_s, quantized)
        d = rng.integers(0, max_delay + 1, a) if (i > 0 or input_delays) else None
        layers.append(LifLayer(w, d, params))
    return LifNetwork(layers)


@dataclass
class BenchmarkShape:
    """The issue's benchmark: network + input statistics (rasters(batch, seed) draws inputs)."""

    network: LifNetwork
    T: int = 100
    density: float = 0.05
    notes: str = ""
    sizes: tuple = field(default_factory=tuple)

    def rasters(self, batch: int = 1, seed=0) -> np.ndarray:
        return random_rasters(np.random.default_rng(seed), batch, self.T, self.network.n_in, self.density)


def benchmark_shape(sizes=(700, 128, 128, 20), max_delay: int = 64, T: int = 100, density: float = 0.05, seed=0,
                    tau_s: float = SHD_TAU_S, gain: float = 3.0, quantized: bool = True) -> BenchmarkShape:
    """700-128-128-20, per-synapse delays uniform in 0..max_delay on every layer, T = 100,
    5 % input density. Neurons and weights as `speech_shape_network` (alpha kernel,
    N(0, (gain/sqrt(n_in))^2)/tau_s). Per-synapse (not axonal) delays are the worst case
    for the kernel's delay buffers, which is what the benchmark is for.
    """
    rng = np.random.default_rng(seed)
    params = alpha_params(tau_s, quantized=quantized)
    layers = [LifLayer(_random_weights(rng, a, b, gain, tau_s, quantized), rng.integers(0, max_delay + 1, (a, b)),
                       params) for a, b in zip(sizes[:-1], sizes[1:])]
    return BenchmarkShape(LifNetwork(layers), T=int(T), density=float(density), sizes=tuple(int(s) for s in sizes),
                          notes=f"per-synapse delays 0..{max_delay}, seed {seed}")
