// SNNWM window layers and the temporal-fusion readout as a CPU user writes them: per
// sample and segment, the dendrite sum x_i = sum_k w2_k s_i(e - k), then the current
// I = x W1 over the inputs with x_i != 0 (a row added per such input, vectorised), then
// the segment's LIF steps. Stage after stage for the whole batch; threads take blocks of
// output neurons (and samples for the window sums).
//
// float64 throughout: x W1 on the 2^-12 grid needs ~40 bits, more than float32 holds
// exactly, and the cpu backend's results are what this must equal. Built with
// -ffp-contract=off, the membrane update is the cpu backend's multiply then add.
#include "native_common.h"

using namespace spynq_native;

namespace {

struct Stage {
    int n_in, n_out, K;  // K: taps of w2 (L of a layer, K of the readout)
    int mode;            // 0 window, 1 overlap, 2 readout
    const double* w1;    // (n_in, n_out)
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

// One stage for the whole batch: the window sums x (batch, segments, n_in) first, then
// the columns of W1 in blocks, one block per thread: each W1 row is read once per
// segment for all samples (W1 of a 512 x 512 layer is 2 MB of float64, more than L2).
int run_stage(const Stage& S, const uint8_t* in, int in_stride, int T, int batch, int threads) {
    const int n = S.n_out, m = S.n_in;
    std::vector<int> t0s, lens, ends;
    segments(S, T, t0s, lens, ends);
    const int nseg = (int)t0s.size();
    // starting a thread costs ~10-50 us: small stages run on the caller's thread
    if ((double)batch * nseg * m * n < 1e5) threads = 1;
    std::vector<double> x((size_t)batch * nseg * m, 0.0);
    parallel_for(batch, threads, [&](int, int b) {
        int64_t nnz = 0;
        for (int g = 0; g < nseg; ++g) {
            double* xs = x.data() + ((size_t)b * nseg + g) * m;
            for (int k = 0; k < S.K; ++k) {
                int t = ends[g] - k;
                if (t < 0 || t >= T || S.w2[k] == 0.0) continue;
                const uint8_t* s = in + (size_t)b * in_stride + (size_t)t * m;
                const double wk = S.w2[k];
                for (int i = 0; i < m; ++i) xs[i] += s[i] ? wk : 0.0;
            }
            for (int i = 0; i < m; ++i) nnz += xs[i] != 0.0;
        }
        S.nnz[b] = nnz;
    });
    const int nb = std::max(1, std::min(threads, (n + 7) / 8));
    const int width = ((n + nb - 1) / nb + 7) / 8 * 8;
    const int blocks = (n + width - 1) / width;
    parallel_for(blocks, blocks, [&](int, int blk) {
        const int j0 = blk * width, j1 = std::min(n, j0 + width), wd = j1 - j0;
        std::vector<double> cur((size_t)batch * wd), v((size_t)batch * wd, 0.0), vmax((size_t)batch * wd);
        for (auto& e : vmax) e = -__builtin_inf();
        for (int g = 0; g < nseg; ++g) {
            for (auto& e : cur) e = 0.0;
            for (int i = 0; i < m; ++i) {
                const double* w = S.w1 + (size_t)i * n + j0;
                for (int b = 0; b < batch; ++b) {
                    const double xi = x[((size_t)b * nseg + g) * m + i];
                    if (xi == 0.0) continue;
                    double* c = cur.data() + (size_t)b * wd;
                    for (int j = 0; j < wd; ++j) c[j] += xi * w[j];
                }
            }
            for (int b = 0; b < batch; ++b) {
                double* vb = v.data() + (size_t)b * wd;
                double* mb = vmax.data() + (size_t)b * wd;
                const double* cb = cur.data() + (size_t)b * wd;
                for (int t = t0s[g]; t < t0s[g] + lens[g]; ++t) {
                    uint8_t* o = S.spikes + ((size_t)b * T + t) * n + j0;
                    for (int j = 0; j < wd; ++j) {
                        double vj = S.decay * vb[j] + cb[j];
                        mb[j] = vj > mb[j] ? vj : mb[j];
                        bool fire = vj >= S.threshold;
                        vb[j] = fire ? S.v_rest : vj;
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
                           const double* const* w1, const double* const* w2, const double* dparams,
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
