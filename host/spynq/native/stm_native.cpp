// STM importance-sampling inference (eq. 1-9) as a CPU user writes it, in float32: the
// cpu backend's algorithm (spynq.stm.reference) node by node in post order.
//
// The evidence-independent part of each hidden edge, the likelihood normalised over the
// parent samples, L[k, u] = exp(-(z_ku - min z_k)) / S_k, is one matrix per population
// pair (spynq_native_stm_edge; spynq.native.stm caches it between calls, as the cpu
// backend does), with one column per distinct parent value u (a discrete parent has
// n_states, its row sums weighted by how often each occurs). Each call then pays the
// evidence energies, the weights and the messages m = w L (spynq_native_stm_run),
// spread back to the parent's samples. Threads take row blocks of L (both passes) and
// evidence sets elsewhere.
//
// Energies are capped at E_CAP as in the cpu backend (NaN and inf too), a row or sample
// minimum above E_GUARD sets ST_SATURATED, a weight sum <= 0 ST_ZERO_SUM.
#include <cmath>

#include "native_common.h"

using namespace spynq_native;

namespace {

constexpr int KIND_GAUSS = 1, KIND_TABLE = 2;
constexpr int ROWS = 4;  // child rows per block: one pass over the messages per 4 rows

struct Node {
    int observed, parent, n;  // n: population size (hidden)
    const float* samples;     // (n,) values or states
    int kind, rows, cols;     // energy of the edge to the parent: GAUSS rows params, TABLE rows x cols
    const float *a, *b, *r, *g, *table;
    int ev_col;  // observed: the evidence column
};

struct Consts {
    float e_cap, e_guard;
    int64_t st_zero, st_sat;
};

inline float cap(float z, float e_cap) { return (z != z || z > e_cap) ? e_cap : z; }

// Per-parent-sample energy terms of an edge: z(c, l) = (R[l] * (c - B[l]))^2 + G[l]
// (GAUSS), or Z[t * np + l] = table[s_l, t] (TABLE).
struct EdgeTerms {
    std::vector<float> R, B, G, Z;
    void build(const Node& c, const float* values, int np) {  // values: the parent's samples
        if (c.kind == KIND_GAUSS) {
            R.resize(np), B.resize(np), G.resize(np);
            for (int l = 0; l < np; ++l) {
                int s = c.rows == 1 ? 0 : (int)values[l];
                float x = c.rows == 1 ? values[l] : 0.0f;
                R[l] = c.r[s];
                B[l] = c.a[s] * x + c.b[s];
                G[l] = c.g[s];
            }
        } else {
            Z.resize((size_t)c.cols * np);
            for (int t = 0; t < c.cols; ++t)
                for (int l = 0; l < np; ++l) Z[(size_t)t * np + l] = c.table[(size_t)(int)values[l] * c.cols + t];
        }
    }
    // z[l] for one child value, capped
    void energies(const Node& c, float value, int np, float e_cap, float* z) const {
        if (c.kind == KIND_GAUSS) {
            const float *R_ = R.data(), *B_ = B.data(), *G_ = G.data();
            for (int l = 0; l < np; ++l) {
                float d = R_[l] * (value - B_[l]);
                z[l] = cap(d * d + G_[l], e_cap);
            }
        } else {
            const float* Zt = Z.data() + (size_t)(int)value * np;
            for (int l = 0; l < np; ++l) z[l] = cap(Zt[l], e_cap);
        }
    }
};

// A sum with 16 partial results, so that it vectorises without -ffast-math (a float sum
// is not reassociated otherwise); the order change is float rounding.
constexpr int LANES = 16;

// Energies (capped, >= 0) and messages are non-negative floats, whose bit patterns order
// as int32 do: min and max over the integers vectorise, the float compares would not
// (NaN and signed-zero rules).
typedef int32_t __attribute__((may_alias)) alias_i32;

inline int32_t bits_min(const float* z, int n) {
    const alias_i32* v = reinterpret_cast<const alias_i32*>(z);
    int32_t m = 0x7f800000;  // +inf
    for (int l = 0; l < n; ++l) m = v[l] < m ? v[l] : m;
    return m;
}

inline int32_t bits_max(const float* z, int n) {
    const alias_i32* v = reinterpret_cast<const alias_i32*>(z);
    int32_t m = 0;
    for (int l = 0; l < n; ++l) m = v[l] > m ? v[l] : m;
    return m;
}

inline float as_float(int32_t i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}

inline float row_min(const float* z, int n) { return as_float(bits_min(z, n)); }
inline float row_max(const float* z, int n) { return as_float(bits_max(z, n)); }

inline float row_sum(const float* z, int n) {
    float acc[LANES] = {0.0f};
    int l = 0;
    for (; l + LANES <= n; l += LANES)
        for (int q = 0; q < LANES; ++q) acc[q] += z[l + q];
    float s = 0.0f;
    for (int q = 0; q < LANES; ++q) s += acc[q];
    for (; l < n; ++l) s += z[l];
    return s;
}

// z[l] = exp(zmin - z[l]) in place
inline void exp_shifted(float* z, int n, float zmin) {
    for (int l = 0; l < n; ++l) z[l] = exp_nonpos(zmin - z[l]);
}

}  // namespace

extern "C" {

// The normalised likelihood of one edge: L (nc, nu) float32 over the parent's distinct
// values (nu of them, counts[u] samples each), rows normalised over all parent samples.
// Returns 1 when a row minimum is above e_guard (ST_SATURATED for every evidence set).
int spynq_native_stm_edge(int kind, int rows, int cols, const float* a, const float* b, const float* r,
                          const float* g, const float* table, const float* child, int nc, const float* values,
                          const float* counts, int nu, float e_cap, float e_guard, float* L, int threads) {
    Node c{};
    c.kind = kind, c.rows = rows, c.cols = cols, c.a = a, c.b = b, c.r = r, c.g = g, c.table = table;
    EdgeTerms et;
    et.build(c, values, nu);
    const int nt = resolve_threads(threads, 1 << 30);
    const int nth = (double)nc * nu < 1e5 ? 1 : std::min(nt, nc);
    std::vector<char> sat(nth, 0);
    parallel_for(nc, nth, [&](int tid, int k) {
        float* z = L + (size_t)k * nu;
        et.energies(c, child[k], nu, e_cap, z);
        const float zmin = row_min(z, nu);
        if (zmin > e_guard) sat[tid] = 1;
        exp_shifted(z, nu, zmin);
        float S = 0.0f;  // >= 1: the row minimum contributes exp(0) times its count
        if (counts) {
            float acc[LANES] = {0.0f};
            int u = 0;
            for (; u + LANES <= nu; u += LANES)
                for (int q = 0; q < LANES; ++q) acc[q] += z[u + q] * counts[u + q];
            for (int q = 0; q < LANES; ++q) S += acc[q];
            for (; u < nu; ++u) S += z[u] * counts[u];
        } else {
            S = row_sum(z, nu);
        }
        const float scale = 1.0f / S;
        for (int u = 0; u < nu; ++u) z[u] *= scale;
    });
    for (char f : sat)
        if (f) return 1;
    return 0;
}

// Nodes in post order (root last). ptrs: per node a/b/r/g/table (5 per node, null where
// absent). A hidden non-root node i carries its edge's L (Lmat[i], (n_i, K[i])) and the
// column of each parent sample (inv[i]); pre_sat: some edge's L saturated. evidence
// (batch, n_ev) double. Out: weights (batch, n_root) double, status (batch,) int64.
// Returns the threads allowed, < 0 on a bad net.
int spynq_native_stm_run(int n_nodes, const int* observed, const int* parent, const int* n, const float* const* samples,
                         const int* kind, const int* rows, const int* cols, const float* const* ptrs, const int* ev_col,
                         const float* const* Lmat, const int* const* inv, const int* K, int pre_sat_in,
                         const double* evidence, int n_ev, int batch, float e_cap, float e_guard, int64_t st_zero,
                         int64_t st_sat, double* weights, int64_t* status, int threads) {
    std::vector<Node> nodes(n_nodes);
    for (int i = 0; i < n_nodes; ++i) {
        Node& d = nodes[i];
        d.observed = observed[i];
        d.parent = parent[i];
        d.n = n[i];
        d.samples = samples[i];
        d.kind = kind[i];
        d.rows = rows[i];
        d.cols = cols[i];
        d.a = ptrs[5 * i], d.b = ptrs[5 * i + 1], d.r = ptrs[5 * i + 2], d.g = ptrs[5 * i + 3];
        d.table = ptrs[5 * i + 4];
        d.ev_col = ev_col[i];
        if ((d.parent >= 0 && d.parent <= i) || (d.parent < 0 && i != n_nodes - 1)) return -1;  // post order, root last
    }
    const Consts C{e_cap, e_guard, st_zero, st_sat};
    const int nt = resolve_threads(threads, 1 << 30);
    // threads for a loop of `work` float operations: starting a thread costs ~10-50 us,
    // so loops below ~1e5 operations run on the caller's thread
    auto team = [nt](int items, double work) { return work < 1e5 ? 1 : std::min(nt, items); };
    std::vector<std::vector<float>> E(n_nodes), P(n_nodes);
    for (int i = 0; i < n_nodes; ++i)
        if (!nodes[i].observed) {
            E[i].assign((size_t)batch * nodes[i].n, 0.0f);
            P[i].assign((size_t)batch * nodes[i].n, 1.0f);
        }
    std::vector<int64_t> st(batch, 0);
    const bool pre_sat = pre_sat_in != 0;
    std::vector<float> w;  // (batch, n) weights of the current hidden node
    for (int i = 0; i < n_nodes; ++i) {
        const Node& c = nodes[i];
        if (c.observed) {  // evidence energies into the parent's sum, per evidence set
            const Node& p = nodes[c.parent];
            EdgeTerms et;
            et.build(c, p.samples, p.n);
            parallel_for(batch, team(batch, (double)batch * p.n), [&](int, int b) {
                std::vector<float> z(p.n);
                et.energies(c, (float)evidence[(size_t)b * n_ev + c.ev_col], p.n, C.e_cap, z.data());
                float* e = E[c.parent].data() + (size_t)b * p.n;
                for (int l = 0; l < p.n; ++l) {
                    float s = e[l] + z[l];
                    e[l] = s < C.e_cap ? s : C.e_cap;
                }
            });
            continue;
        }
        // importance weights of this hidden node
        const int nc = c.n;
        w.assign((size_t)batch * nc, 0.0f);
        parallel_for(batch, team(batch, (double)batch * nc), [&](int, int b) {
            const float* e = E[i].data() + (size_t)b * nc;
            const float* pp = P[i].data() + (size_t)b * nc;
            float* u = w.data() + (size_t)b * nc;
            const float emin = row_min(e, nc);
            for (int l = 0; l < nc; ++l) u[l] = exp_nonpos(emin - e[l]) * pp[l];
            const float total = row_sum(u, nc);
            int64_t s = emin > C.e_guard ? C.st_sat : 0;
            if (total <= 0.0f) {
                s |= C.st_zero;
                for (int l = 0; l < nc; ++l) u[l] = 0.0f;
            } else {
                const float inv = 1.0f / total;
                for (int l = 0; l < nc; ++l) u[l] *= inv;
            }
            st[b] |= s;
        });
        if (c.parent < 0) {  // the root: done
            for (size_t k = 0; k < w.size(); ++k) weights[k] = w[k];
            break;
        }
        // messages m = w L over the parent's distinct values, row blocks on the threads
        const Node& p = nodes[c.parent];
        const int np = p.n, nu = K[i];
        const float* Lm = Lmat[i];
        const int blocks = (nc + ROWS - 1) / ROWS;
        const int nth = team(blocks, (double)nc * nu * batch);
        std::vector<std::vector<float>> m(nth, std::vector<float>((size_t)batch * nu, 0.0f));
        parallel_for(blocks, nth, [&](int tid, int blk) {
            const int k0 = blk * ROWS, kr = std::min(ROWS, nc - k0);
            const float* z0 = Lm + (size_t)k0 * nu;
            const float* z1 = kr > 1 ? z0 + nu : z0;  // a short last block repeats a row
            const float* z2 = kr > 2 ? z0 + 2 * (size_t)nu : z0;  // with a zero coefficient
            const float* z3 = kr > 3 ? z0 + 3 * (size_t)nu : z0;
            for (int b = 0; b < batch; ++b) {
                const float* wb = w.data() + (size_t)b * nc + k0;
                const float c0 = wb[0], c1 = kr > 1 ? wb[1] : 0.0f, c2 = kr > 2 ? wb[2] : 0.0f,
                            c3 = kr > 3 ? wb[3] : 0.0f;
                if (c0 == 0.0f && c1 == 0.0f && c2 == 0.0f && c3 == 0.0f) continue;
                float* mb = m[tid].data() + (size_t)b * nu;
                for (int u = 0; u < nu; ++u) mb[u] += (c0 * z0[u] + c1 * z1[u]) + (c2 * z2[u] + c3 * z3[u]);
            }
        });
        for (int t = 1; t < nth; ++t) {
            float* m0 = m[0].data();
            const float* mt = m[t].data();
            for (size_t k = 0; k < m[0].size(); ++k) m0[k] += mt[k];
        }
        // P[parent] *= m / max m (0 where the message is all zero)
        const int* col = inv[i];  // parent sample -> column (every column is some sample's)
        parallel_for(batch, team(batch, (double)batch * np), [&](int, int b) {
            const float* mb = m[0].data() + (size_t)b * nu;
            float* pp = P[c.parent].data() + (size_t)b * np;
            const float mmax = row_max(mb, nu);
            if (mmax > 0.0f) {
                const float scale = 1.0f / mmax;
                for (int l = 0; l < np; ++l) pp[l] *= mb[col[l]] * scale;
            } else {
                for (int l = 0; l < np; ++l) pp[l] = 0.0f;
            }
        });
    }
    for (int b = 0; b < batch; ++b) status[b] = st[b] | (pre_sat ? C.st_sat : 0);
    return nt;
}

}  // extern "C"
