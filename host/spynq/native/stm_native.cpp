// STM importance-sampling inference (eq. 1-9) as a CPU user writes it, in float32: the
// cpu backend's algorithm (spynq.stm.reference) node by node in post order, with the
// evidence-independent likelihood of each hidden edge never stored: a block of child
// rows is evaluated, normalised over the parent samples and added into the messages of
// every evidence set at once (m[b] += w[b, k] / S_k * exp(-(z_k - min z_k))). Threads take
// row blocks of that pass (it is ~all the work) and evidence sets elsewhere.
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
    void build(const Node& c, const Node& p) {
        const int np = p.n;
        if (c.kind == KIND_GAUSS) {
            R.resize(np), B.resize(np), G.resize(np);
            for (int l = 0; l < np; ++l) {
                int s = c.rows == 1 ? 0 : (int)p.samples[l];
                float x = c.rows == 1 ? p.samples[l] : 0.0f;
                R[l] = c.r[s];
                B[l] = c.a[s] * x + c.b[s];
                G[l] = c.g[s];
            }
        } else {
            Z.resize((size_t)c.cols * np);
            for (int t = 0; t < c.cols; ++t)
                for (int l = 0; l < np; ++l) Z[(size_t)t * np + l] = c.table[(size_t)(int)p.samples[l] * c.cols + t];
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

// Nodes in post order (root last). fparams: per node a/b/r/g/table pointers in `ptrs`
// (5 per node, null where absent). evidence (batch, n_ev) double. Out: weights (batch,
// n_root) double, status (batch,) int64. Returns the threads used, < 0 on a bad net.
int spynq_native_stm_run(int n_nodes, const int* observed, const int* parent, const int* n, const float* const* samples,
                         const int* kind, const int* rows, const int* cols, const float* const* ptrs, const int* ev_col,
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
    bool pre_sat = false;
    std::vector<float> w;  // (batch, n) weights of the current hidden node
    for (int i = 0; i < n_nodes; ++i) {
        const Node& c = nodes[i];
        if (c.observed) {  // evidence energies into the parent's sum, per evidence set
            const Node& p = nodes[c.parent];
            EdgeTerms et;
            et.build(c, p);
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
        // messages m = w L of the edge to the parent, L normalised over the parent samples
        const Node& p = nodes[c.parent];
        const int np = p.n;
        EdgeTerms et;
        et.build(c, p);
        const int blocks = (nc + ROWS - 1) / ROWS;
        const int nth = team(blocks, (double)nc * np * (batch + 8));
        std::vector<std::vector<float>> m(nth, std::vector<float>((size_t)batch * np, 0.0f));
        std::vector<std::vector<float>> zbuf(nth, std::vector<float>((size_t)ROWS * np));
        std::vector<char> sat(nth, 0);
        parallel_for(blocks, nth, [&](int tid, int blk) {
            const int k0 = blk * ROWS, kr = std::min(ROWS, nc - k0);
            float* z = zbuf[tid].data();
            float cf[64 * ROWS];  // per-thread coefficients; batch > 64 takes the slow path below
            float* cfp = batch <= 64 ? cf : nullptr;
            std::vector<float> cf_heap;
            if (!cfp) {
                cf_heap.resize((size_t)batch * ROWS);
                cfp = cf_heap.data();
            }
            for (int r = 0; r < ROWS; ++r) {
                float* zr = z + (size_t)r * np;
                if (r >= kr) {  // a short last block: zero rows add nothing
                    for (int l = 0; l < np; ++l) zr[l] = 0.0f;
                    for (int b = 0; b < batch; ++b) cfp[b * ROWS + r] = 0.0f;
                    continue;
                }
                et.energies(c, c.samples[k0 + r], np, C.e_cap, zr);
                const float zmin = row_min(zr, np);
                if (zmin > C.e_guard) sat[tid] = 1;
                exp_shifted(zr, np, zmin);
                const float S = row_sum(zr, np);
                const float inv = 1.0f / S;  // S >= 1: the row minimum contributes exp(0)
                for (int b = 0; b < batch; ++b) cfp[b * ROWS + r] = w[(size_t)b * nc + k0 + r] * inv;
            }
            const float *z0 = z, *z1 = z + np, *z2 = z + 2 * (size_t)np, *z3 = z + 3 * (size_t)np;
            for (int b = 0; b < batch; ++b) {
                const float c0 = cfp[b * ROWS], c1 = cfp[b * ROWS + 1], c2 = cfp[b * ROWS + 2], c3 = cfp[b * ROWS + 3];
                if (c0 == 0.0f && c1 == 0.0f && c2 == 0.0f && c3 == 0.0f) continue;
                float* mb = m[tid].data() + (size_t)b * np;
                for (int l = 0; l < np; ++l) mb[l] += (c0 * z0[l] + c1 * z1[l]) + (c2 * z2[l] + c3 * z3[l]);
            }
        });
        for (int t = 1; t < nth; ++t) {
            float* m0 = m[0].data();
            const float* mt = m[t].data();
            for (size_t k = 0; k < m[0].size(); ++k) m0[k] += mt[k];
        }
        for (int t = 0; t < nth; ++t) pre_sat |= sat[t] != 0;
        // P[parent] *= m / max m (0 where the message is all zero)
        parallel_for(batch, team(batch, (double)batch * np), [&](int, int b) {
            const float* mb = m[0].data() + (size_t)b * np;
            float* pp = P[c.parent].data() + (size_t)b * np;
            const float mmax = row_max(mb, np);
            if (mmax > 0.0f) {
                const float inv = 1.0f / mmax;
                for (int l = 0; l < np; ++l) pp[l] *= mb[l] * inv;
            } else {
                for (int l = 0; l < np; ++l) pp[l] = 0.0f;
            }
        });
    }
    for (int b = 0; b < batch; ++b) status[b] = st[b] | (pre_sat ? C.st_sat : 0);
    return nt;
}

}  // extern "C"
