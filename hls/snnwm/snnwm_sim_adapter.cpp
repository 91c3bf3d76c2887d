// Co-simulation adapter for snnwm_top (see sim/dpi/spynq_kernel.h): tells the generic DPI
// glue how many beats the kernel reads and writes, then calls the real top function.
#include "spynq_kernel.h"
#include "snnwm_kernel.h"

namespace {

enum { NET = 0, IN = 1, OUT = 2, NET_WORDS = 3, N_STEPS = 4, BATCH = 5 };  // SNNWM_INTERFACE order

struct SnnwmAdapter : spynq::KernelAdapter {
    static uint32_t word(const spynq::Buffer& b, uint32_t i) {
        return i / 4 < b.size() ? b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)).to_uint() : 0u;
    }
    // Same rules as snnwm_top's LOAD and IN_LOAD loops.
    size_t in_beats(int arg, const spynq::Args& a, const spynq::Buffers& bufs) override {
        const uint32_t nw = a.u32(NET_WORDS);
        if (arg == NET) return nw <= (uint32_t)SNNWM_MAX_NET_WORDS ? (nw + 3) / 4 : 0;
        SnnwmNet n;
        if (!snnwm_parse([&](uint32_t i) { return word(bufs[NET], i); }, nw, a.u32(N_STEPS), a.u32(BATCH), n))
            return 0;
        return (size_t)a.u32(BATCH) * a.u32(N_STEPS) * snnwm_row_beats(n.n_in);
    }
    size_t out_beats(int arg, const spynq::Args& a, const spynq::Buffers& bufs) override {
        if (arg != OUT) return 0;
        return snnwm_out_words([&](uint32_t i) { return word(bufs[NET], i); }, a.u32(NET_WORDS), a.u32(N_STEPS),
                               a.u32(BATCH)) / 4;
    }
    void compute(const spynq::Args& a, spynq::Buffers& b) override {
        snnwm_top(b[NET].data(), b[IN].data(), b[OUT].data(), a.u32(NET_WORDS), a.u32(N_STEPS), a.u32(BATCH));
    }
};

}  // namespace

SPYNQ_REGISTER_ADAPTER("snnwm_top", SnnwmAdapter);
