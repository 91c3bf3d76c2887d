// LIF layer engine with delay buffers (seed 003: SNNWM eq. 1-5, axonal-delay speech,
// SpikeProp weights-and-delays, SpiNNaker 2 delays). One call runs a batch of input
// rasters through up to LIF_MAX_LAYERS fully connected LIF layers for T steps:
//   LOAD       net buffer -> layer table + on-chip synapse store (once per call)
//   per sample:
//     IN_SCAN  input raster rows -> spike events (128-bit masks; empty beats skipped)
//     per layer:
//       RUN    one flattened loop over all T steps; each iteration is one of
//                deliver  one input spike to LIF_LANES neurons (ring read-modify-write)
//                update   LIF_LANES neurons: integrate, fire, reset; output events
//                pad      (steps with fewer than LIF_MIN_STEP_ITERS update iterations)
//       STORE_SPK, STORE_STATE  readouts of the layer to `out`
// Events flow through one FIFO: a layer reads its input events from the head and
// appends its output events at the tail (an entry per non-empty lane group and one
// closing entry per step), so work grows with spikes, not n_in * T.
// The update order and formats are in lif_delay_config.h; the numpy twin is
// host/spynq/lif/golden.py.
#include <hls_stream.h>
#include "spynq_fixed.h"
#include "lif_delay_kernel.h"

#ifndef __SYNTHESIS__
uint64_t lif_trips[LIF_LOOP_COUNT];
#endif

namespace {
constexpr int L = LIF_LANES;
constexpr int G = LIF_MAX_GROUPS;
constexpr int RING = LIF_RING;
constexpr int SYN_ROWS = LIF_MAX_SYN / L;
constexpr int32_t V_MAX = (1 << (LIF_STATE_BITS - 1)) - 1;
constexpr int32_t V_MIN = -V_MAX - 1;
constexpr int EV_DEPTH = LIF_MAX_T * (2 * LIF_MAX_GROUPS + 1);
static_assert(LIF_MAX_N % LIF_LANES == 0, "layers are stored in whole lane groups");
static_assert((RING & (RING - 1)) == 0 && RING == (1 << LIF_DELAY_BITS), "ring index is a bit mask");
static_assert(LIF_MAX_IN <= 2048 && LIF_MAX_N <= 2048, "event base fits 11 bits");

struct Event {
    ap_uint<128> mask;  // spiking neurons base .. base+127
    ap_uint<11> base;
    bool eos;           // last entry of its step
};

// On-chip state, [lane][...] with the lane dimension partitioned.
uint32_t hdr[LIF_MAX_HDR_WORDS];
ap_uint<23> syn[L][SYN_ROWS];          // weight 15:0, delay 22:16
int32_t ring[L][G * RING];             // [lane][group * RING + slot]
int32_t Vs[L][G], Is[L][G], Vmax[L][G];
uint32_t Cnt[L][G];
ap_uint<8> Ref[L][G];
ap_uint<64> spk[LIF_MAX_T][G];         // output spikes of the current layer, per lane group
hls::stream<Event> evq;

uint32_t hdr_word(uint32_t i) {
#pragma HLS INLINE
    return i < (uint32_t)LIF_MAX_HDR_WORDS ? hdr[i] : 0u;
}

static inline int32_t sat_state(int64_t v) {
#pragma HLS INLINE
    return v > V_MAX ? V_MAX : v < V_MIN ? V_MIN : (int32_t)v;
}

static inline int64_t rmul(uint32_t a, int32_t v) {  // round(a * v), a in UQ0.16
#pragma HLS INLINE
    return ((int64_t)a * v + (1 << (LIF_DECAY_FRAC - 1))) >> LIF_DECAY_FRAC;  // < 2^48
}

// One sample, one layer: T steps of deliver / update / pad iterations.
void run_layer(const LifLayerCfg& c, uint32_t syn_row0, uint32_t T, bool emit) {
    // Forwarding window of the ring's read-modify-write (the dependence is declared
    // false below: a read must see the writes of the last LIF_FWD iterations).
    uint32_t fwd_addr[LIF_FWD][L];
    int32_t fwd_val[LIF_FWD][L];
    bool fwd_ok[LIF_FWD][L];
#pragma HLS ARRAY_PARTITION variable=fwd_addr complete dim=0
#pragma HLS ARRAY_PARTITION variable=fwd_val complete dim=0
#pragma HLS ARRAY_PARTITION variable=fwd_ok complete dim=0
    for (int f = 0; f < LIF_FWD; f++)
        for (int j = 0; j < L; j++) fwd_ok[f][j] = false;

    const uint32_t groups = c.groups;
    const bool subtract = c.flags & LIF_FL_SUBTRACT, current = c.flags & LIF_FL_CURRENT;
    static_assert(LIF_MIN_STEP_ITERS == 4, "the DEPENDENCE distance pragmas below say 4");
    const uint32_t upd_iters = groups > (uint32_t)LIF_MIN_STEP_ITERS ? groups : (uint32_t)LIF_MIN_STEP_ITERS;
    enum { DELIV = 0, UPD = 1 };
    int phase = DELIV;
    ap_uint<128> m = 0;
    uint32_t base = 0, g = 0, u = 0, t = 0;
    bool eos_pending = false;
    ap_uint<64> out_mask = 0;
RUN:
    for (;;) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=1100000
#pragma HLS DEPENDENCE variable=ring type=inter dependent=false
#pragma HLS DEPENDENCE variable=Vs type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=Is type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=Vmax type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=Cnt type=inter direction=RAW distance=4 dependent=true
#pragma HLS DEPENDENCE variable=Ref type=inter direction=RAW distance=4 dependent=true
        LIF_TRIP(RUN);
        if (phase == DELIV && m == 0) {
            if (eos_pending) {
                phase = UPD;
            } else {
                Event e = evq.read();
                m = e.mask;
                base = e.base;
                eos_pending = e.eos;
                if (m == 0) phase = UPD;  // an empty closing entry
            }
            if (phase == UPD) { eos_pending = false; u = 0; }
        }
        const bool deliver = phase == DELIV;
        const uint32_t grp = deliver ? g : u;
        const uint32_t i = base + spynq_ctz128(m);
        const uint32_t srow = syn_row0 + i * groups + grp;
        const bool first = t == 0;
        ap_uint<64> mask = 0;
        for (int j = 0; j < L; j++) {
            const bool live = grp * L + j < c.n_out && grp < groups;
            // the ring slot this lane touches
            ap_uint<23> sw = syn[j][deliver ? srow : 0];
            const uint32_t d = sw.range(22, 16).to_uint();
            const int32_t w = (int32_t)(int16_t)sw.range(15, 0).to_uint() * (1 << (LIF_V_FRAC - LIF_W_FRAC));
            const uint32_t slot = deliver ? ((t + d) & (RING - 1)) : (t & (RING - 1));
            const uint32_t addr = grp * RING + slot;
            const bool touch = deliver ? (live && t + d < T) : grp < groups;
            int32_t old = ring[j][addr];
            for (int f = LIF_FWD - 1; f >= 0; f--)  // newest (f = 0) wins
                if (fwd_ok[f][j] && fwd_addr[f][j] == addr) old = fwd_val[f][j];
            const int32_t nv = deliver ? old + w : 0;  // |slot| <= 2^29: no overflow
            if (touch) ring[j][addr] = nv;
            for (int f = LIF_FWD - 1; f > 0; f--) {
                fwd_ok[f][j] = fwd_ok[f - 1][j];
                fwd_addr[f][j] = fwd_addr[f - 1][j];
                fwd_val[f][j] = fwd_val[f - 1][j];
            }
            fwd_ok[0][j] = touch;
            fwd_addr[0][j] = addr;
            fwd_val[0][j] = nv;
            if (!deliver && grp < groups) {  // update: integrate, fire, reset
                const int32_t x = old;
                int32_t v = first ? 0 : Vs[j][grp], cur = first ? 0 : Is[j][grp];
                int32_t vmax = first ? V_MIN : Vmax[j][grp];
                uint32_t cnt = first ? 0 : Cnt[j][grp];
                uint32_t r = first ? 0 : Ref[j][grp].to_uint();
                int32_t in = x;
                if (current) {
                    cur = sat_state(rmul(c.beta, cur) + x);
                    in = cur;
                }
                bool s = false;
                if (r > 0) {
                    r--;
                } else {
                    v = sat_state(rmul(c.alpha, v) + in);
                    vmax = v > vmax ? v : vmax;
                    s = v >= c.theta;
                    if (s) {
                        v = subtract ? sat_state((int64_t)v - c.theta) : c.vreset;
                        r = c.refractory;
                    }
                }
                s = s && live;
                Vs[j][grp] = v;
                Is[j][grp] = cur;
                Vmax[j][grp] = vmax;
                Cnt[j][grp] = cnt + (s ? 1 : 0);
                Ref[j][grp] = r;
                mask[j] = s;
            }
        }
        if (deliver) {
            if (++g == groups) {
                g = 0;
                m = m & (ap_uint<128>)(m - 1);  // clear the delivered spike
            }
        } else {
            if (u < groups) {
                spk[t][u] = mask;
                const bool last = u == groups - 1;
                if (emit && (mask != 0 || last)) {
                    Event e;
                    e.mask = 0;
                    e.mask.range(63, 0) = mask;
                    e.base = u * L;
                    e.eos = last;
                    evq.write(e);
                }
            }
            if (++u == upd_iters) {  // end of step
                phase = DELIV;
                g = 0;
                if (++t == T) break;
            }
        }
    }
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
#pragma HLS BIND_STORAGE variable=syn type=ram_1p impl=uram
#pragma HLS BIND_STORAGE variable=ring type=ram_2p impl=bram
#pragma HLS STREAM variable=evq depth=EV_DEPTH
    // Load: every word of the net buffer; header words to hdr, synapse words (from the
    // first word after the layer table) to the lane-partitioned store.
    const uint32_t beats = net_words <= (uint32_t)LIF_MAX_NET_WORDS ? (net_words + 3) / 4 : 0;
    uint32_t P = LIF_MAX_HDR_WORDS;
LOAD:
    for (uint32_t b = 0; b < beats; b++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=65600
        LIF_TRIP(LOAD);
        lif_beat_t x = net[b];
        if (b == 0) {
            uint32_t nl = x.range(63, 32).to_uint();
            P = (nl >= 1 && nl <= (uint32_t)LIF_MAX_LAYERS) ? lif_hdr_words(nl) : (uint32_t)LIF_MAX_HDR_WORDS;
        }
        for (int w = 0; w < 4; w++) {
            const uint32_t k = 4 * b + w, v = x.range(32 * w + 31, 32 * w).to_uint();
            if (k < (uint32_t)LIF_MAX_HDR_WORDS) hdr[k] = v;
            if (k >= P && k - P < (uint32_t)LIF_MAX_SYN) syn[(k - P) % L][(k - P) / L] = v;
        }
    }
    LifNet n;
    if (!lif_parse(hdr_word, beats ? net_words : 0, n_steps, batch, n)) {
        lif_beat_t bad = 0;
        bad.range(31, 0) = LIF_ST_BAD_NET;
        out[0] = bad;
        return;
    }
    out[0] = 0;
    const uint32_t T = n_steps, in_rb = lif_row_beats(n.n_in);
    uint32_t ob = 1;  // next out beat
SAMPLES:
    for (uint32_t s = 0; s < batch; s++) {
#pragma HLS LOOP_TRIPCOUNT max=64
        uint32_t k = 0, t = 0;
    IN_SCAN:
        for (uint32_t it = 0; it < T * in_rb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=8192
            LIF_TRIP(IN_SCAN);
            lif_beat_t x = spikes_in[(uint64_t)s * T * in_rb + it];
            const bool last = k == in_rb - 1;
            if (x != 0 || last) {
                Event e;
                e.mask = x;
                e.base = k * LIF_BEAT_BITS;
                e.eos = last;
                evq.write(e);
            }
            if (++k == in_rb) { k = 0; t++; }
        }
        for (uint32_t l = 0; l < n.n_layers; l++) {
            const LifLayerCfg& c = n.layer[l];
            run_layer(c, (c.syn_ofs - n.hdr_words) / L, T, l + 1 < n.n_layers);
            const uint32_t rb = lif_row_beats(c.n_out);
            uint32_t q = 0, tt = 0;
        STORE_SPK:
            for (uint32_t it = 0; it < T * rb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=8192
                LIF_TRIP(STORE_SPK);
                lif_beat_t o = 0;
                o.range(63, 0) = spk[tt][2 * q];
                if (2 * q + 1 < c.groups) o.range(127, 64) = spk[tt][2 * q + 1];
                out[ob + it] = o;
                if (++q == rb) { q = 0; tt++; }
            }
            ob += T * rb;
            const uint32_t nb = lif_pad_words(c.n_out) / 4;
        STORE_STATE:
            for (uint32_t it = 0; it < 3 * nb; it++) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT max=768
                LIF_TRIP(STORE_STATE);
                const uint32_t which = it / nb, q4 = it % nb;
                lif_beat_t o = 0;
                for (int w = 0; w < 4; w++) {
                    const uint32_t j = 4 * q4 + w;
                    uint32_t v = 0;
                    if (j < c.n_out) {
                        const uint32_t lane = j % L, grp = j / L;
                        v = which == 0 ? Cnt[lane][grp] : which == 1 ? (uint32_t)Vs[lane][grp] : (uint32_t)Vmax[lane][grp];
                    }
                    o.range(32 * w + 31, 32 * w) = v;
                }
                out[ob + it] = o;
            }
            ob += 3 * nb;
        }
    }
}
