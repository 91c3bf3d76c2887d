// C-simulation bridge of snnwm_top (see hls/common/spynq_csim.h). Scalars: n_steps, batch.
#include "snnwm_kernel.h"
#define SPYNQ_CSIM_OUT_WORDS(word, net_words, s) snnwm_out_words(word, net_words, s[0], s[1])
#define SPYNQ_CSIM_TOP(net, in, out, net_words, s) snnwm_top(net, in, out, net_words, s[0], s[1])
#define SPYNQ_CSIM_TRIPS snnwm_trips
#define SPYNQ_CSIM_LOOP_COUNT SNNWM_LOOP_COUNT
#include "spynq_csim.h"
