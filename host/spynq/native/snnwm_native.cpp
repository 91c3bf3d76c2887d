// SNNWM window layers and the temporal-fusion readout as a CPU user writes them: per
// sample and segment, the dendrite sum x_i = sum_k w2_k s_i(e - k), then the current
// I = x W1 over the inputs with x_i != 0 (a row added per such input, vectorised), then
// the segment's LIF steps. Stage after stage for the whole batch; threads take blocks of
// output neurons.
//
// Sums and state in float64: x W1 on the 2^-12 grid needs ~40 bits, more than float32
// holds exactly, and the cpu backend's results are what this must equal. W1 is stored in
// float32 (exact for weights on the 2^-12 grid below 2^11, as every spynq network; the
// row streams dominate the time). Built with -ffp-contract=off, the membrane update is
// the cpu backend's multiply then add.
#include "native_common.h"

using namespace spynq_native;

namespace {

struct Stage {
    int n_in, n_out, K;  // K: taps of w2 (L of a layer, K of the readout)
    int mode;            // 0 window, 1 overlap, 2 readout
    const float* w1;     // (n_in, n_out): float32 holds the 2^-12 grid exactly, half the bytes
    const double* w2;    // (K,)
    double decay, threshold, v_rest;
    uint8_t* spikes;  // (batch, T, n_out), layers only
    double* v_last;   // (batch, n_out): layers; readout: o
    double* v_max;
    int64_t* nnz;  // (batch,): sum over segments of inputs with x_i != 0
};

// Segment ends and lengths of a stage (spynq.snnwm.reference.segments).
void segments(const Stage& S, int T, std::vector<int>& t0s, std::vector<int>& lens, std::vector<int>& ends) {
    t0s.clear(), lens.clear(), ends.clear();
    if (S.mode == 2) {
        t0s.push_back(T - 1), lens.push_back(0), ends.push_back(T - 1);
        return;
    }
    const int step = S.mode == 0 ? S.K : 1;
    for (int t0 = 0; t0 < T; t0 += step) {
        t0s.push_back(t0);
        lens.push_back(std::min(step, T - t0));
        ends.push_back(S.mode == 0 ? t0 + S.K - 1 : t0);  // a short last window keeps its nominal end
    }
}

// One stage for the whole batch: the window sums x first, kept per segment as the list of
// (input, sample, x) with x != 0 in input order; then the output neurons in column blocks
// (spread over the threads) small enough that the block's currents of every sample stay
// in L1 while each W1 row segment is added once per sample that needs it (W1 of a
// 512 x 512 layer is 2 MB of float64, more than L2).
int run_stage(const Stage& S, const uint8_t* in, int in_stride, int T, int batch, int threads) {
    const int n = S.n_out, m = S.n_in;
    std::vector<int> t0s, lens, ends;
    segments(S, T, t0s, lens, ends);
    const int nseg = (int)t0s.size();
    // starting a thread costs ~10-50 us: small stages run on the caller's thread
    if ((double)batch * nseg * m * n < 1e5) threads = 1;
    std::vector<double> x((size_t)m * batch);  // one segment, (input, sample)
    std::vector<int64_t> first(nseg + 1, 0);   // segment g's entries: [first[g], first[g+1])
    std::vector<int> ent_i, ent_b;
    std::vector<double> ent_x;
    for (int b = 0; b < batch; ++b) S.nnz[b] = 0;
    for (int g = 0; g < nseg; ++g) {
        std::fill(x.begin(), x.end(), 0.0);
        for (int k = 0; k < S.K; ++k) {
            int t = ends[g] - k;
            if (t < 0 || t >= T || S.w2[k] == 0.0) continue;
            const double wk = S.w2[k];
            for (int b = 0; b < batch; ++b) {
                const uint8_t* s = in + (size_t)b * in_stride + (size_t)t * m;
                for (int i = 0; i < m; ++i) x[(size_t)i * batch + b] += s[i] ? wk : 0.0;
            }
        }
        for (int i = 0; i < m; ++i)
            for (int b = 0; b < batch; ++b) {
                const double xi = x[(size_t)i * batch + b];
                if (xi == 0.0) continue;
                ent_i.push_back(i), ent_b.push_back(b), ent_x.push_back(xi);
                ++S.nnz[b];
            }
        first[g + 1] = (int64_t)ent_i.size();
    }
    const int per_l1 = std::max(8, (2048 / std::max(batch, 1)) / 8 * 8);  // 16 KB of currents
    const int width = std::min(per_l1, (n + 7) / 8 * 8);
    const int blocks = (n + width - 1) / width;
    parallel_for(blocks, std::min(threads, blocks), [&](int, int blk) {
        const int j0 = blk * width, j1 = std::min(n, j0 + width), wd = j1 - j0;
        std::vector<double> cur((size_t)batch * wd), v((size_t)batch * wd, 0.0), vmax((size_t)batch * wd);
        for (auto& e : vmax) e = -__builtin_inf();
        for (int g = 0; g < nseg; ++g) {
            for (auto& e : cur) e = 0.0;
            for (int64_t q = first[g]; q < first[g + 1]; ++q) {
                const float* w = S.w1 + (size_t)ent_i[q] * n + j0;
                const double xi = ent_x[q];
                double* c = cur.data() + (size_t)ent_b[q] * wd;
                for (int j = 0; j < wd; ++j) c[j] += xi * (double)w[j];
            }
            for (int b = 0; b < batch; ++b) {
                double* __restrict vb = v.data() + (size_t)b * wd;
                double* __restrict mb = vmax.data() + (size_t)b * wd;
                const double* __restrict cb = cur.data() + (size_t)b * wd;
                const double decay = S.decay, thr = S.threshold, rest = S.v_rest;  // not reloaded per store
                for (int t = t0s[g]; t < t0s[g] + lens[g]; ++t) {
                    uint8_t* __restrict o = S.spikes + ((size_t)b * T + t) * n + j0;
                    for (int j = 0; j < wd; ++j) {
                        double vj = decay * vb[j] + cb[j];
                        mb[j] = vj > mb[j] ? vj : mb[j];
                        bool fire = vj >= thr;
                        vb[j] = fire ? rest : vj;
                        o[j] = fire;
                    }
                }
            }
        }
        for (int b = 0; b < batch; ++b) {
            const double* src = S.mode == 2 ? cur.data() + (size_t)b * wd : v.data() + (size_t)b * wd;
            std::memcpy(S.v_last + (size_t)b * n + j0, src, wd * sizeof(double));
            if (S.mode != 2) std::memcpy(S.v_max + (size_t)b * n + j0, vmax.data() + (size_t)b * wd, wd * sizeof(double));
        }
    });
    return blocks;
}

}  // namespace

extern "C" {

// n_stages stages (layers, then the readout if mode 2); per-stage arrays; dparams
// (decay, threshold, v_rest) per stage. Stage s reads stage s-1's spikes.
int spynq_native_snnwm_run(int n_stages, const int* n_in, const int* n_out, const int* K, const int* mode,
                           const float* const* w1, const double* const* w2, const double* dparams,
                           const uint8_t* rasters, int batch, int T, uint8_t* const* spikes, double* const* v_last,
                           double* const* v_max, int64_t* const* nnz, int threads) {
    std::vector<Stage> st(n_stages);
    for (int s = 0; s < n_stages; ++s) {
        Stage& S = st[s];
        S.n_in = n_in[s];
        S.n_out = n_out[s];
        S.K = K[s];
        S.mode = mode[s];
        S.w1 = w1[s];
        S.w2 = w2[s];
        S.decay = dparams[3 * s];
        S.threshold = dparams[3 * s + 1];
        S.v_rest = dparams[3 * s + 2];
        S.spikes = spikes[s];
        S.v_last = v_last[s];
        S.v_max = v_max[s];
        S.nnz = nnz[s];
        if (S.mode == 2 && s != n_stages - 1) return -1;
    }
    const int nt = resolve_threads(threads, 1 << 30);
    const uint8_t* in = rasters;
    int in_n = st[0].n_in;
    for (int s = 0; s < n_stages; ++s) {
        if (st[s].n_in != in_n) return -1;
        run_stage(st[s], in, T * in_n, T, batch, nt);
        if (st[s].mode != 2) in = st[s].spikes, in_n = st[s].n_out;
    }
    return nt;
}

}  // extern "C"
