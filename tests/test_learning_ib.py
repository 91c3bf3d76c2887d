"""P6 (information-bottleneck three-factor rule): eq. 7 is the gradient of the
simplified (diagonal) HSIC loss with the past outputs frozen, for the modulator and for
a whole dense ReLU layer (finite differences); the HSIC estimators against the
definition; eq. 2's "<=" fails on a random case; a short online training run learns."""
import numpy as np
import pytest

from spynq.learning import ib_hebbian as I

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _memory(seed=0, N=8, dx=5, dz=4, classes=3):
    rng = np.random.default_rng(seed)
    return rng.random((N, dx)), np.eye(classes)[rng.integers(0, classes, N)], rng.random((N, dz))


@pytest.mark.parametrize("kernel", ["paper", "code"])
def test_modulator_is_the_gradient_of_the_diagonal_loss(kernel):
    x, y, z = _memory()
    xi = I.modulator(x, y, z, 2.0, 0.7, 0.5, 1.0, kernel)
    g = jax.grad(lambda z0: I.diag_loss(x, y, jnp.concatenate([z0[None], z[1:]]), 2.0, 0.7, 0.5, 1.0, kernel,
                                        jnp))(jnp.asarray(z[0]))
    assert np.max(np.abs(xi)) > 1e-3
    assert np.max(np.abs(xi - np.asarray(g))) <= 1e-12 * np.max(np.abs(xi))


def test_three_factor_update_of_a_relu_layer_matches_finite_differences():
    """The note's check: ReLU dense layer, N = 8, sigma_x = 0.7, sigma_y = 0.5,
    sigma_z = 1, gamma = 2; (xi * relu'(u)) x_0^T against central differences of
    (N-1)^-2 sum_p c_p kbar(z_p, z_p) in W, z_p (p != 0) held fixed."""
    rng = np.random.default_rng(4)
    x, y, _ = _memory(1, dx=3)
    W, b = rng.standard_normal((4, 3)), 0.8 + 0.3 * rng.standard_normal(4)
    z_past = np.maximum(rng.standard_normal((7, 4)), 0.0)

    def loss(W_, b_):
        z0 = np.maximum(W_ @ x[0] + b_, 0.0)
        return I.diag_loss(x, y, np.vstack([z0, z_past]), 2.0, 0.7, 0.5, 1.0)

    u = W @ x[0] + b
    assert (u > 0).sum() >= 2  # some units active, so the check is not vacuous
    xi = I.modulator(x, y, np.vstack([np.maximum(u, 0.0), z_past]), 2.0, 0.7, 0.5, 1.0)
    dW, db = I.dense_update(xi, u, x[0])
    h = 1e-6
    fdW = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            e = np.zeros_like(W)
            e[i, j] = h
            fdW[i, j] = (loss(W + e, b) - loss(W - e, b)) / (2 * h)
    fdb = np.array([(loss(W, b + h * np.eye(4)[i]) - loss(W, b - h * np.eye(4)[i])) / (2 * h) for i in range(4)])
    assert np.max(np.abs(dW - fdW)) < 1e-10 and np.max(np.abs(db - fdb)) < 1e-10
    assert np.max(np.abs(dW)) > 1e-4


def test_hsic_estimators_against_their_definitions():
    x, y, z = _memory(2, N=6)
    n = 6

    def k(a, s):
        return np.array([[np.exp(-np.sum((a[p] - a[q]) ** 2) / s ** 2) for q in range(n)] for p in range(n)])

    Kx, Kz = k(x, 0.7), k(z, 1.0)
    H = np.eye(n) - 1.0 / n
    assert I.hsic(x, z, 0.7, 1.0) == pytest.approx(np.trace(Kx @ H @ Kz @ H) / (n - 1) ** 2, rel=1e-12)
    kb = np.array([Kx[p, p] - Kx[p].mean() for p in range(n)])
    assert np.allclose(I.kbar_diag(x, 0.7), kb)
    assert np.all(kb >= 0) and np.all(kb <= 1 - 1 / n)  # the "surprise" range
    # the factor-2 kernel of the authors' code is the paper's kernel at sigma * sqrt(2)
    assert I.hsic(x, z, 0.7, 1.0, "code") == pytest.approx(I.hsic(x, z, 0.7 * np.sqrt(2), np.sqrt(2)), rel=1e-12)


def test_eq2_is_not_an_inequality():
    """eq. 2 prints trace form <= diagonal form; random memories break it."""
    broken = 0
    for seed in range(20):
        x, _, z = _memory(seed, N=8)
        broken += bool(I.hsic(x, z, 0.5, 0.5) > I.hsic_diag(x, z, 0.5, 0.5))
    assert broken > 0


def test_online_rule_learns_the_linear_task():
    cfg = I.IBConfig(hidden=(4,), epochs=3, seed=0)
    r = I.train("linear", cfg, progress=None)
    h = r["history"]
    assert h[-1]["test_acc"] >= h[0]["test_acc"] + 0.25 and h[-1]["test_acc"] >= 0.7, [e["test_acc"] for e in h]
    W0 = I.init_params(2, cfg, 0)[0][0]
    assert not np.allclose(r["params"][0][0], W0)  # the hidden layer did learn


def test_toy_datasets():
    x, y = I.linear_task(500, 0)
    assert x.shape == (500, 2) and 0.3 < y.mean() < 0.7 and x.min() >= 0 and x.max() <= 1
    x, y = I.xor_task(500, 0)
    assert np.array_equal(y, ((np.round(x[:, 0]) + np.round(x[:, 1])) % 2).astype(int))  # noise 0.1 << 0.5
