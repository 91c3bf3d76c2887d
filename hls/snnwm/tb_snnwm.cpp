// Vitis HLS C-simulation testbench for snnwm_top: runs every case written by
// `python -m spynq.snnwm.vectors <dir>` and compares the out buffer with the golden
// model's words, bit for bit. The directory comes from $SPYNQ_TB_DATA (or argv[1]).
// Returns non-zero on any mismatch, as csim_design expects.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include "spynq_words.h"
#include "snnwm_kernel.h"

int main(int argc, char** argv) {
    const char* env = std::getenv("SPYNQ_TB_DATA");
    std::string dir = argc > 1 ? argv[1] : env ? env : "tb_data";
    FILE* list = std::fopen((dir + "/cases.txt").c_str(), "r");
    if (!list) {
        std::printf("tb_snnwm: no %s/cases.txt; run: python -m spynq.snnwm.vectors %s\n", dir.c_str(), dir.c_str());
        return 2;
    }
    unsigned net_words, n_steps, batch, out_words;
    int n_case = 0, failures = 0;
    while (std::fscanf(list, "%u %u %u %u", &net_words, &n_steps, &batch, &out_words) == 4) {
        std::string base = dir + "/case" + std::to_string(n_case);
        std::vector<uint32_t> net = spynq_read_words(base + "_net.bin"), in = spynq_read_words(base + "_in.bin"),
                              want = spynq_read_words(base + "_out.bin");
        std::vector<spynq_beat_t> nb = spynq_to_beats(net.data(), net.size()),
                                  ib = spynq_to_beats(in.data(), in.size()),
                                  ob = spynq_to_beats(nullptr, 0, out_words / 4);
        snnwm_top(nb.data(), ib.data(), ob.data(), net_words, n_steps, batch);
        int bad = 0;
        for (unsigned i = 0; i < out_words && i < want.size(); i++) {
            uint32_t got = spynq_word(ob.data(), i);
            if (got != want[i] && bad++ < 3) std::printf("case %d word %u: got %u want %u\n", n_case, i, got, want[i]);
        }
        if (want.size() != out_words) bad++;
        failures += bad != 0;
        n_case++;
    }
    std::fclose(list);
    std::printf("tb_snnwm: %d cases, %d failed\n", n_case, failures);
    return (n_case == 0 || failures) ? 1 : 0;
}
