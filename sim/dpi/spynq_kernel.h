// spynq co-simulation: the interface a kernel's adapter implements (see sim/README.md).
//
// The generic DPI glue (spynq_dpi.cpp) reads every input/inout pointer argument over
// m_axi into a Buffer, calls the adapter's compute() (which calls the real HLS top
// function on those buffers), then writes every output/inout pointer's Buffer back.
// Argument indices are declaration order, the same order as the KernelInterface.
#pragma once

#include <ap_int.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace spynq {

using Beat = ap_uint<128>;           // one m_axi beat (M_AXI_DATA_BITS)
using Buffer = std::vector<Beat>;     // one pointer argument's data
using Buffers = std::vector<Buffer>;  // indexed by argument index; scalars stay empty

struct Args {
    std::vector<uint64_t> values;  // register value of every argument
    std::string kinds;             // per argument: i/o/b pointer in/out/inout, s scalar
    size_t size() const { return values.size(); }
    uint64_t ptr(size_t i) const { return values.at(i); }
    uint32_t u32(size_t i) const { return static_cast<uint32_t>(values.at(i)); }
};

struct KernelAdapter {
    virtual ~KernelAdapter() = default;
    // Beats (16 bytes each) to read for input/inout pointer `arg`. Called in declaration
    // order once every earlier pointer's data has arrived (they are in `read_so_far`).
    virtual size_t in_beats(int arg, const Args& args, const Buffers& read_so_far) = 0;
    // Beats the kernel writes through output/inout pointer `arg`; called after all reads,
    // before compute (the glue sizes the buffer and checks compute stays inside it).
    virtual size_t out_beats(int arg, const Args& args, const Buffers& bufs) = 0;
    // Call the HLS top function: bufs[i].data() is pointer argument i.
    virtual void compute(const Args& args, Buffers& bufs) = 0;
};

using AdapterFactory = KernelAdapter* (*)();
bool register_adapter(const char* kernel, AdapterFactory factory);

}  // namespace spynq

// In the adapter's .cpp:  SPYNQ_REGISTER_ADAPTER("vscale_top", VscaleAdapter)
#define SPYNQ_REGISTER_ADAPTER(kernel_name, Class)                                   \
    static const bool spynq_registered_##Class = ::spynq::register_adapter(          \
        kernel_name, []() -> ::spynq::KernelAdapter* { return new Class(); })
