// SNNWM working-memory window unit (seed 003, "Spiking neural network with working
// memory", eq. 5-9, Algorithm 1, Fig. 4). One call runs a batch of input rasters through
// up to SNNWM_MAX_LAYERS fully connected SNNWM layers (window or overlap mode) and the
// optional temporal-fusion readout:
//   LOAD        net buffer -> header/W2 table + on-chip W1 store (once per call)
//   per sample:
//     IN_LOAD   input raster rows -> on-chip spike rows
//     per stage, per segment (a window of L steps, one step in overlap mode, the whole
//     train for the readout; see snnwm_config.h):
//       ACC     x_i = sum_k w2_k s_i(e - k): 128 inputs per cycle, additions only
//       NZ      list of the inputs with x_i != 0 (one per cycle)
//       MAC     I = x W1 over that list, SNNWM_LANES neurons per cycle: one mat-vec
//               per segment instead of one per step
//       UPD     (layers) V read from the membrane memory at the segment start, len LIF
//               steps in working registers (SNNWM_VREGS lane groups interleaved), V
//               written back at the segment end
//     STORE_SPK, STORE_STATE (layers), STORE_OUT (readout): readouts to `out`, each
//     stage's readouts after its counts beat (mac, add, v_reads, v_writes).
// The update order and formats are in snnwm_config.h; the numpy twin is
// host/spynq/snnwm/golden.py.
#include "spynq_fixed.h"
#include "snnwm_kernel.h"

#ifndef __SYNTHESIS__
uint64_t snnwm_trips[SNNWM_LOOP_COUNT];
#endif

namespace {
constexpr int L = SNNWM_LANES;
constexpr int W = SNNWM_BEAT_BITS / SNNWM_LANES;  // spike words per beat
constexpr int G = SNNWM_MAX_N / SNNWM_LANES;
constexpr int XB = SNNWM_MAX_IN / SNNWM_BEAT_BITS;  // x beats
constexpr int SYN_ROWS = SNNWM_MAX_SYN / L;
constexpr int VR = SNNWM_VREGS;
constexpr int32_t V_MAX = (1 << (SNNWM_STATE_BITS - 1)) - 1;
constexpr int32_t V_MIN = -V_MAX - 1;
static_assert(SNNWM_BEAT_BITS % SNNWM_LANES == 0, "a beat holds whole lane groups");
static_assert(SNNWM_MAX_N % SNNWM_LANES == 0 && SNNWM_MAX_IN == SNNWM_MAX_N, "spike rows are whole lane groups");
static_assert(SNNWM_MAX_IN % SNNWM_BEAT_BITS == 0, "x is stored in whole beats");
static_assert(SNNWM_PROD_SHIFT > 0, "the product is rounded to Q.16");

typedef ap_uint<SNNWM_LANES> lanes_t;
typedef ap_int<25> x_t;     // |x| <= 257 * 2^15 < 2^24
typedef ap_int<52> acc_t;   // |sum x w1| < 2^24 * 2^15 * 2^10 = 2^49

// On-chip state, [lane][...] with the lane dimension partitioned.
uint32_t hdr[SNNWM_MAX_HDR_WORDS];
ap_int<16> w1s[L][SYN_ROWS];
lanes_t spk[2][SNNWM_MAX_T][G];   // ping-pong: the stage's input rows and output rows
x_t xs[XB][SNNWM_BEAT_BITS];
ap_uint<SNNWM_BEAT_BITS> nzmask[XB];
uint32_t nzi[SNNWM_MAX_IN];
x_t nzv[SNNWM_MAX_IN];
int32_t Ic[L][G];                 // the segment's current (Q.16)
int32_t Vm[L][G], Vx[L][G];       // membrane memory (V_BRAM of Fig. 4) and v_max

uint32_t hdr_word(uint32_t i) {
#pragma HLS INLINE
    return i < (uint32_t)SNNWM_MAX_HDR_WORDS ? hdr[i] : 0u;
}

static inline int32_t sat_state(int64_t v) {
#pragma HLS INLINE
    return v > V_MAX ? V_MAX : v < V_MIN ? V_MIN : (int32_t)v;
}

static inline int64_t rmul(uint32_t a, int32_t v) {  // round(a * v), a in UQ0.16
#pragma HLS INLINE
    return ((int64_t)a * v + (1 << (SNNWM_DECAY_FRAC - 1))) >> SNNWM_DECAY_FRAC;
}

static inline int32_t round_current(acc_t a) {  // Q.24 -> Q.16, round half up, clip to int32
#pragma HLS INLINE
    int64_t r = ((int64_t)a + (1 << (SNNWM_PROD_SHIFT - 1))) >> SNNWM_PROD_SHIFT;
    return r > 2147483647LL ? 2147483647 : r < -2147483648LL ? (int32_t)-2147483648LL : (int32_t)r;
}

static inline uint32_t popcount128(ap_uint<128> m) {
#pragma HLS INLINE
    uint32_t c = 0;
    for (int p = 0; p < 128; p++) {
#pragma HLS UNROLL
        c += m[p];
    }
    return c;
}

struct Counts {
    uint32_t mac, add, v_reads, v_writes;
};

// One segment: collect x over rows e-kmax .. e-kmin, list the nonzero inputs, one
// mat-vec with W1. Returns nnz (0: the current is 0 for every neuron).
uint32_t segment_current(const SnnwmStageCfg& c, uint32_t P, int src, uint32_t e, uint32_t kmin, uint32_t nrows,
                         Counts& cnt) {
    const uint32_t rb = snnwm_row_beats(c.n_in);
    // ACC: beats outer, rows inner; one register accumulator per input of the beat
    x_t acc[SNNWM_BEAT_BITS];
#pragma HLS ARRAY_PARTITION variable=acc complete
    uint32_t b = 0, r = 0, adds = 0;
ACC:
    for (uint32_t it = 0; it < rb * nrows; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=2048
        SNNWM_TRIP(ACC);
        const uint32_t k = kmin + r, t = e - k;
        const int32_t w2 = (int32_t)(int16_t)(hdr_word(c.w2_ofs + k) & 0xFFFF);
        ap_uint<SNNWM_BEAT_BITS> row = 0;
        for (int w = 0; w < W; w++) {
            const uint32_t idx = b * W + w;
            row.range(w * L + L - 1, w * L) = idx < (uint32_t)G ? spk[src][t][idx] : lanes_t(0);
        }
        for (int p = 0; p < SNNWM_BEAT_BITS; p++)
            if (b * SNNWM_BEAT_BITS + p >= c.n_in) row[p] = 0;
        adds += popcount128(row);
        ap_uint<SNNWM_BEAT_BITS> nz = 0;
        for (int p = 0; p < SNNWM_BEAT_BITS; p++) {
            const x_t a = (r == 0 ? x_t(0) : acc[p]) + (row[p] ? w2 : 0);
            acc[p] = a;
            nz[p] = a != 0;
            if (r == nrows - 1) xs[b][p] = a;
        }
        if (r == nrows - 1) nzmask[b] = nz;
        if (++r == nrows) { r = 0; b++; }
    }
    cnt.add += adds;
    // NZ: one nonzero input per cycle (an empty beat costs one cycle)
    uint32_t nnz = 0, q = 0;
    ap_uint<SNNWM_BEAT_BITS> m = nzmask[0];
NZ:
    for (;;) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=1032
        SNNWM_TRIP(NZ);
        if (m != 0) {
            const int p = spynq_ctz128(m);
            nzi[nnz] = q * SNNWM_BEAT_BITS + p;
            nzv[nnz] = xs[q][p];
            nnz++;
            m = m & (ap_uint<SNNWM_BEAT_BITS>)(m - 1);
        }
        if (m == 0) {
            if (++q == rb) break;
            m = nzmask[q];
        }
    }
    // MAC: lane groups outer, nonzero inputs inner; one register accumulator per lane
    const uint32_t row0 = (c.w1_ofs - P) / L, groups = c.groups;
    acc_t macc[L];
#pragma HLS ARRAY_PARTITION variable=macc complete
    uint32_t g = 0;
    q = 0;
MAC:
    for (uint32_t it = 0; it < groups * nnz; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=16384
        SNNWM_TRIP(MAC);
        const uint32_t i = nzi[q];
        const x_t xi = nzv[q];
        const uint32_t row = row0 + i * groups + g;
        for (int j = 0; j < L; j++) {
            const acc_t a = (q == 0 ? acc_t(0) : macc[j]) + (acc_t)(xi * w1s[j][row]);
            macc[j] = a;
            if (q == nnz - 1) Ic[j][g] = round_current(a);
        }
        if (++q == nnz) { q = 0; g++; }
    }
    cnt.mac += nnz * c.n_out;
    return nnz;
}

// One segment of LIF steps t0 .. t0+len-1 with the segment's current: V read at the
// start, written at the end (membrane memory touched twice per neuron and segment).
void segment_neurons(const SnnwmStageCfg& c, int dst, uint32_t t0, uint32_t len, bool first, bool zero_cur,
                     Counts& cnt) {
    int32_t vreg[L][VR], vmreg[L][VR];
#pragma HLS ARRAY_PARTITION variable=vreg complete dim=0
#pragma HLS ARRAY_PARTITION variable=vmreg complete dim=0
    const uint32_t groups = c.groups, nblk = (groups + VR - 1) / VR;
    uint32_t sub = 0, k2 = 0, blk = 0;
UPD:
    for (uint32_t it = 0; it < nblk * len * VR; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=4096
#pragma HLS DEPENDENCE variable=vreg type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=vmreg type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=Vm type=inter dependent=false
#pragma HLS DEPENDENCE variable=Vx type=inter dependent=false
        SNNWM_TRIP(UPD);
        const uint32_t g = blk * VR + sub, t = t0 + k2;
        if (g < groups) {
            lanes_t mask = 0;
            for (int j = 0; j < L; j++) {
                const bool live = g * L + j < c.n_out;
                int32_t v = k2 == 0 ? (first ? 0 : Vm[j][g]) : vreg[j][sub];
                int32_t vm = k2 == 0 ? (first ? V_MIN : Vx[j][g]) : vmreg[j][sub];
                const int32_t cur = zero_cur ? 0 : Ic[j][g];
                v = sat_state(rmul(c.alpha, v) + cur);
                vm = v > vm ? v : vm;
                bool s = v >= c.theta;
                if (s) v = c.vrest;
                vreg[j][sub] = v;
                vmreg[j][sub] = vm;
                if (k2 == len - 1) {
                    Vm[j][g] = v;
                    Vx[j][g] = vm;
                }
                mask[j] = s && live;
            }
            spk[dst][t][g] = mask;
        }
        if (++sub == VR) {
            sub = 0;
            if (++k2 == len) { k2 = 0; blk++; }
        }
    }
    cnt.v_reads += c.n_out;
    cnt.v_writes += c.n_out;
}
}  // namespace

void snnwm_top(const snnwm_beat_t* net, const snnwm_beat_t* spikes_in, snnwm_beat_t* out,
               uint32_t net_words, uint32_t n_steps, uint32_t batch) {
#pragma HLS INTERFACE m_axi port=net offset=slave bundle=gmem depth=SNNWM_DEPTH_NET
#pragma HLS INTERFACE m_axi port=spikes_in offset=slave bundle=gmem depth=SNNWM_DEPTH_IN
#pragma HLS INTERFACE m_axi port=out offset=slave bundle=gmem depth=SNNWM_DEPTH_OUT
#pragma HLS INTERFACE s_axilite port=net bundle=control
#pragma HLS INTERFACE s_axilite port=spikes_in bundle=control
#pragma HLS INTERFACE s_axilite port=out bundle=control
#pragma HLS INTERFACE s_axilite port=net_words bundle=control
#pragma HLS INTERFACE s_axilite port=n_steps bundle=control
#pragma HLS INTERFACE s_axilite port=batch bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS ARRAY_PARTITION variable=w1s complete dim=1
#pragma HLS ARRAY_PARTITION variable=Ic complete dim=1
#pragma HLS ARRAY_PARTITION variable=Vm complete dim=1
#pragma HLS ARRAY_PARTITION variable=Vx complete dim=1
#pragma HLS ARRAY_PARTITION variable=xs complete dim=2
#pragma HLS ARRAY_PARTITION variable=spk cyclic factor=2 dim=3
#pragma HLS BIND_STORAGE variable=w1s type=ram_1p impl=uram
    // Load: every word of the net buffer; header words (below P) to hdr, W1 words to the
    // lane-partitioned store.
    const uint32_t beats = net_words <= (uint32_t)SNNWM_MAX_NET_WORDS ? (net_words + 3) / 4 : 0;
    uint32_t P = SNNWM_MAX_HDR_WORDS;
LOAD:
    for (uint32_t b = 0; b < beats; b++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=67000
        SNNWM_TRIP(LOAD);
        snnwm_beat_t x = net[b];
        if (b == 0) {
            const uint32_t p = x.range(32 * SNNWM_H_P + 31, 32 * SNNWM_H_P).to_uint();
            P = (p % 4 == 0 && p <= (uint32_t)SNNWM_MAX_HDR_WORDS) ? p : (uint32_t)SNNWM_MAX_HDR_WORDS;
        }
        for (int w = 0; w < 4; w++) {
            const uint32_t k = 4 * b + w, v = x.range(32 * w + 31, 32 * w).to_uint();
            if (k < (uint32_t)SNNWM_MAX_HDR_WORDS) hdr[k] = v;
            if (k >= P && k - P < (uint32_t)SNNWM_MAX_SYN) w1s[(k - P) % L][(k - P) / L] = (ap_int<16>)(v & 0xFFFF);
        }
    }
    SnnwmNet n;
    if (!snnwm_parse(hdr_word, beats ? net_words : 0, n_steps, batch, n)) {
        snnwm_beat_t bad = 0;
        bad.range(31, 0) = SNNWM_ST_BAD_NET;
        out[0] = bad;
        return;
    }
    out[0] = 0;
    const uint32_t T = n_steps, in_rb = snnwm_row_beats(n.n_in), P_ = n.hdr_words;
    uint32_t ob = 1;  // next out beat
SAMPLES:
    for (uint32_t s = 0; s < batch; s++) {
#pragma HLS LOOP_TRIPCOUNT max=64
        uint32_t k = 0, t = 0;
    IN_LOAD:
        for (uint32_t it = 0; it < T * in_rb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=2048
            SNNWM_TRIP(IN_LOAD);
            snnwm_beat_t x = spikes_in[(uint64_t)s * T * in_rb + it];
            for (int w = 0; w < W; w++)
                if (k * W + w < (uint32_t)G) spk[0][t][k * W + w] = x.range(w * L + L - 1, w * L);
            if (++k == in_rb) { k = 0; t++; }
        }
    STAGES:
        for (uint32_t st = 0; st < n.n_stages; st++) {
#pragma HLS LOOP_TRIPCOUNT max=5
            const SnnwmStageCfg& c = n.stage[st];
            const int src = st & 1, dst = (st + 1) & 1;
            const bool ro = c.mode == (uint32_t)SNNWM_MODE_READOUT, win = c.mode == (uint32_t)SNNWM_MODE_WINDOW;
            const uint32_t seg_len = win ? c.taps : 1;
            const uint32_t n_seg = ro ? 1 : (T + seg_len - 1) / seg_len;
            Counts cnt = {0, 0, 0, 0};
            uint32_t t0 = 0;
            bool zero_cur = true;
        SEGS:
            for (uint32_t sg = 0; sg < n_seg; sg++) {
#pragma HLS LOOP_TRIPCOUNT max=256
                const uint32_t len = ro ? 0 : (T - t0 < seg_len ? T - t0 : seg_len);
                const uint32_t e = ro ? T - 1 : (win ? t0 + c.taps - 1 : t0);
                const uint32_t kmin = e > T - 1 ? e - (T - 1) : 0;
                const uint32_t kmax = c.taps - 1 < e ? c.taps - 1 : e;
                const uint32_t nnz = segment_current(c, P_, src, e, kmin, kmax - kmin + 1, cnt);
                zero_cur = nnz == 0;
                if (!ro) segment_neurons(c, dst, t0, len, sg == 0, zero_cur, cnt);
                t0 += seg_len;
            }
            snnwm_beat_t cb = 0;
            cb.range(31, 0) = cnt.mac;
            cb.range(63, 32) = cnt.add;
            cb.range(95, 64) = cnt.v_reads;
            cb.range(127, 96) = cnt.v_writes;
            out[ob++] = cb;
            const uint32_t nb = snnwm_pad_words(c.n_out) / 4;
            if (ro) {
            STORE_OUT:
                for (uint32_t it = 0; it < nb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=256
                    SNNWM_TRIP(STORE_OUT);
                    snnwm_beat_t o = 0;
                    for (int w = 0; w < 4; w++) {
                        const uint32_t j = 4 * it + w;
                        const int32_t v = (j < c.n_out && !zero_cur) ? Ic[j % L][j / L] : 0;
                        o.range(32 * w + 31, 32 * w) = (uint32_t)v;
                    }
                    out[ob + it] = o;
                }
                ob += nb;
                continue;
            }
            const uint32_t rb = snnwm_row_beats(c.n_out);
            uint32_t q = 0, tt = 0;
        STORE_SPK:
            for (uint32_t it = 0; it < T * rb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=2048
                SNNWM_TRIP(STORE_SPK);
                snnwm_beat_t o = 0;
                for (int w = 0; w < W; w++) {
                    const uint32_t idx = q * W + w;
                    o.range(w * L + L - 1, w * L) = idx < c.groups ? spk[dst][tt][idx] : lanes_t(0);
                }
                out[ob + it] = o;
                if (++q == rb) { q = 0; tt++; }
            }
            ob += T * rb;
        STORE_STATE:
            for (uint32_t it = 0; it < 2 * nb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=512
                SNNWM_TRIP(STORE_STATE);
                const uint32_t which = it / nb, q4 = it % nb;
                snnwm_beat_t o = 0;
                for (int w = 0; w < 4; w++) {
                    const uint32_t j = 4 * q4 + w;
                    uint32_t v = 0;
                    if (j < c.n_out) v = which == 0 ? (uint32_t)Vm[j % L][j / L] : (uint32_t)Vx[j % L][j / L];
                    o.range(32 * w + 31, 32 * w) = v;
                }
                out[ob + it] = o;
            }
            ob += 2 * nb;
        }
    }
}
