// Host-side helpers for C simulation (csim bridges and Vitis testbenches, never synthesized):
// 32-bit words <-> 128-bit m_axi beats (word 0 in bits 31:0) and reading word files.
#ifndef SPYNQ_WORDS_H
#define SPYNQ_WORDS_H
#include <ap_int.h>
#include <stdint.h>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

typedef ap_uint<128> spynq_beat_t;

// Beats holding n_words words (at least min_beats, plus one spare so a kernel that reads
// one beat past a ragged end stays in bounds).
static inline std::vector<spynq_beat_t> spynq_to_beats(const uint32_t* w, size_t n_words, size_t min_beats = 0) {
    std::vector<spynq_beat_t> b(std::max(min_beats, (n_words + 3) / 4) + 1, 0);
    for (size_t i = 0; i < n_words; i++) b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)) = w[i];
    return b;
}

static inline uint32_t spynq_word(const spynq_beat_t* b, size_t i) {
    return b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)).to_uint();
}

// Little-endian uint32 file (as numpy's tofile("<u4") writes it); empty if missing.
static inline std::vector<uint32_t> spynq_read_words(const std::string& path) {
    std::vector<uint32_t> w;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return w;
    uint32_t x;
    while (std::fread(&x, 4, 1, f) == 1) w.push_back(x);
    std::fclose(f);
    return w;
}
#endif
