// C-simulation bridge of lif_delay_top (see hls/common/spynq_csim.h). Scalars: n_steps, batch.
#include "lif_delay_kernel.h"
#define SPYNQ_CSIM_OUT_WORDS(word, net_words, s) lif_out_words(word, net_words, s[0], s[1])
#define SPYNQ_CSIM_TOP(net, in, out, net_words, s) lif_delay_top(net, in, out, net_words, s[0], s[1])
#define SPYNQ_CSIM_TRIPS lif_trips
#define SPYNQ_CSIM_LOOP_COUNT LIF_LOOP_COUNT
#include "spynq_csim.h"

// The C-simulation checks of lif_delay_top.cpp (lif_checks): ring and neuron-state reads
// closer to their last write than the declared DEPENDENCE distance, event FIFO writes at
// full depth, the largest FIFO occupancy; reset clears them.
extern uint64_t lif_checks[4];
extern "C" void lif_csim_checks(uint64_t* out, int reset) {
    for (int i = 0; i < 4; i++) {
        out[i] = lif_checks[i];
        if (reset) lif_checks[i] = 0;
    }
}
