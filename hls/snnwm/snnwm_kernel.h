// SNNWM kernel: declarations and the net-buffer parser shared by the top function, the
// C-simulation bridge, the co-simulation adapter and the testbench.
#ifndef SNNWM_KERNEL_H
#define SNNWM_KERNEL_H
#include <stdint.h>
#include <ap_int.h>
#include "snnwm_config.h"
#include "spynq_limits.h"

typedef ap_uint<128> snnwm_beat_t;  // one m_axi beat: four 32-bit words, word 0 in bits 31:0

void snnwm_top(const snnwm_beat_t* net, const snnwm_beat_t* spikes_in, snnwm_beat_t* out,
               uint32_t net_words, uint32_t n_steps, uint32_t batch);

// Loop trip counters for C simulation only: spynq.snnwm.cycles is checked against the
// trips the code really makes. Names match the loop labels in snnwm_top.cpp.
// Designed schedule: X(loop label, II, pipeline depth in cycles) and why. spynq.hw.schedule
// reads it for the cycle models; a csynth report, when present, replaces II and depth.
// Designed from the code's dependences and Vitis' usual operator latencies at 187.5 MHz,
// not csynth-checked. Depths: m_axi loops carry the bus round trip (SPYNQ_MAXI_LATENCY = 64
// cycles, reads to the first beat, writes from the last beat to the write response).
#define SNNWM_LOOPS(X) \
    X(LOAD, 1, 70)        /* one beat per cycle: hdr words to the 4 banks of hdr by word position, the 4 W1 \
                             words as one 64-bit word into one URAM bank; depth: m_axi read latency */ \
    X(IN_LOAD, 1, 70)     /* one beat per cycle into the two banks of spk (word position); m_axi read latency */ \
    X(ACC, 1, 6)          /* 128 register adders; carried path one 25-bit add; depth: spk BRAM read 2, mask, \
                             popcount tree, add */ \
    X(NZ, 1, 4)           /* masks in registers, the next beat's mask prefetched: the carried path is a \
                             128-bit clear-lowest-bit, a zero test and a 2:1 mux; depth: priority encoder, \
                             128:1 read of xs, nzi/nzv write */ \
    X(MAC, 1, 12)         /* 64 lanes x one 25x16 DSP multiply; carried path one 50-bit add per lane; depth: \
                             nzi/nzv BRAM read 2, row address (shift-add) 1, URAM read 3, DSP 3, add 1, \
                             round/clip and Ic write 2 */ \
    X(UPD, 1, 7)          /* V recurrence over SNNWM_VREGS = 4 interleaved lane groups (distance 4): one \
                             17x24 DSP multiply (2 cycles, rounding on its post-adder), 33-bit add and \
                             saturate 1, theta compare 1 = 4 cycles; depth: LUTRAM read 1 + 4 + writes 2 */ \
    X(STORE_SPK, 1, 70)   /* one beat per cycle (counts beat, then two spk banks); depth: write response */ \
    X(STORE_STATE, 1, 70) /* four words per beat from four banks fixed by word position (lane % 4); \
                             depth: write response */ \
    X(STORE_OUT, 1, 70)   /* counts beat, then four Ic banks fixed by word position; depth: write response */
// Multipliers (signed operand widths): X(loop, instances, a bits, b bits) /* what */. Every
// other product in the kernel is by a constant or written as shift-adds (snnwm_mul_small).
#define SNNWM_MULS(X) \
    X(MAC, SNNWM_LANES, 25, 16)  /* x_i * w1_ij: x 25-bit signed, w1 Q3.12 16-bit */ \
    X(UPD, SNNWM_LANES, 17, 24)  /* alpha * V: alpha UQ0.16 (17 signed), V 24-bit state */ \
    X(STAGES, 1, 17, 32)         /* alpha * v_rest once per stage: the decayed reset value */ \
    X(LOAD, 1, 18, SNNWM_SAMPLE_BEAT_BITS + 1) /* snnwm_parse: out beats batch ap_uint<17> * beats per sample, once per call */
#define SNNWM_LOOP_ENUM(name, ii, depth) SNNWM_LOOP_##name,
enum SnnwmLoop { SNNWM_LOOPS(SNNWM_LOOP_ENUM) SNNWM_LOOP_COUNT };
#ifndef __SYNTHESIS__
extern uint64_t snnwm_trips[SNNWM_LOOP_COUNT];
#define SNNWM_TRIP(name) (snnwm_trips[SNNWM_LOOP_##name]++)
#else
#define SNNWM_TRIP(name)
#endif

constexpr int SNNWM_MAX_NET_WORDS = SNNWM_MAX_HDR_WORDS + SNNWM_MAX_SYN;
// m_axi depth= of each port, in beats: what the Vitis testbench allocates per port
// (hls/common/spynq_tb.h) and the most a test-vector case may use; Vitis cosim copies
// this many beats per call, so a depth above the allocation would read past it.
constexpr int SNNWM_DEPTH_NET = (SNNWM_MAX_NET_WORDS + 3) / 4;
constexpr int SNNWM_DEPTH_IN = 65536;
constexpr int SNNWM_DEPTH_OUT = 65536;

struct SnnwmStageCfg {
    uint32_t n_in, n_out, mode, taps, alpha, w1_ofs, w2_ofs, groups;
    int32_t theta, vrest;
};

struct SnnwmNet {
    uint32_t n_layers, readout, n_stages, n_in, hdr_words;  // hdr_words: P, the first W1 word
    SnnwmStageCfg stage[SNNWM_MAX_STAGES];
};

// a * b for a small b (< 2^bits) as shift-adds: loop bounds and addresses, no DSP.
template <int bits>
static inline uint32_t snnwm_mul_small(uint32_t a, uint32_t b) {
#pragma HLS INLINE
    uint32_t r = 0;
    for (int k = 0; k < bits; k++) {
#pragma HLS UNROLL
        if ((b >> k) & 1) r += a << k;
    }
    return r;
}
constexpr int SNNWM_GROUP_BITS = 5;  // bits of a lane-group count (<= SNNWM_MAX_N / SNNWM_LANES = 16)
static_assert(SNNWM_MAX_N / SNNWM_LANES < (1 << SNNWM_GROUP_BITS), "group counts fit SNNWM_GROUP_BITS");

static inline uint32_t snnwm_pad_words(uint32_t n) { return (n + 3) / 4 * 4; }
static inline uint32_t snnwm_groups(uint32_t n) { return (n + SNNWM_LANES - 1) / SNNWM_LANES; }
static inline uint32_t snnwm_row_beats(uint32_t n) { return (n + SNNWM_BEAT_BITS - 1) / SNNWM_BEAT_BITS; }
// Beats of one sample's readouts of one stage: the counts beat, then spike rows, v_last,
// v_max (layer) or o (readout).
static inline uint32_t snnwm_stage_out_beats(uint32_t n, uint32_t T, bool readout) {
    return 1 + (readout ? snnwm_pad_words(n) / 4 : T * snnwm_row_beats(n) + 2 * (snnwm_pad_words(n) / 4));
}
// Sizes in 32-bit counters, proven by the limits: one sample's out beats (below) and the
// input beat offset batch * T * row beats. Only the whole out buffer, batch x a sample's
// beats, can pass 2^32 words: snnwm_out_beats counts it in 64 bits and snnwm_parse
// rejects a call past SPYNQ_MAX_OUT_WORDS.
constexpr int SNNWM_MAX_SAMPLE_OUT_BEATS =
    SNNWM_MAX_LAYERS * (1 + SNNWM_MAX_T * ((SNNWM_MAX_N + SNNWM_BEAT_BITS - 1) / SNNWM_BEAT_BITS) +
                        2 * ((SNNWM_MAX_N + 3) / 4)) + 1 + (SNNWM_MAX_N + 3) / 4 + SNNWM_STATUS_WORDS / 4;
static_assert(SNNWM_STATUS_WORDS % 4 == 0 && SNNWM_MAX_STAGES <= SNNWM_STATUS_WORDS, "status: whole beats, a word per stage");
constexpr int SNNWM_SAMPLE_BEAT_BITS = 20;  // holds SNNWM_MAX_SAMPLE_OUT_BEATS (asserted)
static_assert(SNNWM_MAX_SAMPLE_OUT_BEATS < (1 << SNNWM_SAMPLE_BEAT_BITS), "a sample's out beats fit SNNWM_SAMPLE_BEAT_BITS");
static_assert((uint64_t)SNNWM_MAX_BATCH * SNNWM_MAX_T * ((SNNWM_MAX_IN + SNNWM_BEAT_BITS - 1) / SNNWM_BEAT_BITS) <
                  (1ull << 32), "input beat offsets fit 32 bits");
static_assert(SNNWM_MAX_BATCH < (1 << 17), "batch fits the 17-bit factor of the out-beat product");

// Beats the kernel writes to `out` for a call snnwm_parse accepts: the header beat plus
// every sample's readouts and status beats. Only for stages and arguments snnwm_parse has checked (batch <=
// SNNWM_MAX_BATCH, a sample's beats < 2^SNNWM_SAMPLE_BEAT_BITS): a 17 x 20-bit product (SNNWM_MULS).
static inline uint64_t snnwm_out_beats(const SnnwmNet& n, uint32_t n_steps, uint32_t batch) {
    uint32_t per = SNNWM_STATUS_WORDS / 4;
    for (uint32_t k = 0; k < n.n_stages; k++)
        per += snnwm_stage_out_beats(n.stage[k].n_out, n_steps, n.stage[k].mode == (uint32_t)SNNWM_MODE_READOUT);
    return 1 + ((ap_uint<17>)batch * (ap_uint<SNNWM_SAMPLE_BEAT_BITS>)per).to_uint64();
}

// Parse and validate. `word(i)` returns net word i. Returns false where the kernel writes
// SNNWM_ST_BAD_NET (same rules as spynq.snnwm.golden.parse_net).
template <class Word>
bool snnwm_parse(Word word, uint32_t net_words, uint32_t n_steps, uint32_t batch, SnnwmNet& n) {
    if (net_words < (uint32_t)SNNWM_HDR_WORDS || net_words > (uint32_t)SNNWM_MAX_NET_WORDS) return false;
    if (word(0) != (uint32_t)SNNWM_MAGIC) return false;
    n.n_layers = word(SNNWM_H_N_LAYERS);
    n.n_in = word(SNNWM_H_N_IN);
    n.hdr_words = word(SNNWM_H_P);
    n.readout = word(SNNWM_H_READOUT);
    if (n.n_layers > (uint32_t)SNNWM_MAX_LAYERS || n.readout > 1 || n.n_layers + n.readout < 1 || n.n_in < 1 ||
        n.n_in > (uint32_t)SNNWM_MAX_IN)
        return false;
    n.n_stages = n.n_layers + n.readout;
    const uint32_t table_end = SNNWM_HDR_WORDS + n.n_stages * SNNWM_STAGE_WORDS, P = n.hdr_words;
    if (P % 4 || P < table_end || P > (uint32_t)SNNWM_MAX_HDR_WORDS || P > net_words) return false;
    if (n_steps < 1 || n_steps > (uint32_t)SNNWM_MAX_T || batch > (uint32_t)SNNWM_MAX_BATCH) return false;
    uint32_t prev = n.n_in;
    for (uint32_t k = 0; k < n.n_stages; k++) {
        const uint32_t b = SNNWM_HDR_WORDS + k * SNNWM_STAGE_WORDS;
        SnnwmStageCfg& c = n.stage[k];
        c.n_in = word(b + SNNWM_SF_N_IN);
        c.n_out = word(b + SNNWM_SF_N_OUT);
        c.mode = word(b + SNNWM_SF_MODE);
        c.taps = word(b + SNNWM_SF_TAPS);
        c.alpha = word(b + SNNWM_SF_ALPHA);
        c.theta = (int32_t)word(b + SNNWM_SF_THETA);
        c.vrest = (int32_t)word(b + SNNWM_SF_VREST);
        c.w1_ofs = word(b + SNNWM_SF_W1_OFS);
        c.w2_ofs = word(b + SNNWM_SF_W2_OFS);
        const bool is_ro = k == n.n_stages - 1 && n.readout;
        if (c.n_in != prev || c.n_out < 1 || c.n_out > (uint32_t)SNNWM_MAX_N) return false;
        if ((c.mode == (uint32_t)SNNWM_MODE_READOUT) != is_ro || c.mode > (uint32_t)SNNWM_MODE_READOUT) return false;
        c.groups = snnwm_groups(c.n_out);
        // n_in and groups are bounded here, so n_words < 2^21
        const uint64_t n_words = (uint64_t)snnwm_mul_small<SNNWM_GROUP_BITS>(c.n_in, c.groups) * SNNWM_LANES;
        const uint32_t max_taps = is_ro ? SNNWM_MAX_K : SNNWM_MAX_L;
        if (c.taps < 1 || c.taps > max_taps || c.w2_ofs < table_end || (uint64_t)c.w2_ofs + c.taps > P ||
            c.w1_ofs < P || (c.w1_ofs - P) % SNNWM_LANES || (uint64_t)c.w1_ofs + n_words > net_words ||
            (uint64_t)(c.w1_ofs - P) + n_words > (uint64_t)SNNWM_MAX_SYN || (c.alpha >> 16))
            return false;
        prev = c.n_out;
    }
    // the whole out buffer: at most SPYNQ_MAX_OUT_WORDS words (counted in 64 bits)
    return 4 * snnwm_out_beats(n, n_steps, batch) <= (uint64_t)SPYNQ_MAX_OUT_WORDS;
}

// Words the kernel writes: every beat of a call snnwm_parse accepts, else the status beat.
template <class Word>
uint64_t snnwm_out_words(Word word, uint32_t net_words, uint32_t n_steps, uint32_t batch) {
    SnnwmNet n;
    if (!snnwm_parse(word, net_words, n_steps, batch, n)) return 4;
    return 4 * snnwm_out_beats(n, n_steps, batch);
}
#endif
