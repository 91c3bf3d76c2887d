// STM importance-sampling kernel: declarations and the net-buffer parser shared by the
// top function, the C-simulation bridge and the co-simulation adapter.
#ifndef STM_KERNEL_H
#define STM_KERNEL_H
#include <stdint.h>
#include <ap_int.h>
#include "stm_config.h"

typedef ap_uint<128> stm_beat_t;  // one m_axi beat: four 32-bit words, word 0 in bits 31:0

void stm_top(const stm_beat_t* net, const stm_beat_t* evidence, stm_beat_t* out,
             uint32_t net_words, uint32_t batch);

constexpr uint32_t STM_NONE = 0xFFFFFFFFu;
// m_axi depth= of each port, in beats: what the Vitis testbench allocates per port
// (hls/common/spynq_tb.h) and the most a test-vector case may use; Vitis cosim copies
// this many beats per call, so a depth above the allocation would read past it.
constexpr int STM_DEPTH_NET = (STM_MAX_NET_WORDS + 3) / 4;
constexpr int STM_DEPTH_IN = STM_MAX_BATCH * ((STM_MAX_NODES + 3) / 4);
constexpr int STM_DEPTH_OUT = 65536;

// Loop trip counters for C simulation only: the cycle model (spynq.stm.cycles) is checked
// against the trips the code really makes. Names match the loop labels in stm_top.cpp.
// Designed schedule: X(loop label, II, pipeline depth in cycles) and why. spynq.hw.schedule
// reads it for the cycle models; a csynth report, when present, replaces II and depth.
// These are the figures the review of the first kernel argued (not yet csynth-checked).
#define STM_LOOPS(X) \
    X(LOAD, 1, 70)       /* one beat per cycle; depth: m_axi read latency to the first beat */ \
    X(PARAMS, 1, 3)      /* one parameter word into every lane copy per cycle */ \
    X(PRE_MIN, 4, 16)    /* lpar is one single-port bank per lane read 4 times per Gaussian energy */ \
    X(PRE_SUM, 4, 28)    /* same lpar port conflict */ \
    X(PRE_RECIP, 1, 68)  /* one pipelined 64-bit divider */ \
    X(EV_READ, 1, 70)    /* one beat per cycle; m_axi read latency */ \
    X(EVID, 5, 22)       /* lpar conflict and a 16-long carried compare chain on emin */ \
    X(WEIGHTS, 1, 14)    /* one exp and one multiply per lane */ \
    X(MSG, 6, 34)        /* lpar conflict and a 16-long carried 64-bit compare chain on mmax */ \
    X(COMBINE, 6, 10)    /* 16-long carried 64-bit compare chain on pmax */ \
    X(RESCALE, 1, 4)     /* shifts only */ \
    X(STORE, 1, 70)      /* one beat per cycle; depth: write response latency */
#define STM_LOOP_ENUM(name, ii, depth) STM_LOOP_##name,
enum StmLoop { STM_LOOPS(STM_LOOP_ENUM) STM_LOOP_COUNT };
#ifndef __SYNTHESIS__
extern uint64_t stm_trips[STM_LOOP_COUNT];
#define STM_TRIP(name) (stm_trips[STM_LOOP_##name]++)
#else
#define STM_TRIP(name)
#endif

struct StmNet {
    uint32_t n_nodes, n_ev;
    uint32_t parent[STM_MAX_NODES], ns[STM_MAX_NODES], kind[STM_MAX_NODES], ps[STM_MAX_NODES];
    uint32_t cs[STM_MAX_NODES], po[STM_MAX_NODES], so[STM_MAX_NODES], ev[STM_MAX_NODES];
};

static inline uint32_t stm_pad_words(uint32_t n) { return (n + 3) / 4 * 4; }
static inline uint32_t stm_out_row_words(uint32_t n_root) { return stm_pad_words(STM_OUT_HDR_WORDS + n_root); }

// Parse and validate the header and node table. `word(i)` returns net word i.
// Returns false where the kernel flags STM_ST_BAD_NET (same rules as spynq.stm.golden.parse_net).
template <class Word>
bool stm_parse(Word word, uint32_t net_words, uint32_t batch, StmNet& n) {
    if (net_words < (uint32_t)STM_HDR_WORDS || net_words > (uint32_t)STM_MAX_NET_WORDS) return false;
    if (word(0) != (uint32_t)STM_MAGIC || batch > (uint32_t)STM_MAX_BATCH) return false;
    n.n_nodes = word(1);
    n.n_ev = word(2);
    if (n.n_nodes < 1 || n.n_nodes > (uint32_t)STM_MAX_NODES || n.n_ev >= n.n_nodes) return false;
    if ((uint64_t)STM_HDR_WORDS + (uint64_t)n.n_nodes * STM_NODE_WORDS > net_words) return false;
    for (uint32_t i = 0; i < n.n_nodes; i++) {
        uint32_t b = STM_HDR_WORDS + i * STM_NODE_WORDS;
        n.parent[i] = word(b + STM_NF_PARENT);
        n.ns[i] = word(b + STM_NF_SAMPLES);
        n.kind[i] = word(b + STM_NF_KIND);
        n.ps[i] = word(b + STM_NF_PSTATES);
        n.cs[i] = word(b + STM_NF_CSTATES);
        n.po[i] = word(b + STM_NF_PARAMS);
        n.so[i] = word(b + STM_NF_SAMPLE_OFS);
        n.ev[i] = word(b + STM_NF_EVIDENCE);
        if (n.ns[i]) {
            if (n.ns[i] > (uint32_t)STM_MAX_SAMPLES || (uint64_t)n.so[i] + n.ns[i] > net_words ||
                n.so[i] % STM_SAMPLE_ALIGN)
                return false;
        }
        if (n.kind[i] != (uint32_t)STM_KIND_ROOT) {
            bool gauss = n.kind[i] == (uint32_t)STM_KIND_GAUSS;
            if (!gauss && n.kind[i] != (uint32_t)STM_KIND_TABLE) return false;
            if (n.ps[i] < 1 || n.ps[i] > (uint32_t)STM_MAX_STATES) return false;
            if (!gauss && (n.cs[i] < 1 || n.cs[i] > (uint32_t)STM_MAX_STATES)) return false;
            uint64_t n_par = (uint64_t)n.ps[i] * (gauss ? STM_GAUSS_WORDS : n.cs[i]);
            if (n_par > (uint64_t)STM_MAX_PARAM_WORDS || n.po[i] + n_par > net_words) return false;
            if (!(n.parent[i] > i && n.parent[i] < n.n_nodes)) return false;
        } else if (i != n.n_nodes - 1 || !n.ns[i]) {
            return false;  // the root is last and hidden
        }
        bool observed = n.ev[i] != STM_NONE;
        if (observed == (n.ns[i] != 0) || (observed && n.ev[i] >= n.n_ev)) return false;
    }
    return true;
}

// Words the kernel writes to `out`: whole rows, or one beat when it rejects the net.
template <class Word>
uint32_t stm_out_words(Word word, uint32_t net_words, uint32_t batch) {
    StmNet n;
    if (!stm_parse(word, net_words, batch, n)) return 4;
    return batch * stm_out_row_words(n.ns[n.n_nodes - 1]);
}
#endif
