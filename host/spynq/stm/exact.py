"""Exact posteriors of the STM workloads, computed without any sampling.

Every workload is a linear-Gaussian tree under its root: for a fixed root value the
continuous nodes are a linear function of independent Gaussian noises, so the observed
leaves are jointly Gaussian,
    leaves | root = c + g * root + eps,   eps ~ N(0, Sigma)      (continuous root)
    leaves | root = a ~ N(c_a, Sigma_a)                          (discrete root)
  * discrete root:   P(a | y) ∝ P(a) N(y; c_a, Sigma_a)   (scipy multivariate_normal);
  * continuous root: the likelihood in s is Gaussian with precision lam = g' Sigma^-1 g
    and mean m = g' Sigma^-1 (y - c) / lam (for direct cues: the precision-weighted cue
    mean); with a Uniform(lo, hi) prior the posterior is that Gaussian truncated to
    [lo, hi], with a Gaussian prior the conjugate product.
The tests check these closed forms against brute-force integration (scipy quad, grids).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import log_ndtr, logsumexp

from .model import Categorical, Gaussian, LinearGaussian, Network, StateGaussian, Uniform
from ..errors import SpynqTypeError, SpynqValueError


def leaf_gaussian(network: Network, state: int | None = None):
    """(c, g, Sigma) of the observed leaves given the root, in network.evidence_nodes order.

    Discrete root: pass `state`; g is then zero. Continuous root: leaves = c + g*s + eps.
    """
    root = network.root_node
    if root.discrete and state is None:
        raise SpynqValueError("a discrete root needs the state to condition on")
    order = [n for n in reversed(network.post_order()) if n is not root]  # parents first
    idx = {n.name: i for i, n in enumerate(order)}
    k = len(order)
    c, g, M = {}, {}, {}
    for n in order:
        e = np.zeros(k)
        p = n.parent
        d = n.dist
        if p is root and root.discrete:
            if not isinstance(d, StateGaussian):
                raise NotImplementedError(f"{n.name!r}: {type(d).__name__} under a discrete root")
            c[n.name], g[n.name] = d.means[state], 0.0
            e[idx[n.name]] = d.stds[state]
            M[n.name] = e
            continue
        if not isinstance(d, LinearGaussian):
            raise NotImplementedError(f"{n.name!r}: {type(d).__name__} in a linear-Gaussian chain")
        e[idx[n.name]] = d.std
        if p is root:  # continuous root
            c[n.name], g[n.name], M[n.name] = d.b, d.a, e
        else:
            c[n.name] = d.a * c[p.name] + d.b
            g[n.name] = d.a * g[p.name]
            M[n.name] = d.a * M[p.name] + e
    ev = [n.name for n in network.evidence_nodes]
    Mo = np.stack([M[v] for v in ev])
    return np.array([c[v] for v in ev]), np.array([g[v] for v in ev]), Mo @ Mo.T


def discrete_posterior(network: Network, evidence) -> np.ndarray:
    """P(A = a | evidence) for a discrete root, shape (batch, n_states)."""
    root = network.root_node
    if not isinstance(root.dist, Categorical):
        raise SpynqTypeError(f"root {root.name!r} is not Categorical")
    y = network.evidence_array(evidence)
    logp = np.empty((len(y), root.n_states))
    with np.errstate(divide="ignore"):
        prior = np.log(np.asarray(root.dist.probs))
    for a in range(root.n_states):
        c, _, S = leaf_gaussian(network, a)
        logp[:, a] = prior[a] + np.atleast_1d(stats.multivariate_normal(c, S).logpdf(y))
    return np.exp(logp - logsumexp(logp, axis=1, keepdims=True))


def truncated_std_normal_moments(a, b):
    """Mean and variance of N(0, 1) truncated to [a, b], elementwise.

    Closed form (phi(a) - phi(b)) / Z etc., evaluated on the side of the interval where
    log_ndtr is accurate, so cue means far outside the prior range stay finite. Same
    values as scipy.stats.truncnorm.stats, ~1000x faster on large batches.
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    flip = (a + b) > 0  # mirror so that the interval lies mostly in the lower tail
    lo, hi = np.where(flip, -b, a), np.where(flip, -a, b)
    lb, la = log_ndtr(hi), log_ndtr(lo)
    logz = lb + np.log1p(-np.exp(la - lb))
    c = -0.5 * np.log(2 * np.pi) - logz
    plo, phi = np.exp(-0.5 * lo**2 + c), np.exp(-0.5 * hi**2 + c)
    mu = plo - phi
    var = 1 + lo * plo - hi * phi - mu**2
    return np.where(flip, -mu, mu), var


@dataclass
class ContinuousPosterior:
    """Posterior of a continuous root for a batch of evidence sets.

    The likelihood of the root is N(s; m, sd^2) (m per set, sd shared); the posterior is
    that Gaussian times the prior: truncated to [low, high] for a Uniform prior, the
    conjugate product for a Gaussian prior.
    """

    m: np.ndarray  # (batch,) likelihood mean
    sd: float  # likelihood std
    prior: object

    def _dist(self):
        if isinstance(self.prior, Uniform):
            a = (self.prior.low - self.m) / self.sd
            b = (self.prior.high - self.m) / self.sd
            return stats.truncnorm(a, b, loc=self.m, scale=self.sd)
        if isinstance(self.prior, Gaussian):
            p0, p1 = 1 / self.prior.std**2, 1 / self.sd**2
            var = 1 / (p0 + p1)
            return stats.norm((p0 * self.prior.mean + p1 * self.m) * var, np.sqrt(var))
        raise SpynqTypeError(f"no closed form for a {type(self.prior).__name__} root")

    def _moments(self):
        if isinstance(self.prior, Uniform):
            a = (self.prior.low - self.m) / self.sd
            b = (self.prior.high - self.m) / self.sd
            mu, var = truncated_std_normal_moments(a, b)
            return self.m + self.sd * mu, self.sd * np.sqrt(var)
        d = self._dist()
        return np.asarray(d.mean(), float), np.asarray(d.std(), float)

    def mean(self) -> np.ndarray:
        return self._moments()[0]

    def std(self) -> np.ndarray:
        return self._moments()[1]

    def pdf(self, s) -> np.ndarray:
        """Density at s: s of shape (k,) -> (batch, k)."""
        s = np.asarray(s, float)
        d = self._dist()
        if isinstance(self.prior, Uniform):
            a = (self.prior.low - self.m) / self.sd
            b = (self.prior.high - self.m) / self.sd
            return stats.truncnorm(a[:, None], b[:, None], loc=self.m[:, None], scale=self.sd).pdf(s[None, :])
        return stats.norm(np.asarray(d.mean())[:, None], np.asarray(d.std())[:, None]).pdf(s[None, :])

    def bin_mass(self, edges) -> np.ndarray:
        """Posterior mass in each bin [edges[i], edges[i+1]), shape (batch, bins)."""
        edges = np.asarray(edges, float)
        if isinstance(self.prior, Uniform):
            a = (self.prior.low - self.m) / self.sd
            b = (self.prior.high - self.m) / self.sd
            cdf = stats.truncnorm(a[:, None], b[:, None], loc=self.m[:, None], scale=self.sd).cdf(edges[None, :])
        else:
            d = self._dist()
            cdf = stats.norm(np.asarray(d.mean())[:, None], np.asarray(d.std())[:, None]).cdf(edges[None, :])
        return np.diff(cdf, axis=1)


def continuous_posterior(network: Network, evidence) -> ContinuousPosterior:
    """Closed-form posterior of a continuous (Uniform or Gaussian) root."""
    root = network.root_node
    if root.discrete:
        raise SpynqTypeError(f"root {root.name!r} is discrete: use discrete_posterior")
    y = network.evidence_array(evidence)
    c, g, S = leaf_gaussian(network)
    Si = np.linalg.inv(S)
    lam = float(g @ Si @ g)
    m = (y - c) @ Si @ g / lam
    return ContinuousPosterior(m, 1 / np.sqrt(lam), root.dist)


def cue_combination(values, stds):
    """Textbook precision-weighted cue mean and its std (direct cues S_i | S ~ N(S, std_i^2))."""
    w = 1 / np.asarray(stds, float) ** 2
    return np.asarray(values, float) @ w / w.sum(), 1 / np.sqrt(w.sum())


def posterior_error(p_hat: np.ndarray, p_exact: np.ndarray) -> float:
    """Mean over evidence sets and root states of |P_hat(A=a|I) - P(A=a|I)| (Figs 9B, 10B).

    Rows a backend could not normalise (NaN) make the result NaN rather than vanish.
    """
    return float(np.mean(np.abs(np.asarray(p_hat) - np.asarray(p_exact))))


def mean_error(mean_hat: np.ndarray, mean_exact: np.ndarray) -> float:
    """Mean absolute error of the posterior mean over evidence sets (Fig. 11)."""
    return float(np.mean(np.abs(np.asarray(mean_hat) - np.asarray(mean_exact))))
