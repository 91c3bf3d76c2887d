"""Training for spynq.nn networks: surrogate-gradient BPTT with JAX (jax.grad of the very
forward numpy runs), Adam / SGD on the params pytree, seeded minibatches, checkpoints
(.npz through spynq.weights, metadata beside it as .json) that ``run`` loads, and
learning curves (PNG). jax is imported inside the functions that need it: ``run`` and
the checkpoint readers work with numpy alone (the board).

API::

    from spynq import nn
    from spynq.nn import tasks, train

    task = tasks.load("digits_rate", T=8, seed=0)            # rasters (n, T, 64), labels
    net = nn.Sequential(nn.Linear(64, 64), nn.LIF(2.0), nn.Linear(64, 10),
                        nn.TemporalAggregate("mean"))
    hist = train.fit(net, net.init(0), task, epochs=5, lr=1e-2, batch=64, loss="ce", seed=0)
    hist.params          # trained pytree (numpy float64), hist.curve: one dict per epoch,
    hist.before, hist.after   # {"train": acc, "test": acc} before / after training
    train.accuracy(net, hist.params, task.x_test, task.y_test)
    train.save_checkpoint("out/m.npz", hist.params, {"model": "dalif", "build": {...}})
    res = train.run("out/m.npz", rasters)   # LifResult of the model rebuilt from its metadata
    train.plot_curves(hist, "out/m_curves.png")
    train.train_model("dalif", epochs=3, seed=0, out="build/train")   # what `spynq train` does

Network output -> prediction (``readout``): an output [T, B, C] is summed over time (spike
counts of an output neuron layer, or summed currents of a final Linear); an output that
is already [B, C] (after nn.TemporalAggregate) is used as is. Losses (LOSSES):
  "ce"   softmax cross-entropy of readout * logit_scale (spike counts or a membrane /
         current readout);
  "mse"  spike-count MSE: (readout / T - onehot)^2 averaged (rate target 1 for the label,
         0 elsewhere; an aggregated output is compared as is).
Accuracy is argmax of the readout (ties go to the lowest class index, so a silent
network scores the frequency of class 0, not chance by luck).

Training details: parameters are trained in float32 (JAX's default) and returned as
float64 numpy; leaves outside ``net.trainable(params)`` are not updated except BatchNorm
running statistics, which train-mode forwards return in ``Aux.updates``. Each epoch
shuffles the training set with (seed, epoch) and drops the last incomplete minibatch
(one compiled shape); evaluation pads the last batch. The forward runs with
merge_time=True and scan=True (one traced step per neuron layer: short compiles).
Dropout: the mask is drawn from (seed, layer) at trace time, so one mask pattern per
compiled step (SpikingJelly draws a new one per call; not reproduced here).

Optional hooks a network may define (nn.Sequential subclasses or small classes with
init / apply / run / trainable / neuron_layers):
  net.regularizer(params, aux, xp) -> scalar  added to the task loss (Oli-N's lambda L_reg;
                                          aux: the forward's Aux, whose records a layer
                                          may extend);
  net.phases(params) -> [mask, ...]       alternating optimisation: minibatch i updates
                                          only the leaves of mask i % len (Oli-N's W step
                                          then Phi step), each within ``trainable``;
  net.on_epoch(epoch, epochs) -> bool     called before each epoch (the review's K(i)
                                          surrogate schedule); True: the step function is
                                          rebuilt (static surrogate parameters changed);
  net.learned(params) -> {layer: {k: v}}  extra learned quantities for the report;
  net.inference(params) -> (net, params)  what ``run`` executes from a checkpoint (Oli-N's
                                          precomputed time-varying weights, AIA's beta
                                          folded into W).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SpynqValueError

LOSSES = ("ce", "mse")
OPTIMIZERS = ("adam", "sgd")


# ------------------------------------------------------------------ readout and losses


def readout(out, xp=np):
    """[T, B, C] -> [B, C] summed over time; [B, C] as is."""
    return out.sum(axis=0) if out.ndim >= 3 else out


def task_loss(name: str, out, y_onehot, xp, logit_scale: float = 1.0):
    if name not in LOSSES:
        raise SpynqValueError(f"loss {name!r}: choose one of {LOSSES}")
    r = readout(out, xp)
    if name == "ce":
        z = r * logit_scale
        z = z - xp.max(z, axis=1, keepdims=True)
        logp = z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))
        return -xp.mean(xp.sum(y_onehot * logp, axis=1))
    rate = r / out.shape[0] if out.ndim >= 3 else r
    return xp.mean((rate - y_onehot) ** 2)


def predict(net, params, x, batch: int = 256, xp=None) -> np.ndarray:
    """Class predictions for rasters x (n, T, ...): numpy forward (xp=None / numpy) or
    the jitted JAX forward (xp=jax.numpy)."""
    x = np.asarray(x, dtype=np.float64)
    if xp is None or xp is np:
        outs = [readout(np.asarray(net.apply(params, np.swapaxes(x[i:i + batch], 0, 1))[0]))
                for i in range(0, len(x), batch)]
        return np.argmax(np.concatenate(outs), axis=1)
    return _JaxEval(net, batch)(_to_jax(params), x)


def accuracy(net, params, x, y, batch: int = 256, xp=None) -> float:
    return float(np.mean(predict(net, params, x, batch, xp) == np.asarray(y)))


class _JaxEval:
    def __init__(self, net, batch: int):
        import jax

        self.batch = int(batch)
        self.f = jax.jit(lambda p, xs: readout(net.apply(p, xs, xp=_jnp(), merge_time=True, scan=True)[0]))

    def __call__(self, params, x):
        import jax.numpy as jnp

        preds = []
        for i in range(0, len(x), self.batch):
            xb = x[i:i + self.batch]
            n = len(xb)
            if n < self.batch:  # pad: one compiled shape
                xb = np.concatenate([xb, np.zeros((self.batch - n,) + xb.shape[1:])])
            r = self.f(params, jnp.asarray(np.swapaxes(xb, 0, 1), dtype=jnp.float32))
            preds.append(np.argmax(np.asarray(r)[:n], axis=1))
        return np.concatenate(preds)


def _jnp():
    import jax.numpy as jnp

    return jnp


def _to_jax(params):
    import jax
    import jax.numpy as jnp

    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jnp.float32), params)


def _to_numpy(params):
    import jax

    return jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float64), params)


# ------------------------------------------------------------------ optimisers


@dataclass(frozen=True)
class Adam:
    lr: float = 1e-2
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0  # decoupled (AdamW; Oli-N's optimiser)

    def init(self, params):
        import jax

        z = jax.tree_util.tree_map(lambda a: a * 0.0, params)
        return {"m": z, "v": z, "t": 0.0}

    def update(self, params, grads, state, mask):
        import jax
        import jax.numpy as jnp

        t = state["t"] + 1.0
        tm = jax.tree_util.tree_map
        m = tm(lambda m_, g, k: jnp.where(k, self.b1 * m_ + (1 - self.b1) * g, m_), state["m"], grads, mask)
        v = tm(lambda v_, g, k: jnp.where(k, self.b2 * v_ + (1 - self.b2) * g * g, v_), state["v"], grads, mask)
        c1, c2 = 1 - self.b1 ** t, 1 - self.b2 ** t

        def upd(p, m_, v_, k):
            d = self.lr * (m_ / c1) / (jnp.sqrt(v_ / c2) + self.eps) + self.lr * self.weight_decay * p
            return jnp.where(k, p - d, p)

        return tm(upd, params, m, v, mask), {"m": m, "v": v, "t": t}


@dataclass(frozen=True)
class SGD:
    lr: float = 0.1
    momentum: float = 0.9  # DA-LIF: SGD, momentum 0.9, lr 0.1
    weight_decay: float = 0.0

    def init(self, params):
        import jax

        return {"b": jax.tree_util.tree_map(lambda a: a * 0.0, params)}

    def update(self, params, grads, state, mask):
        import jax
        import jax.numpy as jnp

        tm = jax.tree_util.tree_map
        b = tm(lambda b_, g, p, k: jnp.where(k, self.momentum * b_ + g + self.weight_decay * p, b_),
               state["b"], grads, params, mask)
        return tm(lambda p, b_, k: jnp.where(k, p - self.lr * b_, p), params, b, mask), {"b": b}


def optimizer(name: str, lr: float, **kw):
    if name == "adam":
        return Adam(lr=lr, **kw)
    if name == "sgd":
        return SGD(lr=lr, **kw)
    raise SpynqValueError(f"optimizer {name!r}: choose one of {OPTIMIZERS}")


# ------------------------------------------------------------------ the loop


@dataclass
class History:
    params: dict
    curve: list = field(default_factory=list)   # per epoch: epoch, loss, train, test, seconds
    before: dict = field(default_factory=dict)  # {"train": acc, "test": acc} at the initial params
    after: dict = field(default_factory=dict)
    seconds: float = 0.0                        # the whole fit (compiles and evaluations included)


def _mask_tree(net, params, sub=None):
    tr = net.trainable(params)
    if sub is not None:
        tr = {l: {k: bool(v and sub.get(l, {}).get(k, False)) for k, v in d.items()} for l, d in tr.items()}
    return tr


def fit(net, params, task, *, epochs: int = 5, lr: float = 1e-2, batch: int = 64, loss: str = "ce",
        optimizer_name: str = "adam", logit_scale: float = 1.0, seed: int = 0, log=print, eval_batch: int = 256,
        opt_kw: dict | None = None) -> History:
    """Train ``net`` from ``params`` on a tasks.Task: BPTT through the surrogate spikes,
    one progress line per epoch through ``log`` (None: silent)."""
    import jax
    import jax.numpy as jnp

    if loss not in LOSSES:
        raise SpynqValueError(f"loss {loss!r}: choose one of {LOSSES}")
    if int(epochs) < 0 or int(batch) < 1:
        raise SpynqValueError(f"fit: epochs={epochs}, batch={batch}")
    n = len(task.x_train)
    batch = min(int(batch), n)
    opt = optimizer(optimizer_name, lr, **(opt_kw or {}))
    t_start = time.perf_counter()
    p = _to_jax(params)
    phases = net.phases(params) if hasattr(net, "phases") else [None]
    masks = [jax.tree_util.tree_map(jnp.asarray, _mask_tree(net, params, ph)) for ph in phases]
    state = opt.init(p)
    reg = getattr(net, "regularizer", None)

    def build_step():
        def loss_fn(q, xs, y1h):
            out, aux = net.apply(q, xs, xp=jnp, train=True, seed=seed, merge_time=True, scan=True)
            L = task_loss(loss, out, y1h, jnp, logit_scale)
            if reg is not None:
                L = L + reg(q, aux, jnp)
            return L, aux.updates

        @jax.jit
        def step(q, st, xs, y1h, mask):
            (L, upd), g = jax.value_and_grad(loss_fn, has_aux=True)(q, xs, y1h)
            q2, st2 = opt.update(q, g, st, mask)
            for lname, d in upd.items():  # BN running statistics
                q2 = dict(q2)
                q2[lname] = dict(q2[lname], **d)
            return q2, st2, L

        return step

    step = build_step()
    ev = _JaxEval(net, eval_batch)

    def evaluate(q):
        return {"train": float(np.mean(ev(q, task.x_train) == task.y_train)),
                "test": float(np.mean(ev(q, task.x_test) == task.y_test))}

    hist = History(params=None)
    hist.before = evaluate(p)
    if log:
        log(f"before training: train {hist.before['train']:.1%}  test {hist.before['test']:.1%}  "
            f"({n} train / {len(task.x_test)} test samples, T={task.T})")
    eye = np.eye(task.n_classes, dtype=np.float32)
    k = 0
    for e in range(int(epochs)):
        t0 = time.perf_counter()
        if hasattr(net, "on_epoch") and net.on_epoch(e, int(epochs)):
            step = build_step()  # the forward (and the evaluation) does not see the surrogate
        order = np.random.default_rng([seed, e]).permutation(n)
        losses = []
        for i in range(0, n - batch + 1, batch):
            idx = order[i:i + batch]
            xs = jnp.asarray(np.swapaxes(task.x_train[idx], 0, 1), dtype=jnp.float32)
            p, state, L = step(p, state, xs, jnp.asarray(eye[task.y_train[idx]]), masks[k % len(masks)])
            k += 1
            losses.append(float(L))
        accs = evaluate(p)
        row = {"epoch": e + 1, "loss": float(np.mean(losses)), "train": accs["train"], "test": accs["test"],
               "seconds": time.perf_counter() - t0}
        hist.curve.append(row)
        if log:
            log(f"epoch {e + 1}/{epochs}  loss {row['loss']:.4f}  train {row['train']:.1%}  test {row['test']:.1%}"
                f"  {row['seconds']:.1f} s")
        if not np.isfinite(row["loss"]):
            raise SpynqValueError(f"fit: the loss became {row['loss']} in epoch {e + 1} (lower the learning rate)")
    last = hist.curve[-1] if hist.curve else hist.before
    hist.after = {"train": last["train"], "test": last["test"]}
    hist.params = _to_numpy(p)
    hist.seconds = time.perf_counter() - t_start
    return hist


# ------------------------------------------------------------------ reporting


def neuron_values(net, params) -> dict:
    """The effective neuron parameters (what the equations see: fn(raw)) per neuron
    layer: {layer: {param: float, or a list per channel}} (learned decays, thresholds,
    polynomial coefficients, ...)."""
    from .params import effective

    out = {}
    for l in net.neuron_layers:
        d = {}
        for k, spec in getattr(l, "specs", {}).items():
            v = np.asarray(effective(spec, np.asarray(params[l.name][k]), np, 2), dtype=np.float64)
            d[k] = float(v) if v.ndim == 0 else [float(a) for a in v.ravel()]
        out[l.name] = d
    if hasattr(net, "learned"):  # model-specific learned quantities (Oli-N's modulations)
        for k, d in net.learned(params).items():
            out.setdefault(k, {}).update(d)
    return out


def plot_curves(hist: History, path, title: str = "") -> None:
    """Loss and train / test accuracy per epoch (epoch 0: before training) as a PNG."""
    from ..plotting import pyplot

    plt = pyplot()
    ep = [0] + [r["epoch"] for r in hist.curve]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    a.plot(ep[1:], [r["loss"] for r in hist.curve], "o-")
    a.set_xlabel("epoch")
    a.set_ylabel("training loss")
    for key, style in (("train", "o-"), ("test", "s--")):
        b.plot(ep, [100 * hist.before[key]] + [100 * r[key] for r in hist.curve], style, label=key)
    b.set_xlabel("epoch")
    b.set_ylabel("accuracy (%)")
    b.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ checkpoints


def _meta_path(path) -> Path:
    return Path(path).with_suffix(".json")


def save_checkpoint(path, params, meta: dict) -> None:
    """params -> path (.npz, spynq.weights), meta (JSON: at least "model" and "build",
    the registry name and its build config) -> the same path with suffix .json."""
    from .. import weights

    path = Path(path)
    if path.suffix != ".npz":
        raise SpynqValueError(f"{path}: a checkpoint is an .npz file")
    weights.save_npz(path, params)
    _meta_path(path).write_text(json.dumps(meta, indent=1, default=_json_default))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def load_checkpoint(path) -> tuple[dict, dict]:
    """(params pytree, meta) of a checkpoint written by save_checkpoint."""
    from .. import weights

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    mp = _meta_path(path)
    if not mp.is_file():
        raise FileNotFoundError(f"{mp}: the checkpoint's metadata is missing")
    meta = json.loads(mp.read_text())
    return weights.unflatten(weights.load_npz(path)), meta


def load_model(path, inference: bool = True):
    """(net, params, meta) of a checkpoint: the model rebuilt from the registry with its
    build config; inference=True applies the model's net.inference (if it has one)."""
    from . import models

    params, meta = load_checkpoint(path)
    if "model" not in meta:
        raise SpynqValueError(f"{path}: the metadata names no model")
    net = models.get(meta["model"]).build(**meta.get("build", {}))
    template = net.init(0)
    missing = sorted(set(_flat_keys(template)) ^ set(_flat_keys(params)))
    if missing:
        raise SpynqValueError(f"{path}: parameters do not match model {meta['model']!r}: {missing[:6]}")
    params = {l: params.get(l, {}) for l in template}  # layers without parameters leave no key in the file
    if inference and hasattr(net, "inference"):
        net, params = net.inference(params)
    return net, params, meta


def _flat_keys(tree):
    return [f"{l}.{k}" for l, d in tree.items() for k in d]


def run(checkpoint, rasters, *, backend: str = "cpu", inference: bool = True, **kw):
    """Run a trained checkpoint on rasters (batch, T, ...): Sequential.run's LifResult."""
    net, params, _ = load_model(checkpoint, inference)
    return net.run(rasters, params, backend=backend, **kw)


# ------------------------------------------------------------------ one registered model


def train_model(name: str, *, epochs: int | None = None, seed: int = 0, out=None, log=print, **overrides) -> dict:
    """Train registered model `name` on its TASK with its DEFAULTS (overrides replace
    them): progress through log, and in `out` (if given) <name>.npz + <name>.json (the
    checkpoint) and <name>_curves.png. Returns the summary written to the JSON."""
    from . import models, tasks

    m = models.get(name)
    cfg = dict(m.DEFAULTS)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    if epochs is not None:
        cfg["epochs"] = int(epochs)
    build = dict(cfg.get("build", {}))
    task = tasks.load(m.TASK, T=cfg.get("T", 8), seed=seed, n=cfg.get("n"), image=cfg.get("image", False))
    if "train_subset" in cfg:
        task = task.subset(*cfg["train_subset"])
    net = m.build(**build)
    params = net.init(seed)
    if log:
        log(f"{name}: {m.PAPER} model on task {m.TASK} (T={task.T}), {cfg['epochs']} epochs, seed {seed}")
    hist = fit(net, params, task, epochs=cfg["epochs"], lr=cfg.get("lr", 1e-2), batch=cfg.get("batch", 64),
               loss=cfg.get("loss", "ce"), optimizer_name=cfg.get("optimizer", "adam"),
               logit_scale=cfg.get("logit_scale", 1.0), seed=seed, log=log, opt_kw=cfg.get("opt_kw"))
    learned = neuron_values(net, hist.params)
    summary = {"model": name, "paper": m.PAPER, "task": m.TASK, "build": build, "T": task.T, "seed": seed,
               "epochs": cfg["epochs"], "config": {k: v for k, v in cfg.items() if k != "build"},
               "before": hist.before, "after": hist.after, "curve": hist.curve, "seconds": hist.seconds,
               "learned": learned}
    if log:
        log(f"accuracy before {hist.before['test']:.1%} -> after {hist.after['test']:.1%} (test), "
            f"{hist.seconds:.1f} s")
        for lname, d in learned.items():
            log(f"  {lname}: " + ", ".join(f"{k} = {_short(v)}" for k, v in d.items()))
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        save_checkpoint(out / f"{name}.npz", hist.params, summary)
        plot_curves(hist, out / f"{name}_curves.png", f"{name} on {m.TASK}")
        if log:
            log(f"wrote {out / (name + '.npz')}, {out / (name + '.json')}, {out / (name + '_curves.png')}")
    return summary


def _short(v):
    if isinstance(v, list):
        a = np.asarray(v)
        return f"mean {a.mean():.4g} (min {a.min():.4g}, max {a.max():.4g}, {a.size} channels)"
    return f"{v:.4g}"
