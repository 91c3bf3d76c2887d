// C ABI for the C-simulation backend (spynq.snnwm.backends.csim_call): 32-bit word buffers
// in, m_axi beats for the HLS top function. Not part of the synthesized design.
#include "snnwm_kernel.h"
#include "spynq_words.h"

extern "C" uint32_t snnwm_csim_out_words(const uint32_t* net, uint32_t net_words, uint32_t n_steps, uint32_t batch) {
    return snnwm_out_words([&](uint32_t i) { return i < net_words ? net[i] : 0u; }, net_words, n_steps, batch);
}

// Returns the number of words written to out (out must hold snnwm_csim_out_words()).
extern "C" uint32_t snnwm_csim_run(const uint32_t* net, uint32_t net_words, const uint32_t* in, uint32_t in_words,
                                   uint32_t n_steps, uint32_t batch, uint32_t* out) {
    uint32_t n_out = snnwm_csim_out_words(net, net_words, n_steps, batch);
    std::vector<spynq_beat_t> nb = spynq_to_beats(net, net_words), ib = spynq_to_beats(in, in_words),
                              ob = spynq_to_beats(nullptr, 0, n_out / 4);
    snnwm_top(nb.data(), ib.data(), ob.data(), net_words, n_steps, batch);
    for (uint32_t i = 0; i < n_out; i++) out[i] = spynq_word(ob.data(), i);
    return n_out;
}

// Loop trips since the last reset, in SnnwmLoop order (C simulation only).
extern "C" void snnwm_csim_trips(uint64_t* out, int reset) {
    for (int i = 0; i < SNNWM_LOOP_COUNT; i++) {
        out[i] = snnwm_trips[i];
        if (reset) snnwm_trips[i] = 0;
    }
}
