// C-simulation bridge of stm_top (see hls/common/spynq_csim.h). Scalars: batch.
#include "stm_kernel.h"
#define SPYNQ_CSIM_OUT_WORDS(word, net_words, s) stm_out_words(word, net_words, s[0])
#define SPYNQ_CSIM_TOP(net, in, out, net_words, s) stm_top(net, in, out, net_words, s[0])
#define SPYNQ_CSIM_TRIPS stm_trips
#define SPYNQ_CSIM_LOOP_COUNT STM_LOOP_COUNT
#include "spynq_csim.h"
