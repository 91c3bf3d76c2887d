// STM kernel: sizes, number formats and buffer layout.
// The one definition: the numpy golden model (spynq.stm.golden) reads these constants
// by parsing this file (spynq.hw.cconfig), so edit them here only.
#ifndef STM_CONFIG_H
#define STM_CONFIG_H

// ---- overlay parameters: sizes that trade FPGA resources. The overlay build passes
// -DNAME=value (spynq.hw.cconfig reads the defaults); buffer formats and every result are
// the same for every setting, only the limits and the speed change.
#ifndef STM_LANES
#define STM_LANES 16  // overlay parameter: parent samples per cycle in every likelihood loop (energy/exp units, BRAM banks)
#endif
#ifndef STM_EV_FUSE
#define STM_EV_FUSE 4  // overlay parameter: evidence children of a node evaluated per lane per cycle (energy units)
#endif
#ifndef STM_MAX_SAMPLES
#define STM_MAX_SAMPLES 4096  // overlay parameter: samples per hidden node (every per-sample array)
#endif
#ifndef STM_MAX_HIDDEN
#define STM_MAX_HIDDEN 16  // overlay parameter: hidden nodes (populations) per network (net buffer, zr and Pbuf depth)
#endif

// ---- sizes (static maxima; the host rejects larger networks before calling)
constexpr int STM_MAX_NODES = 16;      // hidden + observed nodes
constexpr int STM_MAX_STATES = 16;     // states of a discrete parent (parameter rows)
constexpr int STM_MAX_BATCH = 4096;    // evidence sets per call
constexpr int STM_SAMPLE_ALIGN = 16;   // sample blocks start on a multiple of 16 words (buffer format)
constexpr int STM_MAX_PARAM_WORDS = STM_MAX_STATES * STM_MAX_STATES;
// header, every node's table entry and parameters, the hidden nodes' aligned samples
constexpr int STM_MAX_NET_WORDS = (8 + STM_MAX_NODES * (8 + STM_MAX_PARAM_WORDS) +
                                   STM_MAX_HIDDEN * (STM_MAX_SAMPLES + STM_SAMPLE_ALIGN));

// ---- number formats (all 32-bit words on the bus)
// value:   continuous samples, evidence and Gaussian a/b parameters, Q16.16 signed
// rscale:  1/(sqrt(2)*std) of a Gaussian, UQ16.16
// energy:  -log likelihood up to a constant, UQ16.16, saturating at 2^32-1 (~65536)
// prob:    likelihoods, messages and weights, UQ1.31 (1.0 = 2^31)
constexpr int STM_VALUE_FRAC = 16;
constexpr int STM_RSCALE_FRAC = 16;
constexpr int STM_ENERGY_FRAC = 16;
constexpr int STM_PROB_FRAC = 31;
constexpr int STM_EXP_TABLE_BITS = 8;  // exp2 split into two tables of 2^8 entries
// status thresholds
constexpr int STM_UNDERFLOW_SUM = 1 << 16;  // sum of weights below this: < ~16 significant bits
constexpr int STM_SAT_GUARD_UNITS = 23;     // a minimum energy this close to the cap may hide
                                            // saturated neighbours that should weigh > 2^-31

// ---- net buffer layout (32-bit words)
constexpr int STM_MAGIC = 0x314D5453;  // "STM1" little-endian
constexpr int STM_HDR_WORDS = 8;       // magic, n_nodes, n_evidence, 5 reserved
constexpr int STM_NODE_WORDS = 8;      // per node, see NodeField
// node fields
constexpr int STM_NF_PARENT = 0;       // parent node index, 0xFFFFFFFF for the root
constexpr int STM_NF_SAMPLES = 1;      // population size (0 for observed nodes)
constexpr int STM_NF_KIND = 2;         // STM_KIND_* of the edge to the parent
constexpr int STM_NF_PSTATES = 3;      // parameter rows: parent states (1 if parent continuous)
constexpr int STM_NF_CSTATES = 4;      // child states (TABLE kind), else 0
constexpr int STM_NF_PARAMS = 5;       // word offset of the parameters in net
constexpr int STM_NF_SAMPLE_OFS = 6;   // word offset of the samples in net
constexpr int STM_NF_EVIDENCE = 7;     // evidence column, 0xFFFFFFFF if hidden
constexpr int STM_KIND_ROOT = 0;
constexpr int STM_KIND_GAUSS = 1;      // params per parent state: a, b, rscale, offset
constexpr int STM_KIND_TABLE = 2;      // params: energy[pstate][cstate]
constexpr int STM_GAUSS_WORDS = 4;

// ---- evidence buffer: one row of n_evidence words per evidence set, padded to whole beats
// ---- out buffer: one row per evidence set, rows padded to whole 16-byte beats;
//      if the net fails validation only the first beat is written (status STM_ST_BAD_NET)
constexpr int STM_OUT_HDR_WORDS = 8;   // status, underflow count, zero-sum node+1, 0, sum lo, sum hi, 0, 0
// The root weights are written unnormalised (UQ1.31); the host divides by their 64-bit sum.
constexpr int STM_ST_UNDERFLOW = 1;    // tiny likelihoods: a weight sum was below STM_UNDERFLOW_SUM
constexpr int STM_ST_ZERO_SUM = 2;     // a normalisation sum was 0: weights of this row are all 0
constexpr int STM_ST_SATURATED = 4;    // a minimum energy reached the cap: tail evidence, weights approximate
constexpr int STM_ST_BAD_NET = 8;      // the net buffer failed validation: nothing computed

#endif
