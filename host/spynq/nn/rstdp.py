"""BIDL's reward-modulated STDP and global-local co-learning (BIDL Sec.3.2.2 and 5.3;
models_neurons.md 6.4 item 4 and 6.5; issue 11 item 5).

The rule, on one fully connected layer (pre spikes S_in [n_in], post spikes S_out [n_out],
output neurons in population code: `population` neurons per class, class-major), per
time step t, streamed (the weights change at every step of every sample, batch size one):
    traces     t_in  <- theta t_in  + eta S_in,   t_out <- theta t_out + eta S_out
               (updated before they are used, as the reference code does, so a pre spike
               at t0 and a post spike at t1 > t0 give LTP theta^(t1 - t0) eta)
    STDP       DeltaW = a_plus t_in^T S_out - a_minus S_in^T t_out          (n_in, n_out), Eq.12-13
    reward     O_i = mean_j S_out[i, j] over the population of class i, r_i = L_i - O_i
               (L the one-hot label), applied to every neuron of class i
    update     W[:, j] += lr r_class(j) DeltaW[:, j]
Constants: the paper's lr = 1e-3, theta = 0.95, eta = 1, a_plus = a_minus = 1 (the
reference code uses separate rates nu = (1e-4 LTD, 1e-3 LTP): a_minus = 0.1 reproduces
their ratio). The note's reading of the garbled indices (6.5): 7 neurons x 11 classes and
W 256 x 77 in the paper's experiment.

Co-learning (Sec.3.2.2): "During global learning, the synaptic plasticity learning
module is detached, and the network is trained using BPTT. During local learning, the
weights are adjusted via local plasticity, and BPTT is not required." ``co_learn``
alternates BPTT epochs (the whole network; spynq.nn.train's losses and optimisers) with
``local_phase`` passes (R-STDP on the last Linear layer only, the layers before it frozen).

Finding (toy of tests/test_nn_models_b.py): with the paper's equal LTP / LTD rates the rule
silences the output layer: a silent correct-class neuron has r = 1 - 0 = 1 and only the
LTD term (pre spike x its post trace), so it is depressed whenever it pauses. With the
reference code's ratio (a_minus = 0.1) the correct population is potentiated and the
others depressed, as intended; the demos use that ratio.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpynqValueError
from .base import Ctx
from .layers import Linear


@dataclass(frozen=True)
class RSTDP:
    classes: int
    population: int = 1
    lr: float = 1e-3
    theta: float = 0.95
    eta: float = 1.0
    a_plus: float = 1.0
    a_minus: float = 1.0

    @property
    def n_out(self) -> int:
        return self.classes * self.population

    def init_traces(self, n_in: int, batch: int = 1):
        return np.zeros((batch, n_in)), np.zeros((batch, self.n_out))

    def traces(self, tr, s_in, s_out):
        t_in, t_out = tr
        return self.theta * t_in + self.eta * s_in, self.theta * t_out + self.eta * s_out

    def reward(self, s_out, labels):
        """r [B, n_out]: L_i - O_i of each output neuron's class i (O_i the mean spike of
        class i's population at this step)."""
        s = np.asarray(s_out, dtype=np.float64)
        B = s.shape[0]
        O = s.reshape(B, self.classes, self.population).mean(axis=2)
        L = np.zeros((B, self.classes))
        L[np.arange(B), np.asarray(labels)] = 1.0
        return np.repeat(L - O, self.population, axis=1)

    def stdp(self, tr, s_in, s_out):
        """DeltaW (n_in, n_out), summed over the batch: LTP pre trace x post spike, LTD pre
        spike x post trace."""
        t_in, t_out = tr
        return self.a_plus * t_in.T @ s_out - self.a_minus * s_in.T @ t_out

    def delta(self, tr, s_in, s_out, labels):
        """The reward-modulated step update lr r_j DeltaW[:, j] (n_in, n_out), summed over
        the batch (one sample per call streams as the paper does)."""
        t_in, t_out = tr
        r = self.reward(s_out, labels)
        return self.lr * (self.a_plus * t_in.T @ (s_out * r) - self.a_minus * s_in.T @ (t_out * r))


def split_last_linear(net):
    """(index of the last Linear layer, the neuron layer right after it)."""
    k = max((i for i, l in enumerate(net.layers) if isinstance(l, Linear)), default=None)
    if k is None or k + 1 >= len(net.layers) or net.layers[k + 1].kind != "neuron":
        raise SpynqValueError("R-STDP: the network must end in a Linear layer followed by a spiking neuron layer")
    if net.layers[k + 1].output != "spike":
        raise SpynqValueError("R-STDP: the plastic layer's neurons must spike")
    return k, net.layers[k + 1]


def presynaptic(net, params, xs, k: int):
    """Spikes entering layer k: the numpy forward of layers 0..k-1 (eval mode), [T, B, n_in]."""
    ctx = Ctx(np, train=False)
    x = xs
    for l in net.layers[:k]:
        x = l.seq(params[l.name], x, ctx)
    return np.asarray(x)


def local_phase(net, params, xs, labels, rule: RSTDP, *, order=None) -> tuple[dict, dict]:
    """One R-STDP pass over the samples xs [T, B, ...] with labels [B], one sample at a time
    and the last Linear layer's weights updated at every step (the neuron state carried
    within the sample, reset between samples). Returns (new params, stats: the mean rate
    of the correct-class population and of the others during the pass)."""
    k, neuron = split_last_linear(net)
    lin = net.layers[k]
    if lin.n_out != rule.n_out:
        raise SpynqValueError(f"R-STDP: the last Linear has {lin.n_out} outputs, the rule {rule.n_out}")
    pre = presynaptic(net, params, np.asarray(xs, dtype=np.float64), k)
    if not np.all((pre == 0) | (pre == 1)):
        raise SpynqValueError("R-STDP: the plastic layer's input must be spikes (0 / 1)")
    w = np.array(params[lin.name]["w"], dtype=np.float64)  # (n_out, n_in)
    b = params[lin.name].get("b")
    pn = params[neuron.name]
    T, B = pre.shape[:2]
    labels = np.asarray(labels)
    right = wrong = 0.0
    ctx = Ctx(np)
    for i in (range(B) if order is None else order):
        tr = rule.init_traces(lin.n_in)
        state = None
        for t in range(T):
            s_in = pre[t, i:i + 1]
            cur = s_in @ w.T + (b if b is not None else 0.0)
            ctx.t = t
            s_out, state = neuron.step(pn, state, cur, ctx)
            tr = rule.traces(tr, s_in, s_out)
            w += rule.delta(tr, s_in, s_out, labels[i:i + 1]).T
            pop = s_out.reshape(rule.classes, rule.population)
            right += pop[labels[i]].mean()
            wrong += (pop.sum() - pop[labels[i]].sum()) / max(1, (rule.classes - 1) * rule.population)
    n = max(1, T * (B if order is None else len(order)))
    new = dict(params)
    new[lin.name] = dict(params[lin.name], w=w)
    return new, {"rate_correct": right / n, "rate_other": wrong / n}


def class_rates(net, params, xs, labels, population: int, classes: int):
    """Mean firing rate of the correct-class population and of the other neurons, over the
    plastic layer's output spikes (numpy forward, eval mode)."""
    k, neuron = split_last_linear(net)
    _, aux = net.apply(params, np.asarray(xs, dtype=np.float64))
    s = np.asarray(aux.records[neuron.name]["s"])  # [T, B, n_out]
    T, B = s.shape[:2]
    pop = s.reshape(T, B, classes, population).mean(axis=(0, 3))  # [B, classes]
    onehot = np.eye(classes, dtype=bool)[np.asarray(labels)]
    return float(pop[onehot].mean()), float(pop[~onehot].mean())


class _Bptt:
    """The global phase: minibatch BPTT on every trainable leaf, with spynq.nn.train's
    losses and optimisers; the jitted step is compiled once and kept across rounds (the
    optimiser state too: one optimisation interrupted by local phases)."""

    def __init__(self, net, params, *, lr, loss, logit_scale, optimizer_name="adam", seed=0):
        import jax
        import jax.numpy as jnp

        from . import train

        self.opt = train.optimizer(optimizer_name, lr)
        self.mask = jax.tree_util.tree_map(jnp.asarray, net.trainable(params))
        self.state = None

        def loss_fn(q, xs, y1h):
            out, aux = net.apply(q, xs, xp=jnp, train=True, seed=seed, merge_time=True, scan=True)
            return train.task_loss(loss, out, y1h, jnp, logit_scale), aux.updates

        @jax.jit
        def step(q, st, xs, y1h):
            (L, upd), g = jax.value_and_grad(loss_fn, has_aux=True)(q, xs, y1h)
            q2, st2 = self.opt.update(q, g, st, self.mask)
            q2 = dict(q2)
            for lname, d in upd.items():  # BN running statistics
                q2[lname] = dict(q2[lname], **d)
            return q2, st2, L

        self.step = step

    def epochs(self, params, task, n: int, batch: int, seed: int):
        import jax
        import jax.numpy as jnp

        q = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jnp.float32), params)
        if self.state is None:
            self.state = self.opt.init(q)
        eye = np.eye(task.n_classes, dtype=np.float32)
        m = len(task.x_train)
        batch = min(int(batch), m)
        for e in range(int(n)):
            order = np.random.default_rng([seed, e]).permutation(m)
            for i in range(0, m - batch + 1, batch):
                idx = order[i:i + batch]
                xs = jnp.asarray(np.swapaxes(task.x_train[idx], 0, 1), dtype=jnp.float32)
                q, self.state, _ = self.step(q, self.state, xs, jnp.asarray(eye[task.y_train[idx]]))
        return jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float64), q)


def co_learn(net, params, task, rule: RSTDP, *, rounds: int = 2, bptt_epochs: int = 1, local_samples: int | None = None,
             lr: float = 1e-2, batch: int = 32, loss: str = "mse", logit_scale: float = 1.0, seed: int = 0,
             log=print) -> dict:
    """Alternate BPTT (global: every trainable leaf, ``bptt_epochs`` epochs) and local R-STDP
    phases (the last Linear layer, ``local_samples`` samples streamed one at a time) on one
    network for `rounds` rounds. Returns {"params", "curve": per phase: phase, test
    accuracy (numpy forward), seconds (and the rates during each local phase)}."""
    import time

    from . import train

    curve = [{"phase": "start", "test": train.accuracy(net, params, task.x_test, task.y_test)}]
    n = len(task.x_train) if local_samples is None else min(int(local_samples), len(task.x_train))
    glob = _Bptt(net, params, lr=lr, loss=loss, logit_scale=logit_scale, seed=seed)
    xs = np.swapaxes(task.x_train, 0, 1)
    for r in range(int(rounds)):
        t0 = time.perf_counter()
        params = glob.epochs(params, task, bptt_epochs, batch, seed + 1000 * r)
        curve.append({"phase": f"bptt {r + 1}", "test": train.accuracy(net, params, task.x_test, task.y_test),
                      "seconds": time.perf_counter() - t0})
        t0 = time.perf_counter()
        order = np.random.default_rng([seed, r]).permutation(len(task.x_train))[:n]
        params, st = local_phase(net, params, xs, task.y_train, rule, order=order)
        acc = train.accuracy(net, params, task.x_test, task.y_test)
        curve.append({"phase": f"r-stdp {r + 1}", "test": acc, "seconds": time.perf_counter() - t0, **st})
        if log:
            log(f"round {r + 1}: after BPTT {curve[-2]['test']:.1%}, after R-STDP {acc:.1%} (test); "
                f"rates during R-STDP: correct {st['rate_correct']:.3f}, other {st['rate_other']:.3f}")
    return {"params": params, "curve": curve}


def poisson_task(n_train: int = 120, n_test: int = 60, classes: int = 3, per_class: int = 10, T: int = 10,
                 hi: float = 0.4, lo: float = 0.05, seed: int = 0):
    """The note's R-STDP toy (6.7 B10): classes x per_class inputs, the inputs of the
    sample's class fire with probability hi per step, all others with lo (Bernoulli =
    discrete Poisson). A spynq.nn.tasks.Task (rasters (n, T, classes * per_class))."""
    from .tasks import Task

    rng = np.random.default_rng([seed, 11])
    n = n_train + n_test
    y = rng.integers(0, classes, n)
    rate = np.full((n, classes * per_class), lo)
    for c in range(classes):
        rate[y == c, c * per_class:(c + 1) * per_class] = hi
    x = (rng.random((n, T, classes * per_class)) < rate[:, None, :]).astype(np.float64)
    return Task("poisson", x[:n_train], y[:n_train].astype(np.int64), x[n_train:], y[n_train:].astype(np.int64),
                classes, {"T": T, "hi": hi, "lo": lo, "seed": seed})


def inject_noise(frames, ratio: float, seed: int = 0):
    """BIDL's noise protocol (Sec.5.3, note 6.7 B11): in every frame [..., C, H, W], on
    every channel, n = floor(ratio * W * H) pixels drawn without replacement are set to 1
    (the validation samples only; the training set is unchanged)."""
    x = np.array(frames, dtype=np.float64)
    if x.ndim < 3 or not 0.0 <= ratio <= 1.0:
        raise SpynqValueError(f"inject_noise: frames {x.shape} (want [..., C, H, W]), ratio {ratio} (want [0, 1])")
    H, W = x.shape[-2:]
    n = int(np.floor(ratio * W * H))
    flat = x.reshape(-1, H * W)
    g = np.random.default_rng(seed)
    idx = np.argsort(g.random(flat.shape), axis=1)[:, :n]  # n distinct pixels per channel-frame
    np.put_along_axis(flat, idx, 1.0, axis=1)
    return flat.reshape(x.shape)


def noisy_accuracy(net, params, task, ratios=(0.0, 0.05, 0.1, 0.2), seed: int = 0) -> dict:
    """Test accuracy under BIDL's noise protocol (``inject_noise`` on the test frames only),
    per noise ratio (Fig.11's x axis); the rasters must be frames (n, T, C, H, W)."""
    from . import train

    return {float(r): train.accuracy(net, params, inject_noise(task.x_test, r, seed) if r else task.x_test,
                                     task.y_test) for r in ratios}


def fig11_digits(*, T: int = 8, epochs: int = 3, rounds: int = 2, population: int = 7, seed: int = 0,
                 a_minus: float = 0.1, lr_local: float = 1e-4, local_samples: int = 400, log=print) -> dict:
    """Fig.11's comparison scaled to the 8x8 digits (the DVS128 set is out of reach): the
    BIDL ConvLIF network (spynq.nn.models.bidl) trained by BPTT with (i) 10 outputs,
    (ii) 10 x `population` outputs with BPTT only (as many BPTT epochs as co-learning
    runs), (iii) the same with BPTT and R-STDP phases alternated (co_learn); the noise
    robustness of each (``noisy_accuracy``). Rate-target MSE loss throughout (the target
    R-STDP's reward L - O also pursues)."""
    import time

    from .models import bidl
    from .tasks import load

    task = load("digits_rate", T=T, seed=seed, image=True)
    out = {}
    for name, pop, local in (("bptt_10", 1, False), (f"bptt_{10 * population}", population, False),
                             (f"bptt+rstdp_{10 * population}", population, True)):
        t0 = time.perf_counter()
        net = bidl.build("convlif", population=pop)
        p = net.init(seed)
        rule = RSTDP(classes=10, population=pop, lr=lr_local if local else 0.0, a_minus=a_minus)
        res = co_learn(net, p, task, rule, rounds=rounds, bptt_epochs=epochs, lr=3e-3, batch=64, loss="mse",
                       local_samples=local_samples if local else 0, seed=seed, log=None)
        out[name] = {"curve": res["curve"], "noise": noisy_accuracy(net, res["params"], task, seed=seed),
                     "seconds": time.perf_counter() - t0}
        if log:
            log(f"{name}: " + ", ".join(f"{c['phase']} {c['test']:.1%}" for c in res["curve"]) +
                "; under noise " + ", ".join(f"{r:g}: {a:.1%}" for r, a in out[name]["noise"].items()) +
                f" ({out[name]['seconds']:.0f} s)")
    return out
