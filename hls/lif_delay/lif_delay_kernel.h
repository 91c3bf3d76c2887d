// LIF delay kernel: declarations and the net-buffer parser shared by the top function,
// the C-simulation bridge, the co-simulation adapter and the testbench.
#ifndef LIF_DELAY_KERNEL_H
#define LIF_DELAY_KERNEL_H
#include <stdint.h>
#include <ap_int.h>
#include "lif_delay_config.h"
#include "spynq_limits.h"

typedef ap_uint<128> lif_beat_t;  // one m_axi beat: four 32-bit words, word 0 in bits 31:0

void lif_delay_top(const lif_beat_t* net, const lif_beat_t* spikes_in, lif_beat_t* out,
                   uint32_t net_words, uint32_t n_steps, uint32_t batch);

// Loop trip counters for C simulation only: spynq.lif.cycles is checked against the
// trips the code really makes. Names match the loop labels in lif_delay_top.cpp.
// Designed schedule: X(loop label, II, pipeline depth in cycles) and why. spynq.hw.schedule
// reads it for the cycle models; a csynth report, when present, replaces II and depth.
// Designed, not csynth-checked. Depths of loops that touch m_axi include its latency
// (SPYNQ_MAXI_LATENCY = 64): the read data of the first beat, or the write responses
// (BRESP) the loop waits for at its end.
#define LIF_LOOPS(X) \
    X(LOAD, 1, 72)        /* one beat per cycle: header beat to hdrb, synapse words gathered in a  \
                             row register, one whole-row write per URAM bank every 16 beats (bank \
                             and field indices compile-time); depth: read latency + pack + write */ \
    X(IN_SCAN, 1, 68)     /* one beat per cycle, at most one FIFO write; carried: two counters */ \
    X(RUN, 1, 18)         /* carried paths: the 64-bit event mask (zero test, reload mux,          \
                             m & (m-1)); the ring read-add-write, at most 3 cycles against the     \
                             distance LIF_RING_DIST = 4 the iteration order guarantees; the state  \
                             read-multiply(1 DSP)-add-saturate-reset-write, at most 7 cycles       \
                             against LIF_STATE_DIST = 8; depth: FIFO -> ctz -> row -> URAM (3) ->  \
                             ring BRAM (2) -> add -> decays (DSP 3) -> 2 x add/sat -> reset -> write */ \
    X(STORE_SPK, 1, 70)   /* one beat per cycle from two spike banks; depth: BRESP wait */ \
    X(STORE_STATE, 1, 70) /* one beat per cycle: word w reads only lanes w, w+4, ... (one read per \
                             state bank), a 16:1 mux picks the lane; depth: BRESP wait */
// Multipliers (resource ledger): X(loop, instances, a bits, b bits) signed operand widths.
#define LIF_MULS(X) \
    X(RUN, LIF_LANES, 24, 17)  /* round(alpha * V): V Q7.16 ap_int<24>, alpha UQ0.16 ap_uint<16> */ \
    X(RUN, LIF_LANES, 24, 17)  /* round(beta * I), current-based layers */ \
    X(RUN, 1, 12, 7)           /* synapse row of input i: i ap_uint<11> * groups ap_uint<6> */ \
    X(RUN, 1, 32, 17)          /* round(alpha * v_reset) (32 b): once per layer, before the loop */ \
    X(LOAD, 1, 13, 7)          /* lif_parse: n_in ap_uint<12> * groups ap_uint<6>, once per layer per call */ \
    X(LOAD, 1, 18, LIF_SAMPLE_BEAT_BITS + 1) /* lif_parse: out beats batch ap_uint<17> * beats per sample, once per call */
#define LIF_LOOP_ENUM(name, ii, depth) LIF_LOOP_##name,
enum LifLoop { LIF_LOOPS(LIF_LOOP_ENUM) LIF_LOOP_COUNT };
#ifndef __SYNTHESIS__
extern uint64_t lif_trips[LIF_LOOP_COUNT];
#define LIF_TRIP(name) (lif_trips[LIF_LOOP_##name]++)
#else
#define LIF_TRIP(name)
#endif

constexpr int LIF_MAX_HDR_WORDS = (LIF_HDR_WORDS + LIF_MAX_LAYERS * LIF_LAYER_WORDS + 3) / 4 * 4;
constexpr int LIF_MAX_NET_WORDS = LIF_MAX_HDR_WORDS + LIF_MAX_SYN;
// m_axi depth= of each port, in beats: what the Vitis testbench allocates per port
// (hls/common/spynq_tb.h) and the most a test-vector case may use; Vitis cosim copies
// this many beats per call, so a depth above the allocation would read past it.
constexpr int LIF_DEPTH_NET = (LIF_MAX_NET_WORDS + 3) / 4;
constexpr int LIF_DEPTH_IN = 65536;
constexpr int LIF_DEPTH_OUT = 65536;

struct LifLayerCfg {
    uint32_t n_in, n_out, flags, alpha, beta, refractory, syn_ofs, groups;
    int32_t theta, vreset;
};

struct LifNet {
    uint32_t n_layers, n_in, hdr_words;  // hdr_words: first synapse word (P)
    LifLayerCfg layer[LIF_MAX_LAYERS];
};

static inline uint32_t lif_pad_words(uint32_t n) { return (n + 3) / 4 * 4; }
static inline uint32_t lif_groups(uint32_t n) { return (n + LIF_LANES - 1) / LIF_LANES; }
static inline uint32_t lif_row_beats(uint32_t n) { return (n + LIF_BEAT_BITS - 1) / LIF_BEAT_BITS; }
static inline uint32_t lif_hdr_words(uint32_t n_layers) {
    return lif_pad_words(LIF_HDR_WORDS + n_layers * LIF_LAYER_WORDS);
}
// Beats of one sample's readouts of one layer: spike rows, then counts, v_last, v_max.
static inline uint32_t lif_layer_out_beats(uint32_t n, uint32_t T) {
    return T * lif_row_beats(n) + 3 * (lif_pad_words(n) / 4);
}
// Sizes in 32-bit counters, proven by the limits: one sample's out beats (below) and the
// input beat offset batch * T * row beats (the top's in_ofs). Only the whole out buffer,
// batch x a sample's beats, can pass 2^32 words: lif_out_beats counts it in 64 bits and
// lif_parse rejects a call past SPYNQ_MAX_OUT_WORDS.
constexpr int LIF_MAX_SAMPLE_OUT_BEATS =
    LIF_MAX_LAYERS * (LIF_MAX_T * ((LIF_MAX_N + LIF_BEAT_BITS - 1) / LIF_BEAT_BITS) + 3 * ((LIF_MAX_N + 3) / 4)) +
    LIF_STATUS_WORDS / 4;
static_assert(LIF_STATUS_WORDS == 4 && LIF_MAX_LAYERS <= LIF_STATUS_WORDS, "one status beat, a word per layer");
constexpr int LIF_SAMPLE_BEAT_BITS = 20;  // holds LIF_MAX_SAMPLE_OUT_BEATS (asserted)
static_assert(LIF_MAX_SAMPLE_OUT_BEATS < (1 << LIF_SAMPLE_BEAT_BITS), "a sample's out beats fit LIF_SAMPLE_BEAT_BITS");
static_assert((uint64_t)LIF_MAX_BATCH * LIF_MAX_T * ((LIF_MAX_IN + LIF_BEAT_BITS - 1) / LIF_BEAT_BITS) < (1ull << 32),
              "input beat offsets fit 32 bits");
static_assert(LIF_MAX_BATCH < (1 << 17), "batch fits the 17-bit factor of the out-beat product");

// Beats the kernel writes to `out` for a call lif_parse accepts: the header beat plus every
// sample's readouts and status beat. Only for layers and arguments lif_parse has checked (batch <=
// LIF_MAX_BATCH, a sample's beats < 2^LIF_SAMPLE_BEAT_BITS): a 17 x 20-bit product (LIF_MULS).
static inline uint64_t lif_out_beats(const LifNet& n, uint32_t n_steps, uint32_t batch) {
    uint32_t per = LIF_STATUS_WORDS / 4;
    for (uint32_t k = 0; k < n.n_layers; k++) per += lif_layer_out_beats(n.layer[k].n_out, n_steps);
    return 1 + ((ap_uint<17>)batch * (ap_uint<LIF_SAMPLE_BEAT_BITS>)per).to_uint64();
}

// Parse and validate. `word(i)` returns net word i. Returns false where the kernel writes
// LIF_ST_BAD_NET (same rules as spynq.lif.golden.parse_net).
template <class Word>
bool lif_parse(Word word, uint32_t net_words, uint32_t n_steps, uint32_t batch, LifNet& n) {
    if (net_words < (uint32_t)LIF_HDR_WORDS || net_words > (uint32_t)LIF_MAX_NET_WORDS) return false;
    if (word(0) != (uint32_t)LIF_MAGIC) return false;
    n.n_layers = word(1);
    n.n_in = word(2);
    if (n.n_layers < 1 || n.n_layers > (uint32_t)LIF_MAX_LAYERS || n.n_in < 1 || n.n_in > (uint32_t)LIF_MAX_IN)
        return false;
    n.hdr_words = lif_hdr_words(n.n_layers);
    if (net_words < n.hdr_words || n_steps < 1 || n_steps > (uint32_t)LIF_MAX_T || batch > (uint32_t)LIF_MAX_BATCH)
        return false;
    uint32_t prev = n.n_in;
    for (uint32_t k = 0; k < n.n_layers; k++) {
        const uint32_t b = LIF_HDR_WORDS + k * LIF_LAYER_WORDS;
        LifLayerCfg& L = n.layer[k];
        L.n_in = word(b + LIF_LF_N_IN);
        L.n_out = word(b + LIF_LF_N_OUT);
        L.flags = word(b + LIF_LF_FLAGS);
        L.alpha = word(b + LIF_LF_ALPHA);
        L.beta = word(b + LIF_LF_BETA);
        L.theta = (int32_t)word(b + LIF_LF_THETA);
        L.vreset = (int32_t)word(b + LIF_LF_VRESET);
        L.refractory = word(b + LIF_LF_REFRACTORY);
        L.syn_ofs = word(b + LIF_LF_SYN_OFS);
        if (L.n_in != prev || L.n_out < 1 || L.n_out > (uint32_t)LIF_MAX_N) return false;
        L.groups = lif_groups(L.n_out);
        // n_in <= 2048 (the previous layer's n_out, checked), groups <= 32: a narrow product
        const uint32_t n_words = (uint32_t)((ap_uint<12>)L.n_in * (ap_uint<6>)L.groups) * LIF_LANES;
        if (L.syn_ofs < n.hdr_words || (L.syn_ofs - n.hdr_words) % LIF_LANES ||
            (uint64_t)L.syn_ofs + n_words > net_words || L.refractory > (uint32_t)LIF_MAX_REFRACTORY ||
            (L.alpha >> 16) || (L.beta >> 16))
            return false;
        prev = L.n_out;
    }
    // the whole out buffer: at most SPYNQ_MAX_OUT_WORDS words (counted in 64 bits)
    return 4 * lif_out_beats(n, n_steps, batch) <= (uint64_t)SPYNQ_MAX_OUT_WORDS;
}

// Words the kernel writes: every beat of a call lif_parse accepts, else the status beat.
template <class Word>
uint64_t lif_out_words(Word word, uint32_t net_words, uint32_t n_steps, uint32_t batch) {
    LifNet n;
    if (!lif_parse(word, net_words, n_steps, batch, n)) return 4;
    return 4 * lif_out_beats(n, n_steps, batch);
}
#endif
