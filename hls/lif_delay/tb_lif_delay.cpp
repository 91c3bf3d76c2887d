// Vitis HLS C-simulation testbench for lif_delay_top: runs every case written by
// `python -m spynq.lif.vectors <dir>` and compares the out buffer with the golden
// model's words, bit for bit. The directory comes from $SPYNQ_TB_DATA (or argv[1]).
// Returns non-zero on any mismatch, as csim_design expects.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include "lif_delay_kernel.h"

static std::vector<uint32_t> read_words(const std::string& path) {
    std::vector<uint32_t> w;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return w;
    uint32_t x;
    while (std::fread(&x, 4, 1, f) == 1) w.push_back(x);
    std::fclose(f);
    return w;
}

static std::vector<lif_beat_t> to_beats(const std::vector<uint32_t>& w, size_t min_beats) {
    std::vector<lif_beat_t> b(std::max(min_beats, (w.size() + 3) / 4) + 1, 0);
    for (size_t i = 0; i < w.size(); i++) b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)) = w[i];
    return b;
}

int main(int argc, char** argv) {
    const char* env = std::getenv("SPYNQ_TB_DATA");
    std::string dir = argc > 1 ? argv[1] : env ? env : "tb_data";
    FILE* list = std::fopen((dir + "/cases.txt").c_str(), "r");
    if (!list) {
        std::printf("tb_lif_delay: no %s/cases.txt; run: python -m spynq.lif.vectors %s\n", dir.c_str(), dir.c_str());
        return 2;
    }
    unsigned net_words, n_steps, batch, out_words;
    int n_case = 0, failures = 0;
    while (std::fscanf(list, "%u %u %u %u", &net_words, &n_steps, &batch, &out_words) == 4) {
        std::string base = dir + "/case" + std::to_string(n_case);
        std::vector<uint32_t> net = read_words(base + "_net.bin"), in = read_words(base + "_in.bin"),
                              want = read_words(base + "_out.bin");
        std::vector<lif_beat_t> nb = to_beats(net, 0), ib = to_beats(in, 0), ob = to_beats({}, out_words / 4);
        lif_delay_top(nb.data(), ib.data(), ob.data(), net_words, n_steps, batch);
        int bad = 0;
        for (unsigned i = 0; i < out_words && i < want.size(); i++) {
            uint32_t got = ob[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)).to_uint();
            if (got != want[i] && bad++ < 3) std::printf("case %d word %u: got %u want %u\n", n_case, i, got, want[i]);
        }
        if (want.size() != out_words) bad++;
        failures += bad != 0;
        n_case++;
    }
    std::fclose(list);
    std::printf("tb_lif_delay: %d cases, %d failed\n", n_case, failures);
    return (n_case == 0 || failures) ? 1 : 0;
}
