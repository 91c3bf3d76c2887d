// SNNWM working-memory window unit (seed 003, "Spiking neural network with working
// memory", eq. 5-9, Algorithm 1, Fig. 4): sizes, number formats, buffer layout, update order.
// The one definition: the numpy golden model (spynq.snnwm.golden), the float reference
// (spynq.snnwm.reference) and the encoder (spynq.snnwm.encode) read these constants by
// parsing this file (spynq.hw.cconfig).
//
// ---- update order (every tier: cpu, golden, csim, cosim, fpga) ----
// A network is up to SNNWM_MAX_LAYERS fully connected SNNWM layers, optionally followed by
// the temporal-fusion readout. Layer l has W1 (n_in x n_out), W2 (K taps: dendrite delays
// 0..K-1) and a mode. Stages run one after another over all T steps (feed-forward).
// A stage is cut into segments; segment n covers steps t0 .. t0+len-1 and has an end e:
//   window   (Algorithm 1) K = L, segments of L steps: t0 = nL, len = min(L, T - t0),
//            e = nL + L - 1 (the nominal end: a last partial window is zero-padded)
//   overlap  (eq. 6, working memory overlapping) one segment per step: t0 = e = t, len = 1
//   readout  (eq. 9) one segment, e = T - 1, no neurons (len = 0)
// Per segment, all integers (s(t) = 0 outside 0..T-1):
//   1 collect   x_i = sum_k w2_k s_i(e - k)                 spikes are bits: additions only
//   2 product   I_j = clip32((sum_i x_i w1_ij + 2^7) >> 8)   one mat-vec with W1 per segment,
//               over the inputs with x_i != 0
//   3 neurons   (not readout) per neuron: V = Vmem (read once, at the segment start);
//               for each of the len steps t:
//                 integrate V = sat(round(alpha*V) + I_j); v_max = max(v_max, V)
//                 fire      s(t) = V >= theta
//                 reset     s: V = v_rest
//               Vmem = V (written once, at the segment end)
//   readout: o_j = I_j (Q.16), the value at step T-1; no spiking.
// So in window mode w2_k weights the spike k steps before the window's last step, every
// step of the window gets the same current (eq. 7-8: "feeds them into the spiking neuron
// for mem_len"), and with L = 1, W2 = [1.0] a layer is the per-step LIF engine
// (lif_delay_config.h, "zero" reset to v_rest, no delays, no current state) bit for bit.
// Initial state per sample: V = 0, v_max = V_MIN (Algorithm 1 line 10: V = Iseg[0]).
// Counters per sample and stage: mac = sum over segments of nnz(x) * n_out; add = spikes
// read by the collect step; v_reads = v_writes = segments * n_out (0 for the readout).
#ifndef SNNWM_CONFIG_H
#define SNNWM_CONFIG_H

// ---- sizes (static maxima; the host rejects larger networks before calling)
// Overlay parameters (an overlay build passes -DNAME=value; the formats and every result
// are the same for every setting, only the limits change). SNNWM_MAX_N and SNNWM_MAX_T
// may shrink, not grow (x is 25 bits and the MAC sums 50 bits for n <= 1024, K <= 257;
// static_asserts in snnwm_top.cpp); SNNWM_MAX_SYN costs 16 URAM per 262144 words (one
// 4096-deep bank per four lanes), so below that it saves no URAM.
#ifndef SNNWM_MAX_N
#define SNNWM_MAX_N 1024  // overlay parameter: inputs and neurons of a stage; spike rows (BRAM), nonzero lists, LUTRAM state
#endif
#ifndef SNNWM_MAX_T
#define SNNWM_MAX_T 256  // overlay parameter: time steps per sample (and W2 taps); spike rows (BRAM) and W2 table
#endif
#ifndef SNNWM_MAX_SYN
#define SNNWM_MAX_SYN 262144  // overlay parameter: W1 words on chip (rows padded to lane groups); URAM
#endif
constexpr int SNNWM_LANES = 64;          // neurons per cycle in product and neuron loops (the W1 row layout)
constexpr int SNNWM_MAX_IN = SNNWM_MAX_N;  // inputs of the first stage
constexpr int SNNWM_MAX_LAYERS = 4;      // window/overlap layers per call
constexpr int SNNWM_MAX_STAGES = 5;      // layers + the readout
constexpr int SNNWM_MAX_L = SNNWM_MAX_T;       // W2 taps of a window/overlap layer
constexpr int SNNWM_MAX_K = SNNWM_MAX_T + 1;   // W2 taps of the readout (delays 0..T)
constexpr int SNNWM_MAX_BATCH = 65536;   // samples per call
constexpr int SNNWM_VREGS = 4;           // working membrane registers per lane: the neuron
                                         // loop interleaves 4 lane groups (recurrence distance 4)
constexpr int SNNWM_BEAT_BITS = 128;

// ---- number formats (those of the LIF engine where they overlap)
// w1        Q3.12 signed 16-bit (|w| < 8)
// w2        Q3.12 signed 16-bit (1.0 exact); x_i Q.12, |x_i| <= 257 * 2^15 < 2^24
// product   x_i * w1_ij is Q.24; the sum (< 2^49) is rounded half up to Q.16 (>> 8) and
//           clipped to int32 (no effect on V: |V| < 2^23). With W2 = [1] it is w << 4,
//           the LIF engine's delivery.
// state     V int32 Q.16 saturated to SNNWM_STATE_BITS (Q7.16, |V| < 128)
// decay     alpha = exp(-1/tau) UQ0.16; round(a*V) = (a*V + 2^15) >> 16 (floor shift)
// threshold UQ7.16 (> 0), v_rest Q7.16; readout o Q15.16
constexpr int SNNWM_W_BITS = 16;
constexpr int SNNWM_W_FRAC = 12;
constexpr int SNNWM_W2_BITS = 16;
constexpr int SNNWM_W2_FRAC = 12;
constexpr int SNNWM_V_FRAC = 16;
constexpr int SNNWM_PROD_SHIFT = SNNWM_W_FRAC + SNNWM_W2_FRAC - SNNWM_V_FRAC;
constexpr int SNNWM_STATE_BITS = 24;
constexpr int SNNWM_DECAY_FRAC = 16;

// ---- net buffer layout (32-bit words)
constexpr int SNNWM_MAGIC = 0x314D5753;  // "SWM1" little-endian
constexpr int SNNWM_HDR_WORDS = 8;       // magic, n_layers, n_in, P, readout (0/1), 3 reserved
constexpr int SNNWM_H_N_LAYERS = 1;
constexpr int SNNWM_H_N_IN = 2;
constexpr int SNNWM_H_P = 3;             // first W1 word (a multiple of 4, <= SNNWM_MAX_HDR_WORDS)
constexpr int SNNWM_H_READOUT = 4;
constexpr int SNNWM_STAGE_WORDS = 12;    // per stage (layers, then the readout), fields below
constexpr int SNNWM_SF_N_IN = 0;
constexpr int SNNWM_SF_N_OUT = 1;
constexpr int SNNWM_SF_MODE = 2;         // SNNWM_MODE_*
constexpr int SNNWM_SF_TAPS = 3;         // K: W2 length
constexpr int SNNWM_SF_ALPHA = 4;        // UQ0.16
constexpr int SNNWM_SF_THETA = 5;        // UQ7.16
constexpr int SNNWM_SF_VREST = 6;        // Q7.16
constexpr int SNNWM_SF_W1_OFS = 7;       // word offset of the W1 rows (>= P, P + multiple of LANES)
constexpr int SNNWM_SF_W2_OFS = 8;       // word offset of the K W2 words (inside the header region)
constexpr int SNNWM_MODE_WINDOW = 0;
constexpr int SNNWM_MODE_OVERLAP = 1;
constexpr int SNNWM_MODE_READOUT = 2;
constexpr int SNNWM_MAX_HDR_WORDS =
    (SNNWM_HDR_WORDS + SNNWM_MAX_STAGES * SNNWM_STAGE_WORDS + SNNWM_MAX_LAYERS * SNNWM_MAX_L + SNNWM_MAX_K + 3) / 4 * 4;
// W2 words: sign-extended Q3.12. W1 rows: for input i, ceil(n_out / LANES) lane groups of
// LANES words, word j of group g is w1_ij (sign-extended Q3.12) for j = g*LANES + lane
// (0 past n_out).

// ---- raster buffers: per sample, per step, a row of n bits (bit i = word i/32 bit i%32)
// padded to whole 128-bit beats (as the LIF engine).
// ---- out buffer: one beat of header (status, 0, 0, 0), then per sample, per stage:
//   counts  one beat: mac, add, v_reads, v_writes (uint32)
//   layer:  spikes T rows of n_out bits, v_last n_out words (Q.16), v_max n_out words
//           (Q.16), each padded to whole beats
//   readout: o n_out words (Q15.16), padded to whole beats
// then the sample's two status beats: word k = the SNNWM_SS_* bits of stage k (0 past
// n_stages): what the kernel clipped in that stage for that sample (live neurons only).
// If the kernel rejects the arguments it writes only the header beat.
constexpr int SNNWM_OUT_HDR_WORDS = 4;
constexpr int SNNWM_COUNT_WORDS = 4;
constexpr int SNNWM_ST_BAD_NET = 1;
constexpr int SNNWM_STATUS_WORDS = 8;    // per sample; one word per stage (SNNWM_MAX_STAGES), whole beats
constexpr int SNNWM_SS_V_SAT = 1;        // the membrane V was saturated to the Q7.16 range
constexpr int SNNWM_SS_I_SAT = 2;        // the current I_j (the readout o) was clipped to int32

#endif
