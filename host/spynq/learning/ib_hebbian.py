"""Information-bottleneck (HSIC) three-factor Hebbian rule with a working memory (P6 of
models_delays_learning_mapping.md, sections 6.1-6.7).

Objective per hidden layer l (eqs. 2-5), over the N samples in memory (index 0 the
current one, 1..N-1 the past ones here; the paper writes 0, -1, .., -(N-1)):
    k(a, b)     = exp(-|a - b|^2 / sigma^2)                                  eq. 4
    HSIC(X, Z)  = (N-1)^-2 tr(K_X H K_Z H),  H = I - 11^T/N                  eq. 2
    L_HSIC      = HSIC(X, Z) - gamma HSIC(Y, Z)                              eq. 5
    kbar_pp     = 1 - (1/N) sum_n k(a_p, a_n)        the diagonal of K H ("surprise")
    L_diag      = (N-1)^-2 sum_p c_p kbar(z_p, z_p),  c_p = kbar(x_p,x_p) - gamma kbar(y_p,y_p)
The rule (eq. 7) is the gradient of L_diag with the past outputs z_p (p != 0) held fixed:
    alpha_p = k(z_0, z_p) (z_0 - z_p)
    xi      = 2 / (sigma_z^2 N (N-1)^2) sum_{p=1}^{N-1} (c_p + c_0) alpha_p    (global, per layer)
    beta    = d f(theta, z^{l-1}_0) / d theta                                   (local)
    dW      = -eta (xi * f'(u)) z_prev^T ,  db = -eta xi * f'(u)               (descent: the
                                                                                 paper leaves the sign implicit)
Note: the "<=" of eq. 2 between the trace and the diagonal form is not an inequality in
general (note 6.1); the diagonal form is the rule's objective, the trace form is what
is monitored. The authors' code uses exp(-d / (2 sigma^2)) (a factor 2 in the kernel,
and a sigma scaled by sqrt(dim)): ``kernel="code"`` selects the factor 2 only; eq. 4
("paper") is the default.

Neuron of the small experiments (eq. 10): tau_m du/dt = -u + W z_prev + b, z = relu(u),
Euler with dt = 1 ms, each sample held dt_sample = 20 ms; the membrane carries over from
sample to sample (continuous presentation). The local term beta of one Euler step is
(dt/tau_m) relu'(u) z_prev (as the authors' code differentiates one step). Updates are
made at every time step with Adam (the paper: Adam, default hyper-parameters). The last
layer (no relu: its membrane is the logit) is trained on the cross-entropy (the paper says
no more); by default on its mean over the N samples in memory (readout="memory": the
current sample's logits and the past ones' W z_p + b from their stored activity), as the
authors' code does over its sliding window of N; readout="sample" uses the current sample
only, which leaves the readout noisy (per-sample Adam steps) and is what this module did
first. The memory is a sliding buffer of the last N-1 samples' (x, y, z^l), z^l recorded
at the end of each presentation; updates start once it is full. rule="bp" is the
baseline: the current sample's cross-entropy back-propagated through the same Euler step.
Evaluation (evaluate): each test sample from rest for dt_sample steps, the output averaged
over the second half of the steps (as the authors' metric step); "stream" (the samples in
sequence, membranes carried over, as in training) and "steady" (eq. 10's fixed point,
the limit of a long hold) are reported beside it: 20 ms is 4 tau_m, and through the two
cascaded leaky layers the readout has not settled, which costs accuracy on its own.
Large experiments (Table 4): static ReLU layers (steps = 1, dt = tau_m), digits_config.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpynqValueError

KERNELS = ("paper", "code")
EVAL_MODES = ("rest", "stream", "steady")


def _kscale(kernel: str) -> float:
    if kernel not in KERNELS:
        raise SpynqValueError(f"kernel {kernel!r}: choose one of {KERNELS}")
    return 1.0 if kernel == "paper" else 0.5


def kernel_matrix(a, sigma: float, kernel: str = "paper", xp=np):
    """K[p, q] = exp(-|a_p - a_q|^2 / sigma^2) (eq. 4; "code": / (2 sigma^2)); a (N, D)."""
    d = xp.sum((a[:, None, :] - a[None, :, :]) ** 2, axis=-1)
    return xp.exp(-_kscale(kernel) * d / sigma ** 2)


def kbar_diag(a, sigma: float, kernel: str = "paper", xp=np):
    """The diagonal of the centred kernel matrix K H: 1 - mean_n k(a_p, a_n)."""
    return 1.0 - xp.mean(kernel_matrix(a, sigma, kernel, xp), axis=1)


def hsic(a, b, sa: float, sb: float, kernel: str = "paper", xp=np):
    """eq. 2, the trace form: (N-1)^-2 tr(K_a H K_b H)."""
    n = a.shape[0]
    H = xp.eye(n) - xp.ones((n, n)) / n
    return xp.trace(kernel_matrix(a, sa, kernel, xp) @ H @ kernel_matrix(b, sb, kernel, xp) @ H) / (n - 1) ** 2


def hsic_diag(a, b, sa: float, sb: float, kernel: str = "paper", xp=np):
    """eq. 2's right-hand side: (N-1)^-2 sum_p kbar(a_p,a_p) kbar(b_p,b_p)."""
    n = a.shape[0]
    return xp.sum(kbar_diag(a, sa, kernel, xp) * kbar_diag(b, sb, kernel, xp)) / (n - 1) ** 2


def l_hsic(x, y, z, gamma, sx, sy, sz, kernel: str = "paper", xp=np):
    """eq. 5 for one layer (trace form): HSIC(X, Z) - gamma HSIC(Y, Z)."""
    return hsic(x, z, sx, sz, kernel, xp) - gamma * hsic(y, z, sy, sz, kernel, xp)


def diag_loss(x, y, z, gamma, sx, sy, sz, kernel: str = "paper", xp=np):
    """The simplified objective the rule descends: (N-1)^-2 sum_p c_p kbar(z_p, z_p)."""
    n = x.shape[0]
    c = kbar_diag(x, sx, kernel, xp) - gamma * kbar_diag(y, sy, kernel, xp)
    return xp.sum(c * kbar_diag(z, sz, kernel, xp)) / (n - 1) ** 2


def modulator(x, y, z, gamma, sx, sy, sz, kernel: str = "paper", xp=np):
    """xi of eq. 7 (the global, layer-wise factor): x (N, Dx), y (N, Dy), z (N, Dz) with
    row 0 the current sample. Equals dL_diag/dz_0 with the past rows held fixed."""
    n = x.shape[0]
    c = kbar_diag(x, sx, kernel, xp) - gamma * kbar_diag(y, sy, kernel, xp)
    kz = xp.exp(-_kscale(kernel) * xp.sum((z[:1] - z[1:]) ** 2, axis=-1) / sz ** 2)  # (N-1,)
    alpha = kz[:, None] * (z[:1] - z[1:])
    return 2.0 * _kscale(kernel) / (sz ** 2 * n * (n - 1) ** 2) * xp.sum((c[1:] + c[0])[:, None] * alpha, axis=0)


def dense_update(xi, u, z_prev, act: str = "relu", gain: float = 1.0, xp=np):
    """The three-factor gradient of a dense layer z = act(u), u = W z_prev + b: the
    modulator xi times the local beta = gain act'(u) z_prev. Returns (dW, db) (to
    subtract). gain = dt/tau_m for one Euler step of eq. 10, 1 for a static layer."""
    d = xi * gain * ((u > 0).astype(u.dtype) if act == "relu" else xp.ones_like(u))
    return xp.outer(d, z_prev), d


# ----------------------------------------------------------------------------- toy data


def linear_task(n: int = 1000, seed: int = 0):
    """Table 3's linearly separable set: x ~ U([0, 1]^2), label 1[x1 + x2 > 1] (the
    separating line is our choice; the paper only says linearly separable)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    return x, (x.sum(axis=1) > 1.0).astype(int)


def xor_task(n: int = 1000, seed: int = 0, noise: float = 0.1):
    """XOR of four clusters at the corners of [0, 1]^2 with Gaussian noise (sd `noise`,
    "small"; our choice)."""
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 2, size=(n, 2))
    return c + noise * rng.standard_normal((n, 2)), (c[:, 0] ^ c[:, 1]).astype(int)


def digits_task(seed: int = 0):
    """sklearn's 8x8 digits (1797, pixels / 16) in a seeded random order: the offline
    stand-in for MNIST (Table 4's MLP claim); the last IBConfig.n_test are held out."""
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = np.random.default_rng(seed).permutation(len(d.target))
    return d.data[idx] / 16.0, d.target[idx].astype(int)


TASKS = ("linear", "xor", "digits")


def digits_config(rule: str = "ib", **kw) -> "IBConfig":
    """Table 4's MNIST column on the digits stand-in: FC(128) -> FC(64) -> FC(10), static
    ReLU layers (the paper's large experiments drop the leaky dynamics: steps = 1 and
    dt = tau_m make u = W z + b), N = 8, gamma = 2, sigma_x/z/y = 0.5/1/0.1, Adam at 1e-4
    (the rule) or 1e-3 (BP), 25 epochs; 297 digits held out (1500 train)."""
    base = dict(hidden=(128, 64), n_classes=10, N=8, gamma=2.0, sigma_x=0.5, sigma_z=1.0, sigma_y=0.1,
                lr=1e-3 if rule == "bp" else 1e-4, epochs=25, tau_m=1.0, dt=1.0, steps=1, n_test=297, rule=rule)
    base.update(kw)
    return IBConfig(**base)


# ----------------------------------------------------------------------------- training


@dataclass
class IBConfig:
    hidden: tuple = (4,)       # linear task: (4,); XOR: (10, 4)
    n_classes: int = 2
    N: int = 64                # effective batch (memory) size
    gamma: float = 10.0
    sigma_x: float = 0.3
    sigma_y: float = 0.25
    sigma_z: float = 2.0
    lr: float = 1e-4
    epochs: int = 25
    tau_m: float = 5.0
    dt: float = 1.0
    steps: int = 20            # dt_sample / dt
    kernel: str = "paper"
    n_test: int = 100
    seed: int = 0
    train_hidden: bool = True  # False: only the last layer learns (the baseline of Table 4's "39%")
    layer_norm: bool = False   # the authors' code: z = LayerNorm(relu(u)) (no scale/bias), not in eq. 10
    rule: str = "ib"           # "ib": eq. 7 in the hidden layers; "bp": the baseline, the cross-entropy
                               # gradient back-propagated through the same Euler step to every layer
    eval_mode: str = "rest"    # how accuracy is measured (evaluate): "rest", "stream" or "steady"
    readout: str = "memory"    # the last layer's cross-entropy: "sample" (the current one) or "memory"
                               # (the mean over the N samples in memory, as the authors' code's window)
    extra: dict = field(default_factory=dict)


def init_params(n_in: int, cfg: IBConfig, seed: int) -> list:
    """[(W, b)] per layer, W ~ U(-1/sqrt(fan_in), +) as torch/flax dense layers, b = 0."""
    rng = np.random.default_rng(seed)
    sizes = [n_in, *cfg.hidden, cfg.n_classes]
    return [(rng.uniform(-1, 1, (o, i)) / np.sqrt(i), np.zeros(o)) for i, o in zip(sizes[:-1], sizes[1:])]


def layer_norm(r, xp=np):
    """LayerNorm over the last axis without scale or bias (flax's eps = 1e-6)."""
    m = xp.mean(r, axis=-1, keepdims=True)
    return (r - m) / xp.sqrt(xp.mean((r - m) ** 2, axis=-1, keepdims=True) + 1e-6)


def _act(ul, cfg, xp):
    r = xp.maximum(ul, 0.0)
    return layer_norm(r, xp) if cfg.layer_norm else r


def _forward_steps(params, u, x, cfg, jnp):
    """One Euler step of eq. 10 through all layers: (new membranes, activities)."""
    a, us, zs = x, [], []
    last = len(params) - 1
    for l, (W, b) in enumerate(params):
        ul = u[l] + cfg.dt / cfg.tau_m * (W @ a + b - u[l])
        zl = ul if l == last else _act(ul, cfg, jnp)
        us.append(ul)
        zs.append(zl)
        a = zl
    return us, zs


_EPOCHS: dict = {}


def make_epoch(cfg: IBConfig, n_in: int):
    """The compiled epoch for cfg (cached over seeds: the seed is not part of it)."""
    import dataclasses

    key = (repr(dataclasses.replace(cfg, seed=0, epochs=0, extra={})), int(n_in))
    if key not in _EPOCHS:
        _EPOCHS[key] = _make_epoch(cfg, n_in)
    return _EPOCHS[key]


def _make_epoch(cfg: IBConfig, n_in: int):
    """A jitted function (state, xs, ys) -> (state, hsic per layer) running one epoch of
    the online rule over the samples in order; state = (params, adam m, v, count,
    membranes, buffers). Built with jax (lax.scan over samples and steps)."""
    import jax
    import jax.numpy as jnp

    L = len(cfg.hidden) + 1
    g = cfg.dt / cfg.tau_m
    b1, b2, eps = 0.9, 0.999, 1e-8

    def ib_grads(params, us, zs, x, y, buf):
        """eq. 7 x the local term in every hidden layer, the cross-entropy in the last."""
        grads, a = [], x
        for l in range(L):
            if l < L - 1:
                X = jnp.concatenate([x[None], buf["x"]])
                Y = jnp.concatenate([y[None], buf["y"]])
                Z = jnp.concatenate([zs[l][None], buf["z"][l]])
                xi = modulator(X, Y, Z, cfg.gamma, cfg.sigma_x, cfg.sigma_y, cfg.sigma_z, cfg.kernel, jnp)
                if cfg.layer_norm:  # through the normalisation's Jacobian (local to the layer)
                    xi = jax.vjp(lambda r: layer_norm(r, jnp), jnp.maximum(us[l], 0.0))[1](xi)[0]
                d = xi * g * (us[l] > 0).astype(x.dtype)
                if not cfg.train_hidden:
                    d = d * 0.0
                grads.append((jnp.outer(d, a), d))
            elif cfg.readout == "memory":  # mean cross-entropy over the memory: the past samples' logits
                W, b = params[l]           # from their stored last-hidden activity (eq. 10's steady state)
                A = jnp.concatenate([a[None], buf["z"][-1]])
                U = jnp.concatenate([us[l][None], buf["z"][-1] @ W.T + b])
                D = (jax.nn.softmax(U, axis=-1) - jnp.concatenate([y[None], buf["y"]])) * g / cfg.N
                grads.append((D.T @ A, D.sum(axis=0)))
            else:  # the cross-entropy of the current sample on the logits u_L
                d = (jax.nn.softmax(us[l]) - y) * g
                grads.append((jnp.outer(d, a), d))
            a = zs[l]
        return grads

    def sample(state, xy):
        params, m, v, k, u, buf = state
        x, y = xy
        ready = buf["n"] >= cfg.N - 1

        def step(carry, _):
            params, m, v, k, u = carry
            us, zs = _forward_steps(params, u, x, cfg, jnp)
            if cfg.rule == "bp":  # the baseline: d CE(u_L(t+dt)) / d theta through this step, every layer
                grads = jax.grad(lambda p: -jnp.sum(y * jax.nn.log_softmax(_forward_steps(p, u, x, cfg, jnp)[0][-1]))
                                 )(params)
                grads = [tuple(gl) for gl in grads]
            else:
                grads = ib_grads(params, us, zs, x, y, buf)
            k1 = k + 1
            new_p, new_m, new_v = [], [], []
            for (W, b), (mW, mb), (vW, vb), (gW, gb) in zip(params, m, v, grads):
                pp, mm, vv = [], [], []
                for p_, m_, v_, g_ in ((W, mW, vW, gW), (b, mb, vb, gb)):
                    mi = b1 * m_ + (1 - b1) * g_
                    vi = b2 * v_ + (1 - b2) * g_ * g_
                    pi = p_ - cfg.lr * (mi / (1 - b1 ** k1)) / (jnp.sqrt(vi / (1 - b2 ** k1)) + eps)
                    pp.append(jnp.where(ready, pi, p_))
                    mm.append(jnp.where(ready, mi, m_))
                    vv.append(jnp.where(ready, vi, v_))
                new_p.append(tuple(pp))
                new_m.append(tuple(mm))
                new_v.append(tuple(vv))
            return (new_p, new_m, new_v, jnp.where(ready, k1, k), us), zs

        (params, m, v, k, u), zs = jax.lax.scan(step, (params, m, v, k, u), None, length=cfg.steps)
        zlast = [z[-1] for z in zs[:-1]]
        nb = {"x": jnp.concatenate([x[None], buf["x"][:-1]]), "y": jnp.concatenate([y[None], buf["y"][:-1]]),
              "z": [jnp.concatenate([zl[None], bz[:-1]]) for zl, bz in zip(zlast, buf["z"])],
              "n": buf["n"] + 1}
        return (params, m, v, k, u, nb), None

    @jax.jit
    def epoch(state, xs, ys):
        state, _ = jax.lax.scan(sample, state, (xs, ys))
        return state

    return epoch


def evaluate(params, x, cfg: IBConfig, mode: str | None = None):
    """(predictions, hidden activities per layer), the output averaged over the second
    half of the dt_sample steps (numpy). mode (default cfg.eval_mode): "rest", each sample
    from rest (u = 0); "stream", the samples one after the other with the membranes
    carried over, as in training; "steady", the fixed point of eq. 10 (z = relu(W z + b))."""
    mode = cfg.eval_mode if mode is None else mode
    if mode not in EVAL_MODES:
        raise SpynqValueError(f"mode {mode!r}: choose one of {EVAL_MODES}")
    if mode == "steady":
        a, hid = x, []
        for l, (W, b) in enumerate(params):
            a = a @ W.T + b
            if l < len(params) - 1:
                a = _act(a, cfg, np)
                hid.append(a)
        return np.argmax(a, axis=1), hid
    if mode == "stream":
        u = [np.zeros(W.shape[0]) for W, _ in params]
        outs, hid = [], [[] for _ in params[:-1]]
        for xs in x:
            o, h = 0.0, [0.0] * (len(params) - 1)
            for t in range(cfg.steps):
                a = xs
                for l, (W, b) in enumerate(params):
                    u[l] = u[l] + cfg.dt / cfg.tau_m * (W @ a + b - u[l])
                    a = u[l] if l == len(params) - 1 else _act(u[l], cfg, np)
                    if t >= cfg.steps // 2 and l < len(params) - 1:
                        h[l] = h[l] + a
                if t >= cfg.steps // 2:
                    o = o + a
            outs.append(o)
            for l in range(len(h)):
                hid[l].append(h[l] / (cfg.steps - cfg.steps // 2))
        return np.argmax(np.asarray(outs), axis=1), [np.asarray(h) for h in hid]
    u = [np.zeros((len(x), W.shape[0])) for W, _ in params]
    outs, hid = [], [[] for _ in params[:-1]]
    last = len(params) - 1
    for t in range(cfg.steps):
        a = x
        for l, (W, b) in enumerate(params):
            u[l] = u[l] + cfg.dt / cfg.tau_m * (a @ W.T + b - u[l])
            a = u[l] if l == last else _act(u[l], cfg, np)
            if t >= cfg.steps // 2 and l < last:
                hid[l].append(a)
        if t >= cfg.steps // 2:
            outs.append(a)
    out = np.mean(outs, axis=0)
    return np.argmax(out, axis=1), [np.mean(h, axis=0) for h in hid]


def train(task: str = "xor", cfg: IBConfig | None = None, progress=print):
    """Train on Table 3's linear or XOR task (1000 samples, the last n_test held out)
    with the online rule. Returns a dict: history (per epoch: train/test accuracy, L_HSIC
    of every hidden layer on the test set, seconds), params (numpy), final accuracies."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    if cfg is None:
        cfg = IBConfig(hidden=(10, 4) if task == "xor" else (4,))
    if task not in TASKS:
        raise SpynqValueError(f"task {task!r}: choose one of {TASKS}")
    if cfg.rule not in ("ib", "bp"):
        raise SpynqValueError(f"rule {cfg.rule!r}: choose ib or bp")
    if cfg.readout not in ("sample", "memory"):
        raise SpynqValueError(f"readout {cfg.readout!r}: choose sample or memory")
    if task == "digits":
        x, y = digits_task(cfg.seed)
    else:
        x, y = (xor_task if task == "xor" else linear_task)(1000, seed=cfg.seed)
    xtr, ytr, xte, yte = x[:-cfg.n_test], y[:-cfg.n_test], x[-cfg.n_test:], y[-cfg.n_test:]
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in init_params(x.shape[1], cfg, cfg.seed)]
    zeros = [(jnp.zeros_like(W), jnp.zeros_like(b)) for W, b in params]
    u = [jnp.zeros(W.shape[0]) for W, _ in params]
    buf = {"x": jnp.zeros((cfg.N - 1, x.shape[1])), "y": jnp.zeros((cfg.N - 1, cfg.n_classes)),
           "z": [jnp.zeros((cfg.N - 1, h)) for h in cfg.hidden], "n": jnp.asarray(0)}
    state = (params, zeros, zeros, jnp.asarray(0), u, buf)
    epoch = make_epoch(cfg, x.shape[1])
    rng = np.random.default_rng(cfg.seed + 1)
    eye = np.eye(cfg.n_classes)
    hist = []

    def measure(p):
        pn = [(np.asarray(W), np.asarray(b)) for W, b in p]
        ptr, _ = evaluate(pn, xtr, cfg)
        pte, hid = evaluate(pn, xte, cfg)
        lh = [float(l_hsic(xte, eye[yte], h, cfg.gamma, cfg.sigma_x, cfg.sigma_y, cfg.sigma_z, cfg.kernel))
              for h in hid]
        return float(np.mean(ptr == ytr)), float(np.mean(pte == yte)), lh

    a0 = measure(state[0])
    hist.append({"epoch": 0, "train_acc": a0[0], "test_acc": a0[1], "l_hsic": a0[2], "seconds": 0.0})
    for ep in range(cfg.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(xtr))
        state = epoch(state, jnp.asarray(xtr[order]), jnp.asarray(eye[ytr[order]]))
        jax.block_until_ready(state[0])
        tr, te, lh = measure(state[0])
        rec = {"epoch": ep + 1, "train_acc": tr, "test_acc": te, "l_hsic": lh, "seconds": time.perf_counter() - t0}
        hist.append(rec)
        if progress:
            progress(f"{task} seed {cfg.seed} epoch {ep + 1:3d}  train {100 * tr:.1f}%  test {100 * te:.1f}%  "
                     f"L_HSIC {['%.4g' % v for v in lh]}  {rec['seconds']:.1f}s")
    params = [(np.asarray(W), np.asarray(b)) for W, b in state[0]]
    modes = {m: float(np.mean(evaluate(params, xte, cfg, m)[0] == yte)) for m in EVAL_MODES}
    return {"history": hist, "params": params, "train_acc": hist[-1]["train_acc"], "test_acc": hist[-1]["test_acc"],
            "test_acc_modes": modes, "config": cfg}


def seeds_table(task: str, seeds=range(5), epochs: int = 25, progress=None, **overrides) -> dict:
    """Final test accuracy over seeds: {"acc": [...], "mean", "std", "seconds",
    "l_hsic_first_last": per seed [L_HSIC per hidden layer after epoch 1, after the last]}."""
    t0 = time.perf_counter()
    accs, hs, curves, modes = [], [], [], {m: [] for m in EVAL_MODES}
    for s in seeds:
        base = dict(hidden=(10, 4) if task == "xor" else (4,), epochs=epochs, seed=int(s))
        base.update(overrides)
        r = train(task, IBConfig(**base), progress=progress)
        accs.append(r["test_acc"])
        hs.append([r["history"][1]["l_hsic"], r["history"][-1]["l_hsic"]])
        curves.append({"l_hsic": [h["l_hsic"] for h in r["history"]],
                       "test_acc": [h["test_acc"] for h in r["history"]]})
        for m, v in r["test_acc_modes"].items():
            modes[m].append(v)
    a = np.asarray(accs)
    return {"acc": accs, "mean": float(a.mean()), "std": float(a.std()), "seconds": time.perf_counter() - t0,
            "l_hsic_first_last": hs, "curves": curves,
            "modes": {m: {"acc": v, "mean": float(np.mean(v)), "std": float(np.std(v))} for m, v in modes.items()}}


# ----------------------------------------------------------------------------- the reservoir


@dataclass
class Reservoir:
    """The auxiliary working memory of eq. 8: tau_r du/dt = -u + lambda W_r r + W_i r_i +
    W_fb r_o, r = tanh(u), r_o = W_o r, with only W_o learning the modulator xi (eq. 9).
    rule="rls" is FORCE as Sussillo & Abbott run it (recursive least squares, the
    "LMS FORCE" the paper cites); rule="lms" the plain delta rule of eq. 9 with rate
    `eta`. W_r ~ N(0, 1/n) (spectral radius ~1, times lambda: chaotic for lambda > 1),
    W_i, W_fb ~ U(-1, 1) scaled by in_scale / fb_scale (not given: ours; no feedback by
    default, the input drive alone holds the memory)."""
    n: int = 500
    n_in: int = 84
    n_out: int = 10
    tau_r: float = 5.0
    dt: float = 1.0
    lam: float = 1.2
    in_scale: float = 0.1     # the best of (0.1, 0), (0.3, 0.3), (1, 0) for (in, fb) at 300 neurons
    fb_scale: float = 0.0
    rule: str = "rls"
    eta: float = 5e-4
    alpha: float = 1.0        # RLS: P(0) = I / alpha
    learn_every: int = 1      # readout update every this many steps (FORCE's usual economy at large n)
    seed: int = 0

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        self.Wr = rng.standard_normal((self.n, self.n)) / np.sqrt(self.n)
        self.Wi = self.in_scale * rng.uniform(-1, 1, (self.n, self.n_in))
        self.Wfb = self.fb_scale * rng.uniform(-1, 1, (self.n, self.n_out))
        self.Wo = np.zeros((self.n_out, self.n))
        self.P = np.asfortranarray(np.eye(self.n) / self.alpha)  # Fortran order: dger updates it in place
        self.u = 0.1 * rng.standard_normal(self.n)
        self.r = np.tanh(self.u)
        self.t = 0

    def step(self, ri, target=None):
        """One dt: returns the readout r_o; learns toward `target` (xi) when given."""
        ro = self.Wo @ self.r
        # lam * (W_r r), not (lam * W_r) r: the latter builds an n x n array every step
        drive = self.lam * (self.Wr @ self.r) + self.Wi @ ri + self.Wfb @ ro
        self.u = self.u + self.dt / self.tau_r * (-self.u + drive)
        self.r = np.tanh(self.u)
        ro = self.Wo @ self.r
        self.t += 1
        if target is not None and self.t % self.learn_every == 0:
            err = ro - target
            if self.rule == "rls":
                from scipy.linalg.blas import dger

                Pr = self.P @ self.r
                c = 1.0 / (1.0 + self.r @ Pr)
                self.P = dger(-c, Pr, Pr, a=self.P, overwrite_a=True)  # P -= c Pr Pr^T in place (n x n)
                self.Wo -= c * np.outer(err, Pr)
            else:
                self.Wo -= self.eta * np.outer(err, self.r)
        return ro


def reservoir_experiment(n: int = 500, N: int = 10, gamma: float = 2.0, sigma: float = 0.5, epochs: int = 10,
                         samples: int = 100, steps: int = 20, dz: int = 10, seed: int = 0, rule: str = "rls",
                         learn_every: int = 1, progress=None):
    """Table 2's experiment at a smaller reservoir: x = sklearn 8x8 digits (/16; the
    stand-in for MNIST), y their one-hot labels, z ~ U(0, 1)^dz per sample; each sample
    held `steps` dt; the true xi (eq. 7, all sigmas = sigma) from the last N samples is
    the target for `epochs` passes over `samples` samples, then `samples` new samples
    with learning off. Returns {"corr", "nrmse"} on the test pass (all xi elements, all
    steps after the memory is full) and the traces; "per_epoch" (corr, NRMSE) while
    learning, "replay" the training samples once more with learning off."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(d.target))
    X = d.data[idx] / 16.0
    Y = np.eye(10)[d.target[idx]]
    Z = rng.random((2 * samples, dz))
    res = Reservoir(n=n, n_in=X.shape[1] + 10 + dz, n_out=dz, seed=seed, rule=rule, learn_every=learn_every)

    def xi_at(j, lo):
        rows = [k for k in range(j, j - N, -1)]
        if rows[-1] < lo:
            return None
        return modulator(X[rows], Y[rows], Z[rows], gamma, sigma, sigma, sigma)

    def run(lo, hi, learn):
        pred, true = [], []
        for j in range(lo, hi):
            target = xi_at(j, lo)
            ri = np.concatenate([X[j], Y[j], Z[j]])
            for _ in range(steps):
                ro = res.step(ri, target if (learn and target is not None) else None)
                if target is not None:
                    pred.append(ro)
                    true.append(target)
        return np.array(pred), np.array(true)

    def score(pred, true):
        return (float(np.corrcoef(pred.ravel(), true.ravel())[0, 1]),
                float(np.sqrt(np.mean((pred - true) ** 2)) / np.std(true)))

    per_epoch = []
    for e in range(epochs):
        tp, tt = run(0, samples, True)  # scored while learning (the readout before each step's update)
        per_epoch.append(score(tp, tt))
        if progress:
            progress(f"reservoir {n} neurons epoch {e + 1}: corr {per_epoch[-1][0]:.3f}, NRMSE {per_epoch[-1][1]:.3f}")
    # the training samples once more with learning off (does the fit persist?), then new ones
    rp, rt = run(0, samples, False)
    pred, true = run(samples, 2 * samples, False)
    corr, nrmse = score(pred, true)
    return {"corr": corr, "nrmse": nrmse, "pred": pred, "true": true, "train_pred": tp, "train_true": tt,
            "per_epoch": per_epoch, "replay": score(rp, rt)}


def reservoir_figure(r: dict, path: str, n: int, comp: int = 0, span: int = 600) -> str:
    """Predicted vs true xi (one component) over the last training pass (learning on) and
    the test pass (learning off), and the correlation per training epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 3.4), gridspec_kw={"width_ratios": [3, 3, 1.4]})
    for a_, (p, t, what) in zip(ax, ((r["train_pred"], r["train_true"], "last epoch, learning on"),
                                     (r["pred"], r["true"], "new samples, learning off"))):
        a_.plot(t[:span, comp], "k", lw=1.2, label="true xi (eq. 7)")
        a_.plot(p[:span, comp], "C1", lw=0.9, label="reservoir readout")
        a_.set_title(f"{what}: xi[{comp}]")
        a_.set_xlabel("time step (1 ms)")
    ax[0].legend(fontsize=8)
    ax[2].plot(range(1, len(r["per_epoch"]) + 1), [c for c, _ in r["per_epoch"]], "o-")
    ax[2].axhline(r["corr"], color="C3", ls="--", label="test")
    ax[2].set_xlabel("epoch")
    ax[2].set_title("correlation")
    ax[2].legend(fontsize=8)
    fig.suptitle(f"P6 reservoir, {n} neurons (eqs. 8-9, Table 2)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- entry point

TOY_JSON = "build/learning/ib_toy.json"
RESERVOIR_JSON = "build/learning/ib_reservoir.json"


TOY_VARIANTS = (("rule", {}),                                   # eq. 7 + the memory-window cross-entropy
                ("rule_sample_ce", {"readout": "sample"}),        # eq. 7 + the current sample's cross-entropy
                ("last_only", {"train_hidden": False}),           # only the readout learns
                ("bp", {"rule": "bp"}))                           # back-propagation on the same net and stream


def _write_json(obj, out):
    import json
    import os

    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(obj, f, indent=1)


def toy_table(seeds=range(5), epochs: int = 25, out: str | None = TOY_JSON, progress=print,
              variants=TOY_VARIANTS) -> dict:
    """Table 3's two tasks at the paper's settings over `seeds` for every variant (the
    rule; the rule with the per-sample cross-entropy; only the last layer learning; BP on
    the same net), written to `out` as JSON: {task: {variant: seeds_table(...)}}, and the
    L_HSIC per layer over the epochs as a figure beside it."""
    res = {}
    for task in ("linear", "xor"):
        res[task] = {}
        for name, kw in variants:
            r = seeds_table(task, seeds, epochs, progress=None, **kw)
            res[task][name] = r
            if progress:
                progress(f"{task:6s} {name:14s} test accuracy {100 * r['mean']:.1f} +- {100 * r['std']:.1f} % "
                         f"over {len(r['acc'])} seeds ({r['seconds']:.0f} s): {[round(100 * a) for a in r['acc']]}; "
                         + ", ".join(f"{m} {100 * v['mean']:.1f} +- {100 * v['std']:.1f}"
                                     for m, v in r["modes"].items()))
    res["settings"] = {"seeds": list(seeds), "epochs": epochs, "N": 64, "gamma": 10, "sigma": [0.3, 0.25, 2.0],
                       "lr": 1e-4, "variants": {n: kw for n, kw in variants}}
    if out:
        _write_json(res, out)
        res["figure"] = hsic_figure(res, os.path.splitext(out)[0] + "_hsic.png")
    return res


def hsic_figure(res: dict, path: str) -> str:
    """L_HSIC (eq. 5, trace form, held-out samples) per hidden layer over the epochs (mean
    and the band of +- 1 std over seeds) and the test accuracy, for the rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(10, 6.4))
    for row, task in enumerate(("linear", "xor")):
        for name, style in (("rule", "-"), ("bp", ":")):
            if name not in res.get(task, {}):
                continue
            c = res[task][name]["curves"]
            H = np.asarray([cc["l_hsic"] for cc in c])              # seeds x epochs x layers
            A = 100 * np.asarray([cc["test_acc"] for cc in c])
            ep = np.arange(H.shape[1])
            for l in range(H.shape[2]):
                m, sd = H[:, :, l].mean(0), H[:, :, l].std(0)
                ax[row, 0].plot(ep, m, style, color=f"C{l}", label=f"{name} layer {l + 1}")
                ax[row, 0].fill_between(ep, m - sd, m + sd, color=f"C{l}", alpha=0.15)
            ax[row, 1].plot(ep, A.mean(0), style, color="k", label=name)
            ax[row, 1].fill_between(ep, A.mean(0) - A.std(0), A.mean(0) + A.std(0), color="k", alpha=0.1)
        ax[row, 0].set_title(f"{task}: L_HSIC per hidden layer")
        ax[row, 1].set_title(f"{task}: test accuracy (%, from rest)")
        ax[row, 0].legend(fontsize=7)
        ax[row, 1].legend(fontsize=7)
        ax[row, 0].set_xlabel("epoch")
        ax[row, 1].set_xlabel("epoch")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


DIGITS_JSON = "build/learning/ib_digits.json"


def digits_table(seeds=range(3), epochs: int = 25, out: str | None = DIGITS_JSON, progress=print) -> dict:
    """Table 4's MNIST MLP on sklearn digits (the stand-in): the rule, BP and only the
    last layer learning, over `seeds` (JSON: {variant: seeds_table(...)})."""
    res = {}
    for name, kw in (("rule", {}), ("bp", {"rule": "bp"}), ("last_only", {"train_hidden": False})):
        t0 = time.perf_counter()
        accs, curves = [], []
        for s in seeds:
            r = train("digits", digits_config(epochs=epochs, seed=int(s), **kw), progress=None)
            accs.append(r["test_acc"])
            curves.append([h["test_acc"] for h in r["history"]])
        res[name] = {"acc": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs)),
                     "seconds": time.perf_counter() - t0, "curves": curves}
        if progress:
            progress(f"digits {name:9s} test accuracy {100 * np.mean(accs):.1f} +- {100 * np.std(accs):.1f} % over "
                     f"{len(accs)} seeds ({res[name]['seconds']:.0f} s): {[round(100 * a, 1) for a in accs]}")
    res["settings"] = {"seeds": list(seeds), "epochs": epochs, "net": "64-128-64-10", "n_train": 1500, "n_test": 297}
    if out:
        _write_json(res, out)
    return res


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python -m spynq.learning.ib_hebbian",
                                 description="P6: the IB three-factor rule on Table 3's linear / XOR tasks")
    ap.add_argument("what", choices=["toy", "train", "reservoir", "sweep", "digits"],
                    help="toy: both tasks over seeds (JSON, figure); train: one run; reservoir: the xi-tracking "
                         "experiment (JSON, figure); digits: Table 4's MLP on sklearn digits, rule / BP / last layer")
    ap.add_argument("--neurons", type=int, default=2000, help="reservoir size (Table 2: 2,000)")
    ap.add_argument("--learn-every", type=int, default=1, help="reservoir: RLS readout update every this many steps")
    ap.add_argument("--task", default="xor", choices=["xor", "linear"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--out", default=None, help="JSON (toy) or .npz checkpoint (train)")
    a = ap.parse_args(argv)
    if a.what == "toy":
        toy_table(range(a.seeds), a.epochs, a.out or TOY_JSON)
        return 0
    if a.what == "digits":
        digits_table(range(a.seeds), a.epochs, a.out or DIGITS_JSON)
        return 0
    if a.what == "sweep":  # the effective batch (memory) size N on the task, Table 3's other settings
        for n in (4, 8, 16, 32, 64):
            r = seeds_table(a.task, range(a.seeds), a.epochs, N=n)
            print(f"{a.task} N = {n:3d}: test {100 * r['mean']:.1f} +- {100 * r['std']:.1f} % over {a.seeds} seeds "
                  f"({r['seconds']:.0f} s)", flush=True)
        return 0
    if a.what == "reservoir":
        import json
        import os

        t0 = time.perf_counter()
        r = reservoir_experiment(n=a.neurons, epochs=min(a.epochs, 10), seed=a.seed, learn_every=a.learn_every,
                                 progress=lambda m: print(m, flush=True))
        out = {"neurons": a.neurons, "epochs": min(a.epochs, 10), "samples": 100, "corr": r["corr"],
               "nrmse": r["nrmse"], "per_epoch": r["per_epoch"], "replay": r["replay"], "seed": a.seed,
               "learn_every": a.learn_every,
               "seconds": time.perf_counter() - t0}
        print(f"reservoir {a.neurons} neurons: test correlation {r['corr']:.3f}, NRMSE {r['nrmse']:.3f}; last epoch "
              f"learning {r['per_epoch'][-1][0]:.3f} / {r['per_epoch'][-1][1]:.3f}; replay, learning off "
              f"{r['replay'][0]:.3f} / {r['replay'][1]:.3f}; {out['seconds']:.0f} s", flush=True)
        path = a.out or RESERVOIR_JSON
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
        out["figure"] = reservoir_figure(r, os.path.splitext(path)[0] + ".png", a.neurons)
        print("figure", out["figure"])
        return 0
    r = train(a.task, IBConfig(hidden=(10, 4) if a.task == "xor" else (4,), epochs=a.epochs, seed=a.seed))
    if a.out:
        np.savez(a.out, **{f"W{i}": W for i, (W, _) in enumerate(r["params"])},
                 **{f"b{i}": b for i, (_, b) in enumerate(r["params"])})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
