// LIF layers with delays as a CPU user writes them: per sample, layer after layer, step
// after step; every input spike adds its weight row into a ring of D delay slots
// (event-driven delivery), the slot of the current step is read and cleared, then the
// neurons update. Threads take whole samples.
//
// Numbers: the ring holds float32 sums (exact for weights on a 2^-12 grid while |sums| <
// 2^12, as every spynq test and benchmark network); the neuron state is float64 with the
// cpu backend's operations in its order (built with -ffp-contract=off: no fused
// multiply-add), so spikes and membranes equal spynq.lif.reference's on such inputs.
#include "native_common.h"

using namespace spynq_native;

namespace {

struct Layer {
    int n_in, n_out;
    const float* w;         // (n_in, n_out)
    const uint16_t* delay;  // (n_in,) axonal, (n_in, n_out) per synapse, or null
    int mode;               // 0 none, 1 axonal, 2 per synapse
    int ring;               // slots: a power of two > every delay used
    double alpha, beta, threshold, v_reset;
    int has_beta, reset_subtract, refractory;
    uint8_t* spikes;  // (batch, T, n_out)
    double* v_last;   // (batch, n_out)
    double* v_max;
};

// One sample through one layer; `in` is (T, n_in) bytes; scratch: ring + state.
//
// The ring has 2D slots of n floats (D = L.ring > every delay): a spike at step t with
// delay d adds into slot (t mod D) + d, read at step t + d as slot (t + d) mod D or that
// plus D. So a per-synapse delivery is one add of a precomputed offset d*n + j (`off`),
// no wrap-around, and step t reads and clears slots t mod D and t mod D + D.
template <class Off>
void run_layer(const Layer& L, const Off* off, const uint8_t* in, int T, int b, std::vector<float>& ring,
               std::vector<double>& st, std::vector<int>& events) {
    const int n = L.n_out, D = L.ring, mask = D - 1;
    ring.assign((size_t)2 * D * n, 0.0f);
    st.assign((size_t)3 * n, 0.0);
    double* v = st.data();
    double* cur = v + n;
    double* vmax = cur + n;
    std::vector<int> ref(n, 0);
    for (int j = 0; j < n; ++j) vmax[j] = -__builtin_inf();
    uint8_t* out = L.spikes + (size_t)b * T * n;
    for (int t = 0; t < T; ++t) {
        const uint8_t* s = in + (size_t)t * L.n_in;
        events.clear();
        for (int i = 0; i < L.n_in; ++i)
            if (s[i]) events.push_back(i);
        float* base = ring.data() + (size_t)(t & mask) * n;
        for (int i : events) {
            const float* w = L.w + (size_t)i * n;
            if (L.mode == 2) {
                const Off* o = off + (size_t)i * n;
                for (int j = 0; j < n; ++j) base[o[j]] += w[j];
            } else {
                float* slot = base + (size_t)(L.mode ? L.delay[i] : 0) * n;
                for (int j = 0; j < n; ++j) slot[j] += w[j];
            }
        }
        float* x = base;
        float* x2 = base + (size_t)D * n;
        uint8_t* o = out + (size_t)t * n;
        for (int j = 0; j < n; ++j) {
            double u = (double)(x[j] + x2[j]);  // one of them is 0 unless both hold deliveries
            x[j] = 0.0f;  // consumed: the slots serve step t + D next
            x2[j] = 0.0f;
            if (L.has_beta) {
                cur[j] = L.beta * cur[j] + u;
                u = cur[j];
            }
            bool active = ref[j] == 0;
            bool fire = false;
            if (active) {
                v[j] = L.alpha * v[j] + u;
                if (v[j] > vmax[j]) vmax[j] = v[j];
                fire = v[j] >= L.threshold;
            } else {
                ref[j] -= 1;
            }
            if (fire) {
                v[j] = L.reset_subtract ? v[j] - L.threshold : L.v_reset;
                ref[j] = L.refractory;
            }
            o[j] = fire;
        }
    }
    std::memcpy(L.v_last + (size_t)b * n, v, n * sizeof(double));
    std::memcpy(L.v_max + (size_t)b * n, vmax, n * sizeof(double));
}

}  // namespace

extern "C" {

// layers: n_layers descriptions, arrays of per-layer fields; rasters (batch, T, n_in0)
// bytes 0/1. Layer l reads layer l-1's spikes of the same sample.
int spynq_native_lif_run(int n_layers, const int* n_in, const int* n_out, const float* const* w,
                         const uint16_t* const* delay, const int* mode, const int* ring, const double* params,
                         const int* iparams, const uint8_t* rasters, int batch, int T, uint8_t* const* spikes,
                         double* const* v_last, double* const* v_max, int threads) {
    std::vector<Layer> layers(n_layers);
    for (int l = 0; l < n_layers; ++l) {
        Layer& L = layers[l];
        L.n_in = n_in[l];
        L.n_out = n_out[l];
        L.w = w[l];
        L.delay = delay[l];
        L.mode = mode[l];
        L.ring = ring[l];
        L.alpha = params[4 * l];
        L.beta = params[4 * l + 1];
        L.threshold = params[4 * l + 2];
        L.v_reset = params[4 * l + 3];
        L.has_beta = iparams[3 * l];
        L.reset_subtract = iparams[3 * l + 1];
        L.refractory = iparams[3 * l + 2];
        L.spikes = spikes[l];
        L.v_last = v_last[l];
        L.v_max = v_max[l];
        if (L.ring < 1 || (L.ring & (L.ring - 1))) return -1;
    }
    int nt = resolve_threads(threads, batch);
    double work = 0;  // synapses times steps: starting a thread costs ~10-50 us
    for (const Layer& L : layers) work += (double)batch * T * L.n_in * L.n_out;
    if (work < 1e6) nt = 1;
    std::vector<std::vector<float>> rings(nt);
    std::vector<std::vector<double>> states(nt);
    std::vector<std::vector<int>> events(nt);
    // per-synapse ring offsets d*n + j: 16 bits where the ring is small enough (as the
    // benchmark's 2 x 64 x 128 floats), so weights and offsets of a layer stay in L2
    std::vector<std::vector<uint32_t>> offs(n_layers);
    std::vector<std::vector<uint16_t>> offs16(n_layers);
    for (int l = 0; l < n_layers; ++l) {
        const Layer& L = layers[l];
        if (L.mode != 2) continue;
        const size_t m = (size_t)L.n_in * L.n_out;
        if ((size_t)2 * L.ring * L.n_out <= 65536) {
            offs16[l].resize(m);
            for (size_t k = 0; k < m; ++k) offs16[l][k] = (uint16_t)(L.delay[k] * L.n_out + k % L.n_out);
        } else {
            offs[l].resize(m);
            for (size_t k = 0; k < m; ++k) offs[l][k] = (uint32_t)L.delay[k] * L.n_out + (uint32_t)(k % L.n_out);
        }
    }
    parallel_for(batch, nt, [&](int tid, int b) {
        const uint8_t* in = rasters + (size_t)b * T * layers[0].n_in;
        for (int l = 0; l < n_layers; ++l) {
            if (!offs16[l].empty())
                run_layer(layers[l], offs16[l].data(), in, T, b, rings[tid], states[tid], events[tid]);
            else
                run_layer(layers[l], offs[l].data(), in, T, b, rings[tid], states[tid], events[tid]);
            in = layers[l].spikes + (size_t)b * T * layers[l].n_out;
        }
    });
    return nt;
}

}  // extern "C"
