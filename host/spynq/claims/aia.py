"""AIA (Shen et al.): models_neurons.md section 2.5, item 4 of section 8."""
from __future__ import annotations

import numpy as np

from . import _common as C
from .registry import Claim, Measured

PAPER = "aia"
TITLE = "Adaptive Internal Association neurons (AIA)"


def _lif():
    from .. import nn

    # AIA Eq.2: u = lam u (1 - o) + x, i.e. LIF without input decay, 1 - 1/tau = lam = 0.5
    return nn.LIF(tau=2.0, decay_input=False, surrogate=nn.Rectangular(1.0))


def _limit(**kw):
    def f():
        from .. import nn

        return C.same_dynamics(nn.AIA(**kw), _lif())
    return f


def _merge():
    """Cached AIA with per-neuron beta vs beta folded into W (w'_ij = beta_i w_ij) and
    the association off: same spikes, states equal to rounding."""
    from .. import nn

    n_in, n_out = 24, 16
    rng = np.random.default_rng(7)
    o = (rng.random((C.T_STEPS, C.BATCH, n_in)) < 0.3).astype(float)
    a = nn.Sequential(nn.Linear(n_in, n_out), nn.AIA(f="cached", channels=n_out))
    pa = a.init(1)
    beta = rng.uniform(0.5, 1.5, n_out)
    pa[a.layers[1].name]["beta"] = beta
    pa[a.layers[0].name]["w"] = 5 * pa[a.layers[0].name]["w"]  # a few spikes per step
    b = nn.Sequential(nn.Linear(n_in, n_out), nn.AIA(f="identity"))
    pb = b.init(1)
    pb[b.layers[0].name] = {"w": beta[:, None] * pa[a.layers[0].name]["w"], "b": beta * pa[a.layers[0].name]["b"]}
    ya, ra = a.apply(pa, o)
    yb, rb = b.apply(pb, o)
    sa, sb = ra.records[a.layers[1].name], rb.records[b.layers[1].name]
    dv = float(np.max(np.abs(sa["v"] - sb["v"])))
    same = np.array_equal(sa["s"], sb["s"]) and dv < 1e-12
    from ..nn_costs import count_params

    extra = count_params(b) - count_params(nn.Sequential(nn.Linear(n_in, n_out), nn.LIF(2.0)))
    return Measured(bool(same) and extra == 0, f"{int(sa['s'].sum())} spikes, identical; max |du| = {dv:.2g} "
                                               "(rounding of beta (W o) vs (beta W) o); merged network has as many "
                                               "parameters as the LIF one")


def _merge_network():
    """The same fold on the AIA builder (spynq.nn.models.aia, a scaled VGG with BN):
    BN folded into each conv, then beta (random, per channel) into its weights."""
    from .. import nn
    from ..nn import tasks
    from ..nn.models import aia
    from ..nn_costs import count_params

    net = aia.build()
    p = aia.varied_params(net)
    fnet, fp = net.inference(p)
    xs = np.swapaxes(tasks.load("digits_rate", T=8, n=60, image=True).x_train[:6], 0, 1)
    _, ra = net.apply(p, xs)
    _, rb = fnet.apply(fp, xs)
    names = [l.name for l in net.neuron_layers]
    same = all(np.array_equal(ra.records[n]["s"], rb.records[n]["s"]) for n in names)
    dv = max(float(np.max(np.abs(ra.records[n]["v"] - rb.records[n]["v"]))) for n in names)
    spikes = int(sum(ra.records[n]["s"].sum() for n in names))
    n0, n1 = count_params(net), count_params(fnet)
    lif = aia.build(f="identity")  # the LIF network of the same layers, its BN folded too
    n_lif = count_params(nn.fold_batchnorm(lif, lif.init(0))[0])
    return Measured(same and dv < 1e-9 and n1 == n_lif, f"{spikes} spikes identical, max |du| = {dv:.2g}; "
                                                        f"parameters {n0:,} (BN, beta) -> {n1:,} folded = the LIF "
                                                        f"network's {n_lif:,}")


def _silent():
    """AIA Sec. 2.3: "if o_j = 0 then w_ij is unchanged": inputs that never spike get a
    zero weight gradient, under f'(x) = x (R1) and the cached variant."""
    C.need_jax()
    import jax
    import jax.numpy as jnp
    from jax.experimental import enable_x64

    from .. import nn

    n_in, n_out = 10, 6
    rng = np.random.default_rng(12)
    o = (rng.random((C.T_STEPS, C.BATCH, n_in)) < 0.5).astype(float)
    o[..., :3] = 0.0  # three silent inputs
    w = rng.normal(0.0, 0.8, (n_out, n_in))
    c = rng.normal(size=(C.T_STEPS, C.BATCH, n_out))
    out = []
    with enable_x64():
        for layer, p in ((nn.AIA(f="grad", name="n"), {"v_th": 1.0, "lam": 0.5}),
                         (nn.AIA(f="cached", channels=n_out, name="n"), {"v_th": 1.0, "lam": 0.5, "beta": np.ones(n_out)})):
            net = nn.Sequential(layer)
            p = {k: jnp.asarray(v) for k, v in p.items()}
            g = np.asarray(jax.grad(lambda W: jnp.sum(jnp.asarray(c) * net.apply({"n": p}, jnp.asarray(o) @ W.T,
                                                                               xp=jnp)[0]))(jnp.asarray(w)))
            out.append((float(np.max(np.abs(g[:, :3]))), float(np.max(np.abs(g[:, 3:])))))
    ok = all(z == 0.0 and nz > 0.0 for z, nz in out)
    return Measured(ok, "max |dW| on silent / active inputs: " + ", ".join(f"{z:g} / {nz:.3g}" for z, nz in out)
                        + " (R1, cached)")


def _grads(cached: bool):
    """AIA's weight gradients (Eq.6-7 for R1; Eq.8-9 for the cached variant) against
    JAX's autodiff of spynq.nn.AIA, one FC layer over T steps."""
    def f():
        C.need_jax()
        import jax
        import jax.numpy as jnp
        from jax.experimental import enable_x64

        from .. import nn

        n_in, n_out = 10, 6
        rng = np.random.default_rng(11)
        o = (rng.random((C.T_STEPS, C.BATCH, n_in)) < 0.4).astype(float)
        w = rng.normal(0.0, 0.8, (n_out, n_in))
        beta = rng.uniform(0.5, 1.5, n_out)
        c = rng.normal(size=(C.T_STEPS, C.BATCH, n_out))
        with enable_x64():
            def loss(neuron, params, x):
                net = nn.Sequential(neuron)
                y, _ = net.apply({neuron.name: params}, x, xp=jnp)
                return jnp.sum(jnp.asarray(c) * y)

            oj = jnp.asarray(o)
            if not cached:
                lif, aia = nn.AIA(f="identity", name="n"), nn.AIA(f="grad", name="n")
                p = {"v_th": jnp.asarray(1.0), "lam": jnp.asarray(0.5)}
                x = oj @ w.T
                g = np.asarray(jax.grad(lambda e: loss(lif, p, x + e))(jnp.zeros_like(x)))  # dL/du
                auto = np.asarray(jax.grad(lambda W: loss(aia, p, oj @ W.T))(jnp.asarray(w)))
                xn = o @ w.T
                eq6 = np.einsum("tbi,tbj->ij", xn * g, o)
                dlif = g[..., :, None] * o[..., None, :]  # dw_ik^LIF per step: g_i o_k
                eq7 = np.einsum("tbj,tbk,ik,tbik->ij", o, o, w, dlif)
                err = max(float(np.max(np.abs(auto - eq6))), float(np.max(np.abs(eq6 - eq7))))
                scale = float(np.max(np.abs(auto)))
                return Measured(err <= 1e-12 * max(scale, 1.0),
                                f"max |autodiff - Eq.6|, |Eq.6 - Eq.7| = {err:.2g} (|dW| up to {scale:.3g})")
            aia = nn.AIA(f="cached", channels=n_out, name="n")
            p = {"v_th": jnp.asarray(1.0), "lam": jnp.asarray(0.5), "beta": jnp.asarray(beta)}
            dW, dbeta = jax.grad(lambda W, b: loss(aia, dict(p, beta=b), oj @ W.T), argnums=(0, 1))(
                jnp.asarray(w), jnp.asarray(beta))
            x = oj @ w.T
            g = np.asarray(jax.grad(lambda e: loss(aia, p, x + e))(jnp.zeros_like(x))) / beta  # dL/du
            dlif = g[..., :, None] * o[..., None, :]
            eq8 = np.einsum("tbj,i,tbij->ij", o, beta, dlif)
            eq9 = np.einsum("tbk,ik,tbik->i", o, w, dlif)
            err = max(float(np.max(np.abs(np.asarray(dW) - eq8))), float(np.max(np.abs(np.asarray(dbeta) - eq9))))
            scale = float(max(np.max(np.abs(dW)), np.max(np.abs(dbeta))))
            return Measured(err <= 1e-12 * max(scale, 1.0),
                            f"max |autodiff - Eq.8/9| = {err:.2g} (gradients up to {scale:.3g})")
    return f


def claims() -> list:
    return [
        Claim("aia.limit.off", PAPER, "Eq.2 vs Eq.3", "with the association off (f(x) = x) AIA is the LIF of Eq.2",
              True, compute=_limit(f="identity")),
        Claim("aia.limit.r1_forward", PAPER, "Sec. 2.3 (Eq.3, Eq.7)", "f'(x) = x changes only the backward: the "
              "forward equals LIF (no inference parameters)", True, compute=_limit(f="grad")),
        Claim("aia.limit.cached_beta1", PAPER, "Sec. 2.4", "Cached AIA with beta = 1 is LIF", True,
              compute=_limit(f="cached", beta=1.0)),
        Claim("aia.merge", PAPER, "Sec. 2.4", "the cache beta merges into w at inference: no additional parameters, "
              "same outputs", True, compute=_merge),
        Claim("aia.merge.network", PAPER, "Sec. 2.4", "the same merge on the (scaled) VGG builder: BN and beta folded "
              "into the convs, same spikes", True, compute=_merge_network),
        Claim("aia.grad.eq6_eq7", PAPER, "Eq.6-7", "dw^AIA = (sum_k w_ik o_k) dL/du_i o_j = o_j sum_k o_k w_ik "
              "dw_ik^LIF (binary o), the gradient of f'(x) = x", True, compute=_grads(False)),
        Claim("aia.grad.cached", PAPER, "Eq.8-9", "Cached AIA: dL/dw_ij = o_j beta dw_ij^LIF, dL/dbeta = sum_k o_k "
              "w_ik dw_ik^LIF are the exact gradients", True, compute=_grads(True)),
        Claim("aia.grad.silent", PAPER, "Sec. 2.3", "if o_j = 0 then w_ij is unchanged (silent inputs: zero weight "
              "gradient)", True, compute=_silent),
        Claim("aia.acc", PAPER, "Tables 1-2", "VGG-9 accuracies: CIFAR10-DVS 83.90, N-Caltech101 80.07, N-CARS "
              "95.64 %; ablation LIF 82.5 / AIA 83.5 / cached 83.9 (CIFAR10-DVS)", 83.90, unit="%",
              out_of_reach="the DVS data sets and the VGG-9 layer list (not given)"),
        Claim("aia.weights_shift", PAPER, "Fig.3", "weights escape from intervals close to 0; fewer spikes", None,
              out_of_reach="a figure of trained DVS networks, no number"),
    ]
