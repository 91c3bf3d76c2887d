// spynq co-simulation: the interface a kernel's adapter implements (see sim/README.md).
//
// The generic DPI glue (spynq_dpi.cpp) reads every input/inout pointer argument over
// m_axi into a Buffer, calls the adapter's compute() (which calls the real HLS top
// function on those buffers), then writes back the words of every output/inout pointer's
// Buffer that compute wrote (WSTRB off elsewhere, so DDR keeps what it held, as on the
// board). Output buffers start as poison (SPYNQ_POISON_WORD, hls/common/spynq_words.h).
// Argument indices are declaration order, the same order as the KernelInterface.
#pragma once

#include <ap_int.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace spynq {

using Beat = ap_uint<128>;  // one m_axi beat (M_AXI_DATA_BITS)

// Buffer memory with inaccessible (PROT_NONE) pages right after the last element and
// before the first page: the glue sizes every buffer to exactly what the shell moved over
// m_axi (plus its own guard beats for outputs), so a kernel access past it faults and
// dpi_compute reports it as an error naming the argument, instead of reading memory the
// bus never delivered. Defined in spynq_dpi.cpp.
void* guarded_alloc(size_t bytes);
void guarded_free(void* p, size_t bytes);

template <class T>
struct GuardedAllocator {
    using value_type = T;
    GuardedAllocator() = default;
    template <class U>
    GuardedAllocator(const GuardedAllocator<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(guarded_alloc(n * sizeof(T))); }
    void deallocate(T* p, size_t n) { guarded_free(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const GuardedAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const GuardedAllocator<U>&) const { return false; }
};

using Buffer = std::vector<Beat, GuardedAllocator<Beat>>;  // one pointer argument's data
using Buffers = std::vector<Buffer>;                       // indexed by argument index; scalars stay empty

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
    // compute must be a function of the buffers and arguments: the glue may call it twice
    // (see dpi_compute).
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
