// Vitis HLS C-simulation testbench for snnwm_top (cases from `python -m spynq.snnwm.vectors`).
// Each port gets exactly its m_axi depth (the INTERFACE pragmas' depth=), poisoned.
#include "snnwm_kernel.h"
#include "spynq_tb.h"

int main(int argc, char** argv) {
    return spynq_tb_main(argc, argv, "snnwm", {SNNWM_DEPTH_NET, SNNWM_DEPTH_IN, SNNWM_DEPTH_OUT},
                         [](const spynq_beat_t* net, const spynq_beat_t* in, spynq_beat_t* out,
                            const std::vector<unsigned>& s) {
                             snnwm_top(net, in, out, s.at(0), s.at(1), s.at(2));  // net_words, n_steps, batch
                         });
}
