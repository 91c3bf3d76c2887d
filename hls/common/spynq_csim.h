// The C ABI every kernel's csim bridge (hls/<k>/<k>_csim_bridge.cpp) exports, so one
// Python caller (spynq.hw.csim.call / trips) serves all kernels. Not synthesized.
//   spynq_csim_out_words(net, net_words, scalars)         words the kernel writes to out (64-bit)
//   spynq_csim_run(net, net_words, in, in_words, scalars, out)  -> words written, or
//       SPYNQ_CSIM_OVERRUN if the kernel wrote past them (reported on stderr), or
//       SPYNQ_CSIM_TOO_LARGE if they would be more than SPYNQ_MAX_OUT_WORDS (nothing run)
//   spynq_csim_trips(out, reset)                          loop trip counters
//   spynq_csim_loop_count()                               entries spynq_csim_trips writes
// `scalars` are the top function's u32 arguments after net_words, in declaration order.
// The caller guarantees net holds net_words words and `in` in_words (spynq.hw.runner
// checks them, and that in_words covers what the call reads); out must hold the words
// spynq_csim_out_words returns. The kernels keep static state: one call at a time per
// library (spynq.hw.csim holds a lock).
// A bridge defines SPYNQ_CSIM_OUT_WORDS(word, net_words, s), SPYNQ_CSIM_TOP(net, in, out,
// net_words, s), SPYNQ_CSIM_TRIPS and SPYNQ_CSIM_LOOP_COUNT, then includes this header.
#ifndef SPYNQ_CSIM_H
#define SPYNQ_CSIM_H
#include "spynq_limits.h"
#include "spynq_words.h"

extern "C" uint64_t spynq_csim_out_words(const uint32_t* net, uint32_t net_words, const uint32_t* s) {
    auto word = [&](uint32_t i) { return i < net_words ? net[i] : 0u; };
    return SPYNQ_CSIM_OUT_WORDS(word, net_words, s);
}

// Above SPYNQ_MAX_OUT_WORDS, so never a word count.
constexpr uint32_t SPYNQ_CSIM_OVERRUN = 0xFFFFFFFFu;
constexpr uint32_t SPYNQ_CSIM_TOO_LARGE = 0xFFFFFFFEu;
static_assert((uint64_t)SPYNQ_MAX_OUT_WORDS < SPYNQ_CSIM_TOO_LARGE, "the return codes are no word counts");

// Every buffer is poisoned where it holds no data (spynq_words.h): the out buffer entirely,
// so a word the kernel leaves unwritten comes back as SPYNQ_POISON_WORD and fails the
// comparison with golden; the inputs after their data (one guard beat), so an over-read
// feeds poison into the result instead of zeros.
extern "C" uint32_t spynq_csim_run(const uint32_t* net, uint32_t net_words, const uint32_t* in, uint32_t in_words,
                                   const uint32_t* s, uint32_t* out) {
    const uint64_t n_out = spynq_csim_out_words(net, net_words, s);
    if (n_out > (uint64_t)SPYNQ_MAX_OUT_WORDS) return SPYNQ_CSIM_TOO_LARGE;
    std::vector<spynq_beat_t> nb = spynq_to_beats(net, net_words), ib = spynq_to_beats(in, in_words),
                              ob = spynq_to_beats(nullptr, 0, (size_t)(n_out + 3) / 4);
    SPYNQ_CSIM_TOP(nb.data(), ib.data(), ob.data(), net_words, s);
    for (size_t i = 0; i < n_out; i++) out[i] = spynq_word(ob.data(), i);
    const size_t past = spynq_first_written(ob.data(), n_out, 4 * ob.size());
    if (past < 4 * ob.size()) {
        std::fprintf(stderr, "spynq csim: the kernel wrote out word %zu, past its %llu out words\n", past,
                     (unsigned long long)n_out);
        return SPYNQ_CSIM_OVERRUN;
    }
    return (uint32_t)n_out;
}

extern "C" int spynq_csim_loop_count() { return SPYNQ_CSIM_LOOP_COUNT; }

extern "C" void spynq_csim_trips(uint64_t* out, int reset) {
    for (int i = 0; i < SPYNQ_CSIM_LOOP_COUNT; i++) {
        out[i] = SPYNQ_CSIM_TRIPS[i];
        if (reset) SPYNQ_CSIM_TRIPS[i] = 0;
    }
}
#endif
