// SNNWM kernel: declarations and the net-buffer parser shared by the top function, the
// C-simulation bridge, the co-simulation adapter and the testbench.
#ifndef SNNWM_KERNEL_H
#define SNNWM_KERNEL_H
#include <stdint.h>
#include <ap_int.h>
#include "snnwm_config.h"

typedef ap_uint<128> snnwm_beat_t;  // one m_axi beat: four 32-bit words, word 0 in bits 31:0

void snnwm_top(const snnwm_beat_t* net, const snnwm_beat_t* spikes_in, snnwm_beat_t* out,
               uint32_t net_words, uint32_t n_steps, uint32_t batch);

// Loop trip counters for C simulation only: spynq.snnwm.cycles is checked against the
// trips the code really makes. Names match the loop labels in snnwm_top.cpp.
// Designed schedule: X(loop label, II, pipeline depth in cycles) and why. spynq.hw.schedule
// reads it for the cycle models; a csynth report, when present, replaces II and depth.
// These are the figures the review of the first kernel argued (not yet csynth-checked).
#define SNNWM_LOOPS(X) \
    X(LOAD, 4, 70)        /* four words per beat into run-time-selected single-port URAM banks */ \
    X(IN_LOAD, 1, 70)     /* one beat per cycle; m_axi read latency */ \
    X(ACC, 1, 6)          /* 128 adders, one per input of the beat */ \
    X(NZ, 2, 4)           /* the mask reload from nzmask (a RAM) sits in the carried path */ \
    X(MAC, 1, 9)          /* one multiply-accumulate per lane */ \
    X(UPD, 2, 10)         /* V recurrence: 32x32 decay multiply, saturate, reset in 4 iterations */ \
    X(STORE_SPK, 1, 8)    /* one beat per cycle */ \
    X(STORE_STATE, 4, 8)  /* four words per beat, banks picked at run time */ \
    X(STORE_OUT, 4, 8)    /* four words per beat, banks picked at run time */
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

static inline uint32_t snnwm_pad_words(uint32_t n) { return (n + 3) / 4 * 4; }
static inline uint32_t snnwm_groups(uint32_t n) { return (n + SNNWM_LANES - 1) / SNNWM_LANES; }
static inline uint32_t snnwm_row_beats(uint32_t n) { return (n + SNNWM_BEAT_BITS - 1) / SNNWM_BEAT_BITS; }
// Beats of one sample's readouts of one stage: the counts beat, then spike rows, v_last,
// v_max (layer) or o (readout).
static inline uint32_t snnwm_stage_out_beats(uint32_t n, uint32_t T, bool readout) {
    return 1 + (readout ? snnwm_pad_words(n) / 4 : T * snnwm_row_beats(n) + 2 * (snnwm_pad_words(n) / 4));
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
        const uint64_t n_words = (uint64_t)c.n_in * c.groups * SNNWM_LANES;
        const uint32_t max_taps = is_ro ? SNNWM_MAX_K : SNNWM_MAX_L;
        if (c.taps < 1 || c.taps > max_taps || c.w2_ofs < table_end || (uint64_t)c.w2_ofs + c.taps > P ||
            c.w1_ofs < P || (c.w1_ofs - P) % SNNWM_LANES || (uint64_t)c.w1_ofs + n_words > net_words ||
            (uint64_t)(c.w1_ofs - P) + n_words > (uint64_t)SNNWM_MAX_SYN || (c.alpha >> 16))
            return false;
        prev = c.n_out;
    }
    return true;
}

// Beats the kernel writes to `out`: the header beat plus every sample's readouts.
static inline uint32_t snnwm_out_beats(const SnnwmNet& n, uint32_t n_steps, uint32_t batch) {
    uint32_t per = 0;
    for (uint32_t k = 0; k < n.n_stages; k++)
        per += snnwm_stage_out_beats(n.stage[k].n_out, n_steps, n.stage[k].mode == (uint32_t)SNNWM_MODE_READOUT);
    return 1 + batch * per;
}
template <class Word>
uint32_t snnwm_out_words(Word word, uint32_t net_words, uint32_t n_steps, uint32_t batch) {
    SnnwmNet n;
    if (!snnwm_parse(word, net_words, n_steps, batch, n)) return 4;
    return 4 * snnwm_out_beats(n, n_steps, batch);
}
#endif
