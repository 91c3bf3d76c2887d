"""Tree-structured Bayesian networks for the sampling-tree model (STM).

A network is a tree: one root, hidden inner nodes, and observed leaves that carry the
evidence. Every hidden node (the root included) is a population of sample neurons;
each sample is drawn from the node's *marginal* prior by ancestral sampling, which is
what the importance weights of eq. (4)-(8) assume (the paper: "the distribution of
these neurons follows the prior distribution P(C1, C2)").

Distributions (the families the kernel evaluates in hardware):
  root:                  Categorical(probs), Gaussian(mean, std), Uniform(low, high)
  discrete | discrete:   CPT(table[s_parent, s_child])
  continuous | discrete: StateGaussian(means[s], stds[s])
  continuous | cont.:    LinearGaussian(a, b, std)  ->  N(a*x + b, std^2)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


# ----------------------------------------------------------------------------- distributions
@dataclass(frozen=True)
class Categorical:
    probs: tuple

    def __post_init__(self):
        p = np.asarray(self.probs, float)
        if p.ndim != 1 or len(p) < 1 or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
            raise ValueError(f"Categorical probs must be a non-negative vector summing to 1, got {self.probs}")
        object.__setattr__(self, "probs", tuple(float(x) for x in p))

    discrete = True
    needs_parent = False

    @property
    def n_states(self):
        return len(self.probs)

    def sample(self, rng, n, parent=None):
        return rng.choice(self.n_states, size=n, p=np.asarray(self.probs))


@dataclass(frozen=True)
class Gaussian:
    mean: float
    std: float
    discrete = False
    needs_parent = False

    def __post_init__(self):
        if not self.std > 0:
            raise ValueError(f"Gaussian std must be > 0, got {self.std}")

    def sample(self, rng, n, parent=None):
        return rng.normal(self.mean, self.std, size=n)


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float
    discrete = False
    needs_parent = False

    def __post_init__(self):
        if not self.high > self.low:
            raise ValueError(f"Uniform needs low < high, got [{self.low}, {self.high}]")

    def sample(self, rng, n, parent=None):
        return rng.uniform(self.low, self.high, size=n)


@dataclass(frozen=True)
class CPT:
    """P(child = t | parent = s) = table[s][t]."""

    table: tuple
    discrete = True
    needs_parent = True
    parent_discrete = True

    def __post_init__(self):
        t = np.asarray(self.table, float)
        if t.ndim != 2 or np.any(t < 0) or not np.allclose(t.sum(axis=1), 1.0):
            raise ValueError("CPT table must be 2-D, non-negative, rows summing to 1")
        object.__setattr__(self, "table", tuple(tuple(float(x) for x in row) for row in t))

    @property
    def n_states(self):
        return len(self.table[0])

    @property
    def n_parent_states(self):
        return len(self.table)

    def sample(self, rng, n, parent):
        cdf = np.cumsum(np.asarray(self.table), axis=1)[parent]
        u = rng.random(n)[:, None]
        return np.minimum((u > cdf).sum(axis=1), self.n_states - 1)

    def log_likelihood(self, child, parent):
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(self.table)[parent, child])


@dataclass(frozen=True)
class StateGaussian:
    """child | parent = s  ~  N(means[s], stds[s]^2)."""

    means: tuple
    stds: tuple
    discrete = False
    needs_parent = True
    parent_discrete = True

    def __post_init__(self):
        m, s = np.asarray(self.means, float), np.asarray(self.stds, float)
        if m.shape != s.shape or m.ndim != 1 or np.any(s <= 0):
            raise ValueError("StateGaussian needs equal-length means and positive stds")
        object.__setattr__(self, "means", tuple(float(x) for x in m))
        object.__setattr__(self, "stds", tuple(float(x) for x in s))

    @property
    def n_parent_states(self):
        return len(self.means)

    def sample(self, rng, n, parent):
        return rng.normal(np.asarray(self.means)[parent], np.asarray(self.stds)[parent])

    def log_likelihood(self, child, parent):
        m, s = np.asarray(self.means)[parent], np.asarray(self.stds)[parent]
        return -0.5 * ((child - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class LinearGaussian:
    """child | parent = x  ~  N(a*x + b, std^2)."""

    a: float
    b: float
    std: float
    discrete = False
    needs_parent = True
    parent_discrete = False

    def __post_init__(self):
        if not self.std > 0:
            raise ValueError(f"LinearGaussian std must be > 0, got {self.std}")

    def sample(self, rng, n, parent):
        return rng.normal(self.a * parent + self.b, self.std)

    def log_likelihood(self, child, parent):
        return -0.5 * ((child - self.a * parent - self.b) / self.std) ** 2 - np.log(self.std) - 0.5 * np.log(2 * np.pi)


ROOT_DISTS = (Categorical, Gaussian, Uniform)
CHILD_DISTS = (CPT, StateGaussian, LinearGaussian)


# ----------------------------------------------------------------------------- network
@dataclass
class Node:
    name: str
    dist: object
    parent: "Node | None" = None
    observed: bool = False
    children: list = field(default_factory=list)

    @property
    def discrete(self) -> bool:
        return bool(self.dist.discrete)

    @property
    def n_states(self) -> int | None:
        return self.dist.n_states if self.discrete else None

    def __repr__(self):
        return f"Node({self.name!r}, {type(self.dist).__name__}, observed={self.observed})"


class Network:
    """A tree-structured Bayesian network with evidence at observed leaves.

    >>> net = Network("demo")
    >>> a = net.root("A", Categorical([0.5, 0.5]))
    >>> b = net.add("B", a, StateGaussian([-1, 1], [1, 1]))
    >>> _ = net.add("I", b, LinearGaussian(1, 0, 0.5), observed=True)
    """

    def __init__(self, name: str = "net"):
        self.name = name
        self.nodes: dict[str, Node] = {}
        self._root: Node | None = None

    # -- construction
    def root(self, name: str, dist) -> Node:
        if self._root is not None:
            raise ValueError(f"network {self.name!r} already has root {self._root.name!r}")
        if not isinstance(dist, ROOT_DISTS):
            raise TypeError(f"root {name!r}: prior must be one of {[d.__name__ for d in ROOT_DISTS]}")
        node = self._new(name, dist, None, False)
        self._root = node
        return node

    def add(self, name: str, parent: Node | str, dist, observed: bool = False) -> Node:
        parent = self.nodes[parent] if isinstance(parent, str) else parent
        if parent is None or parent.name not in self.nodes or self.nodes[parent.name] is not parent:
            raise ValueError(f"{name!r}: parent must be a node of this network")
        if parent.observed:
            raise ValueError(f"{name!r}: parent {parent.name!r} is observed; evidence nodes must be leaves")
        if not isinstance(dist, CHILD_DISTS):
            raise TypeError(f"{name!r}: conditional must be one of {[d.__name__ for d in CHILD_DISTS]}")
        if dist.parent_discrete != parent.discrete:
            kind = "discrete" if parent.discrete else "continuous"
            raise TypeError(f"{name!r}: {type(dist).__name__} does not take a {kind} parent ({parent.name!r})")
        if parent.discrete and dist.n_parent_states != parent.n_states:
            raise ValueError(f"{name!r}: conditional has {dist.n_parent_states} parent states, "
                             f"{parent.name!r} has {parent.n_states}")
        node = self._new(name, dist, parent, observed)
        parent.children.append(node)
        return node

    def _new(self, name, dist, parent, observed):
        if name in self.nodes:
            raise ValueError(f"duplicate node name {name!r}")
        node = Node(name, dist, parent, observed)
        self.nodes[name] = node
        return node

    # -- structure
    @property
    def root_node(self) -> Node:
        if self._root is None:
            raise ValueError(f"network {self.name!r} has no root")
        return self._root

    def post_order(self) -> list[Node]:
        """Children before parents, root last; order of insertion among siblings."""
        out = []

        def visit(n):
            for c in n.children:
                visit(c)
            out.append(n)

        visit(self.root_node)
        return out

    @property
    def evidence_nodes(self) -> list[Node]:
        return [n for n in self.post_order() if n.observed]

    @property
    def hidden_nodes(self) -> list[Node]:
        return [n for n in self.post_order() if not n.observed]

    def validate(self) -> None:
        root = self.root_node
        if len(self.post_order()) != len(self.nodes):
            raise ValueError("network is not connected to its root")
        if not self.evidence_nodes:
            raise ValueError(f"network {self.name!r} has no observed leaf: nothing to infer from")
        for n in self.hidden_nodes:
            if n is not root and not n.children:
                raise ValueError(f"hidden leaf {n.name!r} carries no evidence; remove it or observe it")

    # -- sampling
    def sample(self, n_samples: int | dict, seed=0) -> dict[str, np.ndarray]:
        """Sample populations for every hidden node, each drawn from its marginal prior.

        n_samples: one count for all hidden nodes, or {name: count}. Each population is
        drawn by its own ancestral pass, so populations are independent of each other.
        """
        self.validate()
        rng = np.random.default_rng(seed)
        pops = {}
        for node in self.hidden_nodes:
            n = n_samples[node.name] if isinstance(n_samples, dict) else int(n_samples)
            if n < 1:
                raise ValueError(f"{node.name!r}: need at least one sample, got {n}")
            chain = []
            p = node
            while p is not None:
                chain.append(p)
                p = p.parent
            value = None
            for anc in reversed(chain):
                value = anc.dist.sample(rng, n, value)
            pops[node.name] = np.asarray(value, dtype=np.int64 if node.discrete else np.float64)
        return pops

    def evidence_array(self, evidence) -> np.ndarray:
        """Evidence as a (batch, n_evidence) float array in evidence_nodes order.

        Accepts a dict {name: scalar or 1-D array} or an array already in that order.
        """
        names = [n.name for n in self.evidence_nodes]
        if isinstance(evidence, dict):
            missing = set(names) - set(evidence)
            extra = set(evidence) - set(names)
            if missing or extra:
                raise ValueError(f"evidence keys must be {names}; missing {sorted(missing)}, unknown {sorted(extra)}")
            cols = [np.atleast_1d(np.asarray(evidence[k], float)) for k in names]
            b = max(len(c) for c in cols)
            if any(len(c) not in (1, b) for c in cols):
                raise ValueError("evidence columns must have equal length (or length 1)")
            ev = np.stack([np.broadcast_to(c, (b,)) for c in cols], axis=1)
        else:
            ev = np.atleast_2d(np.asarray(evidence, float))
            if ev.shape[1] != len(names):
                raise ValueError(f"evidence must have {len(names)} columns ({names}), got shape {ev.shape}")
        if not np.all(np.isfinite(ev)):
            raise ValueError("evidence contains NaN or inf")
        for j, n in enumerate(self.evidence_nodes):
            if n.discrete:
                col = ev[:, j]
                if np.any(col != np.round(col)) or np.any(col < 0) or np.any(col >= n.n_states):
                    raise ValueError(f"evidence for discrete node {n.name!r} must be a state in 0..{n.n_states - 1}")
        return ev
