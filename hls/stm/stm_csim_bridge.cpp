// C ABI for the C-simulation backend (spynq.backends.csim): 32-bit word buffers in,
// m_axi beats for the HLS top function. Not part of the synthesized design.
#include <vector>
#include "stm_kernel.h"

static std::vector<stm_beat_t> to_beats(const uint32_t* w, uint32_t n_words) {
    std::vector<stm_beat_t> b((n_words + 3) / 4 + 1, 0);
    for (uint32_t i = 0; i < n_words; i++) b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)) = w[i];
    return b;
}

extern "C" uint32_t stm_csim_out_words(const uint32_t* net, uint32_t net_words, uint32_t batch) {
    return stm_out_words([&](uint32_t i) { return i < net_words ? net[i] : 0u; }, net_words, batch);
}

// Returns the number of words written to out (out must hold stm_csim_out_words()).
extern "C" uint32_t stm_csim_run(const uint32_t* net, uint32_t net_words, const uint32_t* ev, uint32_t ev_words,
                                 uint32_t batch, uint32_t* out) {
    uint32_t n_out = stm_csim_out_words(net, net_words, batch);
    std::vector<stm_beat_t> nb = to_beats(net, net_words), eb = to_beats(ev, ev_words), ob(n_out / 4 + 1, 0);
    stm_top(nb.data(), eb.data(), ob.data(), net_words, batch);
    for (uint32_t i = 0; i < n_out; i++) out[i] = ob[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)).to_uint();
    return n_out;
}

// Loop trips since the last reset, in StmLoop order (C simulation only).
extern "C" void stm_csim_trips(uint64_t* out, int reset) {
    for (int i = 0; i < STM_LOOP_COUNT; i++) {
        out[i] = stm_trips[i];
        if (reset) stm_trips[i] = 0;
    }
}
