// Fixed-point primitives shared by the spynq kernels. The numpy twin of every function
// is in host/spynq/fixed.py; both must stay bit-identical (tests compare them).
#ifndef SPYNQ_FIXED_H
#define SPYNQ_FIXED_H
#include <ap_int.h>
#include <stdint.h>
#include "spynq_exp_tables.h"

// exp(-z): z in UQ16.16, result in UQ1.31. 2^-(z log2 e) = 2^-n * 2^-f with the 16-bit
// fraction f split into two bytes, each looked up in a 256-entry table.
static inline uint32_t spynq_exp_neg(uint32_t z) {
#pragma HLS INLINE
    uint64_t u = ((uint64_t)z * SPYNQ_LOG2E_Q31) >> 31;  // < 2^64: both factors < 2^32
    uint32_t n = (uint32_t)(u >> 16);
    uint32_t f = (uint32_t)(u & 0xFFFF);
    uint64_t m = ((uint64_t)SPYNQ_EXP_HI[f >> 8] * SPYNQ_EXP_LO[f & 0xFF]) >> 31;  // <= 2^31
    return n >= 32 ? 0u : (uint32_t)(m >> n);
}

// Index of the highest set bit (-1 for 0): a priority encoder in hardware.
static inline int spynq_msb64(uint64_t x) {
#pragma HLS INLINE
    int r = -1;
    for (int b = 0; b < 64; b++) {
#pragma HLS UNROLL
        if ((x >> b) & 1) r = b;
    }
    return r;
}

// Shift x by the amount that puts the highest bit of xmax at bit `top` (0 if xmax == 0).
static inline uint64_t spynq_renorm(uint64_t x, int xmax_msb, int top) {
#pragma HLS INLINE
    if (xmax_msb < 0) return 0;
    int s = xmax_msb - top;
    return s >= 0 ? (x >> s) : (x << (-s));
}

// Index of the lowest set bit of a 128-bit mask (m != 0): picks the next spike event.
static inline int spynq_ctz128(ap_uint<128> m) {
#pragma HLS INLINE
    uint64_t lo = m.range(63, 0).to_uint64(), hi = m.range(127, 64).to_uint64();
    uint64_t x = lo ? lo : hi;
    int r = 0;
    for (int b = 63; b >= 0; b--) {
#pragma HLS UNROLL
        if ((x >> b) & 1) r = b;
    }
    return lo ? r : 64 + r;
}

static inline uint32_t spynq_sat_add_u32(uint32_t a, uint32_t b) {
#pragma HLS INLINE
    uint64_t s = (uint64_t)a + b;
    return s > 0xFFFFFFFFull ? 0xFFFFFFFFu : (uint32_t)s;
}
#endif
