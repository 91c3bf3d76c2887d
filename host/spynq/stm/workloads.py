"""The four STM workloads of the FPGA/PYNQ paper (seed 003, sec. 5, Figs 9-11).

Each builder returns a `Workload`: the network, a seeded evidence generator that draws
evidence sets from the generative model itself (one joint ancestral sample of the whole
tree per set, then only the observed leaves are kept), and the metric its figure uses.

What the paper leaves open (its equations are garbled by text extraction and it gives
no parameter values at all) and what is chosen here:
  * Number of states of the discrete cause, its prior, every mean and std: not given.
    Chosen so that the posterior is informative but uncertain (typical max posterior
    0.6-0.9, rarely 0/1), see each builder.
  * Fig. 9A draws A -> B1..B4 and eq. (4)-(5) condition on B1..B4 directly. To keep the
    stimuli hidden sample populations (as the paper's "sample neurons" are) and the
    evidence at leaves, each stimulus Bi is observed through a noisy cue Ii | Bi
    (LinearGaussian leaf). With the cue std -> 0 this is eq. (5) exactly.
  * Fig. 10A / eq. (8): A -> B1, B2; B1 -> C1, C2; B2 -> C3; Cj -> Ij observed. The paper
    writes joint populations P(B1,B2|A) and P(C1,C2|B); the kernel keeps one population
    per node (same posterior, node-wise importance sampling), so that is what is built.
  * Fig. 11 / eq. (9): S ~ Uniform, cues Gaussian around S (a=1, b=0). Ranges and cue
    stds are not given; chosen in physical-looking units (degrees azimuth for the
    visual-auditory-haptic task, millimetres of bar height for the Ernst & Banks
    (2002) style visual-haptic task) with vision the most reliable cue.
  * The error metric of Figs 9B/10B ("error rate") is not defined in the text; used
    here: mean over evidence sets and root states of |P_hat(A=a|I) - P(A=a|I)|
    (spynq.stm.exact.posterior_error). For Fig. 11 the comparison "inference result vs
    theoretical value" is the posterior density / posterior mean of S.
Every value (means, evidence, samples) stays well inside the kernel's Q16.16 range and
every std is >= 0.4, far above the ~1e-3 floor of its UQ16.16 1/(sqrt(2) std).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .model import Categorical, LinearGaussian, Network, StateGaussian, Uniform
from ..errors import SpynqValueError

POSTERIOR_ERROR = "posterior_error"  # discrete root: mean |P_hat(A=a|I) - P(A=a|I)|
MEAN_ERROR = "mean_error"  # continuous root: |E_hat[S|I] - E[S|I]|, and densities


@dataclass
class Workload:
    name: str
    title: str
    network: Network
    metric: str
    figure: str  # the paper's figure it reproduces
    notes: str = ""
    extra: dict = field(default_factory=dict)  # e.g. the support [lo, hi] of a uniform root

    def sample_joint(self, n: int, seed=0) -> dict[str, np.ndarray]:
        """n joint ancestral samples of every node (hidden and observed), parents first."""
        rng = np.random.default_rng(seed)
        values: dict[str, np.ndarray] = {}
        for node in reversed(self.network.post_order()):  # reversed post-order: parents first
            parent = None if node.parent is None else values[node.parent.name]
            v = node.dist.sample(rng, n, parent)
            values[node.name] = np.asarray(v, np.int64 if node.discrete else np.float64)
        return values

    def evidence(self, n: int, seed=0) -> np.ndarray:
        """(n, n_evidence) evidence sets in network.evidence_nodes order, drawn from the model."""
        joint = self.sample_joint(n, seed)
        return np.stack([joint[v.name].astype(float) for v in self.network.evidence_nodes], axis=1)

    def truth(self, n: int, seed=0) -> np.ndarray:
        """The root values that generated evidence(n, seed) (same seed, same draws)."""
        return self.sample_joint(n, seed)[self.network.root_node.name]


def two_layer_causal() -> Workload:
    """Fig. 9A: discrete cause A, four stimuli B1..B4 | A, each seen through a noisy cue.

    Chosen: A has 3 states with prior (0.3, 0.4, 0.3); Bi | A=a ~ N(mu_i[a], 1.0) with the
    stimuli ordering the causes differently (so no single cue decides); cue Ii | Bi ~
    N(Bi, 0.5^2), observed. Marginally Ii | A=a ~ N(mu_i[a], 1.25): adjacent causes are
    ~0.9 std apart per cue, which with four cues gives an informative, uncertain posterior.
    """
    net = Network("two_layer_causal")
    a = net.root("A", Categorical((0.3, 0.4, 0.3)))
    means = ((-1.0, 0.0, 1.0), (1.0, -0.5, 0.0), (0.0, 1.0, -1.0), (-0.5, 0.5, 1.0))
    for i, mu in enumerate(means, 1):
        b = net.add(f"B{i}", a, StateGaussian(mu, (1.0, 1.0, 1.0)))
        net.add(f"I{i}", b, LinearGaussian(1.0, 0.0, 0.5), observed=True)
    return Workload("two_layer_causal", "Two-layer causal inference (Fig. 9)", net, POSTERIOR_ERROR, "9",
                    notes="A: 3 states; B1..B4 | A StateGaussian std 1; cues I1..I4 | Bi std 0.5, observed")


def multi_layer_causal() -> Workload:
    """Fig. 10A / eq. (8): A -> B1, B2 -> (C1, C2 | B1), (C3 | B2) -> observed I1, I2, I3.

    Chosen: A has 2 states, prior (0.5, 0.5); B1 | A ~ N((-0.7, 0.7)[a], 1), B2 | A ~ N((0.7, -0.7)[a], 1);
    C1 = B1 + N(0, 0.5^2), C2 = 0.8*B1 + 0.5 + N(0, 0.6^2), C3 = B2 + N(0, 0.5^2);
    Ij = Cj + N(0, 0.4^2) observed. The two children of B1 share it, so I1 and I2 are
    correlated given A (the closed form in spynq.stm.exact keeps that correlation).
    """
    net = Network("multi_layer_causal")
    a = net.root("A", Categorical((0.5, 0.5)))
    b1 = net.add("B1", a, StateGaussian((-0.7, 0.7), (1.0, 1.0)))
    b2 = net.add("B2", a, StateGaussian((0.7, -0.7), (1.0, 1.0)))
    c1 = net.add("C1", b1, LinearGaussian(1.0, 0.0, 0.5))
    c2 = net.add("C2", b1, LinearGaussian(0.8, 0.5, 0.6))
    c3 = net.add("C3", b2, LinearGaussian(1.0, 0.0, 0.5))
    for j, c in enumerate((c1, c2, c3), 1):
        net.add(f"I{j}", c, LinearGaussian(1.0, 0.0, 0.4), observed=True)
    return Workload("multi_layer_causal", "Multi-layer causal inference (Fig. 10)", net, POSTERIOR_ERROR, "10",
                    notes="A: 2 states; B | A std 1; C | B std 0.5-0.6; I | C std 0.4, observed")


def _cue_network(name: str, low: float, high: float, cues: dict) -> Network:
    net = Network(name)
    s = net.root("S", Uniform(low, high))
    for cue, std in cues.items():
        net.add(cue, s, LinearGaussian(1.0, 0.0, std), observed=True)
    return net


def visual_auditory_haptic() -> Workload:
    """Fig. 11A / eq. (9): S ~ U(-20, 20) (azimuth, deg); S_V, S_A, S_H | S ~ N(S, std^2).

    Chosen stds: visual 2, auditory 4, haptic 3 degrees (vision most reliable, audition
    least). The precision-weighted combination has std ~1.54, so the posterior is a
    Gaussian bump well inside the prior range except for S near the edges (truncated).
    """
    lo, hi = -20.0, 20.0
    net = _cue_network("visual_auditory_haptic", lo, hi, {"S_V": 2.0, "S_A": 4.0, "S_H": 3.0})
    return Workload("visual_auditory_haptic", "Visual-auditory-haptic integration (Fig. 11A)", net, MEAN_ERROR,
                    "11A", notes="S ~ U(-20, 20); std V 2, A 4, H 3", extra={"low": lo, "high": hi})


def visual_haptic() -> Workload:
    """Fig. 11B: Ernst & Banks (2002) style: bar height S ~ U(45, 65) mm, two cues.

    Chosen stds: visual 1.0 mm, haptic 2.0 mm (vision about twice as reliable as touch,
    their no-visual-noise condition); the combined std is 0.89 mm.
    """
    lo, hi = 45.0, 65.0
    net = _cue_network("visual_haptic", lo, hi, {"S_V": 1.0, "S_H": 2.0})
    return Workload("visual_haptic", "Visual-haptic integration (Fig. 11B)", net, MEAN_ERROR, "11B",
                    notes="S ~ U(45, 65) mm; std V 1.0, H 2.0", extra={"low": lo, "high": hi})


CAUSAL = (two_layer_causal, multi_layer_causal)
MULTISENSORY = (visual_auditory_haptic, visual_haptic)
ALL = CAUSAL + MULTISENSORY


def by_name(name: str) -> Workload:
    for build in ALL:
        if build.__name__ == name:
            return build()
    raise SpynqValueError(f"unknown workload {name!r}; choose from {[b.__name__ for b in ALL]}")
