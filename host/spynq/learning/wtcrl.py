"""P4 (Fois & Girau, W-TCRL): unsupervised STDP on population latency codes.
Note: models_delays_learning_mapping.md section P4 (4.1-4.8) and its errata table.

Two layers, clock-driven at dt = 0.1 ms like the authors' Brian2 code:
  u (encoding): k inputs x l = 10 LIF neurons per input, tau_m = 10 ms, theta = 0.5,
    refractory 6 ms, driven by the circular Gaussian activation A_i of the input (sigma = 0.6,
    centres 0.05 + 0.1 i) for 12.5 ms of a T = 25 ms period: one spike per neuron, at
    -tau ln(1 - theta/A) in [6.93, 12.30] ms (closed form; Euler on the 0.1 ms grid).
  v (representation): m LIF neurons (tau_m = 1.4 ms, the paper; 1.5 in the code: Params),
    CuBa afferent (2.8 ms) and lateral (0.3 ms) currents, threshold 0.25 k l (strict >),
    refractory 6 ms; lateral inhibition -c_min -> -c_max with tau_w = T P / 3 (training),
    fixed at -c_max in test (plasticity off).
STDP (eq. 3): on a post spike of j, for x_i > eps: dw = +a+ (1 - x_i - w + w_offset); on a
pre spike of i, for y_j > eps: dw = -a- (1 - y_j); w clipped to [0, 1]. The causal fixed
point (eq. 4) is w* = min(1, 1 - e^{-dt/tau_x} + w_offset); anti-causal pairs drive w to 0.
Event order inside a step follows Brian2: state update, threshold, pre pathway (current,
x = 1, depression), post pathway (y = 1, inhibition, potentiation), reset.
Our choices (the paper is silent): the state is reset at the start of each 25 ms period
(the authors' Brian2 run is continuous, but after the last input spike at <= 12.3 ms the
currents (tau <= 2.8 ms) and traces (tau <= 4.3 ms) have 12.7 ms to decay: y < 0.06 < eps,
so no STDP pair crosses periods either way); traces decay exactly (e^{-dt/tau} per step,
so the simulated fixed point meets eq. 4 on the grid; "euler" selectable); the SBMU is
the first v neuron to spike (ties: the highest potential).
Decoding (Sec. 2.5): circular mean of the SBMU's weights per input; metrics RMS (eq. 6),
sparsity (eq. 7) and incoherence at 5 % / 10 % (squared Euclidean ranking, as the code).
Data here: scikit-learn's 8x8 digits cut into 4x4 patches (k = 16) as the stand-in for
MNIST's 5x5 patches (no download).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Params:
    l: int = 10                  # encoding neurons per input
    dt: float = 0.1              # ms
    T: float = 25.0              # one input period (ms)
    T_on: float = 12.5           # input current on for the first half
    tau_u: float = 10.0
    theta_u: float = 0.5
    refrac: float = 6.0          # both layers
    sigma: float = 0.6           # the code's (0.95 - 0.05) / 1.5
    lo: float = 0.15             # MNIST normalisation range
    hi: float = 0.85
    tau_v: float = 1.4           # paper Table 1 (the authors' code: 1.5)
    theta_scale: float = 0.25    # V_theta^v = 0.25 k l
    tau_aff: float = 2.8
    tau_lat: float = 0.3
    tau_x: float = 1.3
    tau_y: float = 4.3
    a_plus: float = 0.004
    a_minus: float = 0.024       # = 6 a_plus (the code)
    w_offset: float = 0.2
    eps: float = 0.1
    c_min: float = 9.0           # x V_theta^v
    c_max: float = 91.0
    w_init: tuple = (0.6, 0.8)
    decay: str = "exact"         # traces: "exact" e^{-dt/tau} or "euler" (1 - dt/tau)

    @property
    def centres(self):
        return 0.05 + 0.1 * np.arange(self.l) if self.l == 10 else (np.arange(self.l) + 0.5) / self.l

    def theta_v(self, k: int) -> float:
        return self.theta_scale * k * self.l

    def steps(self) -> int:
        return int(round(self.T / self.dt))


# ------------------------------------------------------------------------------ encoder


def activations(p: Params, a):
    """[..., k] values in [0, 1] -> [..., k, l] circular Gaussian activations A in [0.7066, 1]."""
    d = np.abs(np.asarray(a, float)[..., None] - p.centres)
    d = np.where(d < 0.5, d, 1 - d)
    return np.exp(-0.5 * (d / p.sigma) ** 2)


def spike_times(p: Params, a):
    """Closed-form encoder spike times (ms) -tau ln(1 - theta/A), [..., k*l]; inf: none."""
    A = activations(p, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(A > p.theta_u, -p.tau_u * np.log(1 - p.theta_u / A), np.inf)
    t = np.where(t <= p.T_on, t, np.inf)
    return t.reshape(*t.shape[:-2], -1)


def encode(p: Params, a):
    """Euler simulation of the encoding layer: (first-spike step [B, n] (-1: none), spike
    count [B, n]) for inputs [B, k] (already normalised to [lo, hi])."""
    A = activations(p, a).reshape(len(a), -1)
    V = np.zeros_like(A)
    ref = np.zeros(A.shape, int)
    first = np.full(A.shape, -1)
    count = np.zeros(A.shape, int)
    nref = int(round(p.refrac / p.dt))
    for n in range(1, p.steps() + 1):
        I = A if (n - 1) * p.dt < p.T_on else 0.0
        V = np.where(ref > 0, 0.0, V + p.dt / p.tau_u * (-V + I))
        ref = np.maximum(ref - 1, 0)
        s = V > p.theta_u
        first = np.where(s & (first < 0), n, first)
        count += s
        V = np.where(s, 0.0, V)
        ref = np.where(s, nref, ref)
    return first, count


def normalise(p: Params, x, lo=None, hi=None):
    """Min-max over the data set to [p.lo, p.hi] (note 4.2)."""
    lo = x.min() if lo is None else lo
    hi = x.max() if hi is None else hi
    return p.lo + (p.hi - p.lo) * (x - lo) / (hi - lo)


# ------------------------------------------------------------------------------ network


class WTCRL:
    """m representation neurons over k inputs. ``present`` runs one input period."""

    def __init__(self, p: Params, k: int, m: int, seed: int = 0):
        self.p, self.k, self.m = p, k, m
        self.n = k * p.l
        rng = np.random.default_rng(seed)
        self.W = rng.uniform(*p.w_init, (m, self.n))
        self.theta = p.theta_v(k)
        self.c_min, self.c_max = p.c_min * self.theta, p.c_max * self.theta
        self.t_train = 0.0           # ms of training seen (drives the inhibition schedule)

    def w_lat(self, tau_w: float | None) -> float:
        """Eq. 5: -c_max + (c_max - c_min) e^{-t/tau_w}; -c_max in test (tau_w None)."""
        if tau_w is None:
            return -self.c_max
        return -self.c_max + (self.c_max - self.c_min) * math.exp(-self.t_train / tau_w)

    def present(self, pre_step, learn: bool = True, tau_w: float | None = None, w_lat: float | None = None,
                force_post: dict | None = None):
        """One period. pre_step [n]: the encoding spike step of each u neuron (-1: none).
        Returns (post spikes as a list of (step, j), sbmu or -1). force_post {step: j}
        (tests) makes j spike at that step whatever its potential."""
        p, W = self.p, self.W
        dt = p.dt
        wl = self.w_lat(tau_w) if w_lat is None else w_lat
        dec = (lambda tau: math.exp(-dt / tau)) if p.decay == "exact" else (lambda tau: 1 - dt / tau)
        fa, fl, fx, fy = dec(p.tau_aff), dec(p.tau_lat), dec(p.tau_x), dec(p.tau_y)
        kv = dt / p.tau_v
        nref = int(round(p.refrac / dt))
        m = self.m
        v = np.zeros(m)
        s_aff = np.zeros(m)
        s_lat = np.zeros(m)
        ref_until = np.zeros(m, int)             # refractory while n < ref_until (v clamped at 0)
        # traces kept lazily: x_i(n) = fx^(n - last pre spike of i), y_j likewise (each is
        # set to 1 at its neuron's spike and only decays, so this equals stepping them)
        lx, ly = math.log(fx), math.log(fy)
        x_last = np.full(self.n, -(1 << 40))
        y_last = np.full(m, -(1 << 40))
        valid = pre_step >= 0
        order = np.argsort(np.where(valid, pre_step, 1 << 30), kind="stable")
        nv = int(valid.sum())
        if nv == 0:
            return [], -1
        order = order[:nv]
        steps_sorted = pre_step[order]
        uniq, starts = np.unique(steps_sorted, return_index=True)
        groups = dict(zip(uniq.tolist(), np.split(order, starts[1:])))
        n0 = int(uniq[0])
        # after the last input spike: 5 tau_aff for the current to fade (< 1 %); x windows are shorter
        n1 = min(p.steps(), int(uniq[-1]) + int(round(5 * p.tau_aff / dt)) + 1)
        if force_post:
            n1 = max(n1, max(force_post) + 1)
        posts = []
        sbmu = -1
        any_ref = False
        for n in range(n0, n1 + 1):
            # state update (Euler for v; v clamped at 0 while refractory)
            v += kv * (s_aff + s_lat - v)
            if any_ref:
                rf = ref_until > n
                v[rf] = 0.0
                any_ref = bool(rf.any())
            s_aff *= fa
            s_lat *= fl
            # threshold (strict, as the code)
            if force_post is None:
                post = v > self.theta
                fired = np.flatnonzero(post) if post.any() else None
            else:
                fired = np.array([force_post[n]]) if n in force_post else None
            # pre pathway: current, trace, depression by recent post spikes
            pre = groups.get(n)
            if pre is not None:
                s_aff += W[:, pre].sum(1)
                x_last[pre] = n
                if learn:
                    y = np.exp((n - y_last) * ly)
                    dep = y > p.eps
                    if dep.any():
                        rows = np.flatnonzero(dep)
                        W[np.ix_(rows, pre)] = np.clip(W[np.ix_(rows, pre)] - p.a_minus * (1 - y[rows])[:, None], 0, 1)
            # post pathway: trace, lateral inhibition, potentiation by recent pre spikes
            if fired is not None:
                if sbmu < 0:
                    sbmu = int(fired[np.argmax(v[fired])])
                y_last[fired] = n
                inh = np.full(m, float(fired.size))
                inh[fired] -= 1.0                          # i != j
                s_lat += wl * inh
                if learn:
                    x = np.exp((n - x_last) * lx)
                    pot = np.flatnonzero(x > p.eps)
                    if pot.size:
                        blk = W[np.ix_(fired, pot)]
                        W[np.ix_(fired, pot)] = np.clip(blk + p.a_plus * (1 - x[pot] - blk + p.w_offset), 0, 1)
                for j in fired:
                    posts.append((n, int(j)))
                v[fired] = 0.0
                ref_until[fired] = n + 1 + nref
                any_ref = True
        return posts, sbmu

    # ------------------------------------------------------------------ decoding

    def decode(self, rows=None):
        """Circular mean of each neuron's weights per input: [m, k] values in [0, 1)."""
        p = self.p
        W = self.W if rows is None else self.W[rows]
        w = W.reshape(len(W), self.k, p.l)
        th = 2 * np.pi * p.centres
        D = w.sum(-1)
        D = np.where(D > 0, D, 1.0)
        cx = (w * np.cos(th)).sum(-1) / D
        cy = (w * np.sin(th)).sum(-1) / D
        return (np.arctan2(-cy, -cx) + np.pi) / (2 * np.pi)


def decode_weights(p: Params, w):
    """Circular-mean decoding of weight vectors [..., k*l] -> [..., k]."""
    w = np.asarray(w, float).reshape(*np.shape(w)[:-1], -1, p.l)
    th = 2 * np.pi * p.centres
    D = w.sum(-1)
    D = np.where(D > 0, D, 1.0)
    return (np.arctan2(-(w * np.sin(th)).sum(-1) / D, -(w * np.cos(th)).sum(-1) / D) + np.pi) / (2 * np.pi)


def to_data(p: Params, a_hat):
    """Decoded code values back to the data range [0, 1] (clipped to [lo, hi] first, as the code)."""
    return (np.clip(a_hat, p.lo, p.hi) - p.lo) / (p.hi - p.lo)


def evaluate(net: WTCRL, X, pre_steps):
    """Test mode (lateral -c_max, no plasticity) over inputs X [P, k] in the data range
    [0, 1]: RMS (eq. 6), sparsity (eq. 7), incoherence at 5 % and 10 %, spikes per input."""
    p = net.p
    codes = to_data(p, net.decode())                      # [m, k]
    rms, spikes, coh = [], [], {0.05: [0, 0], 0.10: [0, 0]}
    for a, ps in zip(X, pre_steps):
        posts, sb = net.present(ps, learn=False, w_lat=-net.c_max)
        spikes.append(len(posts))
        if sb < 0:
            rms.append(1.0)                                 # no SBMU: error 1 per pixel (the code)
            continue
        rms.append(float(np.sqrt(np.mean((a - codes[sb]) ** 2))))
        d = np.sum((codes - a) ** 2, 1)
        rank = int(np.sum(d < d[sb]))
        for f in coh:
            coh[f][0 if rank < math.ceil(net.m * f) else 1] += 1
    inc = {f: (1 - c[0] / (c[0] + c[1])) if c[0] + c[1] else float("nan") for f, c in coh.items()}
    return {"rms": float(np.mean(rms)), "sparsity": float(np.mean(spikes)) / net.m,
            "spikes_per_input": float(np.mean(spikes)), "incoherence_5": inc[0.05], "incoherence_10": inc[0.10],
            "silent_frac": float(np.mean([r == 1.0 for r in rms]))}


# ------------------------------------------------------------------------------ data


def digit_patches(size: int = 4, n_train_images: int = 1500):
    """sklearn's 8x8 digits (0..16 -> [0, 1]) cut into non-overlapping size x size patches:
    (train [P, size^2], test [Q, size^2]), images split train / test in file order."""
    from sklearn.datasets import load_digits

    X = load_digits().images / 16.0
    n = X.shape[0]
    b = 8 // size
    P = X.reshape(n, b, size, b, size).transpose(0, 1, 3, 2, 4).reshape(n, b * b, size * size)
    return P[:n_train_images].reshape(-1, size * size), P[n_train_images:].reshape(-1, size * size)


def pre_steps_of(p: Params, X):
    """Encoding-layer spike steps [P, n] of data-range inputs X [P, k] (normalised to
    [lo, hi] with the data range [0, 1])."""
    first, count = encode(p, normalise(p, X, 0.0, 1.0))
    return first


def train(net: WTCRL, X, n_iter: int, seed: int = 0, progress=None, snapshot_every: int = 0, test=None):
    """Unsupervised training on n_iter inputs drawn with replacement from X (the code),
    tau_w = T n_iter / 3; returns the history (snapshots of W, test metrics)."""
    p = net.p
    rng = np.random.default_rng(seed + 7)
    steps = pre_steps_of(p, X)
    tau_w = p.T * n_iter / 3
    hist = {"iter": [], "W": [], "metrics": []}
    t0 = time.perf_counter()
    for it in range(n_iter):
        i = rng.integers(len(X))
        net.present(steps[i], learn=True, tau_w=tau_w)
        net.t_train += p.T
        if snapshot_every and (it % snapshot_every == 0 or it == n_iter - 1):
            hist["iter"].append(it)
            hist["W"].append(net.W.copy())
            if test is not None:
                hist["metrics"].append(evaluate(net, *test))
                if progress:
                    progress(it, hist)
    hist["seconds"] = time.perf_counter() - t0
    return hist


# ------------------------------------------------------------------------------ closed forms


def w_star(p: Params, dt_ms):
    """Eq. 4's causal fixed point, clipped to 1."""
    return np.minimum(1.0, 1.0 - np.exp(-np.asarray(dt_ms, float) / p.tau_x) + p.w_offset)


def windows(p: Params):
    """(causal, anti-causal) STDP windows: x > eps <=> dt < tau_x ln(1/eps); y likewise."""
    return p.tau_x * math.log(1 / p.eps), p.tau_y * math.log(1 / p.eps)


def single_pattern(p: Params, a, n_repeat: int = 400, seed: int = 0, post_step: int | None = None):
    """Fig. 4's experiment: one pattern presented n_repeat times to one v neuron (no
    inhibition). post_step pins the post spike to that step (free-running, the post time
    can alternate between two neighbouring steps as the weights move, a limit cycle of
    one grid step). Returns (final W [n], pre spike steps [n], post step of the last period)."""
    net = WTCRL(p, len(a), 1, seed)
    net.W[:] = 0.7
    steps = encode(p, normalise(p, np.asarray([a], float), 0.0, 1.0))[0][0]
    post = []
    force = None if post_step is None else {int(post_step): 0}
    for _ in range(n_repeat):
        post, _ = net.present(steps, learn=True, w_lat=0.0, force_post=force)
    return net.W[0].copy(), steps, (post[0][0] if post else -1)


# ------------------------------------------------------------------------------ figures


def figures(net: WTCRL, hist: dict, out_dir: str, tag: str, size: int = 4) -> list:
    from ..plotting import pyplot

    plt = pyplot()
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    codes = to_data(net.p, net.decode())
    cols = int(math.ceil(math.sqrt(net.m)))
    rows = int(math.ceil(net.m / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.2))
    for j, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if j < net.m:
            ax.imshow(codes[j].reshape(size, size), cmap="gray", vmin=0, vmax=1)
    fig.suptitle("W-TCRL receptive fields (decoded code vectors)")
    paths.append(os.path.join(out_dir, f"wtcrl_{tag}_fields.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    if hist.get("W"):
        Ws = np.stack(hist["W"])                       # [S, m, n]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for i in range(0, net.n, max(1, net.n // 12)):
            ax.plot(hist["iter"], Ws[:, 0, i], lw=1)
        ax.set_xlabel("training input")
        ax.set_ylabel("w (neuron 0, some synapses)")
        ax.set_title("STDP weight evolution")
        fig.tight_layout()
        paths.append(os.path.join(out_dir, f"wtcrl_{tag}_weights.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def fixed_point_figure(p: Params, out_dir: str) -> str:
    from ..plotting import pyplot

    plt = pyplot()
    W, steps, post = single_pattern(replace_params(p, a_plus=0.02, a_minus=0.12), np.array([0.45, 0.2, 0.8]), 300)
    dt = (post - steps) * p.dt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    g = np.linspace(-10, 4, 400)
    ax.plot(g[g >= 0], w_star(p, g[g >= 0]), "k-", label="eq. 4 closed form")
    ax.scatter(dt, W, c="C1", label="simulated (300 presentations)")
    ax.set_xlabel("t_post - t_pre (ms)")
    ax.set_ylabel("w")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, "wtcrl_fixed_point.png")
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def replace_params(p: Params, **kw) -> Params:
    from dataclasses import replace

    return replace(p, **kw)


# ------------------------------------------------------------------------------ command


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spynq.learning.wtcrl", description=__doc__.split("\n")[0])
    ap.add_argument("--m", type=int, nargs="+", default=[16, 32])
    ap.add_argument("--iters", type=int, default=3000, help="training inputs (drawn with replacement)")
    ap.add_argument("--test", type=int, default=400, help="test patches evaluated")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--out", default="build/learning")
    a = ap.parse_args(argv)
    p = Params()
    Xtr, Xte = digit_patches()
    Xte = Xte[:a.test]
    test = (Xte, pre_steps_of(p, Xte))
    os.makedirs(a.out, exist_ok=True)
    summary = {}
    for m in a.m:
        for s in range(a.seeds):
            net = WTCRL(p, Xtr.shape[1], m, s)
            before = evaluate(net, *test)
            hist = train(net, Xtr, a.iters, seed=s, snapshot_every=max(1, a.iters // 10), test=test,
                         progress=lambda it, h: print(f"[m={m} seed {s}] input {it:5d} " + " ".join(
                             f"{k} {v:.4f}" for k, v in h["metrics"][-1].items()), flush=True))
            after = hist["metrics"][-1]
            row = {"m": m, "seed": s, "before": before, "after": after, "seconds": hist["seconds"]}
            summary[f"m{m}_s{s}"] = row
            np.savez(os.path.join(a.out, f"wtcrl_m{m}_s{s}.npz"), W=net.W, params=json.dumps(asdict(p)),
                     metrics=json.dumps(row))
            if s == 0:
                figures(net, hist, a.out, f"m{m}")
            print(json.dumps(row), flush=True)
    fixed_point_figure(p, a.out)
    summary["stats"] = seed_stats(summary)
    summary["settings"] = {"iters": a.iters, "test": a.test, "seeds": a.seeds, "m": a.m}
    for m, st in summary["stats"].items():
        print(f"{m} over {st['seeds']} seeds: " + ", ".join(f"{k} {v['mean']:.4f} +- {v['std']:.4f}"
                                                            for k, v in st["after"].items()), flush=True)
    with open(os.path.join(a.out, "wtcrl_summary.json"), "w") as fh:
        json.dump(summary, fh, indent=1)
    return 0


METRICS = ("rms", "sparsity", "spikes_per_input", "incoherence_5", "incoherence_10", "silent_frac")


def seed_stats(summary: dict) -> dict:
    """Mean and (population) std over seeds of every test metric, before and after
    training, per m: {"m16": {"seeds": n, "after": {metric: {"mean", "std", "values"}}, ...}}."""
    rows = [r for r in summary.values() if isinstance(r, dict) and "before" in r]
    out = {}
    for m in sorted({r["m"] for r in rows}):
        rm = sorted((r for r in rows if r["m"] == m), key=lambda r: r["seed"])
        out[f"m{m}"] = {"m": m, "seeds": [r["seed"] for r in rm], "seconds": float(sum(r["seconds"] for r in rm))}
        for when in ("before", "after"):
            out[f"m{m}"][when] = {k: {"mean": float(np.mean(v)), "std": float(np.std(v)), "values": v}
                                  for k in METRICS for v in [[float(r[when][k]) for r in rm]]}
    return out


if __name__ == "__main__":
    sys.exit(main())
