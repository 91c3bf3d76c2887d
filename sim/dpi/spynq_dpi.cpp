// spynq co-simulation: generic DPI-C glue between the generated Vitis-shaped shell
// (spynq_sim/shell.py) and a kernel adapter (spynq_kernel.h). Kernel-agnostic.
//
// Protocol (called by the shell, one call per clock edge at most per function):
//   dpi_set_arg(i, v)*  dpi_begin(kernel, kinds, names)
//   dpi_next_read -> 1 burst (addr, beats) | 2 wait | 0 no more | -1 error;  dpi_read_beat per R beat
//   dpi_compute
//   dpi_next_write -> same codes;  dpi_write_beat per W beat;  dpi_write_resp per B
// Bursts: INCR, at most 256 beats of 16 bytes, never crossing a 4 KB boundary.
// Errors are printed to stderr and appended to the file named by $SPYNQ_DPI_ERROR_FILE.
//
// No blind spots in the comparison with golden:
// - input buffers hold exactly the beats the shell read, followed by an inaccessible
//   page (GuardedAllocator): a kernel reading past them is a reported error, not a read
//   of memory the bus never delivered;
// - output buffers start as poison, and only the 32-bit words compute changed are
//   written back (WSTRB off elsewhere), so DDR keeps what it held where the kernel wrote
//   nothing: SimDevice's 0xDEADBEEF in a fresh buffer, the previous run's data in a
//   reused one, exactly the stale data a board would return. (Writing the poison back
//   would also fail the comparison, but would show the host a value the board never
//   would; writing zeros, as before, let an unwritten word pass wherever golden is 0.)
#include "spynq_kernel.h"
#include "spynq_words.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <svdpi.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <sstream>

namespace spynq {

static std::map<std::string, AdapterFactory>& registry() {
    static std::map<std::string, AdapterFactory> r;
    return r;
}

bool register_adapter(const char* kernel, AdapterFactory factory) {
    registry()[kernel] = factory;
    return true;
}

namespace {

// ---- guarded buffer memory (see GuardedAllocator) and the fault trap around compute
constexpr size_t kTrailGuard = 64 * 1024;  // inaccessible bytes after a buffer
// Mappings of live buffers, read by the signal handler (so a plain array): a fault inside
// one is a guard-page access, since the data pages between the guards never fault.
struct Mapping {
    uintptr_t lo, hi;
};
Mapping g_maps[512];

size_t page_size() {
    static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return p;
}
size_t data_bytes(size_t bytes) { return (bytes + page_size() - 1) / page_size() * page_size(); }
size_t map_bytes(size_t bytes) { return page_size() + data_bytes(bytes) + kTrailGuard; }

}  // namespace

void* guarded_alloc(size_t bytes) {
    const size_t data = data_bytes(bytes), total = map_bytes(bytes);
    void* m = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    char* base = static_cast<char*>(m);
    if (data && mprotect(base + page_size(), data, PROT_READ | PROT_WRITE) != 0) {
        munmap(m, total);
        throw std::bad_alloc();
    }
    for (Mapping& r : g_maps)  // a full table only loses the error message, not the guard
        if (r.lo == 0) {
            r = Mapping{reinterpret_cast<uintptr_t>(base), reinterpret_cast<uintptr_t>(base) + total};
            break;
        }
    return base + page_size() + data - bytes;  // the data ends where the trailing guard starts
}

void guarded_free(void* p, size_t bytes) {
    if (!p) return;
    char* base = static_cast<char*>(p) + bytes - data_bytes(bytes) - page_size();
    for (Mapping& r : g_maps)
        if (r.lo == reinterpret_cast<uintptr_t>(base)) r = Mapping{0, 0};
    munmap(base, map_bytes(bytes));
}

namespace {

sigjmp_buf g_trap;
volatile sig_atomic_t g_trapping = 0;
volatile uintptr_t g_fault_addr = 0;
volatile int g_fault_write = -1;  // 1 write, 0 read, -1 unknown
struct sigaction g_old_segv, g_old_bus;

void on_fault(int sig, siginfo_t* si, void* uc) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(si->si_addr);
    // si_code <= 0: sent by kill/raise (e.g. an adapter that crashes on purpose), no address
    const bool fault = si->si_code > 0;
    bool ours = fault && a < kTrailGuard;  // through the null pointer of an empty buffer
    for (const Mapping& r : g_maps) ours = ours || (fault && a >= r.lo && a < r.hi);
    if (g_trapping && ours) {
        g_fault_addr = a;
#if defined(__x86_64__) && defined(REG_ERR)
        g_fault_write = (static_cast<ucontext_t*>(uc)->uc_mcontext.gregs[REG_ERR] & 2) ? 1 : 0;
#else
        (void)uc;
#endif
        siglongjmp(g_trap, 1);
    }
    // not ours: restore the previous handler; a faulting access faults again into it, a
    // sent signal is sent again (the process dies of it, as it would without the trap)
    sigaction(sig, sig == SIGSEGV ? &g_old_segv : &g_old_bus, nullptr);
    if (!fault) raise(sig);
}

constexpr uint64_t kBeatBytes = 16;
constexpr uint64_t kMaxBurst = 256;
constexpr size_t kGuardBeats = 16;

struct Burst {
    int arg;
    size_t first;  // first beat index in the buffer
    size_t beats;
    size_t done;   // beats moved so far
    bool err;      // an error response was reported for this burst (one report per burst)
};

struct State {
    std::string kernel;
    std::unique_ptr<KernelAdapter> adapter;
    Args args;
    Buffers bufs;
    std::vector<size_t> out_n;
    std::vector<std::vector<uint16_t>> strb;  // per output/inout beat: WSTRB of the words compute wrote
    // read side
    int rd_arg = -1;
    size_t rd_next = 0, rd_total = 0;
    std::deque<Burst> rd_q;
    // write side
    int wr_arg = -1;
    size_t wr_next = 0, wr_total = 0;
    std::deque<Burst> w_q;   // bursts whose W beats are still to send
    std::deque<Burst> b_q;   // bursts waiting for their B response
    bool failed = false;
};

State g;

void report(const std::string& msg, bool fatal = true) {
    if (fatal) g.failed = true;
    std::fprintf(stderr, "SPYNQ_DPI_ERROR [%s]: %s\n", g.kernel.c_str(), msg.c_str());
    std::fflush(stderr);
    if (const char* path = std::getenv("SPYNQ_DPI_ERROR_FILE")) {
        if (FILE* f = std::fopen(path, "a")) {
            std::fprintf(f, "[%s] %s\n", g.kernel.c_str(), msg.c_str());
            std::fclose(f);
        }
    }
}

std::string hex(uint64_t v) {
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

std::vector<std::string> g_names;  // argument names, from the shell (KernelInterface order)

// "argument 1 'dst'": the index the adapter uses and the name the host uses
std::string arg_label(size_t i) {
    std::string s = "argument " + std::to_string(i);
    if (i < g_names.size()) s += " '" + g_names[i] + "'";
    return s;
}

const char* resp_name(int resp) {
    switch (resp) {
        case 1: return "EXOKAY";
        case 2: return "SLVERR";
        case 3: return "DECERR";
        default: return "?";
    }
}

bool is_read_kind(char k) { return k == 'i' || k == 'b'; }
bool is_write_kind(char k) { return k == 'o' || k == 'b'; }

// Next burst of [addr(arg) + next*16, ... total) for one pointer: <= 256 beats, inside 4 KB.
Burst split(int arg, size_t next, size_t total, uint64_t* addr) {
    uint64_t a = g.args.ptr(arg) + next * kBeatBytes;
    uint64_t to_4k = (0x1000 - (a & 0xFFF)) / kBeatBytes;
    uint64_t n = total - next;
    if (n > kMaxBurst) n = kMaxBurst;
    if (n > to_4k) n = to_4k;
    *addr = a;
    return Burst{arg, next, static_cast<size_t>(n), 0, false};
}

bool check_aligned(int arg) {
    if (g.args.ptr(arg) % kBeatBytes) {
        report("pointer " + arg_label(arg) + " = " + hex(g.args.ptr(arg)) +
               " is not 16-byte aligned (m_axi is 128 bits wide)");
        return false;
    }
    return true;
}

void put_beat(Beat& b, const svBitVecVal* data) {
    for (int w = 0; w < 4; ++w) b.range(32 * w + 31, 32 * w) = static_cast<uint32_t>(data[w]);
}

void get_beat(const Beat& b, svBitVecVal* data) {
    for (int w = 0; w < 4; ++w) data[w] = static_cast<uint32_t>(b.range(32 * w + 31, 32 * w));
}

}  // namespace
}  // namespace spynq

using namespace spynq;

extern "C" {

void dpi_set_arg(int idx, unsigned long long value) {
    if (idx == 0) g.args.values.clear();
    if (static_cast<size_t>(idx) >= g.args.values.size()) g.args.values.resize(idx + 1, 0);
    g.args.values[idx] = value;
}

int dpi_begin(const char* kernel, const char* kinds, const char* names) {
    Args args = g.args;
    g = State();
    g.kernel = kernel;
    g.args = args;
    g.args.kinds = kinds;
    g_names.clear();
    for (std::istringstream in(names); ;) {
        std::string n;
        if (!std::getline(in, n, ',')) break;
        g_names.push_back(n);
    }
    if (g.args.kinds.size() != g.args.values.size()) {
        report("argument count mismatch between shell kinds '" + g.args.kinds + "' and dpi_set_arg calls");
        return 1;
    }
    auto it = registry().find(kernel);
    if (it == registry().end()) {
        std::string known;
        for (auto& kv : registry()) known += " " + kv.first;
        report(std::string("no adapter registered for kernel '") + kernel + "'; registered:" + known);
        return 1;
    }
    g.adapter.reset(it->second());
    g.bufs.assign(g.args.size(), Buffer());
    g.out_n.assign(g.args.size(), 0);
    g.strb.assign(g.args.size(), {});
    return 0;
}

int dpi_next_read(unsigned long long* addr, int* beats) {
    if (g.failed || !g.adapter) return -1;
    try {
        for (;;) {
            if (g.rd_arg >= 0 && g.rd_next < g.rd_total) {
                uint64_t a;
                Burst b = split(g.rd_arg, g.rd_next, g.rd_total, &a);
                g.rd_next += b.beats;
                g.rd_q.push_back(b);
                *addr = a;
                *beats = static_cast<int>(b.beats);
                return 1;
            }
            int next = g.rd_arg + 1;
            while (next < static_cast<int>(g.args.kinds.size()) && !is_read_kind(g.args.kinds[next])) ++next;
            if (next >= static_cast<int>(g.args.kinds.size())) return 0;
            if (!g.rd_q.empty()) return 2;  // the adapter may need the earlier data: wait for it
            g.rd_arg = next;
            g.rd_next = 0;
            g.rd_total = g.adapter->in_beats(next, g.args, g.bufs);
            Buffer b;
            b.reserve(g.rd_total);  // exactly what the bus delivers, then the guard page
            b.resize(g.rd_total, Beat(0));
            g.bufs[next].swap(b);
            if (g.rd_total && !check_aligned(next)) return -1;
        }
    } catch (const std::exception& e) {
        report(std::string("in_beats: ") + e.what());
        return -1;
    }
}

void dpi_read_beat(const svBitVecVal* data, int resp) {
    if (g.rd_q.empty()) {
        report("read beat with no burst outstanding");
        return;
    }
    Burst& b = g.rd_q.front();
    size_t i = b.first + b.done;
    if (resp != 0 && !b.err) {
        b.err = true;
        report("RRESP=" + std::to_string(resp) + " " + resp_name(resp) + " on beat " + std::to_string(i) +
               " reading " + arg_label(b.arg) + " at " + hex(g.args.ptr(b.arg) + i * kBeatBytes) + " (burst of " +
               std::to_string(b.beats) + " beats from beat " + std::to_string(b.first) + ")", false);
    }
    put_beat(g.bufs[b.arg][i], data);
    if (++b.done == b.beats) g.rd_q.pop_front();
}

}  // extern "C"

// ---- compute: the HLS function on the buffers, trapped; which words it wrote
namespace {

const char* kind_name(char k) { return k == 'i' ? "input" : k == 'o' ? "output" : "inout"; }

// compute() once with faults on the guard pages caught. False (and an error reported) if
// the kernel touched memory outside the buffers the shell moved over the bus.
bool run_trapped() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
    struct Restore {  // also on an exception out of compute
        ~Restore() {
            g_trapping = 0;
            sigaction(SIGSEGV, &g_old_segv, nullptr);
            sigaction(SIGBUS, &g_old_bus, nullptr);
        }
    } restore;
    g_fault_addr = 0;
    g_fault_write = -1;
    // Leaving the kernel's frames by siglongjmp skips their destructors: the kernel's
    // static state is undefined afterwards, which is fine for a run that failed.
    if (sigsetjmp(g_trap, 1) == 0) {
        g_trapping = 1;
        g.adapter->compute(g.args, g.bufs);
        return true;
    }
    const uintptr_t a = g_fault_addr;
    const char* what = g_fault_write == 1 ? "wrote" : g_fault_write == 0 ? "read" : "accessed";
    std::string where = "address " + hex(a) + ", near no buffer of this run";
    if (a < kTrailGuard) where = "address " + hex(a) + ": through the null pointer of an empty buffer (0 beats moved)";
    for (size_t i = 0; i < g.bufs.size(); ++i) {
        const Buffer& b = g.bufs[i];
        if (g.args.kinds[i] == 's' || b.capacity() == 0) continue;
        const size_t bytes = b.capacity() * kBeatBytes;
        const uintptr_t lo = reinterpret_cast<uintptr_t>(b.data()), end = lo + bytes,
                        base = end - data_bytes(bytes) - page_size();
        if (a >= end && a < end + kTrailGuard)
            where = "beat " + std::to_string((a - lo) / kBeatBytes) + " of " + kind_name(g.args.kinds[i]) + " " +
                    arg_label(i) + ", past the " +
                    (g.args.kinds[i] == 'i' ? std::to_string(b.size()) + " beats the shell read (adapter in_beats)"
                                            : std::to_string(g.out_n[i]) + " beats of out_beats and " +
                                                  std::to_string(kGuardBeats) + " guard beats");
        else if (a >= base && a < lo)
            where = std::to_string((lo - a + kBeatBytes - 1) / kBeatBytes) + " beats before " +
                    kind_name(g.args.kinds[i]) + " " + arg_label(i);
    }
    report(std::string("compute ") + what + " outside the buffers moved over m_axi: " + where);
    return false;
}

uint32_t word_of(const Beat& b, int w) { return static_cast<uint32_t>(b.range(32 * w + 31, 32 * w)); }

}  // namespace

extern "C" {

// Why twice, sometimes: a word still equal to its initial value after compute was either
// not written or written with exactly that value. Only where the initial value is poison
// does it matter (an inout's read data is in DDR already), so if any output word equals
// the poison, compute runs again on the same inputs with the complement poison: a word
// equal to its initial value both times was not written; a word that differs between the
// two runs means the result depends on the out buffer's old contents (a kernel reading an
// output-only buffer), an error. A correct kernel almost never writes the poison value, so
// this costs a second compute only for a kernel that leaves words unwritten.
int dpi_compute() {
    if (g.failed || !g.adapter) return 1;
    try {
        const Beat guard = Beat("0x5A5AA5A55A5AA5A55A5AA5A55A5AA5A5", 16);
        std::vector<size_t> have(g.args.size(), 0), size(g.args.size(), 0);
        Buffers read(g.args.size());  // an inout's data as read over the bus
        auto prepare = [&](uint32_t poison) {
            for (size_t i = 0; i < g.args.size(); ++i) {
                if (!is_write_kind(g.args.kinds[i])) continue;
                Buffer b;
                b.reserve(size[i] + kGuardBeats);  // then the guard page
                b.assign(read[i].begin(), read[i].end());
                b.resize(size[i], spynq_poison_beat(poison));
                b.resize(size[i] + kGuardBeats, guard);
                g.bufs[i].swap(b);
            }
        };
        auto finish = [&]() {  // check and drop the guard beats
            if (!run_trapped()) return false;
            for (size_t i = 0; i < g.args.size(); ++i) {
                if (!is_write_kind(g.args.kinds[i])) continue;
                for (size_t k = size[i]; k < g.bufs[i].size(); ++k) {
                    if (g.bufs[i][k] != guard) {
                        report("compute wrote past out_beats=" + std::to_string(g.out_n[i]) + " of " +
                               arg_label(i) + ": fix the adapter's out_beats");
                        return false;
                    }
                }
                g.bufs[i].resize(size[i]);
            }
            return true;
        };
        for (size_t i = 0; i < g.args.size(); ++i)
            if (is_write_kind(g.args.kinds[i])) g.out_n[i] = g.adapter->out_beats(static_cast<int>(i), g.args, g.bufs);
        for (size_t i = 0; i < g.args.size(); ++i) {
            if (!is_write_kind(g.args.kinds[i])) continue;
            if (g.args.kinds[i] == 'b') read[i].swap(g.bufs[i]);
            have[i] = read[i].size();
            size[i] = std::max(g.out_n[i], have[i]);
        }
        const uint32_t P = SPYNQ_POISON_WORD, Q = ~SPYNQ_POISON_WORD;
        prepare(P);
        if (!finish()) return 1;
        bool ambiguous = false;
        for (size_t i = 0; i < g.args.size(); ++i) {
            if (!is_write_kind(g.args.kinds[i])) continue;
            g.strb[i].assign(g.out_n[i], 0);
            for (size_t k = 0; k < g.out_n[i]; ++k)
                for (int w = 0; w < 4; ++w) {
                    const uint32_t got = word_of(g.bufs[i][k], w);
                    const bool poisoned = k >= have[i];
                    if (got != (poisoned ? P : word_of(read[i][k], w))) g.strb[i][k] |= 0xF << (4 * w);
                    ambiguous = ambiguous || (poisoned && got == P);
                }
        }
        if (ambiguous) {
            Buffers first(g.args.size());
            for (size_t i = 0; i < g.args.size(); ++i)
                if (is_write_kind(g.args.kinds[i])) first[i] = g.bufs[i];
            prepare(Q);
            if (!finish()) return 1;
            for (size_t i = 0; i < g.args.size(); ++i) {
                if (!is_write_kind(g.args.kinds[i])) continue;
                for (size_t k = 0; k < g.out_n[i]; ++k)
                    for (int w = 0; w < 4; ++w) {
                        const uint32_t a = word_of(first[i][k], w), b = word_of(g.bufs[i][k], w);
                        if (k >= have[i] && a == P && b == Q) continue;  // not written
                        if (a != b) {
                            report("out word " + std::to_string(4 * k + w) + " of " + arg_label(i) +
                                   " depends on the buffer's old contents (" + hex(a) + " after poison " + hex(P) +
                                   ", " + hex(b) + " after " + hex(Q) + "): the kernel reads its output buffer");
                            return 1;
                        }
                        g.strb[i][k] |= 0xF << (4 * w);
                    }
                g.bufs[i].swap(first[i]);
            }
        }
    } catch (const std::exception& e) {
        report(std::string("compute: ") + e.what());
        return 1;
    }
    return 0;
}

int dpi_next_write(unsigned long long* addr, int* beats) {
    if (g.failed || !g.adapter) return -1;
    for (;;) {
        if (g.wr_arg >= 0 && g.wr_next < g.wr_total) {
            uint64_t a;
            Burst b = split(g.wr_arg, g.wr_next, g.wr_total, &a);
            g.wr_next += b.beats;
            g.w_q.push_back(b);
            g.b_q.push_back(b);
            *addr = a;
            *beats = static_cast<int>(b.beats);
            return 1;
        }
        int next = g.wr_arg + 1;
        while (next < static_cast<int>(g.args.kinds.size()) && !is_write_kind(g.args.kinds[next])) ++next;
        if (next >= static_cast<int>(g.args.kinds.size())) return 0;
        g.wr_arg = next;
        g.wr_next = 0;
        g.wr_total = g.out_n[next];
        if (g.wr_total && !check_aligned(next)) return -1;
    }
}

int dpi_write_beat(svBitVecVal* data, int* last, int* strb) {
    if (g.w_q.empty()) return 0;
    Burst& b = g.w_q.front();
    get_beat(g.bufs[b.arg][b.first + b.done], data);
    *strb = g.strb[b.arg][b.first + b.done];
    *last = (++b.done == b.beats) ? 1 : 0;
    if (*last) g.w_q.pop_front();
    return 1;
}

void dpi_write_resp(int resp) {
    if (g.b_q.empty()) {
        report("write response with no burst outstanding");
        return;
    }
    Burst b = g.b_q.front();
    g.b_q.pop_front();
    if (resp != 0) {
        report("BRESP=" + std::to_string(resp) + " " + resp_name(resp) + " writing " + arg_label(b.arg) +
               " beats " + std::to_string(b.first) + ".." + std::to_string(b.first + b.beats - 1) + " at " +
               hex(g.args.ptr(b.arg) + b.first * kBeatBytes), false);
    }
}

}  // extern "C"
