// spynq co-simulation: generic DPI-C glue between the generated Vitis-shaped shell
// (spynq_sim/shell.py) and a kernel adapter (spynq_kernel.h). Kernel-agnostic.
//
// Protocol (called by the shell, one call per clock edge at most per function):
//   dpi_set_arg(i, v)*  dpi_begin(kernel, kinds)
//   dpi_next_read -> 1 burst (addr, beats) | 2 wait | 0 no more | -1 error;  dpi_read_beat per R beat
//   dpi_compute
//   dpi_next_write -> same codes;  dpi_write_beat per W beat;  dpi_write_resp per B
// Bursts: INCR, at most 256 beats of 16 bytes, never crossing a 4 KB boundary.
// Errors are printed to stderr and appended to the file named by $SPYNQ_DPI_ERROR_FILE.
#include "spynq_kernel.h"

#include <svdpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <map>
#include <memory>
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

constexpr uint64_t kBeatBytes = 16;
constexpr uint64_t kMaxBurst = 256;
constexpr size_t kGuardBeats = 16;

struct Burst {
    int arg;
    size_t first;  // first beat index in the buffer
    size_t beats;
    size_t done;   // beats moved so far
};

struct State {
    std::string kernel;
    std::unique_ptr<KernelAdapter> adapter;
    Args args;
    Buffers bufs;
    std::vector<size_t> out_n;
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
    return Burst{arg, next, static_cast<size_t>(n), 0};
}

bool check_aligned(int arg) {
    if (g.args.ptr(arg) % kBeatBytes) {
        report("pointer argument " + std::to_string(arg) + " = " + hex(g.args.ptr(arg)) +
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

int dpi_begin(const char* kernel, const char* kinds) {
    Args args = g.args;
    g = State();
    g.kernel = kernel;
    g.args = args;
    g.args.kinds = kinds;
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
            g.bufs[next].assign(g.rd_total, Beat(0));
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
    if (resp != 0) {
        report("RRESP=" + std::to_string(resp) + " reading argument " + std::to_string(b.arg) + " at " +
               hex(g.args.ptr(b.arg) + i * kBeatBytes), false);
    }
    put_beat(g.bufs[b.arg][i], data);
    if (++b.done == b.beats) g.rd_q.pop_front();
}

int dpi_compute() {
    if (g.failed || !g.adapter) return 1;
    try {
        const Beat guard = Beat("0x5A5AA5A55A5AA5A55A5AA5A55A5AA5A5", 16);
        for (size_t i = 0; i < g.args.size(); ++i) {
            if (!is_write_kind(g.args.kinds[i])) continue;
            size_t n = g.adapter->out_beats(static_cast<int>(i), g.args, g.bufs);
            g.out_n[i] = n;
            size_t have = g.args.kinds[i] == 'b' ? g.bufs[i].size() : 0;
            g.bufs[i].resize(std::max(n, have), Beat(0));
            g.bufs[i].resize(g.bufs[i].size() + kGuardBeats, guard);
        }
        g.adapter->compute(g.args, g.bufs);
        for (size_t i = 0; i < g.args.size(); ++i) {
            if (!is_write_kind(g.args.kinds[i])) continue;
            size_t n = g.bufs[i].size() - kGuardBeats;
            for (size_t k = n; k < g.bufs[i].size(); ++k) {
                if (g.bufs[i][k] != guard) {
                    report("compute wrote past out_beats=" + std::to_string(g.out_n[i]) + " of argument " +
                           std::to_string(i) + ": fix the adapter's out_beats");
                    return 1;
                }
            }
            g.bufs[i].resize(n);
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

int dpi_write_beat(svBitVecVal* data, int* last) {
    if (g.w_q.empty()) return 0;
    Burst& b = g.w_q.front();
    get_beat(g.bufs[b.arg][b.first + b.done], data);
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
        report("BRESP=" + std::to_string(resp) + " writing argument " + std::to_string(b.arg) + " at " +
               hex(g.args.ptr(b.arg) + b.first * kBeatBytes) + " (" + std::to_string(b.beats) + " beats)", false);
    }
}

}  // extern "C"
