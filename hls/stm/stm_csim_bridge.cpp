// C ABI for the C-simulation backend (spynq.backends.csim): 32-bit word buffers in,
// m_axi beats for the HLS top function. Not part of the synthesized design.
#include "spynq_words.h"
#include "stm_kernel.h"

extern "C" uint32_t stm_csim_out_words(const uint32_t* net, uint32_t net_words, uint32_t batch) {
    return stm_out_words([&](uint32_t i) { return i < net_words ? net[i] : 0u; }, net_words, batch);
}

// Returns the number of words written to out (out must hold stm_csim_out_words()).
extern "C" uint32_t stm_csim_run(const uint32_t* net, uint32_t net_words, const uint32_t* ev, uint32_t ev_words,
                                 uint32_t batch, uint32_t* out) {
    uint32_t n_out = stm_csim_out_words(net, net_words, batch);
    std::vector<spynq_beat_t> nb = spynq_to_beats(net, net_words), eb = spynq_to_beats(ev, ev_words),
                              ob = spynq_to_beats(nullptr, 0, n_out / 4);
    stm_top(nb.data(), eb.data(), ob.data(), net_words, batch);
    for (uint32_t i = 0; i < n_out; i++) out[i] = spynq_word(ob.data(), i);
    return n_out;
}

// Loop trips since the last reset, in StmLoop order (C simulation only).
extern "C" void stm_csim_trips(uint64_t* out, int reset) {
    for (int i = 0; i < STM_LOOP_COUNT; i++) {
        out[i] = stm_trips[i];
        if (reset) stm_trips[i] = 0;
    }
}
