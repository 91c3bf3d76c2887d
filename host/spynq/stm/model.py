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

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpynqTypeError, SpynqValueError
from ..validate import as_array, check_int_range, check_type, int_scalar, positive, real_array, real_scalar


def _probabilities(p: np.ndarray, what: str) -> None:
    """Rows of p (last axis) are distributions: entries >= 0, sums 1 (to rounding)."""
    neg = p < 0
    if neg.any():
        i = tuple(np.argwhere(neg)[0])
        raise SpynqValueError(f"{what}{list(i)}={p[i]:g}: probabilities must be >= 0")
    sums = p.sum(axis=-1)
    off = ~np.isclose(sums, 1.0)
    if off.any():
        i = tuple(np.argwhere(off)[0])
        row = f" row {list(i)}" if i else ""
        raise SpynqValueError(f"{what}{row} sums to {float(sums[i]):.6g}: probabilities must sum to 1")


# ----------------------------------------------------------------------------- distributions
@dataclass(frozen=True)
class Categorical:
    probs: tuple

    def __post_init__(self):
        p = real_array(self.probs, "Categorical probs", ndim=1)
        if len(p) < 1:
            raise SpynqValueError("Categorical probs: needs at least one state, got none")
        _probabilities(p, "Categorical probs")
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
        object.__setattr__(self, "mean", real_scalar(self.mean, "Gaussian mean"))
        object.__setattr__(self, "std", positive(self.std, "Gaussian std"))

    def sample(self, rng, n, parent=None):
        return rng.normal(self.mean, self.std, size=n)


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float
    discrete = False
    needs_parent = False

    def __post_init__(self):
        low, high = real_scalar(self.low, "Uniform low"), real_scalar(self.high, "Uniform high")
        if not high > low:
            raise SpynqValueError(f"Uniform low={low:g}, high={high:g}: needs low < high")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

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
        t = real_array(self.table, "CPT table", ndim=2)
        if 0 in t.shape:
            raise SpynqValueError(f"CPT table: shape {t.shape}, needs at least one parent and one child state")
        _probabilities(t, "CPT table")
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
        m = real_array(self.means, "StateGaussian means", ndim=1)
        s = real_array(self.stds, "StateGaussian stds", ndim=1)
        if m.shape != s.shape or len(m) < 1:
            raise SpynqValueError(f"StateGaussian: {len(m)} means and {len(s)} stds, needs one of each per "
                                  "parent state (at least one)")
        for i, v in enumerate(s):
            positive(v, f"StateGaussian stds[{i}]")
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
        object.__setattr__(self, "a", real_scalar(self.a, "LinearGaussian a"))
        object.__setattr__(self, "b", real_scalar(self.b, "LinearGaussian b"))
        object.__setattr__(self, "std", positive(self.std, "LinearGaussian std"))

    def sample(self, rng, n, parent):
        return rng.normal(self.a * parent + self.b, self.std)

    def log_likelihood(self, child, parent):
        return -0.5 * ((child - self.a * parent - self.b) / self.std) ** 2 - np.log(self.std) - 0.5 * np.log(2 * np.pi)


ROOT_DISTS = (Categorical, Gaussian, Uniform)
MAX_SAMPLES = 1 << 26  # per population: 512 MB of float64 (the kernels take far fewer, STM_MAX_N)
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
            raise SpynqValueError(f"network {self.name!r} already has root {self._root.name!r}")
        if not isinstance(dist, ROOT_DISTS):
            raise SpynqTypeError(f"root {name!r}: prior must be one of {[d.__name__ for d in ROOT_DISTS]}")
        node = self._new(name, dist, None, False)
        self._root = node
        return node

    def add(self, name: str, parent: Node | str, dist, observed: bool = False) -> Node:
        if isinstance(parent, str):
            if parent not in self.nodes:
                raise SpynqValueError(f"{name!r}: parent {parent!r} is not a node of network {self.name!r} "
                                      f"(nodes: {list(self.nodes)})")
            parent = self.nodes[parent]
        if not isinstance(parent, Node) or self.nodes.get(parent.name) is not parent:
            raise SpynqValueError(f"{name!r}: parent must be a node of this network")
        check_type(observed, f"{name!r}: observed", (bool, np.bool_))
        self._check_edge(name, parent, dist)
        node = self._new(name, dist, parent, bool(observed))
        parent.children.append(node)
        return node

    @staticmethod
    def _check_edge(name, parent: Node, dist) -> None:
        """The rules of a node under `parent` (add() and validate())."""
        if parent.observed:
            raise SpynqValueError(f"{name!r}: parent {parent.name!r} is observed; evidence nodes must be leaves")
        if not isinstance(dist, CHILD_DISTS):
            raise SpynqTypeError(f"{name!r}: conditional must be one of {[d.__name__ for d in CHILD_DISTS]}")
        if dist.parent_discrete != parent.discrete:
            kind = "discrete" if parent.discrete else "continuous"
            raise SpynqTypeError(f"{name!r}: {type(dist).__name__} does not take a {kind} parent ({parent.name!r})")
        if parent.discrete and dist.n_parent_states != parent.n_states:
            raise SpynqValueError(f"{name!r}: conditional has {dist.n_parent_states} parent states, "
                                  f"{parent.name!r} has {parent.n_states}")

    def _new(self, name, dist, parent, observed):
        check_type(name, "node name", str)
        if name in self.nodes:
            raise SpynqValueError(f"duplicate node name {name!r}")
        node = Node(name, dist, parent, observed)
        self.nodes[name] = node
        return node

    # -- structure
    @property
    def root_node(self) -> Node:
        if self._root is None:
            raise SpynqValueError(f"network {self.name!r} has no root")
        return self._root

    def post_order(self) -> list[Node]:
        """Children before parents, root last; order of insertion among siblings."""
        out, seen = [], set()

        def visit(n):
            if id(n) in seen or len(seen) > len(self.nodes):  # nodes and children lists are public
                raise SpynqValueError(f"network {self.name!r}: node {n.name!r} is reached twice; not a tree")
            seen.add(id(n))
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
        """The structure every backend needs, checked as the (public, mutable) nodes are now:
        a tree under one hidden root, every parent hidden (observed nodes are leaves),
        every edge's conditional fitting its parent, at least one observed leaf and no
        hidden leaf. The kernel parser (stm_parse) and golden.parse_net reject the packed
        forms of the first two."""
        root = self.root_node
        order = self.post_order()
        if len(order) != len(self.nodes) or any(self.nodes.get(n.name) is not n for n in order):
            raise SpynqValueError(f"network {self.name!r}: not every node is connected to the root {root.name!r}")
        if root.observed or root.parent is not None or not isinstance(root.dist, ROOT_DISTS):
            raise SpynqValueError(f"network {self.name!r}: the root {root.name!r} must be hidden, have no parent "
                                  f"and a prior of {[d.__name__ for d in ROOT_DISTS]}")
        for n in order:
            for c in n.children:
                if c.parent is not n:
                    raise SpynqValueError(f"node {c.name!r} is a child of {n.name!r} but names "
                                          f"{getattr(c.parent, 'name', None)!r} as its parent")
                self._check_edge(c.name, n, c.dist)
        if not self.evidence_nodes:
            raise SpynqValueError(f"network {self.name!r} has no observed leaf: nothing to infer from")
        for n in self.hidden_nodes:
            if n is not root and not n.children:
                raise SpynqValueError(f"hidden leaf {n.name!r} carries no evidence; remove it or observe it")

    def check_populations(self, pops) -> dict[str, np.ndarray]:
        """The sample populations of every hidden node, checked: {name: 1-D array} with
        exactly the hidden nodes' names, at least one sample each; a discrete node's
        samples are integers in 0..n_states-1 (no fractions, no negative indices), a
        continuous node's are finite. Returns int64 / float64 arrays. The kernel's size
        limits are spynq.stm.encode.check_limits."""
        if not isinstance(pops, Mapping):
            raise SpynqTypeError(f"pops: a {type(pops).__name__}, must be a dict {{hidden node name: samples}}")
        names = [n.name for n in self.hidden_nodes]
        missing, extra = [k for k in names if k not in pops], sorted(set(pops) - set(names), key=str)
        if missing or extra:
            raise SpynqValueError(f"pops: keys must be the hidden nodes {names}; missing {missing}, unknown {extra}")
        out = {}
        for n in self.hidden_nodes:
            what = f"pops[{n.name!r}]"
            a = as_array(pops[n.name], what)
            if a.ndim != 1 or len(a) < 1:
                raise SpynqValueError(f"{what}: must be a 1-D array of at least one sample, got shape {a.shape}")
            out[n.name] = (check_int_range(a, f"{what} (states of {n.name!r})", 0, n.n_states - 1) if n.discrete
                           else real_array(a, what))
        return out

    # -- sampling
    def sample(self, n_samples: int | dict, seed=0) -> dict[str, np.ndarray]:
        """Sample populations for every hidden node, each drawn from its marginal prior.

        n_samples: one count for all hidden nodes, or {name: count}. Each population is
        drawn by its own ancestral pass, so populations are independent of each other.
        """
        self.validate()
        rng = np.random.default_rng(seed)
        pops = {}
        if isinstance(n_samples, Mapping):
            missing = [n.name for n in self.hidden_nodes if n.name not in n_samples]
            if missing:
                raise SpynqValueError(f"n_samples: no count for the hidden node{'s' * (len(missing) > 1)} {missing}")
        for node in self.hidden_nodes:
            n = int_scalar(n_samples[node.name] if isinstance(n_samples, Mapping) else n_samples,
                           f"n_samples of {node.name!r}", 1, MAX_SAMPLES)
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
        if isinstance(evidence, Mapping):
            missing = [k for k in names if k not in evidence]
            extra = sorted(set(evidence) - set(names), key=str)
            if missing or extra:
                raise SpynqValueError(f"evidence keys must be {names}; missing {missing}, unknown {extra}")
            cols = [np.atleast_1d(real_array(evidence[k], f"evidence[{k!r}]")) for k in names]
            for k, c in zip(names, cols):
                if c.ndim != 1:
                    raise SpynqValueError(f"evidence[{k!r}]: a scalar or 1-D array (one value per set), "
                                          f"got shape {c.shape}")
            b = max(len(c) for c in cols)
            if any(len(c) not in (1, b) for c in cols):
                raise SpynqValueError(f"evidence columns must have equal length (or length 1), got "
                                      f"{dict(zip(names, (len(c) for c in cols)))}")
            ev = np.stack([np.broadcast_to(c, (b,)) for c in cols], axis=1)
        else:
            ev = np.atleast_2d(real_array(evidence, "evidence"))
            if ev.ndim != 2 or ev.shape[1] != len(names):
                raise SpynqValueError(f"evidence must have {len(names)} columns ({names}), got shape {ev.shape}")
        if len(ev) < 1:
            raise SpynqValueError("evidence: 0 evidence sets, needs at least 1")
        for j, n in enumerate(self.evidence_nodes):
            if n.discrete:
                col = ev[:, j]
                bad = (col != np.round(col)) | (col < 0) | (col >= n.n_states)
                if bad.any():
                    i = int(np.argmax(bad))
                    raise SpynqValueError(f"evidence for discrete node {n.name!r} (set {i}) = {col[i]:g}: must be a "
                                          f"state in 0..{n.n_states - 1}")
        return ev
