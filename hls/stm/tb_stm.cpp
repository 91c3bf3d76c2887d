// Vitis HLS C-simulation testbench for stm_top (cases from `python -m spynq.stm.vectors`).
// Each port gets exactly its m_axi depth (the INTERFACE pragmas' depth=), poisoned.
#include "spynq_tb.h"
#include "stm_kernel.h"

int main(int argc, char** argv) {
    return spynq_tb_main(argc, argv, "stm", {STM_DEPTH_NET, STM_DEPTH_IN, STM_DEPTH_OUT},
                         [](const spynq_beat_t* net, const spynq_beat_t* in, spynq_beat_t* out,
                            const std::vector<unsigned>& s) {
                             stm_top(net, in, out, s.at(0), s.at(1));  // net_words, batch
                         });
}
