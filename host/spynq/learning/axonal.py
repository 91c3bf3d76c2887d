"""Learnable axonal delays with local skip connections (P3 of
models_delays_learning_mapping.md, sections 3.1-3.9): SRM neurons, the variable axonal
delay (VAD), the local skip module, the spike-count and suppressed losses, the SLAYER
surrogate, the Table 2 architectures, and a small synthetic timing task where delays
matter. Written once over ``xp`` (numpy forward; jax.numpy for BPTT), as spynq.nn.

Discrete time t = n T_s with T_s = 1 (delays and kernels in steps). Per layer l:
    a[t]  = sum_k eps[k] s_in[t-k]                   PSP (eps(0) = 0: one step of latency)
    u[t]  = W a[t] + b + sum_k nu[k] s[t-k]          eq. 1 (SLAYER: a spike adds nu to the
                                                      future membrane; the bias b is what
                                                      Table 4's counts include)
    s[t]  = Heav(u[t] - theta_u)                     eq. 2, SLAYER surrogate backward (eq. 10)
    s_d   = s shifted by d_hat = min(max(0, round(d)), theta_d)   eqs. 4-5, one d per neuron
    local: u_hat = V (eps * s_d) + b_V + nu * s_hat, s_hat = Heav(u_hat - theta_u)     eq. 6
    sent to layer l+1: s_d + s_hat (values 0, 1, 2)
The output layer has no VAD and no local module (Table 2).

Choices (the paper is silent or inconsistent; note 3.2-3.5):
* eq. 5 "round" vs the text's "round down": ``rounding="round"`` (eq. 5, default) or "floor".
  The trained value is a real latent delay, clipped to [0, theta_d] after every update;
  the forward uses its rounded value. (Rounding the stored value itself after each step,
  as the text can be read, would freeze it: an Adam step of lr << 0.5 rounds back.)
* eq. 12's delay gradient has the wrong sign: s_d(t) = s(t - d), so ds_d/dd = -ds_d/dt,
  with the backward difference -(s_d[m] - s_d[m-1]). ``delay_sign="corrected"`` (default)
  uses that; "paper" the printed sign (for the erratum check only). It is the right
  derivative of the linearly interpolated fractional delay (``rounding="interp"``), which
  tests/test_learning_axonal.py checks by finite differences.
* eq. 10's constants are not given: SLAYER's, f'(u) = scale_rho/(tau_rho theta)
  exp(-|u - theta|/(tau_rho theta)) with scale_rho = tau_rho = 1, i.e. tau_scale = 1/theta
  and tau_theta = theta.
* eq. 7's target counts are not given: ``true_count`` / ``false_count`` (SLAYER practice).
* Gradients flow through the refractory feedback (full BPTT); ``detach_refractory=True``
  stops them there as SLAYER's CUDA kernel does.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpynqValueError
from ..nn.ops import is_jax, spike, stop_gradient
from ..nn.surrogate import Surrogate

ROUNDINGS = ("round", "floor", "interp")
SIGNS = ("corrected", "paper")

# Table 1 of the paper
TABLE1 = {
    "ntidigits": dict(batch=128, lr=0.1, tau_s=5.0, tau_r=5.0, theta=10.0, alpha_r=2.0, theta_d=128, lambda_u=0.995,
                      n_in=64, n_out=11),
    "shd": dict(batch=128, lr=0.1, tau_s=1.0, tau_r=1.0, theta=10.0, alpha_r=2.0, theta_d=64, lambda_u=0.995,
                n_in=700, n_out=20),
}


# ----------------------------------------------------------------------------- kernels


def srm_kernel(tau: float, n: int) -> np.ndarray:
    """eps[k] = (k/tau) exp(1 - k/tau), k = 0..n-1: peak 1 at k = tau."""
    t = np.arange(int(n), dtype=np.float64)
    return (t / tau) * np.exp(1.0 - t / tau)


def refractory_kernel(tau_r: float, alpha_r: float, theta: float, n: int) -> np.ndarray:
    """nu[k] = -alpha_r theta (k/tau_r) exp(1 - k/tau_r): minimum -alpha_r theta at k = tau_r."""
    return -alpha_r * theta * srm_kernel(tau_r, n)


def kernel_length(tau: float, rel: float = 1e-3) -> int:
    """Steps until (t/tau) e^(1 - t/tau) falls below rel (after its peak), at least 2."""
    n = int(math.ceil(tau)) + 1
    while (n / tau) * math.exp(1.0 - n / tau) >= rel:
        n += 1
    return max(2, n + 1)


@dataclass(frozen=True)
class SlayerExp(Surrogate):
    """eq. 10: f'(x) = tau_scale exp(-|x| / tau_theta), x = u - theta. SLAYER's defaults
    (scaleRho = tauRho = 1, tau_theta = tauRho * theta) give tau_scale = 1/theta,
    tau_theta = theta for theta = 10. The primitive (smooth forward for gradient checks)
    is its integral from -inf, rising from 0 to 2 tau_scale tau_theta (SLAYER's pdf is
    not normalised: 2 scale_rho)."""
    tau_scale: float = 0.1
    tau_theta: float = 10.0

    def grad(self, x, xp):
        return self.tau_scale * xp.exp(-xp.abs(x) / self.tau_theta)

    def primitive(self, x, xp):
        a = self.tau_scale * self.tau_theta
        e = xp.exp(-xp.abs(x) / self.tau_theta)
        return xp.where(x < 0, a * e, a * (2.0 - e))


def slayer_surrogate(theta: float = 10.0, scale_rho: float = 1.0, tau_rho: float = 1.0, smooth: bool = False):
    return SlayerExp(smooth=smooth, tau_scale=scale_rho / (tau_rho * theta), tau_theta=tau_rho * theta)


def psp(s, eps, xp):
    """(eps * s)[t] over axis 0 of [T, ...]: a causal convolution as one [T, T] Toeplitz
    product (T is small here; the same numbers in numpy and jax)."""
    T = s.shape[0]
    k = np.arange(T)[:, None] - np.arange(T)[None, :]
    e = np.zeros(T)
    e[: min(T, len(eps))] = eps[:T]
    M = np.where(k >= 0, e[np.clip(k, 0, T - 1)], 0.0)
    flat = s.reshape(T, -1)
    return (xp.asarray(M) @ flat).reshape(s.shape)


def srm_fire(z, nu, theta, surrogate, xp, scan: bool = False, detach_refractory: bool = False):
    """Spikes and membranes of SRM neurons driven by z [T, B, N] (W a + b), the refractory
    kernel nu added to the future membrane at each spike. Returns (s, u) [T, B, N]."""
    K = len(nu)
    nu_f = np.asarray(nu[1:], dtype=np.float64).reshape(-1, 1, 1)  # contributions to t+1 .. t+K-1
    buf0 = xp.zeros((K - 1,) + tuple(z.shape[1:]), dtype=z.dtype)

    def step(buf, zt):
        u = zt + buf[0]
        s = spike(u - theta, surrogate, xp)
        sr = stop_gradient(s, xp) if detach_refractory else s
        nxt = xp.concatenate([buf[1:], xp.zeros_like(buf[:1])], axis=0) + xp.asarray(nu_f) * sr[None]
        return nxt, (s, u)

    if scan and is_jax(xp):
        import jax

        _, (s, u) = jax.lax.scan(step, buf0, z)
        return s, u
    buf, ss, us = buf0, [], []
    for t in range(z.shape[0]):
        buf, (s, u) = step(buf, z[t])
        ss.append(s)
        us.append(u)
    return xp.stack(ss), xp.stack(us)


# ----------------------------------------------------------------------------- the delay


def quantize_delay(d, theta_d: int, rounding: str, xp=np):
    """eq. 5: min(max(0, round(d)), theta_d) (rounding="floor": round down)."""
    r = xp.floor(d) if rounding == "floor" else xp.round(d)
    return xp.clip(r, 0, theta_d)


def _shift(s, dh, xp):
    """s_d[t, ..., i] = s[t - dh[i], ..., i] (0 before the start); s [T, B, N], dh [N] int."""
    T = s.shape[0]
    idx = np.arange(T)[:, None] - np.asarray(dh)[None, :]  # [T, N]
    valid = (idx >= 0).astype(np.float64)
    take = np.clip(idx, 0, T - 1)
    n = np.arange(s.shape[-1])[None, :]
    out = s[take, :, n]  # advanced indices first: [T, N, B]
    out = xp.moveaxis(out, -1, 1)
    return out * xp.asarray(valid)[:, None, :]


def _unshift(g, dh, xp):
    """The adjoint of _shift: g_s[t, ..., i] = g[t + dh[i], ..., i] (0 past the end)."""
    T = g.shape[0]
    idx = np.arange(T)[:, None] + np.asarray(dh)[None, :]
    valid = (idx < T).astype(np.float64)
    take = np.clip(idx, 0, T - 1)
    n = np.arange(g.shape[-1])[None, :]
    out = xp.moveaxis(g[take, :, n], -1, 1)
    return out * xp.asarray(valid)[:, None, :]


def delay_grad(s_d, g, sign: str = "corrected", xp=np):
    """dL/dd per neuron from the delayed train s_d and dL/ds_d (both [T, B, N]):
    corrected -sum_m (s_d[m] - s_d[m-1]) g[m]; "paper" eq. 12 as printed (+)."""
    prev = xp.concatenate([xp.zeros_like(s_d[:1]), s_d[:-1]], axis=0)
    v = xp.sum((s_d - prev) * g, axis=(0, 1))
    return -v if sign == "corrected" else v


def axonal_delay(s, d, theta_d: int, rounding: str = "round", sign: str = "corrected", xp=np):
    """eqs. 4-5: the spike trains s [T, B, N] delayed per neuron by d [N] (real; rounded
    and clipped in the forward). Under jax the gradient to d is the backward-difference
    rule (sign-corrected) and to s the reverse shift; rounding="interp" is the linearly
    interpolated fractional delay with its exact autodiff gradient (for checks)."""
    if rounding not in ROUNDINGS:
        raise SpynqValueError(f"rounding {rounding!r}: choose one of {ROUNDINGS}")
    if sign not in SIGNS:
        raise SpynqValueError(f"delay sign {sign!r}: choose one of {SIGNS}")
    if rounding == "interp":
        dc = xp.clip(d, 0.0, float(theta_d))
        k = stop_gradient(xp.floor(dc), xp)
        f = dc - k
        if is_jax(xp):
            import jax

            kk = jax.lax.stop_gradient(k)
            return _jax_interp(s, kk, f, theta_d)
        kk = np.asarray(k).astype(int)
        return (1.0 - f) * _shift(s, kk, xp) + f * _shift(s, np.minimum(kk + 1, 10 ** 9), xp)
    if not is_jax(xp):
        return _shift(s, np.asarray(quantize_delay(np.asarray(d), theta_d, rounding)).astype(int), xp)
    return _jax_delay(int(theta_d), rounding, sign)(s, d)


def _jax_interp(s, k, f, theta_d):
    import jax.numpy as jnp

    T = s.shape[0]
    t = jnp.arange(T)[:, None]

    def sh(kk):
        idx = t - kk[None, :].astype(jnp.int32)
        valid = (idx >= 0).astype(s.dtype)
        take = jnp.clip(idx, 0, T - 1)
        out = jnp.take_along_axis(s, take[:, None, :].repeat(s.shape[1], axis=1), axis=0)
        return out * valid[:, None, :]

    return (1.0 - f) * sh(k) + f * sh(k + 1)


def _jax_gather_shift(s, dh, sgn):
    import jax.numpy as jnp

    T = s.shape[0]
    idx = jnp.arange(T)[:, None] + sgn * dh[None, :]
    valid = ((idx >= 0) & (idx < T)).astype(s.dtype)
    take = jnp.clip(idx, 0, T - 1)
    out = jnp.take_along_axis(s, take[:, None, :].repeat(s.shape[1], axis=1), axis=0)
    return out * valid[:, None, :]


@functools.lru_cache(maxsize=None)
def _jax_delay(theta_d, rounding, sign):
    import jax
    import jax.numpy as jnp

    def q(d):
        return quantize_delay(d, theta_d, rounding, jnp).astype(jnp.int32)

    @jax.custom_vjp
    def f(s, d):
        return _jax_gather_shift(s, q(d), -1)

    def fwd(s, d):
        y = _jax_gather_shift(s, q(d), -1)
        return y, (y, d)

    def bwd(res, g):
        y, d = res
        return _jax_gather_shift(g, q(d), +1), delay_grad(y, g, sign, jnp).astype(d.dtype)

    f.defvjp(fwd, bwd)
    return f


# ----------------------------------------------------------------------------- the network


@dataclass
class AxonalSNN:
    """Input-FC-[VAD]-[Local]-...-FC-Output of SRM neurons (Table 2). ``hidden`` the
    hidden widths; vad / local switch the modules (the Table 4 rows); L_Mem and the L2
    on delays are losses (``loss``), not structure. init(seed) -> params pytree
    {"fc<i>": {w, b}, "vad<i>": {d}, "local<i>": {w, b}, "out": {w, b}}."""
    n_in: int
    n_out: int
    hidden: tuple = (128, 128)
    vad: bool = True
    local: bool = False
    tau_s: float = 5.0
    tau_r: float = 5.0
    theta: float = 10.0
    alpha_r: float = 2.0
    theta_d: int = 128
    rounding: str = "round"
    delay_sign: str = "corrected"
    surrogate: Surrogate | None = None
    w_scale: float = 4.0          # init bound multiplier on theta/sqrt(fan_in) (chosen: neurons fire at init)
    d_init: float = 0.0           # Fig. 4: "initial distribution are all 0"
    detach_refractory: bool = False
    name: str = "axonal_snn"
    eps: np.ndarray = field(init=False, repr=False)
    nu: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.surrogate is None:
            self.surrogate = slayer_surrogate(self.theta)
        self.eps = srm_kernel(self.tau_s, kernel_length(self.tau_s))
        self.nu = refractory_kernel(self.tau_r, self.alpha_r, self.theta, kernel_length(self.tau_r))

    # -- parameters -----------------------------------------------------------------
    def _fc(self, rng, fan_in, fan_out):
        b = self.w_scale * self.theta / math.sqrt(fan_in)
        return {"w": rng.uniform(-b, b, (fan_out, fan_in)), "b": np.zeros(fan_out)}

    def init(self, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        p, fan = {}, self.n_in
        for i, h in enumerate(self.hidden):
            p[f"fc{i}"] = self._fc(rng, fan, h)
            if self.vad:
                p[f"vad{i}"] = {"d": np.full(h, float(self.d_init))}
            if self.local:
                p[f"local{i}"] = self._fc(rng, h, h)
            fan = h
        p["out"] = self._fc(rng, fan, self.n_out)
        return p

    def delays(self, params) -> list:
        """The integer delays d_hat per hidden layer (eq. 5), numpy."""
        r = "round" if self.rounding == "interp" else self.rounding
        return [np.asarray(quantize_delay(np.asarray(params[f"vad{i}"]["d"]), self.theta_d, r)).astype(int)
                for i in range(len(self.hidden)) if f"vad{i}" in params]

    def project(self, params) -> dict:
        """After an update: latent delays clipped to [0, theta_d] (the text's clip)."""
        out = dict(params)
        for i in range(len(self.hidden)):
            if f"vad{i}" in out:
                out[f"vad{i}"] = {"d": np.clip(np.asarray(out[f"vad{i}"]["d"]), 0.0, float(self.theta_d))}
        return out

    # -- forward --------------------------------------------------------------------
    def _srm(self, p, s_in, xp, scan):
        z = psp(s_in, self.eps, xp) @ p["w"].T + p["b"]
        return srm_fire(z, self.nu, self.theta, self.surrogate, xp, scan, self.detach_refractory)

    def trainable(self, params) -> dict:
        """Every leaf trains (spynq.nn.train's mask convention)."""
        return {lk: {pk: True for pk in d} for lk, d in params.items()}

    def apply(self, params, xs, *, xp=np, scan: bool = False, **_ignored):
        """xs [T, B, n_in] spikes -> (output spikes [T, B, n_out], records): records[name]
        = {"s": spikes, "u": membranes} per SRM population ("fc<i>", "local<i>", "out")
        and "vad<i>" the delayed trains. Other keywords (train, seed, merge_time of
        Sequential.apply) are accepted and have no effect here."""
        rec = {}
        x = xp.asarray(xs)
        for i in range(len(self.hidden)):
            s, u = self._srm(params[f"fc{i}"], x, xp, scan)
            rec[f"fc{i}"] = {"s": s, "u": u}
            if self.vad:
                s = axonal_delay(s, params[f"vad{i}"]["d"], self.theta_d, self.rounding, self.delay_sign, xp)
                rec[f"vad{i}"] = {"s": s}
            if self.local:
                sh, uh = self._srm(params[f"local{i}"], s, xp, scan)
                rec[f"local{i}"] = {"s": sh, "u": uh}
                s = s + sh
            x = s
        s, u = self._srm(params["out"], x, xp, scan)
        rec["out"] = {"s": s, "u": u}
        return s, rec

    def run(self, rasters, params=None, *, backend: str = "cpu", **_ignored):
        """numpy on (batch, T, n_in) rasters -> spynq.lif.result.LifResult over the SRM
        populations (spikes, counts, v_last = last membrane, v_max). cpu only: the SRM
        kernels are not the LIF engine's: spynq.learning.axonal_deploy.export maps a trained
        network to it (an approximation it measures)."""
        from ..lif.result import LifResult

        if backend != "cpu":
            raise SpynqValueError(f"AxonalSNN runs on the cpu only (backend {backend!r})")

        params = self.init(0) if params is None else params
        xs = np.swapaxes(np.asarray(rasters, dtype=np.float64), 0, 1)
        t0 = time.perf_counter()
        out, rec = self.apply(params, xs)
        names = [k for k in rec if "u" in rec[k]]
        spikes = [np.swapaxes(rec[k]["s"], 0, 1) != 0 for k in names]
        counts = [s.sum(axis=1) for s in spikes]
        v_last = [np.asarray(rec[k]["u"][-1]) for k in names]
        v_max = [np.asarray(rec[k]["u"]).max(axis=0) for k in names]
        return LifResult("cpu", spikes, counts, v_last, v_max, seconds=time.perf_counter() - t0,
                         info={"layers": names, "output": out, "delays": self.delays(params)})


def count_params(params) -> int:
    return int(sum(np.asarray(v).size for layer in params.values() for v in layer.values()))


# Table 2 / Table 4 networks: name -> (vad, local, hidden)
ARCHS = {
    "plain128": (False, False, (128, 128)),
    "local128": (False, True, (128, 128)),
    "d128": (True, False, (128, 128)),
    "dl128": (True, True, (128, 128)),
    "dl256": (True, True, (128, 256)),
}


def build_table2(arch: str, dataset: str = "ntidigits", **overrides) -> AxonalSNN:
    """A Table 2 architecture at the paper's size for `dataset` (Table 1 constants).
    DL128-SNN-Dloss(-L2) are dl128 trained with L_Mem (and the delay L2)."""
    if arch not in ARCHS:
        raise SpynqValueError(f"architecture {arch!r}: choose one of {sorted(ARCHS)}")
    if dataset not in TABLE1:
        raise SpynqValueError(f"dataset {dataset!r}: choose one of {sorted(TABLE1)}")
    vad, local, hidden = ARCHS[arch]
    t = TABLE1[dataset]
    cfg = dict(n_in=t["n_in"], n_out=t["n_out"], hidden=hidden, vad=vad, local=local, tau_s=t["tau_s"],
               tau_r=t["tau_r"], theta=t["theta"], alpha_r=t["alpha_r"], theta_d=t["theta_d"])
    cfg.update(overrides)
    return AxonalSNN(**cfg)


# ----------------------------------------------------------------------------- losses


def _onehot(labels, n, xp):
    """labels (B,) ints (numpy), or already one-hot (B, n) (traced under jax)."""
    if getattr(labels, "ndim", 1) == 2:
        return labels
    return xp.asarray(np.eye(n)[np.asarray(labels)])


def spike_count_loss(out, labels, true_count: float, false_count: float, xp=np):
    """eq. 7 per sample: 1/2 sum_c (target_c - sum_t s_c)^2, mean over the batch;
    target true_count for the label, false_count for the others."""
    onehot = _onehot(labels, out.shape[-1], xp)
    target = onehot * true_count + (1 - onehot) * false_count
    cnt = xp.sum(out, axis=0)
    return 0.5 * xp.mean(xp.sum((target - cnt) ** 2, axis=-1))


def suppressed_loss(out, u, labels, theta: float, lambda_u: float, xp=np):
    """eqs. 8-9: sum_t 1/2 (s(t) Mask (u(t) - u_theta))^2, u_theta = lambda_u theta, Mask
    0 for the true class and 1 for the others; s is held fixed (stop_gradient) so that
    dL/du = s Mask (u - u_theta), eq. 13. u(t) is the membrane that crossed at step t
    (the discrete "just before the spike"). Mean over the batch."""
    mask = 1.0 - _onehot(labels, out.shape[-1], xp)
    s = stop_gradient(out, xp)
    return 0.5 * xp.mean(xp.sum((s * mask[None] * (u - lambda_u * theta)) ** 2, axis=(0, 2)))


def delay_l2(params, net: AxonalSNN, xp=np):
    """The "-L2" models' regulariser: sum of squared (latent) delays."""
    return sum(xp.sum(params[f"vad{i}"]["d"] ** 2) for i in range(len(net.hidden)) if f"vad{i}" in params)


def predict(out, xp=np):
    """Class = the output neuron with the most spikes (ties: the lowest index)."""
    return np.asarray(np.argmax(np.asarray(xp.sum(out, axis=0)), axis=-1))


# ----------------------------------------------------------------------------- the toy task


def timing_task(n: int, seed: int = 0, n_events: int = 3, group: int = 4, gap: tuple = (22, 30),
                onset: tuple = (2, 8), jitter: int = 1, noise: float = 0.002, tail: int = 20):
    """A synthetic "which order" task that delays can solve and spike counts cannot.
    n_events event types, each a volley on its own group of `group` input channels (one
    spike per channel, +-jitter steps); class c is one ordering of the events (all
    n_events! orderings, so every sample has the same spikes per channel and only the
    relative timing tells the classes apart), consecutive events `gap` steps apart
    (uniform in the range, longer than the PSP kernel's reach without delays), Bernoulli
    background noise. Returns (rasters (n, T, n_events*group) float, labels (n,), T)."""
    import itertools

    rng = np.random.default_rng(seed)
    orders = list(itertools.permutations(range(n_events)))
    T = onset[1] + (n_events - 1) * gap[1] + jitter + tail + 1
    n_in = n_events * group
    x = (rng.random((n, T, n_in)) < noise).astype(np.float64)
    labels = rng.integers(0, len(orders), size=n)
    for i in range(n):
        t = rng.integers(onset[0], onset[1] + 1)
        for k, e in enumerate(orders[labels[i]]):
            if k:
                t += rng.integers(gap[0], gap[1] + 1)
            for c in range(group):
                tc = int(np.clip(t + rng.integers(-jitter, jitter + 1), 0, T - 1))
                x[i, tc, e * group + c] = 1.0
    return x, labels, T


# ----------------------------------------------------------------------------- training


@dataclass
class TrainConfig:
    epochs: int = 30
    batch: int = 32
    lr: float = 0.01             # weights (Adam); the paper's 0.1 is for its SLAYER weight scale
    lr_delay: float = 0.5        # latent delays (Adam): a step of ~lr_delay time steps
    true_count: float = 12.0
    false_count: float = 2.0
    mem_weight: float = 0.0      # L_Mem coefficient (DL...-Dloss: > 0)
    mem_after: int = 0           # epochs of spike-count loss before L_Mem is switched on (paper: 20 pre-training)
    l2_delay: float = 0.0        # the -L2 models' coefficient (not given in the paper)
    lambda_u: float = 0.995
    learn_delays: bool = True
    learn_weights: bool = True   # False: delays only (the sign check of tests/test_learning_axonal.py)
    seed: int = 0


def train(net: AxonalSNN, data, cfg: TrainConfig = TrainConfig(), progress=print, params=None, checkpoint=None,
          measure: bool = True):
    """Adam BPTT of (eq. 7 [+ mem_weight L_Mem] [+ l2 delays]) on data = (x_train,
    y_train, x_test, y_test) with x (n, T, n_in) rasters. Returns (params, history) with
    history a list of per-epoch dicts (loss, train/test accuracy, seconds). Delays are
    clipped after every update; learn_delays=False keeps them at their init (the "without
    delay learning" baseline of the same network). checkpoint: a path, saved (.npz) after
    every epoch. measure=False skips the accuracies (NaN; one compile fewer)."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    xtr, ytr, xte, yte = data
    params = net.init(cfg.seed) if params is None else params
    params = jax.tree_util.tree_map(jnp.asarray, params)

    def loss_fn(p, xs, ys, mem_w):
        out, rec = net.apply(p, xs, xp=jnp, scan=True)
        loss = spike_count_loss(out, ys, cfg.true_count, cfg.false_count, jnp)
        loss = loss + mem_w * suppressed_loss(out, rec["out"]["u"], ys, net.theta, cfg.lambda_u, jnp)
        if cfg.l2_delay and net.vad:
            loss = loss + cfg.l2_delay * delay_l2(p, net, jnp)
        return loss, out

    @jax.jit
    def step(p, m, v, k, xs, ys, mem_w):
        (loss, out), g = jax.value_and_grad(lambda q: loss_fn_j(q, xs, ys, mem_w), has_aux=True)(p)
        b1, b2, e = 0.9, 0.999, 1e-8
        new_p, new_m, new_v = {}, {}, {}
        for lk in p:
            new_p[lk], new_m[lk], new_v[lk] = {}, {}, {}
            for pk in p[lk]:
                gi = g[lk][pk]
                if not (cfg.learn_delays if lk.startswith("vad") else cfg.learn_weights):
                    gi = jnp.zeros_like(gi)
                mi = b1 * m[lk][pk] + (1 - b1) * gi
                vi = b2 * v[lk][pk] + (1 - b2) * gi * gi
                lr = cfg.lr_delay if lk.startswith("vad") else cfg.lr
                upd = lr * (mi / (1 - b1 ** k)) / (jnp.sqrt(vi / (1 - b2 ** k)) + e)
                val = p[lk][pk] - upd
                if lk.startswith("vad"):
                    val = jnp.clip(val, 0.0, float(net.theta_d))
                new_p[lk][pk], new_m[lk][pk], new_v[lk][pk] = val, mi, vi
        return new_p, new_m, new_v, loss, out

    def loss_fn_j(q, xs, ys, mem_w):
        return loss_fn(q, xs, ys, mem_w)

    @jax.jit
    def forward(p, xs):
        return net.apply(p, xs, xp=jnp, scan=True)[0]

    def accuracy(p, x, y):
        preds = []
        for i in range(0, len(x), 128):
            out = forward(p, jnp.asarray(np.swapaxes(x[i:i + 128], 0, 1)))
            preds.append(predict(np.asarray(out)))
        return float(np.mean(np.concatenate(preds) == y))

    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    m, v, k = zeros, zeros, 0
    rng = np.random.default_rng(cfg.seed)
    n_out = net.n_out
    hist = []
    for ep in range(cfg.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(xtr))
        losses = []
        mem_w = cfg.mem_weight if ep >= cfg.mem_after else 0.0
        for i in range(0, len(order) - cfg.batch + 1, cfg.batch):
            idx = order[i:i + cfg.batch]
            xs = jnp.asarray(np.swapaxes(xtr[idx], 0, 1))
            k += 1
            params, m, v, loss, _ = step(params, m, v, k, xs, jnp.asarray(np.eye(n_out)[ytr[idx]]), mem_w)
            losses.append(float(loss))
        tr = accuracy(params, xtr, ytr) if measure else float("nan")
        te = accuracy(params, xte, yte) if measure else float("nan")
        rec = {"epoch": ep + 1, "loss": float(np.mean(losses)), "train_acc": tr, "test_acc": te,
               "seconds": time.perf_counter() - t0,
               "mean_delay": [float(np.mean(d)) for d in net.delays(params)] if net.vad else []}
        hist.append(rec)
        if progress:
            progress(f"epoch {rec['epoch']:3d}  loss {rec['loss']:.4g}  train {100 * rec['train_acc']:.1f}%  "
                     f"test {100 * rec['test_acc']:.1f}%  {rec['seconds']:.1f}s  delays {rec['mean_delay']}")
        if checkpoint:
            save_params(checkpoint, params)
    return jax.tree_util.tree_map(np.asarray, params), hist


def save_params(path, params):
    flat = {f"{lk}/{pk}": np.asarray(v) for lk, layer in params.items() for pk, v in layer.items()}
    np.savez(path, **flat)


def load_params(path) -> dict:
    out: dict = {}
    with np.load(path) as z:
        for key in z.files:
            lk, pk = key.split("/")
            out.setdefault(lk, {})[pk] = z[key]
    return out


# ----------------------------------------------------------------------------- entry point

TOY_JSON = "build/learning/axonal_toy.json"
TOY_TASK = dict(n_events=3, group=8, gap=(22, 30))
TOY_NET = dict(hidden=(32, 32), theta_d=64)
TOY_TRAIN = dict(epochs=25, lr=0.03, lr_delay=1.0)


def toy_params_path(out: str, seed: int) -> str:
    """Where toy_table keeps the trained D network of `seed` (next to its JSON)."""
    import os

    return os.path.join(os.path.dirname(out) or ".", f"axonal_toy_d_s{seed}.npz")


def toy_data(seed: int = 0, n_train: int = 600, n_test: int = 200):
    x, y, _ = timing_task(n_train + n_test, seed=seed, **TOY_TASK)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def toy_net(local: bool = False) -> AxonalSNN:
    return AxonalSNN(n_in=TOY_TASK["n_events"] * TOY_TASK["group"], n_out=math.factorial(TOY_TASK["n_events"]),
                     vad=True, local=local, **TOY_NET)


def toy_table(seeds=range(5), out: str | None = TOY_JSON, figures: str | None = "build/learning", progress=print,
              epochs: int | None = None) -> dict:
    """The timing task (6 orderings of 3 volleys, chance 16.7 %) over `seeds` (data and
    init seeded alike): D (delays learned) vs the same network with its delays fixed at 0,
    and DL (delays + local skip). {variant: {acc, mean, std, seconds_per_run}} to `out`;
    figures (delay histogram, rasters before/after) from the first seed of D."""
    import json
    import os

    variants = {"vad_learned": (False, True), "vad_fixed": (False, False), "vad_local_learned": (True, True)}
    res = {}
    first = None
    for name, (local, learn) in variants.items():
        accs, secs = [], []
        for s in seeds:
            data = toy_data(int(s))
            net = toy_net(local)
            cfg = TrainConfig(**{**TOY_TRAIN, **({"epochs": epochs} if epochs else {})}, learn_delays=learn, seed=int(s))
            t0 = time.perf_counter()
            p, h = train(net, data, cfg, progress=None)
            secs.append(time.perf_counter() - t0)
            accs.append(h[-1]["test_acc"])
            if out and name == "vad_learned":  # the trained D networks, for deployment (axonal_deploy.toy_deploy)
                os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
                save_params(toy_params_path(out, int(s)), p)
            if name == "vad_learned" and first is None:
                first = (net, p, data)
            if progress:
                progress(f"{name:18s} seed {s}: test {100 * accs[-1]:.1f}%  train {100 * h[-1]['train_acc']:.1f}%  "
                         f"{secs[-1]:.0f} s")
        a = np.asarray(accs)
        res[name] = {"acc": accs, "mean": float(a.mean()), "std": float(a.std()), "seconds_per_run": float(np.mean(secs))}
    res["settings"] = {"task": {**TOY_TASK, "gap": list(TOY_TASK["gap"])}, "net": {**TOY_NET, "hidden": list(TOY_NET["hidden"])},
                       "train": {**TOY_TRAIN, **({"epochs": epochs} if epochs else {})}, "seeds": list(seeds)}
    if out:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
    if figures and first is not None:
        plot_toy(*first, outdir=figures)
    return res


def plot_toy(net: AxonalSNN, params, data, outdir: str = "build/learning"):
    """delays.png (learned delay distribution per hidden layer) and rasters.png (one test
    sample: input, hidden layer 2 after its delays, output; before vs after training)."""
    import os

    from ..plotting import pyplot

    plt = pyplot()
    os.makedirs(outdir, exist_ok=True)
    ds = net.delays(params)
    fig, axs = plt.subplots(1, len(ds), figsize=(4 * len(ds), 3))
    for i, (ax, d) in enumerate(zip(np.atleast_1d(axs), ds)):
        ax.hist(d, bins=np.arange(0, max(int(d.max()), 1) + 2) - 0.5)
        ax.set_title(f"hidden layer {i + 1}: learned delays (init 0)")
        ax.set_xlabel("delay (steps)")
        ax.set_ylabel("neurons")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "axonal_delays.png"), dpi=110)
    plt.close(fig)
    xte, yte = data[2], data[3]
    xs = np.swapaxes(xte[:1], 0, 1)
    fig, axs = plt.subplots(3, 2, figsize=(10, 7), sharex=True)
    for col, (title, p) in enumerate((("before training", net.init(0)), ("after training", params))):
        out, rec = net.apply(p, xs)
        for row, (name, s) in enumerate((("input", xs), ("hidden 2 (delayed)", rec["vad1"]["s"]), ("output", out))):
            t, n = np.nonzero(np.asarray(s)[:, 0, :])
            axs[row, col].scatter(t, n, s=6, marker="|")
            axs[row, col].set_ylim(-0.5, np.asarray(s).shape[-1] - 0.5)
            axs[row, col].set_ylabel(name)
        axs[0, col].set_title(f"{title} (class {yte[0]}, predicted {predict(out)[0]})")
        axs[2, col].set_xlabel("time step")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "axonal_rasters.png"), dpi=110)
    plt.close(fig)


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python -m spynq.learning.axonal",
                                 description="P3: SRM with learnable axonal delays on the synthetic timing task")
    ap.add_argument("what", choices=["toy", "train", "counts", "deploy"],
                    help="toy: D vs fixed delays vs DL over seeds (JSON + figures); train: one run with a "
                         "checkpoint; counts: Table 4 parameter counts; deploy: export the D networks toy kept "
                         "to the LIF kernel (spynq.learning.axonal_deploy) and compare float vs kernel accuracy")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--local", action="store_true")
    ap.add_argument("--fixed-delays", action="store_true")
    ap.add_argument("--mem-weight", type=float, default=0.0, help="L_Mem coefficient (the -Dloss models)")
    ap.add_argument("--mem-after", type=int, default=0, help="epochs of eq. 7 alone before L_Mem joins")
    ap.add_argument("--l2-delay", type=float, default=0.0, help="L2 on the delays (the -L2 model)")
    ap.add_argument("--out", default=None, help="JSON (toy, deploy) or checkpoint .npz (train)")
    ap.add_argument("--deploy", action="store_true", help="train: export the trained network to the LIF kernel "
                    "and report float vs kernel accuracy")
    ap.add_argument("--finetune", type=int, default=2, help="deploy: epochs of fine-tuning the LIF-mapped model "
                    "(0: none)")
    ap.add_argument("--backend", default="golden", choices=["golden", "csim", "cosim"],
                    help="deploy: the kernel backend the exported network runs on")
    ap.add_argument("--clip-delays", action="store_true", help="deploy: clip delays past the kernel's ring "
                    "(else refused)")
    a = ap.parse_args(argv)
    if a.what == "counts":
        for ds in TABLE1:
            for arch in ARCHS:
                print(f"{ds:10s} {arch:9s} {count_params(build_table2(arch, ds).init(0)):,}")
        return 0
    if a.what == "toy":
        toy_table(range(a.seeds), a.out or TOY_JSON, epochs=a.epochs)
        return 0
    if a.what == "deploy":
        from . import axonal_deploy

        axonal_deploy.toy_deploy(range(a.seeds), out=a.out or "", finetune_epochs=a.finetune,
                                 backend=a.backend)
        return 0
    if a.deploy and a.local:  # say so before the training, not after
        from .axonal_deploy import check_deployable

        check_deployable(toy_net(True), {})
    net = toy_net(a.local)
    cfg = TrainConfig(**{**TOY_TRAIN, **({"epochs": a.epochs} if a.epochs else {})}, learn_delays=not a.fixed_delays,
                      seed=a.seed, mem_weight=a.mem_weight, mem_after=a.mem_after, l2_delay=a.l2_delay)
    p, _ = train(net, toy_data(a.seed), cfg, checkpoint=a.out or "build/learning/axonal_toy.npz")
    plot_toy(net, p, toy_data(a.seed))
    if a.deploy:
        from . import axonal_deploy

        axonal_deploy.deploy_run(net, p, toy_data(a.seed), finetune_epochs=a.finetune, backend=a.backend,
                                 clip_delays=a.clip_delays, seed=a.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
