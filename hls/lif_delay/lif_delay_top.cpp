// LIF layer engine with delay buffers (seed 003: SNNWM eq. 1-5, axonal-delay speech,
// SpikeProp weights-and-delays, SpiNNaker 2 delays). One call runs a batch of input
// rasters through up to LIF_MAX_LAYERS fully connected LIF layers for T steps:
//   LOAD       net buffer -> layer table + on-chip synapse store (once per call)
//   per sample:
//     IN_SCAN  input raster rows -> spike events (one 128-bit block per entry; empty
//              blocks skipped, bits >= n_in masked off)
//     per layer:
//       RUN    one flattened loop over all T steps; each iteration is one of
//                deliver  one input spike to LIF_LANES neurons (ring read-modify-write)
//                pad      (before the update of a step with few deliveries, see below)
//                update   LIF_LANES neurons: sum the slot's copies, integrate, fire, reset
//       STORE_SPK, STORE_STATE  readouts of the layer to `out`
//     the sample's status beat: per layer, what RUN clipped (LIF_SS_*)
// Events flow through one FIFO: a layer reads its input events from the head and
// appends its output events at the tail (an entry per non-empty pair of lane groups and
// one closing entry per step), so work grows with spikes, not n_in * T.
// The update order and formats are in lif_delay_config.h; the numpy twin is
// host/spynq/lif/golden.py.
//
// Ring hazards, correct by construction (no forwarding, no dependence waiver). The ring
// of a layer with g lane groups is split into K cells, cell = copy * g + group, with
// C = ceil(LIF_RING_DIST / g) copies when g < LIF_RING_DIST (the ring space small layers
// do not use), else C = 1: K = C * g >= LIF_RING_DIST. Every deliver and every non-pad
// update iteration touches exactly the cell `cell` and then advances it by one, mod K:
// a spike visits its g groups in one copy, the next spike the next copy, and the update
// continues the same rotation through all C copies of every group, summing them (integer
// sums, so the order does not change the result). So between two accesses to one cell
// (any slot) there are at least K >= LIF_RING_DIST iterations, whatever the spikes, delays
// or step boundaries; pad iterations touch no cell and only add distance. The
// DEPENDENCE pragma states that true distance and Vitis schedules to it (it raises II
// rather than read too early). The copies cost K - g < LIF_RING_DIST update iterations
// per step, instead of padding every spike of a small layer. Each neuron state is updated once
// per step (at its group's last copy); a step whose deliveries take fewer than
// LIF_STATE_DIST - K iterations is padded up to that before its update, so two updates of
// one state are at least LIF_STATE_DIST iterations apart. A step costs
// max(E * g + K, LIF_STATE_DIST) iterations for E input spikes.
#include <hls_stream.h>
#include "lif_delay_kernel.h"

#ifndef __SYNTHESIS__
uint64_t lif_trips[LIF_LOOP_COUNT];
// C simulation only: a C read always sees the newest write, so equality with golden cannot
// show a read that a pipeline at the declared DEPENDENCE distance would make too early.
// The iteration of the last write of every ring word and neuron state is kept instead, and
// every read whose value is used is checked against the declared distance.
// Likewise a C stream never fills: the event FIFO's occupancy is checked against its depth
// (in hardware a write to the full FIFO would stall the loop that is to drain it).
// lif_checks: ring and state reads closer to their last write than declared, FIFO writes
// at full depth, the largest FIFO occupancy.
uint64_t lif_checks[4];
namespace {
uint64_t run_it = 0, ring_w[LIF_LANES][LIF_MAX_GROUPS * LIF_RING], state_w[LIF_LANES][LIF_MAX_GROUPS];
}
#define LIF_RUN_START() (run_it += 1u << 24)  // RUN invocations do not overlap
#define LIF_RUN_ITER() (run_it++)
#define LIF_USE(stamp, dist, kind) (lif_checks[kind] += run_it - (stamp) < (uint64_t)(dist))
#define LIF_WRITE(stamp) ((stamp) = run_it)
#define LIF_EV_WRITE(e)                                                                     \
    do {                                                                                    \
        lif_checks[2] += evq.size() >= (size_t)EV_DEPTH;                                    \
        lif_checks[3] = evq.size() + 1 > lif_checks[3] ? evq.size() + 1 : lif_checks[3];    \
        evq.write(e);                                                                       \
    } while (0)
#else
#define LIF_RUN_START()
#define LIF_RUN_ITER()
#define LIF_USE(stamp, dist, kind)
#define LIF_WRITE(stamp)
#define LIF_EV_WRITE(e) evq.write(e)
#endif

namespace {
constexpr int L = LIF_LANES;
constexpr int G = LIF_MAX_GROUPS;
constexpr int RING = LIF_RING;
constexpr int RD = LIF_RING_DIST;
constexpr int SD = LIF_STATE_DIST;
constexpr int SYN_ROWS = LIF_MAX_SYN / L;
constexpr int SYN_BITS = 23;                    // weight 15:0, delay 22:16
constexpr int SYN_PER_WORD = 3;                 // lanes per URAM word (72 bits)
constexpr int SYN_WORD_BITS = SYN_BITS * SYN_PER_WORD;
constexpr int SYN_BANKS = (L + SYN_PER_WORD - 1) / SYN_PER_WORD;
constexpr int ROW_BEATS = L / 4;                // beats of one synapse row
constexpr int HDR_BEATS = LIF_MAX_HDR_WORDS / 4;
constexpr int CNT_BITS = 16;
constexpr int REF_BITS = 9;                     // refractory steps 7:0, bit 8: V is v_reset
constexpr int EV_Q_BITS = 4;                    // 128-neuron block of an event
// FIFO occupancy: a layer starts with all T steps of its input entries and appends its
// own while it consumes them, at most ceil(n/128) entries per step each (IN_SCAN: one per
// raster beat; a layer: one per pair of groups), so T * max entries per step bounds it.
constexpr int EV_PER_STEP = (LIF_MAX_IN + LIF_BEAT_BITS - 1) / LIF_BEAT_BITS;
constexpr int EV_DEPTH = LIF_MAX_T * EV_PER_STEP;
constexpr int32_t V_MAX = (1 << (LIF_STATE_BITS - 1)) - 1;
constexpr int32_t V_MIN = -V_MAX - 1;

constexpr int cells_for(int g) { return g >= RD ? g : g * ((RD + g - 1) / g); }
constexpr int max_cells(int g) { return g >= RD ? RD : (cells_for(g) > max_cells(g + 1) ? cells_for(g) : max_cells(g + 1)); }
static_assert(LIF_MAX_N % L == 0, "layers are stored in whole lane groups");
static_assert(LIF_MAX_SYN % L == 0, "the synapse store holds whole rows");
static_assert(L % 4 == 0 && L - 4 >= 0, "a synapse row is whole beats");
static_assert((RING & (RING - 1)) == 0 && RING == (1 << LIF_DELAY_BITS), "ring index is a bit mask");
static_assert(LIF_MAX_IN <= 2048 && LIF_MAX_N <= 2048, "event base fits 11 bits, groups 6 bits");
static_assert((G + 1) / 2 <= EV_PER_STEP, "a layer's entries per step fit the FIFO bound (LIF_MAX_N <= LIF_MAX_IN)");
static_assert(EV_PER_STEP <= (1 << EV_Q_BITS), "event block index fits EV_Q_BITS");
static_assert(max_cells(1) <= G, "the copies of a small layer fit the ring");
static_assert((RD & (RD - 1)) == 0, "copy accumulators are indexed by group mod RD");
static_assert(RD == 4 && SD == 8, "the DEPENDENCE distances in run_layer say 4 and 8");
static_assert(LIF_MAX_T < (1 << CNT_BITS) && LIF_MAX_REFRACTORY < 256, "counter widths");

typedef ap_int<LIF_STATE_BITS> state_t;  // V, I, v_max: Q7.16
typedef ap_uint<LIF_DECAY_FRAC> decay_t;  // alpha, beta: UQ0.16

struct Event {
    ap_uint<64> lo, hi;   // spiking neurons 128 * q + 0..63 and 128 * q + 64..127
    ap_uint<EV_Q_BITS> q;
    bool eos;             // last entry of its step
};

// On-chip state, [lane][...] or [bank][...] with that dimension partitioned.
ap_uint<128> hdrb[HDR_BEATS];              // the first beats of the net buffer
ap_uint<SYN_WORD_BITS> syn[SYN_BANKS][SYN_ROWS];  // lane 3b+f in bits 23f+22..23f of bank b
int32_t ring[L][G * RING];                 // [lane][cell * RING + slot]
state_t Vs[L][G], Is[L][G], Vmax[L][G];
ap_uint<CNT_BITS> Cnt[L][G];
ap_uint<REF_BITS> Ref[L][G];
ap_uint<64> spk[LIF_MAX_T][G];             // output spikes of the current layer, per lane group
hls::stream<Event> evq;

static inline state_t sat_state(ap_int<40> v) {
#pragma HLS INLINE
    return v > V_MAX ? state_t(V_MAX) : v < V_MIN ? state_t(V_MIN) : state_t(v);
}

static inline bool clips(ap_int<40> v) {  // sat_state(v) != v
#pragma HLS INLINE
    return v > V_MAX || v < V_MIN;
}

static inline ap_int<25> rmul(decay_t a, state_t v) {  // round(a * v), a in UQ0.16: one DSP
#pragma HLS INLINE
    const ap_int<41> p = a * v;
    return (p + (1 << (LIF_DECAY_FRAC - 1))) >> LIF_DECAY_FRAC;
}

static inline ap_uint<6> ctz64(ap_uint<64> m) {  // index of the lowest set bit (m != 0)
#pragma HLS INLINE
    ap_uint<6> r = 0;
    for (int b = 63; b >= 0; b--)
        if (m[b]) r = b;
    return r;
}

// One sample, one layer: T steps of deliver / update / pad iterations. Returns the LIF_SS_*
// bits of what it clipped.
uint32_t run_layer(const LifLayerCfg& c, uint32_t syn_row0, uint32_t T, bool emit) {
    const ap_uint<6> g = c.groups;
#ifndef LIF_CSIM_ONE_COPY
    const uint32_t copies = c.groups >= (uint32_t)RD ? 1u : (RD + c.groups - 1) / c.groups;
#else  // test switch (C simulation): no copies, so the distance check must report hazards
    const uint32_t copies = 1;
#endif
    const uint32_t K = copies * c.groups;       // ring cells in use (header comment)
    // A step is its deliveries, then pad iterations while the step has had fewer than
    // SD - K, then the K update iterations: two updates of one neuron are at least
    // max(E * g + K, SD) >= SD iterations apart, and busy steps pay no padding.
#ifndef LIF_CSIM_NO_PAD
    const uint32_t pad_to = K >= (uint32_t)SD ? 0u : SD - K;
#else  // test switch (C simulation): no padding, so the distance check must report hazards
    const uint32_t pad_to = 0;
#endif
    const bool subtract = c.flags & LIF_FL_SUBTRACT, current = c.flags & LIF_FL_CURRENT;
    const decay_t alpha = c.alpha, beta = c.beta;
    // After a "zero" reset V is v_reset, a 32-bit header value the golden model does not
    // clip: the state keeps a flag for it and uses round(alpha * v_reset), computed once.
    const ap_int<48> av_reset = alpha * (ap_int<32>)(int32_t)c.vreset;  // 16 x 32 bits
    const ap_int<34> rv = (av_reset + (1 << (LIF_DECAY_FRAC - 1))) >> LIF_DECAY_FRAC;
    int32_t acc[L][RD];  // partial slot sums over the copies of groups 0..g-1 (g < RD)
#pragma HLS ARRAY_PARTITION variable=acc complete dim=0
    ap_uint<SYN_WORD_BITS> sw[SYN_BANKS];
#pragma HLS ARRAY_PARTITION variable=sw complete dim=0

    bool upd = false, eos = false, hi_pend = false;
    ap_uint<64> m = 0, hi = 0, pend = 0;
    ap_uint<11> base = 0, hbase = 0;
    uint32_t grp = 0, cell = 0, jc = 0, dl = 0, t = 0;  // dl: deliver + pad iterations of the step
    bool v_sat = false, i_sat = false;  // sticky over the layer: an OR of the lanes' clip flags
    LIF_RUN_START();
RUN:
    for (;;) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=1100000
#pragma HLS DEPENDENCE variable=ring type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=Vs type=inter direction=RAW distance=8 dependent=true
#pragma HLS DEPENDENCE variable=Is type=inter direction=RAW distance=8 dependent=true
#pragma HLS DEPENDENCE variable=Vmax type=inter direction=RAW distance=8 dependent=true
#pragma HLS DEPENDENCE variable=Cnt type=inter direction=RAW distance=8 dependent=true
#pragma HLS DEPENDENCE variable=Ref type=inter direction=RAW distance=8 dependent=true
        LIF_TRIP(RUN);
        LIF_RUN_ITER();
        if (!upd && m == 0) {  // next spike mask: the entry's upper half, the next entry, or the update
            if (hi_pend) {
                m = hi;
                base = hbase;
                hi_pend = false;
            } else if (eos) {
                upd = true;
            } else {
                const Event e = evq.read();
                const ap_uint<11> b0 = (ap_uint<11>)e.q * LIF_BEAT_BITS;
                eos = e.eos;
                hi = e.hi;
                hbase = b0 + 64;
                hi_pend = e.lo != 0 && e.hi != 0;
                if (e.lo != 0) {
                    m = e.lo;
                    base = b0;
                } else if (e.hi != 0) {
                    m = e.hi;
                    base = b0 + 64;
                } else {
                    upd = true;  // an empty closing entry (only a step's last entry is ever empty)
                }
            }
            if (upd) eos = false;
        }
        const bool deliver = !upd;
        const bool pad = upd && dl < pad_to;
        const bool ring_it = !pad;  // visits ring cell `cell`
        const bool last_copy = jc == copies - 1;
        const bool state_it = upd && ring_it && last_copy;
        const ap_uint<11> i = base + ctz64(m);
        const uint32_t srow = syn_row0 + (uint32_t)(i * g) + grp;
        for (int b = 0; b < SYN_BANKS; b++) sw[b] = syn[b][deliver ? srow : 0];
        const uint32_t cbase = cell * RING;
        const bool first = t == 0;
        ap_uint<64> mask = 0, vclip = 0, iclip = 0;
        for (int j = 0; j < L; j++) {
            const ap_uint<SYN_BITS> s = sw[j / SYN_PER_WORD].range(SYN_BITS * (j % SYN_PER_WORD) + SYN_BITS - 1,
                                                                    SYN_BITS * (j % SYN_PER_WORD));
            const uint32_t d = s.range(22, 16).to_uint();
            const int32_t w = (int32_t)(int16_t)s.range(15, 0).to_uint() * (1 << (LIF_V_FRAC - LIF_W_FRAC));
            const bool live = grp * L + j < c.n_out;
            const uint32_t addr = cbase + (deliver ? ((t + d) & (RING - 1)) : (t & (RING - 1)));
            const bool touch = deliver ? (live && t + d < T) : ring_it;
            const int32_t old = ring[j][addr];
            if (touch) {
                LIF_USE(ring_w[j][addr], RD, 0);
                LIF_WRITE(ring_w[j][addr]);
                ring[j][addr] = deliver ? old + w : 0;  // |slot| <= 2^29: no overflow
            }
            if (upd && ring_it) {
                const int32_t x = (jc == 0 ? 0 : acc[j][grp % RD]) + old;  // this slot, copies so far
                acc[j][grp % RD] = x;
                if (last_copy) {  // integrate, fire, reset
                    if (!first) LIF_USE(state_w[j][grp], SD, 1);
                    LIF_WRITE(state_w[j][grp]);
                    state_t v = first ? state_t(0) : Vs[j][grp];
                    state_t cur = first ? state_t(0) : Is[j][grp];
                    state_t vmax = first ? state_t(V_MIN) : Vmax[j][grp];
                    ap_uint<CNT_BITS> cnt = first ? ap_uint<CNT_BITS>(0) : Cnt[j][grp];
                    const ap_uint<REF_BITS> ref = first ? ap_uint<REF_BITS>(0) : Ref[j][grp];
                    ap_uint<8> r = ref.range(7, 0);
                    bool at_reset = ref[8];
                    ap_int<33> in = x;
                    if (current) {
                        const ap_int<40> ci = rmul(beta, cur) + x;
                        iclip[j] = clips(ci);
                        cur = sat_state(ci);
                        in = cur;
                    }
                    bool sp = false;
                    if (r > 0) {
                        r--;
                    } else {
                        const ap_int<34> av = at_reset ? rv : ap_int<34>(rmul(alpha, v));
                        const ap_int<40> vi = av + in;
                        vclip[j] = clips(vi);
                        v = sat_state(vi);
                        at_reset = false;
                        vmax = v > vmax ? v : vmax;
                        sp = v >= c.theta;
                        if (sp) {
                            if (subtract) v = sat_state(v - c.theta);
                            else at_reset = true;  // V = v_reset
                            r = c.refractory;
                        }
                    }
                    sp = sp && live;
                    Vs[j][grp] = v;
                    Is[j][grp] = cur;
                    Vmax[j][grp] = vmax;
                    Cnt[j][grp] = cnt + (sp ? 1 : 0);
                    Ref[j][grp] = (ap_uint<REF_BITS>)(((unsigned)at_reset << 8) | r.to_uint());
                    mask[j] = sp;
                }
            }
        }
        if (state_it) {
            v_sat = v_sat || vclip != 0;  // dead lanes never clip: their input is 0
            i_sat = i_sat || iclip != 0;
            spk[t][grp] = mask;
            const bool last = grp + 1 == c.groups;
            if (emit) {  // pairs of groups into one 128-bit entry
                if (!(grp & 1) && !last) {
                    pend = mask;
                } else {
                    Event e;
                    e.lo = (grp & 1) ? pend : mask;
                    e.hi = (grp & 1) ? mask : ap_uint<64>(0);
                    e.q = grp >> 1;
                    e.eos = last;
                    if (e.lo != 0 || e.hi != 0 || last) LIF_EV_WRITE(e);
                }
            }
        }
        if (dl < pad_to) dl++;  // deliver and pad iterations, saturating (only dl < pad_to matters)
        if (ring_it) {
            cell = cell + 1 == K ? 0 : cell + 1;
            const bool wrap = grp + 1 == c.groups;
            grp = wrap ? 0u : grp + 1;
            if (deliver && wrap) m = m & (ap_uint<64>)(m - 1);  // the spike is delivered
            if (upd && wrap) {
                if (last_copy) {  // end of step
                    upd = false;
                    jc = 0;
                    dl = 0;
                    if (++t == T) break;
                } else {
                    jc++;
                }
            }
        }
    }
    return (v_sat ? LIF_SS_V_SAT : 0) | (i_sat ? LIF_SS_I_SAT : 0);
}
}  // namespace

void lif_delay_top(const lif_beat_t* net, const lif_beat_t* spikes_in, lif_beat_t* out,
                   uint32_t net_words, uint32_t n_steps, uint32_t batch) {
#pragma HLS INTERFACE m_axi port=net offset=slave bundle=gmem depth=LIF_DEPTH_NET
#pragma HLS INTERFACE m_axi port=spikes_in offset=slave bundle=gmem depth=LIF_DEPTH_IN
#pragma HLS INTERFACE m_axi port=out offset=slave bundle=gmem depth=LIF_DEPTH_OUT
#pragma HLS INTERFACE s_axilite port=net bundle=control
#pragma HLS INTERFACE s_axilite port=spikes_in bundle=control
#pragma HLS INTERFACE s_axilite port=out bundle=control
#pragma HLS INTERFACE s_axilite port=net_words bundle=control
#pragma HLS INTERFACE s_axilite port=n_steps bundle=control
#pragma HLS INTERFACE s_axilite port=batch bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS ARRAY_PARTITION variable=syn complete dim=1
#pragma HLS ARRAY_PARTITION variable=ring complete dim=1
#pragma HLS ARRAY_PARTITION variable=Vs complete dim=1
#pragma HLS ARRAY_PARTITION variable=Is complete dim=1
#pragma HLS ARRAY_PARTITION variable=Vmax complete dim=1
#pragma HLS ARRAY_PARTITION variable=Cnt complete dim=1
#pragma HLS ARRAY_PARTITION variable=Ref complete dim=1
#pragma HLS ARRAY_PARTITION variable=spk cyclic factor=2 dim=2
#pragma HLS BIND_STORAGE variable=hdrb type=ram_1p impl=lutram
#pragma HLS BIND_STORAGE variable=syn type=ram_1p impl=uram
#pragma HLS BIND_STORAGE variable=ring type=ram_s2p impl=bram
#pragma HLS BIND_STORAGE variable=Vs type=ram_s2p impl=lutram
#pragma HLS BIND_STORAGE variable=Is type=ram_s2p impl=lutram
#pragma HLS BIND_STORAGE variable=Vmax type=ram_s2p impl=lutram
#pragma HLS BIND_STORAGE variable=Cnt type=ram_s2p impl=lutram
#pragma HLS BIND_STORAGE variable=Ref type=ram_s2p impl=lutram
#pragma HLS BIND_STORAGE variable=spk type=ram_1p impl=bram
#pragma HLS STREAM variable=evq depth=EV_DEPTH
#pragma HLS BIND_STORAGE variable=evq type=fifo impl=bram
    // Load: every beat of the net buffer; the first HDR_BEATS to hdrb, synapse words (from
    // the first beat after the layer table) gathered per row in registers, so each URAM
    // bank gets one whole-word write per row, with compile-time bank and field indices.
    const uint32_t beats = net_words <= (uint32_t)LIF_MAX_NET_WORDS ? (net_words + 3) / 4 : 0;
    uint32_t P4 = HDR_BEATS;  // first synapse beat
    uint32_t q = 0, r = 0;    // beat within the synapse row, row
    ap_uint<SYN_BITS> rowbuf[L - 4];  // lanes 0..L-5 of the row; the last beat brings the rest
#pragma HLS ARRAY_PARTITION variable=rowbuf complete dim=0
LOAD:
    for (uint32_t b = 0; b < beats; b++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=65600
        LIF_TRIP(LOAD);
        const lif_beat_t x = net[b];
        if (b == 0) {
            const uint32_t nl = x.range(63, 32).to_uint();
            P4 = (nl >= 1 && nl <= (uint32_t)LIF_MAX_LAYERS) ? lif_hdr_words(nl) / 4 : (uint32_t)HDR_BEATS;
        }
        if (b < (uint32_t)HDR_BEATS) hdrb[b] = x;
        if (b >= P4) {
            for (int j = 0; j < L - 4; j++)
                if (q == (uint32_t)(j / 4)) rowbuf[j] = x.range(32 * (j % 4) + SYN_BITS - 1, 32 * (j % 4));
            if (q == ROW_BEATS - 1) {
                if (r < (uint32_t)SYN_ROWS) {
                    for (int k = 0; k < SYN_BANKS; k++) {
                        ap_uint<SYN_WORD_BITS> word = 0;
                        for (int f = 0; f < SYN_PER_WORD; f++) {
                            const int j = SYN_PER_WORD * k + f;
                            if (j < L)
                                word.range(SYN_BITS * f + SYN_BITS - 1, SYN_BITS * f) =
                                    j < L - 4 ? rowbuf[j < L - 4 ? j : 0]
                                              : (ap_uint<SYN_BITS>)x.range(32 * (j % 4) + SYN_BITS - 1, 32 * (j % 4));
                        }
                        syn[k][r] = word;
                    }
                }
                r++;
                q = 0;
            } else {
                q++;
            }
        }
    }
    LifNet n;
    const auto hdr_word = [](uint32_t i) -> uint32_t {
        return i < (uint32_t)LIF_MAX_HDR_WORDS ? (uint32_t)hdrb[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)) : 0u;
    };
    if (!lif_parse(hdr_word, beats ? net_words : 0, n_steps, batch, n)) {
        lif_beat_t bad = 0;
        bad.range(31, 0) = LIF_ST_BAD_NET;
        out[0] = bad;
        return;
    }
    out[0] = 0;
    const uint32_t T = n_steps, in_rb = lif_row_beats(n.n_in), in_beats = T * in_rb;
    const uint32_t tail = n.n_in % LIF_BEAT_BITS;  // inputs in a row's last beat (0: all 128)
    const lif_beat_t tail_mask = tail ? (lif_beat_t)(((lif_beat_t)1 << tail) - 1) : ~(lif_beat_t)0;
    uint32_t in_ofs = 0, ob = 1;  // next input beat, next out beat
SAMPLES:
    for (uint32_t s = 0; s < batch; s++) {
#pragma HLS LOOP_TRIPCOUNT max=64
        uint32_t k = 0;
    IN_SCAN:
        for (uint32_t it = 0; it < in_beats; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=8192
            LIF_TRIP(IN_SCAN);
            lif_beat_t x = spikes_in[in_ofs + it];
            const bool last = k == in_rb - 1;
            if (last) x &= tail_mask;  // raster padding bits are not inputs
            if (x != 0 || last) {
                Event e;
                e.lo = x.range(63, 0);
                e.hi = x.range(127, 64);
                e.q = k;
                e.eos = last;
                LIF_EV_WRITE(e);
            }
            k = last ? 0 : k + 1;
        }
        in_ofs += in_beats;
        lif_beat_t status = 0;
        for (uint32_t l = 0; l < n.n_layers; l++) {
            const LifLayerCfg& c = n.layer[l];
            const uint32_t st = run_layer(c, (c.syn_ofs - n.hdr_words) / L, T, l + 1 < n.n_layers);
            status.range(32 * l + 31, 32 * l) = st;
            const uint32_t rb = lif_row_beats(c.n_out);
            uint32_t qq = 0, tt = 0;
        STORE_SPK:
            for (uint32_t it = 0; it < T * rb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=8192
                LIF_TRIP(STORE_SPK);
                lif_beat_t o = 0;
                o.range(63, 0) = spk[tt][2 * qq];
                if (2 * qq + 1 < c.groups) o.range(127, 64) = spk[tt][2 * qq + 1];
                out[ob + it] = o;
                if (++qq == rb) {
                    qq = 0;
                    tt++;
                }
            }
            ob += T * rb;
            const uint32_t nb = lif_pad_words(c.n_out) / 4;
            uint32_t which = 0, q4 = 0;  // readout (counts, v_last, v_max), beat within it
        STORE_STATE:
            for (uint32_t it = 0; it < 3 * nb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=768
                LIF_TRIP(STORE_STATE);
                // neuron 4 * q4 + w is lane 4 * (q4 % 16) + w of group q4 / 16: word w reads
                // only lanes w, w + 4, ..., one read per state bank
                const uint32_t grp = q4 / (L / 4), k16 = q4 % (L / 4);
                lif_beat_t o = 0;
                for (int w = 0; w < 4; w++) {
                    uint32_t v = 0;
                    for (int kk = 0; kk < L / 4; kk++) {
                        const int lane = 4 * kk + w;
                        const uint32_t vlast = Ref[lane][grp][8] ? (uint32_t)c.vreset : (uint32_t)(int32_t)Vs[lane][grp];
                        const uint32_t cand = which == 0   ? (uint32_t)Cnt[lane][grp]
                                              : which == 1 ? vlast
                                                           : (uint32_t)(int32_t)Vmax[lane][grp];
                        if ((uint32_t)kk == k16) v = cand;
                    }
                    o.range(32 * w + 31, 32 * w) = 4 * q4 + w < c.n_out ? v : 0u;
                }
                out[ob + it] = o;
                if (++q4 == nb) {
                    q4 = 0;
                    which++;
                }
            }
            ob += 3 * nb;
        }
        out[ob++] = status;
    }
}
