// Shared main loop of the Vitis C-simulation testbenches (hls/<k>/tb_<k>.cpp): runs every
// case written by `python -m spynq.<k>.vectors <dir>` (spynq.hw.vectors) and compares the
// kernel's out buffer with the golden model's words, bit for bit. The directory comes from
// argv[1] or $SPYNQ_TB_DATA. Returns non-zero on any mismatch, as csim_design expects.
//   cases.txt: one line per case, "out_words scalar0 scalar1 ..." (the top's scalars)
//   case<i>_net.bin, case<i>_in.bin, case<i>_out.bin: little-endian uint32 words
//
// Each port gets exactly its m_axi depth= in beats (<K>_DEPTH_NET/IN/OUT, the same
// constants the INTERFACE pragmas use), as Vitis cosim_design copies that many beats per
// call: the case's data at the start, SPYNQ_POISON_WORD everywhere else (refilled per
// case). So a word the kernel leaves unwritten fails the comparison, an over-read feeds
// poison into the result, and any out word written past out_words is reported.
#ifndef SPYNQ_TB_H
#define SPYNQ_TB_H
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include "spynq_words.h"

typedef std::function<void(const spynq_beat_t* net, const spynq_beat_t* in, spynq_beat_t* out,
                           const std::vector<unsigned>& scalars)>
    spynq_tb_call;

struct spynq_tb_depths {
    size_t net, in, out;  // m_axi depth= of the three pointer ports, in beats
};

// Fill `buf` (exactly `depth` beats) with poison and `w` at the start; false (and a
// message) if the words do not fit the port.
static inline bool spynq_tb_fill(std::vector<spynq_beat_t>& buf, size_t depth, const std::vector<uint32_t>& w,
                                 int n_case, const char* port) {
    buf.assign(depth, spynq_poison_beat());
    if ((w.size() + 3) / 4 > depth) {
        std::printf("case %d: port %s needs %zu beats, more than its m_axi depth of %zu beats\n", n_case, port,
                    (w.size() + 3) / 4, depth);
        return false;
    }
    for (size_t i = 0; i < w.size(); i++) buf[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)) = w[i];
    return true;
}

static inline int spynq_tb_main(int argc, char** argv, const char* kernel, spynq_tb_depths depth,
                                spynq_tb_call call) {
    const char* env = std::getenv("SPYNQ_TB_DATA");
    std::string dir = argc > 1 ? argv[1] : env ? env : "tb_data";
    std::ifstream list(dir + "/cases.txt");
    if (!list) {
        std::printf("tb_%s: no %s/cases.txt; write it with spynq's vectors module\n", kernel, dir.c_str());
        return 2;
    }
    std::vector<spynq_beat_t> nb, ib, ob;
    std::string line;
    int n_case = 0, failures = 0;
    while (std::getline(list, line)) {
        std::istringstream fields(line);
        unsigned out_words, x;
        if (!(fields >> out_words)) continue;
        std::vector<unsigned> scalars;
        while (fields >> x) scalars.push_back(x);
        std::string base = dir + "/case" + std::to_string(n_case);
        std::vector<uint32_t> net = spynq_read_words(base + "_net.bin"), in = spynq_read_words(base + "_in.bin"),
                              want = spynq_read_words(base + "_out.bin");
        bool fits = spynq_tb_fill(nb, depth.net, net, n_case, "net");
        fits &= spynq_tb_fill(ib, depth.in, in, n_case, "in");
        fits &= spynq_tb_fill(ob, depth.out, std::vector<uint32_t>(), n_case, "out");
        if ((out_words + 3) / 4 > depth.out) {
            std::printf("case %d: port out needs %u beats, more than its m_axi depth of %zu beats\n", n_case,
                        (out_words + 3) / 4, depth.out);
            fits = false;
        }
        if (!fits) {  // the kernel would run past the allocation: not run
            failures++;
            n_case++;
            continue;
        }
        call(nb.data(), ib.data(), ob.data(), scalars);
        int bad = want.size() != out_words;
        if (bad) std::printf("case %d: %zu golden words for %u out words\n", n_case, want.size(), out_words);
        for (unsigned i = 0; i < out_words && i < want.size(); i++) {
            uint32_t got = spynq_word(ob.data(), i);
            if (got != want[i] && bad++ < 3)
                std::printf("case %d word %u: got 0x%08x want 0x%08x%s\n", n_case, i, got, want[i],
                            got == SPYNQ_POISON_WORD ? " (poison: never written)" : "");
        }
        const size_t past = spynq_first_written(ob.data(), out_words, 4 * depth.out);
        if (past < 4 * depth.out) {
            std::printf("case %d: the kernel wrote out word %zu, past its %u out words\n", n_case, past, out_words);
            bad++;
        }
        failures += bad != 0;
        n_case++;
    }
    std::printf("tb_%s: %d cases, %d failed\n", kernel, n_case, failures);
    return (n_case == 0 || failures) ? 1 : 0;
}
#endif
