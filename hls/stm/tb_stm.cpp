// Vitis HLS C-simulation testbench for stm_top: runs every case written by
// `python -m spynq.stm.vectors <dir>` and compares the out buffer with the golden
// model's words, bit for bit. The directory comes from $SPYNQ_TB_DATA (or argv[1]).
// Returns non-zero on any mismatch, as csim_design expects.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include "stm_kernel.h"

static std::vector<uint32_t> read_words(const std::string& path) {
    std::vector<uint32_t> w;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return w;
    uint32_t x;
    while (std::fread(&x, 4, 1, f) == 1) w.push_back(x);
    std::fclose(f);
    return w;
}

static std::vector<stm_beat_t> to_beats(const std::vector<uint32_t>& w, size_t min_beats) {
    std::vector<stm_beat_t> b(std::max(min_beats, (w.size() + 3) / 4) + 1, 0);
    for (size_t i = 0; i < w.size(); i++) b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)) = w[i];
    return b;
}

int main(int argc, char** argv) {
    const char* env = std::getenv("SPYNQ_TB_DATA");
    std::string dir = argc > 1 ? argv[1] : env ? env : "tb_data";
    FILE* list = std::fopen((dir + "/cases.txt").c_str(), "r");
    if (!list) {
        std::printf("tb_stm: no %s/cases.txt; run: python -m spynq.stm.vectors %s\n", dir.c_str(), dir.c_str());
        return 2;
    }
    unsigned net_words, batch, out_words;
    int n_case = 0, failures = 0;
    while (std::fscanf(list, "%u %u %u", &net_words, &batch, &out_words) == 3) {
        std::string base = dir + "/case" + std::to_string(n_case);
        std::vector<uint32_t> net = read_words(base + "_net.bin"), ev = read_words(base + "_ev.bin"),
                              want = read_words(base + "_out.bin");
        std::vector<stm_beat_t> nb = to_beats(net, 0), eb = to_beats(ev, 0), ob = to_beats({}, out_words / 4);
        stm_top(nb.data(), eb.data(), ob.data(), net_words, batch);
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
    std::printf("tb_stm: %d cases, %d failed\n", n_case, failures);
    return (n_case == 0 || failures) ? 1 : 0;
}
