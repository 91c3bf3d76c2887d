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
//               per segment instead of one per step (skipped when x = 0)
//       UPD     (layers) V read from the membrane memory at the segment start, len LIF
//               steps in working registers (SNNWM_VREGS lane groups interleaved), V
//               written back at the segment end
//     STORE_SPK (counts beat + spike rows) and STORE_STATE (layers), STORE_OUT (counts
//     beat + readout): each stage's readouts to `out`, the counts (mac, add, v_reads,
//     v_writes) first.
// Every loop is designed for II=1; the schedule and its reasons are SNNWM_LOOPS in
// snnwm_kernel.h. The update order and formats are in snnwm_config.h; the numpy twin is
// host/spynq/snnwm/golden.py.
#include "spynq_fixed.h"
#include "snnwm_kernel.h"

#ifndef __SYNTHESIS__
uint64_t snnwm_trips[SNNWM_LOOP_COUNT];
#endif

namespace {
constexpr int L = SNNWM_LANES;
constexpr int LQ = SNNWM_LANES / 4;               // W1 store banks: four 16-bit lanes per 64-bit URAM word
constexpr int W = SNNWM_BEAT_BITS / SNNWM_LANES;  // spike words (lane groups) per beat
constexpr int G = SNNWM_MAX_N / SNNWM_LANES;
constexpr int XB = SNNWM_MAX_IN / SNNWM_BEAT_BITS;  // x beats (= spike-row beats)
constexpr int SYN_ROWS = SNNWM_MAX_SYN / L;
constexpr int W1_BEATS = SNNWM_MAX_SYN / 4;
constexpr int HDR_BEATS = SNNWM_MAX_HDR_WORDS / 4;
constexpr int VR = SNNWM_VREGS;
constexpr int32_t V_MAX = (1 << (SNNWM_STATE_BITS - 1)) - 1;
constexpr int32_t V_MIN = -V_MAX - 1;
static_assert(SNNWM_LANES == 64 && SNNWM_BEAT_BITS == 128, "the W1 row and spike-row layouts");
static_assert(SNNWM_MAX_N % SNNWM_BEAT_BITS == 0 && SNNWM_MAX_N >= SNNWM_BEAT_BITS, "spike rows are whole beats");
static_assert(SNNWM_MAX_SYN % (4 * SNNWM_LANES) == 0, "the W1 store holds whole lane groups");
static_assert(SNNWM_MAX_HDR_WORDS % 4 == 0, "the header region is whole beats (P is a multiple of 4)");
static_assert(SNNWM_PROD_SHIFT > 0, "the product is rounded to Q.16");
// Datapath widths: |x| <= MAX_K * 2^15 < 2^24 (25 bits signed); |x w1| < 2^24 * 2^15 and
// n_in <= 1024 terms: |sum| < 2^49 (50 bits signed). The overlay parameters may only shrink.
static_assert(SNNWM_MAX_K * 32768 < (1 << 24) && SNNWM_MAX_IN <= 1024, "x_t and acc_t widths");
static_assert(SNNWM_STATE_BITS == 24 && SNNWM_DECAY_FRAC == 16, "v_t and decay_t widths");

typedef ap_uint<SNNWM_LANES> lanes_t;
typedef ap_int<25> x_t;          // collected input, |x| <= 257 * 2^15 < 2^24
typedef ap_int<50> acc_t;        // |sum x w1| < 2^49
typedef ap_int<16> w_t;          // w1, Q3.12
typedef ap_uint<64> w4_t;        // four lanes of W1 (lane 4q + u in bits 16u+15:16u)
typedef ap_int<24> v_t;          // membrane state Q7.16 (SNNWM_STATE_BITS)
typedef ap_uint<16> decay_t;     // alpha UQ0.16
typedef ap_uint<16> idx_t;       // an input index (< SNNWM_MAX_IN)

// On-chip state at namespace scope; lane dimensions as [lane / 4][lane % 4] so every bank
// a loop touches in one cycle is fixed by a compile-time index (word position in a beat).
uint32_t hdr[HDR_BEATS][4];         // header and W2 words below P: [word / 4][word % 4]
w4_t w1s[LQ][SYN_ROWS];             // W1: bank lane / 4, row (word - P) / LANES
lanes_t spk[2][SNNWM_MAX_T][XB][W]; // ping-pong spike rows (a stage's input, its output): [t][beat][word]
x_t xs[XB][SNNWM_BEAT_BITS];        // the segment's collected inputs
ap_uint<SNNWM_BEAT_BITS> nzmask[XB];  // x != 0 per beat (registers)
idx_t nzi[SNNWM_MAX_IN];            // the nonzero inputs of the segment, in order
x_t nzv[SNNWM_MAX_IN];
int32_t Ic[LQ][4][G];               // the segment's current (Q.16)
v_t Vm[LQ][4][G];                   // membrane memory (V_BRAM of Fig. 4): V after integrate
bool Vf[LQ][4][G];                  // fired at the last step: the state is v_rest
v_t Vx[LQ][4][G];                   // v_max

uint32_t hdr_word(uint32_t i) {
#pragma HLS INLINE
    return i < (uint32_t)SNNWM_MAX_HDR_WORDS ? hdr[i / 4][i % 4] : 0u;
}

// round(a * v) = (a * v + 2^15) >> 16 (floor), a in UQ0.16
static inline ap_int<25> decay(decay_t a, v_t v) {
#pragma HLS INLINE
    const ap_int<41> p = (ap_int<17>)a * v;
    return (p + (1 << (SNNWM_DECAY_FRAC - 1))) >> SNNWM_DECAY_FRAC;
}

static inline v_t sat_state(ap_int<33> v) {
#pragma HLS INLINE
    return v > V_MAX ? v_t(V_MAX) : v < V_MIN ? v_t(V_MIN) : (v_t)v;
}

static inline int32_t round_current(acc_t a, bool& clipped) {  // Q.24 -> Q.16, round half up, clip to int32
#pragma HLS INLINE
    int64_t r = ((int64_t)a + (1 << (SNNWM_PROD_SHIFT - 1))) >> SNNWM_PROD_SHIFT;
    clipped = r > 2147483647LL || r < -2147483648LL;
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

ap_uint<SNNWM_BEAT_BITS> mask_at(uint32_t q) {
#pragma HLS INLINE
    return q < (uint32_t)XB ? nzmask[q] : ap_uint<SNNWM_BEAT_BITS>(0);
}

struct Counts {
    uint32_t mac, add, v_reads, v_writes;
    uint32_t clip;  // SNNWM_SS_* bits of what the stage clipped (live neurons only)
};

// Per-stage neuron constants, computed once per stage outside the recurrence.
struct NeuronCfg {
    ap_uint<16> alpha;  // decay_t
    ap_int<25> theta;  // theta clamped to [V_MIN, V_MAX + 1]: the same compare for any 24-bit V
    int32_t vrest;
    int32_t rv;        // round(alpha * v_rest): the decayed state after a spike
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
    for (;;) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=2048
        SNNWM_TRIP(ACC);
        const uint32_t k = kmin + r, t = e - k;
        const x_t w2 = (x_t)(int16_t)(hdr_word(c.w2_ofs + k) & 0xFFFF);
        ap_uint<SNNWM_BEAT_BITS> row = 0;
        for (int w = 0; w < W; w++) row.range(w * L + L - 1, w * L) = spk[src][t][b][w];
        for (int p = 0; p < SNNWM_BEAT_BITS; p++)
            if (b * SNNWM_BEAT_BITS + p >= c.n_in) row[p] = 0;
        adds += popcount128(row);
        ap_uint<SNNWM_BEAT_BITS> nz = 0;
        for (int p = 0; p < SNNWM_BEAT_BITS; p++) {
            const x_t a = (r == 0 ? x_t(0) : acc[p]) + (row[p] ? w2 : x_t(0));
            acc[p] = a;
            nz[p] = a != 0;
            if (r == nrows - 1) xs[b][p] = a;
        }
        if (r == nrows - 1) nzmask[b] = nz;
        if (++r == nrows) {
            r = 0;
            if (++b == rb) break;
        }
    }
    cnt.add += adds;
    // NZ: one nonzero input per cycle (an empty beat costs one cycle). The carried state is
    // registers only: the current beat's remaining mask m and the next beat's mask nxt.
    uint32_t nnz = 0, q = 0, macs = 0;
    ap_uint<SNNWM_BEAT_BITS> m = mask_at(0), nxt = mask_at(1);
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
            macs += c.n_out;  // the op counter: n_out MACs per nonzero input
        }
        const ap_uint<SNNWM_BEAT_BITS> rest = m & (ap_uint<SNNWM_BEAT_BITS>)(m - 1);
        if (rest == 0) {
            if (q == rb - 1) break;
            m = nxt;
            nxt = mask_at(q + 2);
            q++;
        } else {
            m = rest;
        }
    }
    cnt.mac += macs;
    if (nnz == 0) return 0;
    // MAC: lane groups outer, nonzero inputs inner; one register accumulator per lane
    const uint32_t row0 = (c.w1_ofs - P) / L, groups = c.groups;
    acc_t macc[L];
#pragma HLS ARRAY_PARTITION variable=macc complete
    uint32_t g = 0;
    bool i_sat = false;  // sticky: an OR of the lanes' clip flags
    q = 0;
MAC:
    for (;;) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=16384
        SNNWM_TRIP(MAC);
        const uint32_t i = nzi[q];
        const x_t xi = nzv[q];
        const uint32_t row = row0 + snnwm_mul_small<SNNWM_GROUP_BITS>(i, groups) + g;
        const bool last = q == nnz - 1;
        for (int jq = 0; jq < LQ; jq++) {
            const w4_t w4 = w1s[jq][row];
            for (int u = 0; u < 4; u++) {
                const int j = 4 * jq + u;
                const w_t w = (w_t)w4.range(16 * u + 15, 16 * u);
                const acc_t a = (q == 0 ? acc_t(0) : macc[j]) + (acc_t)(xi * w);
                macc[j] = a;
                bool ov = false;
                if (last) Ic[jq][u][g] = round_current(a, ov);
                i_sat = i_sat || (ov && g * L + j < c.n_out);  // padding weights of dead lanes may be anything
            }
        }
        if (last) {
            q = 0;
            if (++g == groups) break;
        } else {
            q++;
        }
    }
    if (i_sat) cnt.clip |= SNNWM_SS_I_SAT;
    return nnz;
}

// One segment of LIF steps t0 .. t0+len-1 with the segment's current: V read at the
// start, written at the end (membrane memory touched twice per neuron and segment).
// The state is (V after integrate, fired): after a spike it is v_rest, whose decay rv is
// a per-stage constant, so the reset is a select on the next step's input and the V
// register stays 24 bits for any v_rest the header holds.
void segment_neurons(const SnnwmStageCfg& c, const NeuronCfg& nc, int dst, uint32_t t0, uint32_t len, bool first,
                     bool zero_cur, Counts& cnt) {
    v_t vreg[L][VR], vmreg[L][VR];
    bool rsreg[L][VR];
#pragma HLS ARRAY_PARTITION variable=vreg complete dim=0
#pragma HLS ARRAY_PARTITION variable=vmreg complete dim=0
#pragma HLS ARRAY_PARTITION variable=rsreg complete dim=0
    const uint32_t groups = c.groups, nblk = (groups + VR - 1) / VR;
    uint32_t sub = 0, k2 = 0, blk = 0;
    bool v_sat = false;  // sticky: an OR of the lanes' clip flags
UPD:
    for (;;) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=4096
#pragma HLS DEPENDENCE variable=vreg type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=vmreg type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=rsreg type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=Vm type=inter dependent=false
#pragma HLS DEPENDENCE variable=Vf type=inter dependent=false
#pragma HLS DEPENDENCE variable=Vx type=inter dependent=false
        SNNWM_TRIP(UPD);
        const uint32_t g = blk * VR + sub, t = t0 + k2;
        if (g < groups) {
            lanes_t mask = 0, vclip = 0;
            for (int jq = 0; jq < LQ; jq++) {
                for (int u = 0; u < 4; u++) {
                    const int j = 4 * jq + u;
                    const bool live = g * L + j < c.n_out;
                    v_t v, vm;
                    bool rs;
                    if (k2 == 0) {
                        v = first ? v_t(0) : Vm[jq][u][g];
                        vm = first ? v_t(V_MIN) : Vx[jq][u][g];
                        rs = first ? false : Vf[jq][u][g];
                    } else {
                        v = vreg[j][sub];
                        vm = vmreg[j][sub];
                        rs = rsreg[j][sub];
                    }
                    const int32_t cur = zero_cur ? 0 : Ic[jq][u][g];
                    const ap_int<32> a = rs ? ap_int<32>(nc.rv) : ap_int<32>(decay(nc.alpha, v));
                    const ap_int<33> vi = (ap_int<33>)a + cur;
                    vclip[j] = live && (vi > V_MAX || vi < V_MIN);
                    v = sat_state(vi);
                    vm = v > vm ? v : vm;
                    const bool s = v >= nc.theta;
                    vreg[j][sub] = v;
                    vmreg[j][sub] = vm;
                    rsreg[j][sub] = s;
                    if (k2 == len - 1) {
                        Vm[jq][u][g] = v;
                        Vx[jq][u][g] = vm;
                        Vf[jq][u][g] = s;
                    }
                    mask[j] = s && live;
                }
            }
            spk[dst][t][g / W][g % W] = mask;
            v_sat = v_sat || vclip != 0;
        }
        if (++sub == VR) {
            sub = 0;
            if (++k2 == len) {
                k2 = 0;
                if (++blk == nblk) break;
            }
        }
    }
    cnt.v_reads += c.n_out;
    cnt.v_writes += c.n_out;
    if (v_sat) cnt.clip |= SNNWM_SS_V_SAT;
}

snnwm_beat_t counts_beat(const Counts& cnt) {
#pragma HLS INLINE
    snnwm_beat_t cb = 0;
    cb.range(31, 0) = cnt.mac;
    cb.range(63, 32) = cnt.add;
    cb.range(95, 64) = cnt.v_reads;
    cb.range(127, 96) = cnt.v_writes;
    return cb;
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
#pragma HLS ARRAY_PARTITION variable=hdr complete dim=2
#pragma HLS BIND_STORAGE variable=hdr type=ram_1p impl=bram
#pragma HLS ARRAY_PARTITION variable=w1s complete dim=1
#pragma HLS BIND_STORAGE variable=w1s type=ram_1p impl=uram
#pragma HLS ARRAY_PARTITION variable=spk complete dim=4
#pragma HLS BIND_STORAGE variable=spk type=ram_1p impl=bram
#pragma HLS ARRAY_PARTITION variable=xs complete dim=2
#pragma HLS BIND_STORAGE variable=xs type=ram_1p impl=lutram
#pragma HLS ARRAY_PARTITION variable=nzmask complete dim=1
#pragma HLS BIND_STORAGE variable=nzi type=ram_1p impl=bram
#pragma HLS BIND_STORAGE variable=nzv type=ram_1p impl=bram
#pragma HLS ARRAY_PARTITION variable=Ic complete dim=1
#pragma HLS ARRAY_PARTITION variable=Ic complete dim=2
#pragma HLS BIND_STORAGE variable=Ic type=ram_1p impl=lutram
#pragma HLS ARRAY_PARTITION variable=Vm complete dim=1
#pragma HLS ARRAY_PARTITION variable=Vm complete dim=2
#pragma HLS BIND_STORAGE variable=Vm type=ram_s2p impl=lutram
#pragma HLS ARRAY_PARTITION variable=Vf complete dim=1
#pragma HLS ARRAY_PARTITION variable=Vf complete dim=2
#pragma HLS BIND_STORAGE variable=Vf type=ram_s2p impl=lutram
#pragma HLS ARRAY_PARTITION variable=Vx complete dim=1
#pragma HLS ARRAY_PARTITION variable=Vx complete dim=2
#pragma HLS BIND_STORAGE variable=Vx type=ram_s2p impl=lutram
    // Load: every word of the net buffer; header words (below P) to hdr, W1 words to the
    // lane-banked store. P is a multiple of 4 (else the net is rejected), so a beat holds
    // either header words or four W1 lanes 4q..4q+3 of one row: one 64-bit word, one bank.
    const uint32_t beats = net_words <= (uint32_t)SNNWM_MAX_NET_WORDS ? (net_words + 3) / 4 : 0;
    uint32_t PB = HDR_BEATS;  // the first W1 beat, P / 4
LOAD:
    for (uint32_t b = 0; b < beats; b++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=67000
        SNNWM_TRIP(LOAD);
        const snnwm_beat_t x = net[b];
        if (b == 0) {
            const uint32_t p = x.range(32 * SNNWM_H_P + 31, 32 * SNNWM_H_P).to_uint();
            PB = (p % 4 == 0 && p <= (uint32_t)SNNWM_MAX_HDR_WORDS) ? p / 4 : (uint32_t)HDR_BEATS;
        }
        if (b < (uint32_t)HDR_BEATS)
            for (int w = 0; w < 4; w++) hdr[b][w] = x.range(32 * w + 31, 32 * w).to_uint();
        if (b >= PB && b - PB < (uint32_t)W1_BEATS) {
            w4_t w4;
            for (int w = 0; w < 4; w++) w4.range(16 * w + 15, 16 * w) = x.range(32 * w + 15, 32 * w);
            w1s[(b - PB) % LQ][(b - PB) / LQ] = w4;
        }
    }
    SnnwmNet n;
    if (!snnwm_parse([](uint32_t i) { return hdr_word(i); }, beats ? net_words : 0, n_steps, batch, n)) {
        snnwm_beat_t bad = 0;
        bad.range(31, 0) = SNNWM_ST_BAD_NET;
        out[0] = bad;
        return;
    }
    out[0] = 0;
    const uint32_t T = n_steps, in_rb = snnwm_row_beats(n.n_in), P = n.hdr_words;
    const uint32_t in_beats = snnwm_mul_small<4>(T, in_rb);  // in_rb <= 8
    uint64_t ib = 0;  // next input beat
    uint64_t ob = 1;  // next out beat
SAMPLES:
    for (uint32_t s = 0; s < batch; s++) {
#pragma HLS LOOP_TRIPCOUNT max=64
        uint32_t k = 0, t = 0;
    IN_LOAD:
        for (uint32_t it = 0; it < in_beats; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=2048
            SNNWM_TRIP(IN_LOAD);
            const snnwm_beat_t x = spikes_in[ib + it];
            for (int w = 0; w < W; w++) spk[0][t][k][w] = x.range(w * L + L - 1, w * L);
            if (++k == in_rb) { k = 0; t++; }
        }
        ib += in_beats;
        uint32_t status[SNNWM_STATUS_WORDS];  // word st: stage st's SNNWM_SS_* bits
#pragma HLS ARRAY_PARTITION variable=status complete dim=0
        for (int w = 0; w < SNNWM_STATUS_WORDS; w++) status[w] = 0;
    STAGES:
        for (uint32_t st = 0; st < n.n_stages; st++) {
#pragma HLS LOOP_TRIPCOUNT max=5
            const SnnwmStageCfg& c = n.stage[st];
            const int src = st & 1, dst = (st + 1) & 1;
            const bool ro = c.mode == (uint32_t)SNNWM_MODE_READOUT, win = c.mode == (uint32_t)SNNWM_MODE_WINDOW;
            const uint32_t seg_len = win ? c.taps : 1;
            NeuronCfg nc;
            nc.alpha = c.alpha;
            nc.theta = c.theta < V_MIN ? ap_int<25>(V_MIN) : c.theta > V_MAX ? ap_int<25>(V_MAX + 1)
                                                                                : ap_int<25>(c.theta);
            nc.vrest = c.vrest;
            nc.rv = (int32_t)(((int64_t)c.alpha * c.vrest + (1 << (SNNWM_DECAY_FRAC - 1))) >> SNNWM_DECAY_FRAC);
            Counts cnt = {0, 0, 0, 0, 0};
            bool zero_cur = true;
            // segments: one (the readout), or t0 = 0, seg_len, ... below T (the last may be partial)
        SEGS:
            for (uint32_t t0 = 0, sg = 0; ro ? sg == 0 : t0 < T; t0 += seg_len, sg++) {
#pragma HLS LOOP_TRIPCOUNT max=256
                const uint32_t len = ro ? 0 : (T - t0 < seg_len ? T - t0 : seg_len);
                const uint32_t e = ro ? T - 1 : (win ? t0 + c.taps - 1 : t0);
                const uint32_t kmin = e > T - 1 ? e - (T - 1) : 0;
                const uint32_t kmax = c.taps - 1 < e ? c.taps - 1 : e;
                const uint32_t nnz = segment_current(c, P, src, e, kmin, kmax - kmin + 1, cnt);
                zero_cur = nnz == 0;
                if (!ro) segment_neurons(c, nc, dst, t0, len, sg == 0, zero_cur, cnt);
            }
            const snnwm_beat_t cb = counts_beat(cnt);
            for (int w = 0; w < SNNWM_STATUS_WORDS; w++)
                if ((uint32_t)w == st) status[w] = cnt.clip;
            const uint32_t nb = snnwm_pad_words(c.n_out) / 4;
            if (ro) {
            STORE_OUT:  // the counts beat, then o
                for (uint32_t it = 0; it <= nb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=257
                    SNNWM_TRIP(STORE_OUT);
                    const uint32_t q4 = it - 1;  // beat of o: words 4 q4 + w, lanes 4 (q4 % 16) + w
                    snnwm_beat_t o = cb;
                    if (it > 0)
                        for (int w = 0; w < 4; w++) {
                            const int32_t v = (4 * q4 + w < c.n_out && !zero_cur) ? Ic[q4 % LQ][w][q4 / LQ] : 0;
                            o.range(32 * w + 31, 32 * w) = (uint32_t)v;
                        }
                    out[ob + it] = o;
                }
                ob += nb + 1;
                continue;
            }
            const uint32_t rb = snnwm_row_beats(c.n_out), spk_beats = snnwm_mul_small<4>(T, rb);  // rb <= 8
            uint32_t q = 0, tt = 0;
        STORE_SPK:  // the counts beat, then T spike rows
            for (uint32_t it = 0; it <= spk_beats; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=2049
                SNNWM_TRIP(STORE_SPK);
                snnwm_beat_t o = cb;
                if (it > 0) {
                    for (int w = 0; w < W; w++) {
                        const bool live = q * W + w < c.groups;
                        o.range(w * L + L - 1, w * L) = live ? spk[dst][tt][q][w] : lanes_t(0);
                    }
                    if (++q == rb) { q = 0; tt++; }
                }
                out[ob + it] = o;
            }
            ob += spk_beats + 1;
            uint32_t q4 = 0;
            bool second = false;
        STORE_STATE:  // v_last, then v_max; beat q4: words 4 q4 + w, lanes 4 (q4 % 16) + w
            for (uint32_t it = 0; it < 2 * nb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=512
                SNNWM_TRIP(STORE_STATE);
                snnwm_beat_t o = 0;
                for (int w = 0; w < 4; w++) {
                    const uint32_t lq = q4 % LQ, g = q4 / LQ;
                    int32_t v = 0;
                    if (4 * q4 + w < c.n_out) {
                        if (second) v = Vx[lq][w][g];
                        else v = Vf[lq][w][g] ? nc.vrest : (int32_t)Vm[lq][w][g];
                    }
                    o.range(32 * w + 31, 32 * w) = (uint32_t)v;
                }
                out[ob + it] = o;
                if (++q4 == nb) { q4 = 0; second = true; }
            }
            ob += 2 * nb;
        }
        for (int hb = 0; hb < SNNWM_STATUS_WORDS / 4; hb++) {  // the sample's status beats
            snnwm_beat_t o = 0;
            for (int w = 0; w < 4; w++) o.range(32 * w + 31, 32 * w) = status[4 * hb + w];
            out[ob + hb] = o;
        }
        ob += SNNWM_STATUS_WORDS / 4;
    }
}
