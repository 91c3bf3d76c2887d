// LIF layer engine with delay buffers: sizes, number formats, buffer layout, update order.
// The one definition: the numpy golden model (spynq.lif.golden) and the encoder
// (spynq.lif.encode) read these constants by parsing this file (spynq.hw.cconfig).
//
// ---- update order (every tier: cpu, golden, csim, cosim, fpga) ----
// Layers run one after another over all T steps (feed-forward: layer l at step t needs
// only layer l-1 at step t). Per layer, per step t:
//   1 deliver   every input spike (i, t) adds w_ij to ring slot (t + d_ij) mod D of
//               neuron j (d_ij = d_i for axonal delays, 0 without delays); deliveries
//               with t + d_ij >= T are dropped (never read).
//   2 integrate x = slot t mod D (then cleared); with a current state
//               I = sat(round(beta*I) + x), u = I; else u = x.
//               refractory (r > 0): r -= 1, V unchanged, no spike;
//               else V = sat(round(alpha*V) + u), v_max = max(v_max, V)
//   3 fire      s = V >= threshold
//   4 reset     s: V = v_reset ("zero" mode) or V = sat(V - threshold) ("subtract");
//               r = refractory
// Delay 0 therefore acts in the step of the spike (eq. 1 of the SNNWM paper).
// Initial state per sample: V = I = r = 0, v_max = V_MIN. Readouts: spikes, counts,
// V after the last step (v_last), v_max (largest integrated V, before reset).
#ifndef LIF_DELAY_CONFIG_H
#define LIF_DELAY_CONFIG_H

// ---- sizes (static maxima; the host rejects or splits larger networks before calling).
// Overlay parameters (-DNAME=value): the sizes that drive on-chip memory. The buffer
// formats and every result are the same for every setting; only the limits change.
constexpr int LIF_LANES = 64;            // neurons updated / synapses delivered per cycle
#ifndef LIF_MAX_IN
#define LIF_MAX_IN 1024  // overlay parameter: inputs of the first layer (event FIFO entries per step)
#endif
#ifndef LIF_MAX_N
#define LIF_MAX_N 1024  // overlay parameter: neurons of a layer (ring and state depth, spike rows)
#endif
constexpr int LIF_MAX_LAYERS = 4;
#ifndef LIF_MAX_T
#define LIF_MAX_T 1024  // overlay parameter: time steps per sample (spike rows, event FIFO depth)
#endif
constexpr int LIF_MAX_BATCH = 65536;     // samples per call
constexpr int LIF_RING = 128;            // ring slots D: delays 0..LIF_RING-1
#ifndef LIF_MAX_SYN
#define LIF_MAX_SYN 262144  // overlay parameter: synapse words on chip (rows padded to lane groups)
#endif
constexpr int LIF_MAX_GROUPS = LIF_MAX_N / LIF_LANES;
// Loop-carried distances the RUN loop guarantees by its iteration order (lif_delay_top.cpp):
constexpr int LIF_RING_DIST = 4;         // iterations between two accesses to one ring cell
constexpr int LIF_STATE_DIST = 8;        // iterations between two updates of one neuron's state
                                         // (a step has at least this many update iterations)
constexpr int LIF_BEAT_BITS = 128;

// ---- number formats
// weight:   Q3.12 signed 16-bit (|w| < 8); delivered into the ring as Q.16 (w << 4)
// ring:     int32 Q.16; at most one contribution per input neuron per slot, so
//           |slot| <= LIF_MAX_IN * 2^19 (2^29 by default, <= 2^30): never saturates
// state:    V and I Q7.16 saturated to LIF_STATE_BITS (|V| < 128); the kernel keeps them
//           in 24 bits (one DSP per decay multiply). After a "zero" reset V is v_reset as
//           the header gives it (32 bits, not clipped): the kernel holds that with a flag
// decay:    alpha, beta UQ0.16 (0 <= a < 1); round(a*V) = (a*V + 2^15) >> 16 (floor shift)
// threshold UQ7.16 (> 0), v_reset Q7.16, refractory steps 0..255
constexpr int LIF_W_BITS = 16;
constexpr int LIF_W_FRAC = 12;
constexpr int LIF_V_FRAC = 16;
constexpr int LIF_STATE_BITS = 24;
constexpr int LIF_DECAY_FRAC = 16;
constexpr int LIF_DELAY_SHIFT = 16;      // synapse word: weight bits 15:0, delay bits 22:16
constexpr int LIF_DELAY_BITS = 7;
constexpr int LIF_MAX_REFRACTORY = 255;

// ---- net buffer layout (32-bit words)
constexpr int LIF_MAGIC = 0x3146494C;    // "LIF1" little-endian
constexpr int LIF_HDR_WORDS = 8;         // magic, n_layers, n_in, 5 reserved
constexpr int LIF_LAYER_WORDS = 12;      // per layer, fields below
constexpr int LIF_LF_N_IN = 0;
constexpr int LIF_LF_N_OUT = 1;
constexpr int LIF_LF_FLAGS = 2;          // LIF_FL_* bits
constexpr int LIF_LF_ALPHA = 3;          // UQ0.16
constexpr int LIF_LF_BETA = 4;           // UQ0.16 (used if LIF_FL_CURRENT)
constexpr int LIF_LF_THETA = 5;          // UQ7.16
constexpr int LIF_LF_VRESET = 6;         // Q7.16
constexpr int LIF_LF_REFRACTORY = 7;
constexpr int LIF_LF_SYN_OFS = 8;        // word offset of the synapse rows in net (beat aligned)
constexpr int LIF_FL_SUBTRACT = 1;       // reset by subtraction (else to v_reset)
constexpr int LIF_FL_CURRENT = 2;        // current-based synapse (second leaky state)
// synapse rows: for input i, ceil(n_out / LANES) lane groups of LANES words, word j of
// group g is (w_ij & 0xFFFF) | d_ij << 16 for j = g*LANES + lane (0 past n_out).

// ---- raster buffers: per sample, per step, a row of n bits (bit i = word i/32 bit i%32)
// padded to whole 128-bit beats.
// ---- out buffer: one beat of header (status, 0, 0, 0), then per sample, per layer:
//   spikes  T rows of n_out bits (as above)
//   counts  n_out words, v_last n_out words (Q.16), v_max n_out words (Q.16), each padded
//           to whole beats
// then the sample's status beat: word l = the LIF_SS_* bits of layer l (0 past n_layers):
// what the kernel clipped in that layer for that sample. Nothing else can clip: the ring
// cannot (above), V - theta stays in range (theta > 0, V >= theta), counts < 2^16 > T.
// If the kernel rejects the arguments it writes only the header beat.
constexpr int LIF_OUT_HDR_WORDS = 4;
constexpr int LIF_ST_BAD_NET = 1;
constexpr int LIF_STATUS_WORDS = 4;      // per sample; one word per layer (LIF_MAX_LAYERS)
constexpr int LIF_SS_V_SAT = 1;          // the membrane V was saturated to the Q7.16 range
constexpr int LIF_SS_I_SAT = 2;          // the current state I was saturated (current-based layers)

#endif
