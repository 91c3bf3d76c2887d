"""Small training tasks for the software-path models (issue 10 item 8): data that ships
with a package or is generated here, coded as spike rasters, seeded, split once.

``load(name, T=..., seed=..., n=..., image=...)`` -> Task:
  x_train, x_test   float64 rasters (samples, T, ...) of 0 / 1 (``Sequential.run``'s layout;
                    ``Task.time_major(x)`` gives [T, B, ...] for ``apply``)
  y_train, y_test   int64 labels;  n_classes, shape (the per-step input shape), name, info

Tasks (TASKS):
  "digits_rate"     scikit-learn's 8x8 digits (1797 images, 10 classes, pixels 0..16),
                    rate coded: pixel p spikes at each step with probability p / 16
                    (independent Bernoulli draws, seeded).
  "digits_latency"  the same images latency coded: one spike per non-zero pixel, at step
                    round((1 - p / 16) (T - 1)) (bright pixels first), none for p = 0.
  "first"           synthetic temporal order: 2 x ``group`` inputs; both groups fire one
                    volley of the same size, one early and one late (steps drawn apart by
                    at least T / 4), plus background noise; the label is the group that
                    fired first. Spike counts are equal by construction, so only the
                    timing carries the answer (a rate code cannot solve it).
``image=True`` (digits): per-step input (1, 8, 8) for conv networks, else (64,).
The test split is a seeded 20 % of the samples, stratified by class.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SpynqValueError

TASKS = ("digits_rate", "digits_latency", "first")


@dataclass
class Task:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    info: dict = field(default_factory=dict)

    @property
    def T(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def shape(self) -> tuple:
        return tuple(self.x_train.shape[2:])

    @staticmethod
    def time_major(x):
        return np.swapaxes(x, 0, 1)

    def subset(self, n_train: int, n_test: int | None = None) -> "Task":
        """The first n_train / n_test samples (the split is already shuffled)."""
        n_test = n_train if n_test is None else n_test
        return Task(self.name, self.x_train[:n_train], self.y_train[:n_train], self.x_test[:n_test],
                    self.y_test[:n_test], self.n_classes, dict(self.info, subset=(n_train, n_test)))


def _split(y: np.ndarray, rng: np.random.Generator, test_frac: float = 0.2):
    """Stratified shuffled split: (train indices, test indices), each shuffled."""
    tr, te = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(test_frac * idx.size))
        te.append(idx[:k])
        tr.append(idx[k:])
    return rng.permutation(np.concatenate(tr)), rng.permutation(np.concatenate(te))


@functools.lru_cache(maxsize=1)
def _digits():
    """(pixels / 16, labels) of scikit-learn's digits. Read from the CSV scikit-learn
    ships (what load_digits parses) without importing sklearn, which takes seconds;
    load_digits itself if the file is not where scikit-learn 1.x keeps it."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise SpynqValueError("the digits tasks need scikit-learn (pip install scikit-learn)")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        a = np.loadtxt(path, delimiter=",")
        data, target = a[:, :-1], a[:, -1]
    else:  # pragma: no cover - another scikit-learn layout
        from sklearn.datasets import load_digits

        d = load_digits()
        data, target = d.data, d.target
    out = (data.astype(np.float64) / 16.0, target.astype(np.int64))
    for a in out:
        a.setflags(write=False)  # cached: shared by every call
    return out


def rate_code(p: np.ndarray, T: int, rng: np.random.Generator) -> np.ndarray:
    """(n, d) probabilities in [0, 1] -> (n, T, d) Bernoulli spikes."""
    return (rng.random((p.shape[0], T, p.shape[1])) < p[:, None, :]).astype(np.float64)


def latency_code(p: np.ndarray, T: int) -> np.ndarray:
    """(n, d) intensities in [0, 1] -> (n, T, d): one spike at round((1 - p)(T - 1)), none for p = 0."""
    n, d = p.shape
    out = np.zeros((n, T, d))
    t = np.rint((1.0 - p) * (T - 1)).astype(np.int64)
    i, j = np.nonzero(p > 0)
    out[i, t[i, j], j] = 1.0
    return out


def first_task(n: int, T: int, group: int, rng: np.random.Generator, volley: float = 0.6,
               noise: float = 0.02):
    """The "first" task's rasters (n, T, 2 group) and labels (0: group A first)."""
    if T < 4:
        raise SpynqValueError(f"task 'first': T={T}, needs at least 4 steps")
    y = rng.integers(0, 2, n)
    gap = max(1, T // 4)
    t1 = rng.integers(0, T - gap, n)
    t2 = t1 + gap + rng.integers(0, T - gap - t1)  # in [t1 + gap, T - 1]
    x = (rng.random((n, T, 2 * group)) < noise).astype(np.float64)
    k = max(1, int(round(volley * group)))
    for s in range(n):
        early, late = (0, group) if y[s] == 0 else (group, 0)
        a = early + rng.choice(group, k, replace=False)
        b = late + rng.choice(group, k, replace=False)
        x[s, t1[s], a] = 1.0
        x[s, t2[s], b] = 1.0
    return x, y.astype(np.int64)


def load(name: str, T: int = 8, seed: int = 0, n: int | None = None, image: bool = False, group: int = 16) -> Task:
    """The task `name` with T steps, coded and split with `seed`; n: use the first n
    samples only (digits: of the shuffled set; "first": how many to generate, 2000 by
    default)."""
    if name not in TASKS:
        raise SpynqValueError(f"task {name!r}: choose one of {TASKS}")
    if isinstance(T, bool) or int(T) < 1:
        raise SpynqValueError(f"task {name!r}: T={T}, needs at least 1 step")
    T = int(T)
    rng = np.random.default_rng([seed, TASKS.index(name)])
    if name == "first":
        x, y = first_task(2000 if n is None else int(n), T, group, rng)
        n_classes, info = 2, {"group": group}
    else:
        p, y = _digits()
        if n is not None:
            keep = rng.permutation(y.size)[:int(n)]
            p, y = p[keep], y[keep]
        x = rate_code(p, T, rng) if name == "digits_rate" else latency_code(p, T)
        if image:
            x = x.reshape(x.shape[0], T, 1, 8, 8)
        n_classes, info = 10, {"source": "sklearn.datasets.load_digits", "image": bool(image)}
    tr, te = _split(y, rng)
    info.update(T=T, seed=seed)
    return Task(name, x[tr], y[tr], x[te], y[te], n_classes, info)
