// Shared main loop of the Vitis C-simulation testbenches (hls/<k>/tb_<k>.cpp): runs every
// case written by `python -m spynq.<k>.vectors <dir>` (spynq.hw.vectors) and compares the
// kernel's out buffer with the golden model's words, bit for bit. The directory comes from
// argv[1] or $SPYNQ_TB_DATA. Returns non-zero on any mismatch, as csim_design expects.
//   cases.txt: one line per case, "out_words scalar0 scalar1 ..." (the top's scalars)
//   case<i>_net.bin, case<i>_in.bin, case<i>_out.bin: little-endian uint32 words
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

static inline int spynq_tb_main(int argc, char** argv, const char* kernel, spynq_tb_call call) {
    const char* env = std::getenv("SPYNQ_TB_DATA");
    std::string dir = argc > 1 ? argv[1] : env ? env : "tb_data";
    std::ifstream list(dir + "/cases.txt");
    if (!list) {
        std::printf("tb_%s: no %s/cases.txt; write it with spynq's vectors module\n", kernel, dir.c_str());
        return 2;
    }
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
        std::vector<spynq_beat_t> nb = spynq_to_beats(net.data(), net.size()),
                                  ib = spynq_to_beats(in.data(), in.size()),
                                  ob = spynq_to_beats(nullptr, 0, out_words / 4);
        call(nb.data(), ib.data(), ob.data(), scalars);
        int bad = want.size() != out_words;
        for (unsigned i = 0; i < out_words && i < want.size(); i++) {
            uint32_t got = spynq_word(ob.data(), i);
            if (got != want[i] && bad++ < 3) std::printf("case %d word %u: got %u want %u\n", n_case, i, got, want[i]);
        }
        failures += bad != 0;
        n_case++;
    }
    std::printf("tb_%s: %d cases, %d failed\n", kernel, n_case, failures);
    return (n_case == 0 || failures) ? 1 : 0;
}
#endif
