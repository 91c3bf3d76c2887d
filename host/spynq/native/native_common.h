// Shared helpers of the native float CPU baselines (spynq.native): a parallel-for over
// std::thread and a branch-free exp that gcc vectorises at -O3 without -ffast-math.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace spynq_native {

// fn(tid, i) for i in [0, n), item i on thread i % threads (threads <= 0: all cores).
// Static round-robin: the items of one call cost about the same (samples of a batch,
// row blocks of a likelihood matrix), so no work queue is needed.
template <class F>
void parallel_for(int n, int threads, F fn) {
    if (threads <= 0) threads = (int)std::max(1u, std::thread::hardware_concurrency());
    threads = std::max(1, std::min(threads, n));
    if (threads == 1) {
        for (int i = 0; i < n; ++i) fn(0, i);
        return;
    }
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (int t = 1; t < threads; ++t)
        pool.emplace_back([=, &fn] { for (int i = t; i < n; i += threads) fn(t, i); });
    for (int i = 0; i < n; i += threads) fn(0, i);
    for (auto& th : pool) th.join();
}

inline int resolve_threads(int threads, int n) {
    if (threads <= 0) threads = (int)std::max(1u, std::thread::hardware_concurrency());
    return std::max(1, std::min(threads, n));
}

// exp(x) for x <= 0 in float, within 2 ulp of expf for x > -87.3 and 0 below (where
// expf is subnormal). Written without calls or branches so the loops that use it
// vectorise (glibc's vector expf needs -ffast-math, which the NaN/inf handling of the
// energies must not have).
inline float exp_nonpos(float x) {
    const float lo = -87.3f;
    float xc = x < lo ? lo : x;
    const float shift = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    float t = xc * 1.44269504088896341f + shift;
    float n = t - shift;
    float r = xc - n * 0.693145751953125f;  // ln 2 split in two for an exact n * ln2_hi
    r = r - n * 1.428606765330187e-06f;
    // Taylor to degree 6 on |r| <= ln2/2: relative error < 2e-8
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float scale;
    std::memcpy(&scale, &e, sizeof scale);
    float y = p * scale;
    return x < lo ? 0.0f : y;
}

}  // namespace spynq_native
