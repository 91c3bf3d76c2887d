// STM importance-sampling inference (seed 003, the FPGA/PYNQ STM paper, eq. 2-9).
// One call runs a batch of evidence sets through one tree network:
//   load     net buffer -> on-chip (samples in lane groups), parse and validate
//   pre      per hidden edge and child sample k: zmin_k and 1/S_k      (evidence independent)
//   per row  evidence energies, node weights, messages to the parents, root weights out
// The numpy twin is host/spynq/stm/golden.py; the docstring there states the maths.
// Every inner loop handles STM_LANES parent samples per cycle (II=1).
#include "stm_kernel.h"
#include "spynq_fixed.h"

#ifndef __SYNTHESIS__
uint64_t stm_trips[STM_LOOP_COUNT];
#endif

namespace {
constexpr int L = STM_LANES;
constexpr int GROUPS = STM_MAX_SAMPLES / L;              // lane groups per population
constexpr int NET_ROWS = STM_MAX_NET_WORDS / L + 1;
constexpr int64_t SAT_D = 0x7FFFFFFF;
constexpr uint32_t ONE = 1u << STM_PROB_FRAC;
constexpr uint32_t E_MAX = 0xFFFFFFFFu;
constexpr uint32_t SAT_GUARD = E_MAX - ((uint32_t)STM_SAT_GUARD_UNITS << STM_ENERGY_FRAC);
static_assert(STM_MAX_SAMPLES % STM_LANES == 0, "populations are stored in whole lane groups");
static_assert(STM_SAMPLE_ALIGN == STM_LANES, "a lane group is one row of the net buffer");

// Energy z(c | x) in UQ16.16 (see spynq.stm.golden.energy_q).
uint32_t energy(const uint32_t* par, uint32_t kind, uint32_t ps, uint32_t cs, int32_t c, int32_t x) {
#pragma HLS INLINE
    uint32_t row = ps > 1 ? ((uint32_t)x < ps ? (uint32_t)x : ps - 1) : 0;
    if (kind == (uint32_t)STM_KIND_TABLE) {
        uint32_t col = (uint32_t)c < cs ? (uint32_t)c : cs - 1;
        return par[row * cs + col];
    }
    int64_t a = (int32_t)par[4 * row], b = (int32_t)par[4 * row + 1];
    int64_t r = par[4 * row + 2];
    uint32_t g = par[4 * row + 3];
    int64_t mu = ((a * x) >> STM_VALUE_FRAC) + b;  // |a|,|x| < 2^31
    int64_t d = (int64_t)c - mu;
    d = d > SAT_D ? SAT_D : d < -SAT_D ? -SAT_D : d;
    int64_t t = (d * r) >> STM_RSCALE_FRAC;  // |d| < 2^31, r < 2^32
    uint64_t at = t < 0 ? (uint64_t)(-t) : (uint64_t)t;
    uint32_t z = at >= (1u << 24) ? E_MAX : (uint32_t)((at * at) >> 16);  // Q16.32 -> UQ16.16
    return spynq_sat_add_u32(z, g);
}

// On-chip state. Populations and per-sample arrays are [lane group][lane] with the lane
// dimension partitioned, so one lane group is read per cycle.
uint32_t netbuf[NET_ROWS][L];
uint32_t zmin[STM_MAX_NODES][GROUPS][L];   // per child sample: min over parent samples
uint32_t recip[STM_MAX_NODES][GROUPS][L];  // per child sample: 1/S_k in UQ1.31
uint32_t Ebuf[STM_MAX_NODES][GROUPS][L];   // evidence energy per sample of a hidden node
uint32_t Pbuf[STM_MAX_NODES][GROUPS][L];   // product of rescaled child messages
uint32_t wbuf[GROUPS][L];                  // node weights, unnormalised
uint64_t msg[GROUPS][L];                   // message accumulator / product
uint64_t ssum[GROUPS][L];                  // S_k
// Parameters of the edges being evaluated (up to STM_EV_FUSE evidence children at once),
// one copy per lane so every lane reads its own parent state's row.
uint32_t lpar[STM_EV_FUSE][L][STM_MAX_PARAM_WORDS];

uint32_t word(uint32_t i) {
#pragma HLS INLINE
    return netbuf[i / L][i % L];
}

void load_params(const StmNet& n, uint32_t v, int f) {
    uint32_t n_par = n.ps[v] * (n.kind[v] == (uint32_t)STM_KIND_GAUSS ? STM_GAUSS_WORDS : n.cs[v]);
PARAMS:
    for (uint32_t i = 0; i < n_par; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=256
        STM_TRIP(PARAMS);
        uint32_t p = word(n.po[v] + i);
        for (int j = 0; j < L; j++) lpar[f][j][i] = p;
    }
}

// zmin_k, then S_k and 1/S_k, for hidden node v (the child) against its parent's samples.
bool precompute(const StmNet& n, uint32_t v) {
    const uint32_t p = n.parent[v], nc = n.ns[v], np = n.ns[p], groups = (np + L - 1) / L;
    const uint32_t crow = n.so[v], prow = n.so[p] / L;
    bool sat = false;
    uint32_t k = 0, g = 0, run_min = E_MAX;
PRE_MIN:
    for (uint32_t it = 0; it < nc * groups; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=1048576
        STM_TRIP(PRE_MIN);
        int32_t ck = (int32_t)word(crow + k);
        uint32_t m = E_MAX;
        for (int j = 0; j < L; j++) {
            uint32_t z = energy(lpar[0][j], n.kind[v], n.ps[v], n.cs[v], ck, (int32_t)netbuf[prow + g][j]);
            if (g * L + j < np && z < m) m = z;
        }
        run_min = (g == 0 || m < run_min) ? m : run_min;
        if (g == groups - 1) {
            zmin[v][k / L][k % L] = run_min;
            sat |= run_min > SAT_GUARD;
        }
        if (++g == groups) { g = 0; k++; }
    }
    k = 0; g = 0;
    uint64_t run_sum = 0;
PRE_SUM:
    for (uint32_t it = 0; it < nc * groups; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=1048576
        STM_TRIP(PRE_SUM);
        int32_t ck = (int32_t)word(crow + k);
        uint32_t zm = zmin[v][k / L][k % L];
        uint64_t s = 0;
        for (int j = 0; j < L; j++) {
            uint32_t z = energy(lpar[0][j], n.kind[v], n.ps[v], n.cs[v], ck, (int32_t)netbuf[prow + g][j]);
            if (g * L + j < np) s += spynq_exp_neg(z - zm);
        }
        run_sum = (g == 0 ? 0 : run_sum) + s;
        if (g == groups - 1) ssum[k / L][k % L] = run_sum;
        if (++g == groups) { g = 0; k++; }
    }
PRE_RECIP:
    for (uint32_t i = 0; i < nc; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=4096
        STM_TRIP(PRE_RECIP);
        recip[v][i / L][i % L] = (uint32_t)((1ull << 62) / ssum[i / L][i % L]);  // S >= 2^31
    }
    return sat;
}

// Evidence energies of hidden node v: E(l) = sum over its observed children c of
// z_c(e_c | x_l), STM_EV_FUSE children per pass; returns min E (0 without evidence).
uint32_t evidence_energy(const StmNet& n, uint32_t v, const uint32_t* evw, bool& has_ev) {
    const uint32_t nv = n.ns[v], groups = (nv + L - 1) / L, prow = n.so[v] / L;
    uint32_t kids[STM_MAX_NODES], nk = 0;
    for (uint32_t c = 0; c < v; c++)
        if (!n.ns[c] && n.parent[c] == v) kids[nk++] = c;
    has_ev = nk > 0;
    uint32_t emin = has_ev ? E_MAX : 0;
    for (uint32_t k0 = 0; k0 < nk; k0 += STM_EV_FUSE) {
        uint32_t kind[STM_EV_FUSE], ps[STM_EV_FUSE], cs[STM_EV_FUSE];
        int32_t e[STM_EV_FUSE];
        bool on[STM_EV_FUSE];
        for (int f = 0; f < STM_EV_FUSE; f++) {
            on[f] = k0 + f < nk;
            uint32_t c = on[f] ? kids[k0 + f] : kids[k0];
            kind[f] = n.kind[c]; ps[f] = n.ps[c]; cs[f] = n.cs[c];
            e[f] = (int32_t)evw[n.ev[c]];
            if (on[f]) load_params(n, c, f);
        }
        const bool first = k0 == 0, last = k0 + STM_EV_FUSE >= nk;
    EVID:
        for (uint32_t g = 0; g < groups; g++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=256
            STM_TRIP(EVID);
            for (int j = 0; j < L; j++) {
                uint32_t sum = first ? 0u : Ebuf[v][g][j];
                for (int f = 0; f < STM_EV_FUSE; f++)
                    if (on[f]) sum = spynq_sat_add_u32(sum, energy(lpar[f][j], kind[f], ps[f], cs[f], e[f],
                                                                   (int32_t)netbuf[prow + g][j]));
                Ebuf[v][g][j] = sum;
                if (last && g * L + j < nv && sum < emin) emin = sum;
            }
        }
    }
    return emin;
}

// Unnormalised weights u(l) = exp(-(E(l) - min E)) * P(l) of node v into wbuf, their sum
// into total (the host or the message divides it out). Returns this node's STM_ST_* bits.
uint32_t node_weights(const StmNet& n, uint32_t v, bool has_ev, bool has_msg, uint32_t emin,
                      uint64_t& total, uint32_t& uf) {
    const uint32_t nv = n.ns[v], groups = (nv + L - 1) / L;
    total = 0;
WEIGHTS:
    for (uint32_t g = 0; g < groups; g++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=256
        STM_TRIP(WEIGHTS);
        for (int j = 0; j < L; j++) {
            uint32_t ex = spynq_exp_neg(has_ev ? Ebuf[v][g][j] - emin : 0u);
            uint32_t u = (uint32_t)(((uint64_t)ex * (has_msg ? Pbuf[v][g][j] : ONE)) >> 31);
            bool live = g * L + j < nv;
            wbuf[g][j] = live ? u : 0;
            total += live ? u : 0;
            uf += (live && u == 0) ? 1 : 0;
        }
    }
    return (total == 0 ? STM_ST_ZERO_SUM : 0) | (total && total < (uint64_t)STM_UNDERFLOW_SUM ? STM_ST_UNDERFLOW : 0) |
           (has_ev && emin > SAT_GUARD ? STM_ST_SATURATED : 0);
}

// Message from hidden v to its parent p: m(l) = sum_k u_k / S_k exp(-(z(c_k, x_l) - zmin_k)),
// with u_k / S_k scaled by 2^-(31+sh) so the sum fits 64 bits; then rescaled, multiplied
// into P_p (or written, for p's first message) and rescaled again (powers of two only).
void message(const StmNet& n, uint32_t v, uint32_t sh, bool first) {
    const uint32_t p = n.parent[v], nc = n.ns[v], np = n.ns[p], groups = (np + L - 1) / L;
    const uint32_t crow = n.so[v], prow = n.so[p] / L;
    uint64_t acc[L];
#pragma HLS ARRAY_PARTITION variable=acc complete
    uint64_t mmax = 0;
    uint32_t k = 0, g = 0;
MSG:
    for (uint32_t it = 0; it < nc * groups; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=1048576
        STM_TRIP(MSG);
        int32_t ck = (int32_t)word(crow + k);
        uint32_t zm = zmin[v][k / L][k % L];
        uint64_t cf = ((uint64_t)wbuf[k / L][k % L] * recip[v][k / L][k % L]) >> (31 + sh);  // <= 2^62
        for (int j = 0; j < L; j++) {
            uint32_t z = energy(lpar[0][j], n.kind[v], n.ps[v], n.cs[v], ck, (int32_t)netbuf[prow + g][j]);
            uint64_t term = (g * L + j < np) ? cf * spynq_exp_neg(z - zm) : 0;  // sum over k < 2^63
            acc[j] = (k == 0 ? 0 : acc[j]) + term;
            if (k == nc - 1) {
                msg[g][j] = acc[j];
                if (acc[j] > mmax) mmax = acc[j];
            }
        }
        if (++k == nc) { k = 0; g++; }
    }
    const int mmsb = spynq_msb64(mmax);
    uint64_t pmax = 0;
COMBINE:
    for (uint32_t gg = 0; gg < groups; gg++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=256
        STM_TRIP(COMBINE);
        for (int j = 0; j < L; j++) {
            uint64_t pv = first ? ONE : Pbuf[p][gg][j];
            uint64_t prod = pv * spynq_renorm(msg[gg][j], mmsb, 30);  // < 2^62
            msg[gg][j] = prod;
            if (gg * L + j < np && prod > pmax) pmax = prod;
        }
    }
    const int pmsb = spynq_msb64(pmax);
RESCALE:
    for (uint32_t gg = 0; gg < groups; gg++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=256
        STM_TRIP(RESCALE);
        for (int j = 0; j < L; j++) Pbuf[p][gg][j] = (uint32_t)spynq_renorm(msg[gg][j], pmsb, 30);
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
#pragma HLS ARRAY_PARTITION variable=zmin complete dim=3
#pragma HLS ARRAY_PARTITION variable=recip complete dim=3
#pragma HLS ARRAY_PARTITION variable=Ebuf complete dim=3
#pragma HLS ARRAY_PARTITION variable=Pbuf complete dim=3
#pragma HLS ARRAY_PARTITION variable=wbuf complete dim=2
#pragma HLS ARRAY_PARTITION variable=msg complete dim=2
#pragma HLS ARRAY_PARTITION variable=ssum complete dim=2
#pragma HLS ARRAY_PARTITION variable=lpar complete dim=1
#pragma HLS ARRAY_PARTITION variable=lpar complete dim=2
#pragma HLS BIND_STORAGE variable=zmin type=ram_2p impl=uram
#pragma HLS BIND_STORAGE variable=recip type=ram_2p impl=uram
#pragma HLS BIND_STORAGE variable=Ebuf type=ram_2p impl=uram
#pragma HLS BIND_STORAGE variable=Pbuf type=ram_2p impl=uram
#pragma HLS BIND_STORAGE variable=lpar type=ram_1p impl=lutram
    StmNet n;
    // Load: the header first (to validate net_words), then the whole buffer in bursts.
    const uint32_t beats = net_words <= (uint32_t)STM_MAX_NET_WORDS ? (net_words + 3) / 4 : 0;
LOAD:
    for (uint32_t i = 0; i < beats; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=17000
        STM_TRIP(LOAD);
        stm_beat_t b = net[i];
        for (int w = 0; w < 4; w++) netbuf[(4 * i + w) / L][(4 * i + w) % L] = b.range(32 * w + 31, 32 * w).to_uint();
    }
    if (!stm_parse(word, beats ? net_words : 0, batch, n)) {
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
ROWS:
    for (uint32_t b = 0; b < batch; b++) {
#pragma HLS LOOP_TRIPCOUNT max=16
        uint32_t evw[STM_MAX_NODES + 3];
    EV_READ:
        for (uint32_t i = 0; i < ev_beats; i++) {
#pragma HLS PIPELINE II=1
            STM_TRIP(EV_READ);
            stm_beat_t e = evidence[b * ev_beats + i];
            for (int w = 0; w < 4; w++) evw[4 * i + w] = e.range(32 * w + 31, 32 * w).to_uint();
        }
        uint32_t status = sat_pre ? STM_ST_SATURATED : 0, uf = 0, zero_node = 0;
        bool has_msg[STM_MAX_NODES];
        for (uint32_t v = 0; v < STM_MAX_NODES; v++) has_msg[v] = false;
        uint64_t total = 0;
        for (uint32_t v = 0; v <= root; v++) {
            if (!n.ns[v]) continue;  // observed leaves are evaluated with their parent
            bool has_ev;
            uint32_t emin = evidence_energy(n, v, evw, has_ev);
            uint32_t st = node_weights(n, v, has_ev, has_msg[v], emin, total, uf);
            if ((st & STM_ST_ZERO_SUM) && !zero_node) zero_node = v + 1;
            status |= st;
            if (v == root) break;
            int msb = spynq_msb64(total);
            load_params(n, v, 0);
            message(n, v, msb > 31 ? msb - 31 : 0, !has_msg[n.parent[v]]);
            has_msg[n.parent[v]] = true;
        }
    STORE:
        for (uint32_t i = 0; i < out_beats; i++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=1025
            STM_TRIP(STORE);
            stm_beat_t o = 0;
            for (int w = 0; w < 4; w++) {
                uint32_t idx = 4 * i + w, val = 0;
                if (i == 0) val = w == 0 ? status : w == 1 ? uf : w == 2 ? zero_node : 0;
                else if (i == 1) val = w == 0 ? (uint32_t)total : w == 1 ? (uint32_t)(total >> 32) : 0;
                else if (idx - STM_OUT_HDR_WORDS < n_root)
                    val = wbuf[(idx - STM_OUT_HDR_WORDS) / L][(idx - STM_OUT_HDR_WORDS) % L];
                o.range(32 * w + 31, 32 * w) = val;
            }
            out[b * out_beats + i] = o;
        }
    }
}
