// C-simulation bridge of lif_delay_top (see hls/common/spynq_csim.h). Scalars: n_steps, batch.
#include "lif_delay_kernel.h"
#define SPYNQ_CSIM_OUT_WORDS(word, net_words, s) lif_out_words(word, net_words, s[0], s[1])
#define SPYNQ_CSIM_TOP(net, in, out, net_words, s) lif_delay_top(net, in, out, net_words, s[0], s[1])
#define SPYNQ_CSIM_TRIPS lif_trips
#define SPYNQ_CSIM_LOOP_COUNT LIF_LOOP_COUNT
#include "spynq_csim.h"
