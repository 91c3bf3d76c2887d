// STM importance-sampling inference (seed 003, the FPGA/PYNQ STM paper, eq. 2-9).
// One call runs a batch of evidence sets through one tree network:
//   load     net buffer -> on-chip (samples in lane groups), parse and validate
//   pre      per hidden edge and child sample k: zmin_k and 1/S_k      (evidence independent)
//   per row  evidence energies, node weights, messages to the parents, root weights out
// The numpy twin is host/spynq/stm/golden.py; the docstring there states the maths.
// Every inner loop handles STM_LANES parent samples per cycle; the designed II of each
// loop and why is STM_LOOPS in stm_kernel.h. Lane results are combined by balanced trees
// inside an iteration (integer sums, min and max do not depend on the order), so a
// loop-carried path is one operation, and no setting of the overlay parameters changes
// a result.
#include "stm_kernel.h"
#include "spynq_fixed.h"

#ifndef __SYNTHESIS__
uint64_t stm_trips[STM_LOOP_COUNT];
#endif

namespace {
constexpr int L = STM_LANES;
constexpr int Q = STM_LANES / 4;                          // net beats per lane group
constexpr int GROUPS = STM_MAX_SAMPLES / STM_LANES;       // lane groups per population
constexpr int NET_ROWS = (STM_DEPTH_NET + Q - 1) / Q;     // lane groups of the net buffer
constexpr int PAIRS_MAX = STM_MAX_SAMPLES * GROUPS;       // (child sample, parent group) pairs
constexpr int EV_BEATS_MAX = (STM_MAX_NODES + 2) / 4;     // n_evidence < STM_MAX_NODES
constexpr int OUT_BEATS_MAX = (STM_OUT_HDR_WORDS + STM_MAX_SAMPLES + 3) / 4;
constexpr int SAT_D = 0x7FFFFFFF;
constexpr uint32_t E_MAX = 0xFFFFFFFFu;
constexpr uint32_t SAT_GUARD = E_MAX - ((uint32_t)STM_SAT_GUARD_UNITS << STM_ENERGY_FRAC);
static_assert(STM_LANES >= 4 && STM_SAMPLE_ALIGN % STM_LANES == 0,
              "a lane group is a whole number of beats and every sample block starts on one");
static_assert((STM_MAX_SAMPLES & (STM_MAX_SAMPLES - 1)) == 0 && STM_MAX_SAMPLES % STM_LANES == 0,
              "populations are whole lane groups; per-node rows are indexed by shifts");
static_assert(STM_MAX_SAMPLES <= 4096, "sample and lane-group counts are 13-bit (STM_MULS)");
static_assert(STM_MAX_HIDDEN >= 2 && STM_MAX_HIDDEN <= STM_MAX_NODES, "the root and at least one hidden child");
static_assert(STM_EV_FUSE >= 1, "at least one evidence child per pass");
static_assert(STM_MAX_STATES == 16, "tpar rows are indexed [row << 4 | col]");

// Value ranges (see golden.py): samples, evidence, a, b Q16.16 in int32; r, g u32;
// energies u32 (saturating); probabilities <= 2^31; acc < 2^63.
struct GaussRow {  // one parent state of a Gaussian edge: one 128-bit word (AGGREGATE)
    int32_t a, b;     // Q16.16
    uint32_t r, g;    // rscale UQ16.16, energy offset UQ16.16
};
typedef uint64_t zr_t;             // zmin_k in bits 31:0, 1/S_k (UQ1.31, <= 2^31) in 63:32
typedef ap_uint<62> ppair_t;       // P of two lanes, 31 bits each (P < 2^31 after RESCALE)
typedef ap_uint<63> acc_t;         // message sums: < 2^63 (see MSG)
typedef ap_uint<44> wsum_t;        // sums of up to 4096 values <= 2^31

// Products of narrow factors. Vitis sees the ap_int product of the declared widths (what
// STM_MULS counts); C simulation computes the same exact value (it fits 64 bits) natively,
// since the open ap_int headers evaluate every product at twice its width (multi-word).
template <int A, int B>
ap_int<A + B> smul(ap_int<A> a, ap_int<B> b) {
#pragma HLS INLINE
    static_assert(A + B <= 64, "the product fits 64 bits");
#ifdef __SYNTHESIS__
    return a * b;
#else
    return ap_int<A + B>(a.to_int64() * b.to_int64());
#endif
}
template <int A, int B>
ap_uint<A + B> umul(ap_uint<A> a, ap_uint<B> b) {
#pragma HLS INLINE
    static_assert(A + B <= 64, "the product fits 64 bits");
#ifdef __SYNTHESIS__
    return a * b;
#else
    return ap_uint<A + B>(a.to_uint64() * b.to_uint64());
#endif
}

// Energy z(c | x) in UQ16.16 (spynq.stm.golden.energy_q, bit for bit). Each unit reads
// its own copy of the edge's parameters once: the Gaussian row of the parent state and
// the table word [row][col]. The two wide products use the narrow factor when one fits,
// and where neither does the result is the saturated one regardless of the low bits.
__attribute__((always_inline)) inline uint32_t energy(const GaussRow* gp, const uint32_t* tp, bool table, uint32_t ps, uint32_t cs, int32_t c,
                int32_t x) {
#pragma HLS INLINE
    const uint32_t row = ps > 1 ? ((uint32_t)x < ps ? (uint32_t)x : ps - 1) : 0u;  // < 16
    const uint32_t col = (uint32_t)c < cs ? (uint32_t)c : cs - 1;                    // < 16 for tables
    const uint32_t tz = tp[(row << 4 | col) & 0xFF];
    const GaussRow gr = gp[row];
    // mu = (a*x >> 16) + b. If a or x fits 26 signed bits, a*x is one 26 x 32 product
    // (|a*x| <= 2^56); if neither does, |a*x| >= 2^50, |mu| > 2^33 and d = c - mu
    // saturates with the sign of -a*x whatever c and b are.
    const bool a_narrow = gr.a >= -(1 << 25) && gr.a < (1 << 25), x_narrow = x >= -(1 << 25) && x < (1 << 25);
    const ap_int<26> fa = a_narrow ? gr.a : x;
    const ap_int<32> fb = a_narrow ? x : gr.a;
    const ap_int<58> ax = smul(fa, fb);
    const ap_int<44> dd = ap_int<44>(c) - ap_int<44>((ax >> 16) + gr.b);  // |dd| < 2^40 + 2^32
    const int32_t d = !a_narrow && !x_narrow ? ((gr.a < 0) != (x < 0) ? SAT_D : -SAT_D)
                      : dd > SAT_D ? SAT_D : dd < -SAT_D ? -SAT_D : (int32_t)dd.to_int64();
    // t = |(d*r) >> 16| (floor shift): |d| r >> 16, rounded up for d < 0. z saturates when
    // t >= 2^24, i.e. |d| r >= 2^40; if neither |d| nor r is below 2^20 it does, else
    // |d| r is one 20 x 32-bit product.
    const uint32_t ad = d < 0 ? (uint32_t)-d : (uint32_t)d;  // < 2^31
    const bool d_narrow = ad < (1u << 20), r_narrow = gr.r < (1u << 20);
    const ap_uint<20> fn = d_narrow ? ad : gr.r;  // the narrow factor
    const ap_uint<32> fw = d_narrow ? gr.r : ad;  // the other
    const ap_uint<52> dr = umul(fn, fw);
    const ap_uint<53> q = dr + ap_uint<53>(d < 0 ? 0xFFFF : 0);
    const bool sat = !(d_narrow || r_narrow) || (q >> 40) != 0;
    const ap_uint<24> at = q >> 16;                                    // valid when !sat
    const ap_uint<48> tt = umul(at, at);                                    // < 2^48
    const uint32_t z = sat ? E_MAX : (uint32_t)(tt >> 16).to_uint();  // Q16.32 -> UQ16.16
    return table ? tz : spynq_sat_add_u32(z, gr.g);
}

// Balanced reductions over the lanes of one iteration (HLS does not rebalance
// compare/select chains); v is overwritten.
struct MinOp { template <class T> T operator()(T a, T b) const { return b < a ? b : a; } };
struct MaxOp { template <class T> T operator()(T a, T b) const { return b > a ? b : a; } };
struct AddOp { template <class T> T operator()(T a, T b) const { return a + b; } };
template <class T, class Op>
T lane_reduce(T v[L], Op op) {
#pragma HLS INLINE
    for (int w = 1; w < L; w *= 2)
        for (int j = 0; j + w < L; j += 2 * w) v[j] = op(v[j], v[j + w]);
    return v[0];
}

// On-chip state. Arrays read a lane group per cycle are partitioned on the lane (or
// lane-pair) dimension; per-node arrays are indexed by the node's hidden ordinal.
uint64_t netbuf[NET_ROWS][L / 2];                 // net buffer: a row is a lane group, a word two lanes
zr_t zr[STM_MAX_HIDDEN - 1][STM_MAX_SAMPLES];      // per hidden non-root node and child sample k
ppair_t Pbuf[STM_MAX_HIDDEN][GROUPS][L / 2];       // product of rescaled child messages
uint32_t Ebuf[GROUPS][L];                          // evidence energy of the node being weighted
uint32_t wbuf[GROUPS][L];                          // node weights, unnormalised (<= 2^31)
acc_t msg[GROUPS][L];                              // message sums, then products (< 2^62)
// Parameters of the edges being evaluated (STM_EV_FUSE evidence children at once), one
// copy per lane so every lane reads its own parent state's row.
GaussRow gpar[STM_EV_FUSE][L][STM_MAX_STATES];
uint32_t tpar[STM_EV_FUSE][L][STM_MAX_PARAM_WORDS];  // [row * STM_MAX_STATES + col]

uint32_t word(uint32_t i) {
#pragma HLS INLINE
    const uint64_t w = netbuf[i / L][(i / 2) % (L / 2)];
    return (uint32_t)(i % 2 ? w >> 32 : w);
}
struct NetWord {
    uint32_t operator()(uint32_t i) const { return word(i); }
};

// The L samples of one lane group, one read of every netbuf bank.
void lane_group(uint32_t row, int32_t x[L]) {
#pragma HLS INLINE
    for (int q = 0; q < L / 2; q++) {
        const uint64_t w = netbuf[row][q];
        x[2 * q] = (int32_t)(uint32_t)w;
        x[2 * q + 1] = (int32_t)(uint32_t)(w >> 32);
    }
}

void load_params(const StmNet& n, uint32_t v, int f) {
    const bool gauss = n.kind[v] == (uint32_t)STM_KIND_GAUSS;
    const uint32_t cols = gauss ? (uint32_t)STM_GAUSS_WORDS : n.cs[v];
    uint32_t r = 0, c = 0;
    GaussRow row = {0, 0, 0, 0};
PARAMS:
    for (uint32_t i = 0; i < n.npar[v]; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=STM_MAX_PARAM_WORDS
        STM_TRIP(PARAMS);
        const uint32_t p = word(n.po[v] + i);
        if (c == 0) row.a = (int32_t)p;
        if (c == 1) row.b = (int32_t)p;
        if (c == 2) row.r = p;
        if (c == 3) row.g = p;
        for (int j = 0; j < L; j++) {
            if (gauss && c == STM_GAUSS_WORDS - 1) gpar[f][j][r] = row;
            if (!gauss) tpar[f][j][(r << 4) | c] = p;  // [row][col], STM_MAX_STATES = 16
        }
        if (++c == cols) { c = 0; r++; }
    }
}

// zmin_k, then S_k and 1/S_k, for hidden node v (the child) against its parent's samples.
bool precompute(const StmNet& n, uint32_t v) {
    const uint32_t p = n.parent[v], nc = n.ns[v], np = n.ns[p], groups = (np + L - 1) / L;
    const uint32_t crow = n.so[v], prow = n.so[p] / L, hv = n.hid[v];
    const uint32_t trips = (ap_uint<13>(nc) * ap_uint<13>(groups)).to_uint();  // counts <= 4096
    const bool table = n.kind[v] == (uint32_t)STM_KIND_TABLE;
    bool sat = false;
    uint32_t k = 0, g = 0, run_min = E_MAX;
PRE_MIN:
    for (uint32_t it = 0; it < trips; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=PAIRS_MAX
        STM_TRIP(PRE_MIN);
        const int32_t ck = (int32_t)word(crow + k);
        int32_t x[L];
        uint32_t z[L];
#pragma HLS ARRAY_PARTITION variable=x complete dim=0
#pragma HLS ARRAY_PARTITION variable=z complete dim=0
        lane_group(prow + g, x);
        for (int j = 0; j < L; j++) {
            const uint32_t e = energy(gpar[0][j], tpar[0][j], table, n.ps[v], n.cs[v], ck, x[j]);
            z[j] = g * L + j < np ? e : E_MAX;
        }
        const uint32_t m = lane_reduce(z, MinOp());
        run_min = (g == 0 || m < run_min) ? m : run_min;
        if (g == groups - 1) {
            zr[hv][k] = run_min;
            sat |= run_min > SAT_GUARD;
        }
        if (++g == groups) { g = 0; k++; }
    }
    k = 0; g = 0;
    wsum_t run_sum = 0;
PRE_SUM:
    for (uint32_t it = 0; it < trips; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=PAIRS_MAX
// zr[hv][k] is written in the last iteration of k, after every read of it (same or
// earlier iterations); later iterations read other k.
#pragma HLS DEPENDENCE variable=zr type=inter dependent=false
        STM_TRIP(PRE_SUM);
        const int32_t ck = (int32_t)word(crow + k);
        const uint32_t zm = (uint32_t)zr[hv][k];
        int32_t x[L];
        ap_uint<36> s[L];  // each <= 2^31, their sum <= 2^35
#pragma HLS ARRAY_PARTITION variable=x complete dim=0
#pragma HLS ARRAY_PARTITION variable=s complete dim=0
        lane_group(prow + g, x);
        for (int j = 0; j < L; j++) {
            const uint32_t e = energy(gpar[0][j], tpar[0][j], table, n.ps[v], n.cs[v], ck, x[j]);
            s[j] = g * L + j < np ? spynq_exp_neg(e - zm) : 0u;
        }
        run_sum = (g == 0 ? wsum_t(0) : run_sum) + lane_reduce(s, AddOp());
        if (g == groups - 1) {
            // S_k >= 2^31 (the minimum term is exp(0)), so 1/S_k = 2^62 / S_k <= 2^31
            const ap_uint<32> rc = (ap_uint<63>(1) << 62) / run_sum;
            zr[hv][k] = (uint64_t)rc.to_uint() << 32 | zm;
        }
        if (++g == groups) { g = 0; k++; }
    }
    return sat;
}

// Evidence energies of hidden node v into Ebuf: E(l) = sum over its observed children c
// of z_c(e_c | x_l), STM_EV_FUSE children per pass; returns min E (0 without evidence).
uint32_t evidence_energy(const StmNet& n, uint32_t v, const uint32_t* evw, bool& has_ev) {
    const uint32_t nv = n.ns[v], groups = (nv + L - 1) / L, prow = n.so[v] / L;
    uint32_t kids[STM_MAX_NODES], nk = 0;
#pragma HLS ARRAY_PARTITION variable=kids complete dim=0
    for (uint32_t c = 0; c < v; c++)
        if (!n.ns[c] && n.parent[c] == v) kids[nk++] = c;
    has_ev = nk > 0;
    uint32_t emin = has_ev ? E_MAX : 0;
    for (uint32_t k0 = 0; k0 < nk; k0 += STM_EV_FUSE) {
        uint32_t ps[STM_EV_FUSE], cs[STM_EV_FUSE];
        int32_t e[STM_EV_FUSE];
        bool on[STM_EV_FUSE], table[STM_EV_FUSE];
#pragma HLS ARRAY_PARTITION variable=ps complete dim=0
#pragma HLS ARRAY_PARTITION variable=cs complete dim=0
#pragma HLS ARRAY_PARTITION variable=e complete dim=0
#pragma HLS ARRAY_PARTITION variable=on complete dim=0
#pragma HLS ARRAY_PARTITION variable=table complete dim=0
        for (int f = 0; f < STM_EV_FUSE; f++) {
            on[f] = k0 + f < nk;
            const uint32_t c = on[f] ? kids[k0 + f] : kids[k0];
            table[f] = n.kind[c] == (uint32_t)STM_KIND_TABLE;
            ps[f] = n.ps[c]; cs[f] = n.cs[c];
            e[f] = (int32_t)evw[n.ev[c]];
            if (on[f]) load_params(n, c, f);
        }
        const bool first = k0 == 0, last = k0 + STM_EV_FUSE >= nk;
    EVID:
        for (uint32_t g = 0; g < groups; g++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=GROUPS
            STM_TRIP(EVID);
            int32_t x[L];
            uint32_t live[L];
#pragma HLS ARRAY_PARTITION variable=x complete dim=0
#pragma HLS ARRAY_PARTITION variable=live complete dim=0
            lane_group(prow + g, x);
            for (int j = 0; j < L; j++) {
                uint32_t sum = first ? 0u : Ebuf[g][j];
                for (int f = 0; f < STM_EV_FUSE; f++)
                    if (on[f]) sum = spynq_sat_add_u32(sum, energy(gpar[f][j], tpar[f][j], table[f], ps[f], cs[f],
                                                                   e[f], x[j]));
                Ebuf[g][j] = sum;
                live[j] = g * L + j < nv ? sum : E_MAX;
            }
            const uint32_t m = lane_reduce(live, MinOp());
            if (last && m < emin) emin = m;
        }
    }
    return emin;
}

// Unnormalised weights u(l) = exp(-(E(l) - min E)) * P(l) of node v into wbuf, their sum
// into total (the host or the message divides it out). Returns this node's STM_ST_* bits.
uint32_t node_weights(const StmNet& n, uint32_t v, bool has_ev, bool has_msg, uint32_t emin, uint64_t& total,
                      uint32_t& uf) {
    const uint32_t nv = n.ns[v], groups = (nv + L - 1) / L, hv = n.hid[v];
    wsum_t sum = 0;  // <= 4096 * 2^31
    uint32_t zeros = 0;
WEIGHTS:
    for (uint32_t g = 0; g < groups; g++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=GROUPS
        STM_TRIP(WEIGHTS);
        ap_uint<36> us[L];  // each <= 2^31
        ap_uint<6> zs[L];   // underflowed lanes, <= 16
#pragma HLS ARRAY_PARTITION variable=us complete dim=0
#pragma HLS ARRAY_PARTITION variable=zs complete dim=0
        for (int j = 0; j < L; j++) {
            const uint32_t ex = spynq_exp_neg(has_ev ? Ebuf[g][j] - emin : 0u);  // <= 2^31
            const ap_uint<31> P = Pbuf[hv][g][j / 2].range(31 * (j % 2) + 30, 31 * (j % 2));
            // u = ex * P >> 31, and ex itself when P is 1.0 (no message yet)
            const uint32_t u = has_msg ? (uint32_t)(umul(ap_uint<32>(ex), P) >> 31).to_uint() : ex;
            const bool live = g * L + j < nv;
            wbuf[g][j] = live ? u : 0u;
            us[j] = live ? u : 0u;
            zs[j] = (live && u == 0) ? 1 : 0;
        }
        sum += lane_reduce(us, AddOp());
        zeros += lane_reduce(zs, AddOp());
    }
    total = sum.to_uint64();
    uf += zeros;
    return (total == 0 ? STM_ST_ZERO_SUM : 0) | (total && total < (uint64_t)STM_UNDERFLOW_SUM ? STM_ST_UNDERFLOW : 0) |
           (has_ev && emin > SAT_GUARD ? STM_ST_SATURATED : 0);
}

// Message from hidden v to its parent p: m(l) = sum_k u_k / S_k exp(-(z(c_k, x_l) - zmin_k)),
// with u_k / S_k scaled by 2^-(31+sh) so the sum fits 63 bits; then rescaled, multiplied
// into P_p (or written, for p's first message) and rescaled again (powers of two only).
void message(const StmNet& n, uint32_t v, uint32_t sh, bool first) {
    const uint32_t p = n.parent[v], nc = n.ns[v], np = n.ns[p], groups = (np + L - 1) / L;
    const uint32_t crow = n.so[v], prow = n.so[p] / L, hv = n.hid[v], hp = n.hid[p];
    const uint32_t trips = (ap_uint<13>(nc) * ap_uint<13>(groups)).to_uint();  // counts <= 4096
    const bool table = n.kind[v] == (uint32_t)STM_KIND_TABLE;
    acc_t acc[L];
#pragma HLS ARRAY_PARTITION variable=acc complete dim=0
    acc_t mmax = 0;
    uint32_t k = 0, g = 0;
MSG:
    for (uint32_t it = 0; it < trips; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=PAIRS_MAX
        STM_TRIP(MSG);
        const int32_t ck = (int32_t)word(crow + k);
        const zr_t zk = zr[hv][k];
        const uint32_t zm = (uint32_t)zk;
        // u_k <= 2^31 and 1/S_k <= 2^31: cf <= 2^31. With sum_k u_k < 2^(32+sh) every
        // message sum stays below 2^31 * 2^32 = 2^63.
        const ap_uint<32> cf = umul(ap_uint<32>(wbuf[k / L][k % L]), ap_uint<32>(zk >> 32)) >> (31 + sh);
        int32_t x[L];
        acc_t red[L];
#pragma HLS ARRAY_PARTITION variable=x complete dim=0
#pragma HLS ARRAY_PARTITION variable=red complete dim=0
        lane_group(prow + g, x);
        for (int j = 0; j < L; j++) {
            const uint32_t z = energy(gpar[0][j], tpar[0][j], table, n.ps[v], n.cs[v], ck, x[j]);
            const acc_t term = g * L + j < np ? acc_t(umul(cf, ap_uint<32>(spynq_exp_neg(z - zm)))) : acc_t(0);
            acc[j] = (k == 0 ? acc_t(0) : acc[j]) + term;
            red[j] = acc[j];
            if (k == nc - 1) msg[g][j] = acc[j];
        }
        const acc_t gm = lane_reduce(red, MaxOp());
        if (k == nc - 1 && gm > mmax) mmax = gm;
        if (++k == nc) { k = 0; g++; }
    }
    const int mmsb = spynq_msb64(mmax.to_uint64());
    ap_uint<62> pmax = 0;
COMBINE:
    for (uint32_t gg = 0; gg < groups; gg++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=GROUPS
        STM_TRIP(COMBINE);
        ap_uint<62> red[L];
#pragma HLS ARRAY_PARTITION variable=red complete dim=0
        for (int j = 0; j < L; j++) {
            const ap_uint<31> m = spynq_renorm(msg[gg][j].to_uint64(), mmsb, 30);  // < 2^31
            const ap_uint<31> P = Pbuf[hp][gg][j / 2].range(31 * (j % 2) + 30, 31 * (j % 2));
            const ap_uint<62> prod = first ? ap_uint<62>(ap_uint<62>(m) << 31) : umul(P, m);  // P_p = 1.0 first
            msg[gg][j] = prod;
            red[j] = gg * L + j < np ? prod : ap_uint<62>(0);
        }
        const ap_uint<62> pm = lane_reduce(red, MaxOp());
        if (pm > pmax) pmax = pm;
    }
    const int pmsb = spynq_msb64(pmax.to_uint64());
RESCALE:
    for (uint32_t gg = 0; gg < groups; gg++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=GROUPS
        STM_TRIP(RESCALE);
        for (int q = 0; q < L / 2; q++) {
            ppair_t pp;
            for (int h = 0; h < 2; h++)
                pp.range(31 * h + 30, 31 * h) = ap_uint<31>(spynq_renorm(msg[gg][2 * q + h].to_uint64(), pmsb, 30));
            Pbuf[hp][gg][q] = pp;
        }
    }
}
}  // namespace

void stm_top(const stm_beat_t* net, const stm_beat_t* evidence, stm_beat_t* out,
             uint32_t net_words, uint32_t batch) {
#pragma HLS INTERFACE m_axi port=net offset=slave bundle=gmem depth=STM_DEPTH_NET
#pragma HLS INTERFACE m_axi port=evidence offset=slave bundle=gmem depth=STM_DEPTH_IN
#pragma HLS INTERFACE m_axi port=out offset=slave bundle=gmem depth=STM_DEPTH_OUT
#pragma HLS INTERFACE s_axilite port=net bundle=control
#pragma HLS INTERFACE s_axilite port=evidence bundle=control
#pragma HLS INTERFACE s_axilite port=out bundle=control
#pragma HLS INTERFACE s_axilite port=net_words bundle=control
#pragma HLS INTERFACE s_axilite port=batch bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS ARRAY_PARTITION variable=netbuf complete dim=2
#pragma HLS ARRAY_PARTITION variable=Pbuf complete dim=3
#pragma HLS ARRAY_PARTITION variable=Ebuf complete dim=2
#pragma HLS ARRAY_PARTITION variable=wbuf complete dim=2
#pragma HLS ARRAY_PARTITION variable=msg complete dim=2
#pragma HLS AGGREGATE variable=gpar
#pragma HLS ARRAY_PARTITION variable=gpar complete dim=1
#pragma HLS ARRAY_PARTITION variable=gpar complete dim=2
#pragma HLS ARRAY_PARTITION variable=tpar complete dim=1
#pragma HLS ARRAY_PARTITION variable=tpar complete dim=2
// netbuf: the compute loops read a child word and a parent lane group (two reads of a bank)
#pragma HLS BIND_STORAGE variable=netbuf type=ram_2p impl=bram
#pragma HLS BIND_STORAGE variable=zr type=ram_s2p impl=uram
#pragma HLS BIND_STORAGE variable=Pbuf type=ram_1p impl=uram
#pragma HLS BIND_STORAGE variable=Ebuf type=ram_s2p impl=bram
#pragma HLS BIND_STORAGE variable=wbuf type=ram_1p impl=bram
#pragma HLS BIND_STORAGE variable=msg type=ram_s2p impl=bram
#pragma HLS BIND_STORAGE variable=gpar type=ram_1p impl=lutram
#pragma HLS BIND_STORAGE variable=tpar type=ram_1p impl=lutram
    StmNet n;
    // Load: the whole buffer in bursts (net_words validated first), then parse it on chip.
    const uint32_t beats = net_words <= (uint32_t)STM_MAX_NET_WORDS ? (net_words + 3) / 4 : 0;
LOAD:
    for (uint32_t i = 0; i < beats; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=STM_DEPTH_NET
        STM_TRIP(LOAD);
        const stm_beat_t b = net[i];
        const uint64_t lo = b.range(63, 0).to_uint64(), hi = b.range(127, 64).to_uint64();
        for (int q = 0; q < Q; q++)  // one write per bank: lanes 4q .. 4q+3 of row i / Q
            if (q == (int)(i % Q)) {
                netbuf[i / Q][2 * q] = lo;
                netbuf[i / Q][2 * q + 1] = hi;
            }
    }
    if (!stm_parse(NetWord(), beats ? net_words : 0, batch, n)) {
        stm_beat_t bad = 0;
        bad.range(31, 0) = STM_ST_BAD_NET;
        out[0] = bad;
        return;
    }
    const uint32_t root = n.n_nodes - 1, n_root = n.ns[root];
    bool sat_pre = false;
    for (uint32_t v = 0; v < root; v++) {
        if (!n.ns[v]) continue;
        load_params(n, v, 0);
        sat_pre |= precompute(n, v);
    }
    const uint32_t ev_beats = (n.n_ev + 3) / 4, out_beats = stm_out_row_words(n_root) / 4;
    uint32_t ev_base = 0, out_base = 0;
ROWS:
    for (uint32_t b = 0; b < batch; b++) {
#pragma HLS LOOP_TRIPCOUNT max=STM_MAX_BATCH
        uint32_t evw[4 * EV_BEATS_MAX];
#pragma HLS ARRAY_PARTITION variable=evw complete dim=0
    EV_READ:
        for (uint32_t i = 0; i < ev_beats; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=EV_BEATS_MAX
            STM_TRIP(EV_READ);
            const stm_beat_t e = evidence[ev_base + i];
            for (int w = 0; w < 4; w++) evw[4 * i + w] = e.range(32 * w + 31, 32 * w).to_uint();
        }
        ev_base += ev_beats;
        uint32_t status = sat_pre ? STM_ST_SATURATED : 0, uf = 0, zero_node = 0;
        bool has_msg[STM_MAX_NODES];
#pragma HLS ARRAY_PARTITION variable=has_msg complete dim=0
        for (uint32_t v = 0; v < STM_MAX_NODES; v++) has_msg[v] = false;
        uint64_t total = 0;
        for (uint32_t v = 0; v <= root; v++) {
            if (!n.ns[v]) continue;  // observed leaves are evaluated with their parent
            bool has_ev;
            const uint32_t emin = evidence_energy(n, v, evw, has_ev);
            const uint32_t st = node_weights(n, v, has_ev, has_msg[v], emin, total, uf);
            if ((st & STM_ST_ZERO_SUM) && !zero_node) zero_node = v + 1;
            status |= st;
            if (v == root) break;
            const int msb = spynq_msb64(total);
            load_params(n, v, 0);
            message(n, v, msb > 31 ? msb - 31 : 0, !has_msg[n.parent[v]]);
            has_msg[n.parent[v]] = true;
        }
    STORE:
        for (uint32_t i = 0; i < out_beats; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=OUT_BEATS_MAX
            STM_TRIP(STORE);
            // beats 2.. carry the weights: beat i holds weights 4(i-2) .. 4(i-2)+3, lanes
            // 4q..4q+3 of lane group (i-2)/Q (one read of every wbuf bank)
            const uint32_t wi = i >= 2 ? i - 2 : 0, row = wi / Q, q = wi % Q;
            uint32_t grp[L];
#pragma HLS ARRAY_PARTITION variable=grp complete dim=0
            for (int j = 0; j < L; j++) grp[j] = wbuf[row][j];
            stm_beat_t o = 0;
            for (int w = 0; w < 4; w++) {
                uint32_t val = 0;
                if (i == 0) val = w == 0 ? status : w == 1 ? uf : w == 2 ? zero_node : 0;
                else if (i == 1) val = w == 0 ? (uint32_t)total : w == 1 ? (uint32_t)(total >> 32) : 0;
                else if (4 * wi + w < n_root) val = grp[4 * q + w];
                o.range(32 * w + 31, 32 * w) = val;
            }
            out[out_base + i] = o;
        }
        out_base += out_beats;
    }
}
