// STM importance-sampling kernel: declarations and the net-buffer parser shared by the
// top function, the C-simulation bridge and the co-simulation adapter.
#ifndef STM_KERNEL_H
#define STM_KERNEL_H
#include <stdint.h>
#include <ap_int.h>
#include "stm_config.h"
#include "spynq_limits.h"

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
// Designed, not csynth-checked: the IIs follow from one read per port per cycle and one
// operation on each loop-carried path; depths are hand estimates at 187.5 MHz (energy
// ~20 cycles: 3 cascaded 2-DSP products; exp ~12: 2 products and a table read).
#define STM_LOOPS(X) \
    X(LOAD, 1, 70)      /* one beat per cycle into one netbuf bank (banks hold whole beats); depth: m_axi read latency */ \
    X(PARAMS, 1, 4)     /* one net word per cycle into every lane copy of tpar, or a 128-bit gpar row every 4th word */ \
    X(PRE_MIN, 1, 24)   /* one gpar + one tpar read per energy unit; carried: one 32-bit compare (lanes min-reduced by a tree) */ \
    X(PRE_SUM, 1, 100)  /* same reads; carried: one 44-bit add (lanes summed by a tree); depth includes the pipelined 63/44-bit divider of 1/S_k */ \
    X(EV_READ, 1, 70)   /* one beat per cycle into registers; depth: m_axi read latency */ \
    X(EVID, 1, 30)      /* one gpar + one tpar read per fused unit, Ebuf read and write on two ports; carried: one 32-bit compare */ \
    X(WEIGHTS, 1, 24)   /* one exp and one 33x32 product per lane; carried: one 44-bit add and one count add (trees over lanes) */ \
    X(MSG, 1, 42)       /* one gpar + tpar read per unit, one zr and one wbuf read; carried: a 63-bit add per lane and one 63-bit compare */ \
    X(COMBINE, 1, 12)   /* msg read and write on two ports; carried: one 62-bit compare (lanes max-reduced by a tree) */ \
    X(RESCALE, 1, 4)    /* shifts only */ \
    X(STORE, 1, 70)     /* one beat per cycle from one wbuf row read; depth: write response latency */

// Multipliers: X(loop, instances, a bits, b bits), signed operand widths as computed
// (an unsigned n-bit value is n+1). Energy units: PRE_MIN, PRE_SUM, MSG one per lane,
// EVID STM_EV_FUSE per lane; exp units (spynq_exp_neg, two 32x32 products) in PRE_SUM,
// MSG and WEIGHTS, one per lane.
#define STM_MULS(X) \
    X(PRE_MIN, STM_LANES, 26, 32)  /* energy a*x: the factor that fits 26 signed bits times the other (else d saturates) */ \
    X(PRE_MIN, STM_LANES, 21, 33)  /* energy |d|*r: the factor below 2^20 times the other (else z saturates) */ \
    X(PRE_MIN, STM_LANES, 25, 25)  /* energy t*t, t < 2^24 */ \
    X(PRE_MIN, 1, 14, 14)          /* trip count nc * groups of PRE_MIN and PRE_SUM, once per edge */ \
    X(PRE_SUM, STM_LANES, 26, 32)  /* energy a*x */ \
    X(PRE_SUM, STM_LANES, 21, 33)  /* energy |d|*r */ \
    X(PRE_SUM, STM_LANES, 25, 25)  /* energy t*t */ \
    X(PRE_SUM, STM_LANES, 33, 33)  /* exp: z * log2(e) in Q31 (spynq_exp_neg, u32 x u32) */ \
    X(PRE_SUM, STM_LANES, 33, 33)  /* exp: table product 2^-hi * 2^-lo (u32 x u32) */ \
    X(EVID, STM_LANES * STM_EV_FUSE, 26, 32)  /* energy a*x */ \
    X(EVID, STM_LANES * STM_EV_FUSE, 21, 33)  /* energy |d|*r */ \
    X(EVID, STM_LANES * STM_EV_FUSE, 25, 25)  /* energy t*t */ \
    X(WEIGHTS, STM_LANES, 33, 33)  /* exp: z * log2(e) */ \
    X(WEIGHTS, STM_LANES, 33, 33)  /* exp: table product */ \
    X(WEIGHTS, STM_LANES, 33, 32)  /* u = exp * P >> 31: exp <= 2^31, P < 2^31 */ \
    X(MSG, STM_LANES, 26, 32)      /* energy a*x */ \
    X(MSG, STM_LANES, 21, 33)      /* energy |d|*r */ \
    X(MSG, STM_LANES, 25, 25)      /* energy t*t */ \
    X(MSG, STM_LANES, 33, 33)      /* exp: z * log2(e) */ \
    X(MSG, STM_LANES, 33, 33)      /* exp: table product */ \
    X(MSG, STM_LANES, 33, 33)      /* term cf * exp: both <= 2^31 */ \
    X(MSG, 1, 33, 33)              /* cf = u_k * (1/S_k): both <= 2^31, once per iteration */ \
    X(MSG, 1, 14, 14)              /* trip count nc * groups, once per message */ \
    X(COMBINE, STM_LANES, 32, 32)  /* P_p * renormalised message: both < 2^31 */ \
    X(LOAD, 1, 6, 6)               /* parse: parameter words pstates * cstates (both <= 16), once per node */

// Lookup tables instantiated per call site: X(loop, instances, depth, width).
#define STM_ROMS(X) \
    X(PRE_SUM, 2 * STM_LANES, 256, 32)  /* SPYNQ_EXP_HI and SPYNQ_EXP_LO of each lane's exp */ \
    X(WEIGHTS, 2 * STM_LANES, 256, 32)  /* same */ \
    X(MSG, 2 * STM_LANES, 256, 32)      /* same */

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
    uint32_t npar[STM_MAX_NODES];  // parameter words (0 for the root)
    uint32_t hid[STM_MAX_NODES];   // ordinal among the hidden nodes: row of the per-node arrays
};

static inline uint32_t stm_pad_words(uint32_t n) { return (n + 3) / 4 * 4; }
static inline uint32_t stm_out_row_words(uint32_t n_root) { return stm_pad_words(STM_OUT_HDR_WORDS + n_root); }

// Parse and validate the header and node table. `word(i)` returns net word i (a functor
// or lambda: Vitis HLS does not take function pointers).
// Returns false where the kernel flags STM_ST_BAD_NET (same rules as spynq.stm.golden.parse_net).
template <class Word>
bool stm_parse(Word word, uint32_t net_words, uint32_t batch, StmNet& n) {
    if (net_words < (uint32_t)STM_HDR_WORDS || net_words > (uint32_t)STM_MAX_NET_WORDS) return false;
    if (word(0) != (uint32_t)STM_MAGIC || batch > (uint32_t)STM_MAX_BATCH) return false;
    n.n_nodes = word(1);
    n.n_ev = word(2);
    if (n.n_nodes < 1 || n.n_nodes > (uint32_t)STM_MAX_NODES || n.n_ev >= n.n_nodes) return false;
    if ((uint64_t)STM_HDR_WORDS + (uint64_t)n.n_nodes * STM_NODE_WORDS > net_words) return false;
    uint32_t hidden = 0;
    // Structure (the same rules as golden.parse_net): every parent is hidden, so an
    // observed node has no children (a child of an observed node would have no parent
    // samples: 1/S_k divides by zero), and the observed nodes use each evidence column
    // 0..n_ev-1 once (the evidence row is n_ev words). Children come before their parent
    // (parent > i), so a node's bit in has_child is complete when the node is parsed.
    static_assert(STM_MAX_NODES <= 32, "node masks are 32-bit");
    uint32_t has_child = 0, columns = 0, observed_nodes = 0;
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
        n.npar[i] = 0;
        n.hid[i] = hidden;
        if (n.ns[i]) {
            if (++hidden > (uint32_t)STM_MAX_HIDDEN) return false;  // never at the default (= STM_MAX_NODES)
            if (n.ns[i] > (uint32_t)STM_MAX_SAMPLES || (uint64_t)n.so[i] + n.ns[i] > net_words ||
                n.so[i] % STM_SAMPLE_ALIGN)
                return false;
        }
        if (n.kind[i] != (uint32_t)STM_KIND_ROOT) {
            bool gauss = n.kind[i] == (uint32_t)STM_KIND_GAUSS;
            if (!gauss && n.kind[i] != (uint32_t)STM_KIND_TABLE) return false;
            if (n.ps[i] < 1 || n.ps[i] > (uint32_t)STM_MAX_STATES) return false;
            if (!gauss && (n.cs[i] < 1 || n.cs[i] > (uint32_t)STM_MAX_STATES)) return false;
            // ps, cs in 1..16 here: a 5 x 5-bit product (STM_MULS)
            uint32_t n_par = (uint32_t)(ap_uint<5>(n.ps[i]) * ap_uint<5>(gauss ? (uint32_t)STM_GAUSS_WORDS : n.cs[i]));
            if (n_par > (uint32_t)STM_MAX_PARAM_WORDS || (uint64_t)n.po[i] + n_par > net_words) return false;
            n.npar[i] = n_par;
            if (!(n.parent[i] > i && n.parent[i] < n.n_nodes)) return false;
        } else if (i != n.n_nodes - 1 || !n.ns[i]) {
            return false;  // the root is last and hidden
        }
        bool observed = n.ev[i] != STM_NONE;
        if (observed == (n.ns[i] != 0) || (observed && n.ev[i] >= n.n_ev)) return false;
        if (observed && (((has_child >> i) & 1u) || ((columns >> n.ev[i]) & 1u))) return false;
        if (observed) {
            columns |= 1u << n.ev[i];
            observed_nodes++;
        }
        if (n.kind[i] != (uint32_t)STM_KIND_ROOT) has_child |= 1u << n.parent[i];
    }
    return observed_nodes == n.n_ev;
}

// Words the kernel writes to `out`: whole rows, or one beat when it rejects the net. The
// limits keep every call below SPYNQ_MAX_OUT_WORDS (asserted), so the parser needs no size
// check; the count is 64-bit like the other kernels'.
static_assert((uint64_t)STM_MAX_BATCH * ((STM_OUT_HDR_WORDS + STM_MAX_SAMPLES + 3) / 4 * 4) <=
                  (uint64_t)SPYNQ_MAX_OUT_WORDS, "every STM call's out buffer fits SPYNQ_MAX_OUT_WORDS");
template <class Word>
uint64_t stm_out_words(Word word, uint32_t net_words, uint32_t batch) {
    StmNet n;
    if (!stm_parse(word, net_words, batch, n)) return 4;
    return (uint64_t)batch * stm_out_row_words(n.ns[n.n_nodes - 1]);
}
#endif
