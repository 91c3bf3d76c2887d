// Host-side helpers for C simulation (csim bridges, Vitis testbenches and the cosim DPI
// glue, never synthesized): 32-bit words <-> 128-bit m_axi beats (word 0 in bits 31:0),
// poisoned buffers and reading word files.
#ifndef SPYNQ_WORDS_H
#define SPYNQ_WORDS_H
#include <ap_int.h>
#include <stdint.h>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

typedef ap_uint<128> spynq_beat_t;

// What every buffer holds where the test put no data: an output word the kernel leaves
// unwritten reads back as this instead of 0 (0 is a common golden value, so a zero fill
// would hide the omission), and a kernel that reads past its input sees it instead of 0.
// Simulated DDR (sim/spynq_sim/device.py) uses a different poison, 0xDEADBEEF, so a
// mismatch says which side left it.
constexpr uint32_t SPYNQ_POISON_WORD = 0xBAADF00Du;

static inline spynq_beat_t spynq_poison_beat(uint32_t poison = SPYNQ_POISON_WORD) {
    spynq_beat_t b = 0;
    for (int k = 0; k < 4; k++) b.range(32 * k + 31, 32 * k) = poison;
    return b;
}

// n_words words in beats (at least min_beats), then `guard` poison beats; the padding
// words of a ragged last beat are poison too.
static inline std::vector<spynq_beat_t> spynq_to_beats(const uint32_t* w, size_t n_words, size_t min_beats = 0,
                                                       size_t guard = 1) {
    std::vector<spynq_beat_t> b(std::max(min_beats, (n_words + 3) / 4) + guard, spynq_poison_beat());
    for (size_t i = 0; i < n_words; i++) b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)) = w[i];
    return b;
}

static inline uint32_t spynq_word(const spynq_beat_t* b, size_t i) {
    return b[i / 4].range(32 * (i % 4) + 31, 32 * (i % 4)).to_uint();
}

// First word index in [from, to) that is no longer poison, or `to` if all still are:
// a kernel wrote past the words it should write.
static inline size_t spynq_first_written(const spynq_beat_t* b, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        if (spynq_word(b, i) != SPYNQ_POISON_WORD) return i;
    return to;
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
