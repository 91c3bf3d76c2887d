// Vitis HLS C-simulation testbench for snnwm_top (cases from `python -m spynq.snnwm.vectors`).
#include "snnwm_kernel.h"
#include "spynq_tb.h"

int main(int argc, char** argv) {
    return spynq_tb_main(argc, argv, "snnwm", [](const spynq_beat_t* net, const spynq_beat_t* in, spynq_beat_t* out,
                                                 const std::vector<unsigned>& s) {
        snnwm_top(net, in, out, s.at(0), s.at(1), s.at(2));  // net_words, n_steps, batch
    });
}
