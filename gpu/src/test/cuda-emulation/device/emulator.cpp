// emulator.cpp: the cuda_emulator process. Serves the binary request / response protocol of README.md on stdin /
// stdout, one request at a time: device memory (memory.cpp), launches (registry.cpp checks the arguments against the
// kernel's C signature, runtime.cpp runs the grid). Protocol output goes to a private duplicate of stdout; file
// descriptor 1 itself is pointed at stderr, so a kernel's printf cannot corrupt the stream. Diagnostics: stderr.
//   cuda_emulator          serve the protocol
//   cuda_emulator --list   print the kernel table (name, family, launch bounds, signature); exit 1 on a problem
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "memory.h"
#include "registry.h"
#include "runtime.h"

namespace {

int g_out_fd = 1;

void write_all(int fd, const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(1);   // the client is gone
        p += w;
        n -= static_cast<size_t>(w);
    }
}

// Buffered reads of stdin.
class Input {
public:
    // false on a clean end of input before the first byte
    bool read_first(uint8_t* op) {
        if (pos_ == end_ && !fill()) return false;
        *op = static_cast<uint8_t>(buf_[pos_++]);
        return true;
    }

    void read(void* dst, uint64_t n) {
        char* d = static_cast<char*>(dst);
        while (n > 0) {
            if (pos_ == end_) {
                if (n >= sizeof buf_) {   // large payloads straight into place
                    ssize_t r = raw_read(d, n > (1u << 30) ? (1u << 30) : n);
                    d += r;
                    n -= static_cast<uint64_t>(r);
                    continue;
                }
                if (!fill()) truncated();
            }
            size_t take = std::min<uint64_t>(n, end_ - pos_);
            std::memcpy(d, buf_ + pos_, take);
            pos_ += take;
            d += take;
            n -= take;
        }
    }

    void skip(uint64_t n) {
        char scratch[1 << 16];
        while (n > 0) {
            uint64_t take = std::min<uint64_t>(n, sizeof scratch);
            read(scratch, take);
            n -= take;
        }
    }

    uint8_t u8() { uint8_t v; read(&v, 1); return v; }
    uint16_t u16() { uint8_t b[2]; read(b, 2); return static_cast<uint16_t>(b[0] | (b[1] << 8)); }
    uint32_t u32() {
        uint8_t b[4];
        read(b, 4);
        return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
    }
    uint64_t u64() {
        uint64_t lo = u32();
        uint64_t hi = u32();
        return lo | hi << 32;
    }

private:
    [[noreturn]] static void truncated() {
        std::fprintf(stderr, "cuda_emulator: the input ended inside a request\n");
        _exit(1);
    }

    ssize_t raw_read(char* d, uint64_t n) {
        for (;;) {
            ssize_t r = ::read(0, d, n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) truncated();
            return r;
        }
    }

    bool fill() {
        for (;;) {
            ssize_t r = ::read(0, buf_, sizeof buf_);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return false;
            pos_ = 0;
            end_ = static_cast<size_t>(r);
            return true;
        }
    }

    char buf_[1 << 20];
    size_t pos_ = 0, end_ = 0;
};

// Buffered response bytes, flushed after every response.
class Output {
public:
    void put(const void* p, size_t n) {
        const char* c = static_cast<const char*>(p);
        buf_.insert(buf_.end(), c, c + n);
        if (buf_.size() >= (1u << 20)) flush();
    }
    void u8(uint8_t v) { put(&v, 1); }
    void u32(uint32_t v) {
        uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
        put(b, 4);
    }
    void u64(uint64_t v) {
        u32(static_cast<uint32_t>(v));
        u32(static_cast<uint32_t>(v >> 32));
    }
    void ok() { u8(0); }
    void error(const std::string& message) {
        std::fprintf(stderr, "cuda_emulator: error: %s\n", message.c_str());
        u8(1);
        u32(static_cast<uint32_t>(message.size()));
        put(message.data(), message.size());
    }
    void bytes(const void* p, uint64_t n) {   // large payloads straight from memory
        flush();
        write_all(g_out_fd, p, n);
    }
    void flush() {
        if (!buf_.empty()) write_all(g_out_fd, buf_.data(), buf_.size());
        buf_.clear();
    }

private:
    std::vector<char> buf_;
};

Input g_in;
Output g_out;
emu::DeviceMemory g_memory;

[[noreturn]] void fatal(const std::string& message, int code) {
    g_out.error(message);
    g_out.flush();
    _exit(code);
}

// ---- crash handler: a kernel's wild access becomes an error response (async-signal-safe: write and _exit) ---------

struct Text {
    char buf[768];
    size_t n = 0;
    void add(const char* s) { while (*s && n < sizeof buf) buf[n++] = *s++; }
    void add_uint(unsigned long v, int base) {
        char tmp[32];
        int k = 0;
        do { tmp[k++] = "0123456789abcdef"[v % base]; v /= base; } while (v && k < 32);
        while (k > 0 && n < sizeof buf) buf[n++] = tmp[--k];
    }
};

void crash_handler(int sig, siginfo_t* info, void*) {
    Text t;
    const char* kernel = emu::running_kernel();
    const char* name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE" : "SIGILL";
    const int overflow = sig == SIGSEGV ? emu::stack_guard_owner(info->si_addr) : -1;
    if (kernel) {
        uint3 b = emu::running_block();
        const int thread = overflow >= 0 ? overflow : emu::running_thread();
        t.add("kernel ");
        t.add(kernel);
        t.add(": ");
        t.add(name);
        t.add(" at address 0x");
        t.add_uint(reinterpret_cast<unsigned long>(info->si_addr), 16);
        t.add(" in block (");
        t.add_uint(b.x, 10);
        t.add(",");
        t.add_uint(b.y, 10);
        t.add(",");
        t.add_uint(b.z, 10);
        t.add(")");
        if (thread >= 0) {
            t.add(" thread ");
            t.add_uint((unsigned long) thread, 10);
        }
        if (overflow >= 0) {
            t.add(": a stack overflow (each CUDA thread has a ");
            t.add_uint(emu::stack_kib(), 10);
            t.add(" KiB stack; EMU_STACK_KIB sets it)");
        } else {
            t.add(sig == SIGFPE ? ": an arithmetic trap (integer division by zero)"
                                : ": a memory access outside every allocation");
        }
        t.add("; the emulator exits, as a CUDA context is lost after such a fault");
    } else {
        t.add("the emulator crashed with ");
        t.add(name);
    }
    uint8_t head[5] = {1, uint8_t(t.n), uint8_t(t.n >> 8), 0, 0};
    ssize_t ignored = ::write(g_out_fd, head, 5);
    ignored = ::write(g_out_fd, t.buf, t.n);
    ignored = ::write(2, "cuda_emulator: ", 15);
    ignored = ::write(2, t.buf, t.n);
    ignored = ::write(2, "\n", 1);
    (void) ignored;
    _exit(2);
}

void install_crash_handler() {
#ifndef __SANITIZE_ADDRESS__   // AddressSanitizer reports these itself, with more detail
    // The handler runs on a stack of its own: a CUDA thread's stack that overflowed into its guard has no room left.
    static char alt_stack[1 << 16];
    stack_t ss;
    std::memset(&ss, 0, sizeof ss);
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, nullptr);
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crash_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) sigaction(sig, &sa, nullptr);
#endif
}

// ---- requests --------------------------------------------------------------------------------------------------

std::string hex(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string range_error(const char* what, uint64_t p, uint64_t bytes) {
    return std::string(what) + ": [" + hex(p) + ", +" + std::to_string(bytes) + ") is not inside one allocation (" +
           g_memory.describe(p) + ")";
}

void launch() {
    const uint16_t name_len = g_in.u16();
    std::string name(name_len, '\0');
    g_in.read(name.data(), name_len);
    emu::LaunchRequest r;
    r.grid[0] = g_in.u32();
    r.grid[1] = g_in.u32();
    r.grid[2] = g_in.u32();
    r.threads = g_in.u32();
    r.dynamic_shared = g_in.u32();
    const uint32_t count = g_in.u32();
    constexpr uint32_t kMaxArgs = 256;
    std::vector<uint8_t> kinds;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t kind = g_in.u8();
        uint64_t value = g_in.u64();
        if (i < kMaxArgs) {
            kinds.push_back(kind);
            r.args.push_back(value);
        }
    }
    if (count > kMaxArgs) {
        return g_out.error("launch of " + name + ": " + std::to_string(count) + " arguments (at most 256)");
    }
    r.kernel = emu::find_kernel(name);
    if (!r.kernel) {
        std::string known;
        for (const emu::KernelInfo* k : emu::all_kernels()) known += (known.empty() ? "" : ", ") + k->name;
        return g_out.error("unknown kernel '" + name + "' (the emulator has: " + known + ")");
    }
    const std::string who = "kernel " + name;
    if (r.grid[0] < 1 || r.grid[0] > 0x7fffffffu || r.grid[1] < 1 || r.grid[1] > 65535 || r.grid[2] < 1 ||
        r.grid[2] > 65535) {
        return g_out.error(who + ": grid (" + std::to_string(r.grid[0]) + ", " + std::to_string(r.grid[1]) + ", " +
                           std::to_string(r.grid[2]) + ") is invalid (x 1..2147483647, y and z 1..65535)");
    }
    if (r.threads == 0 || r.threads % 32 != 0 || r.threads > 1024) {
        return g_out.error(who + ": blockDim.x " + std::to_string(r.threads) +
                           " must be a multiple of 32 in 32..1024 (the emulator runs whole warps)");
    }
    if (r.threads > r.kernel->max_threads) {
        return g_out.error(who + ": blockDim.x " + std::to_string(r.threads) + " exceeds the kernel's __launch_bounds__(" +
                           std::to_string(r.kernel->max_threads) + "): a GPU refuses this launch");
    }
    if (r.dynamic_shared > emu::kMaxDynamicShared) {
        return g_out.error(who + ": " + std::to_string(r.dynamic_shared) + " bytes of dynamic shared memory exceed " +
                           std::to_string(emu::kMaxDynamicShared) + " (227 KiB)");
    }
    std::string problem = emu::check_arguments(*r.kernel, kinds, r.args, [](uint64_t p) { return g_memory.inside(p); });
    if (!problem.empty()) return g_out.error(problem);

    static const bool trace = std::getenv("EMU_TRACE") != nullptr;
    const auto start = std::chrono::steady_clock::now();
    std::string fault = emu::run_launch(r);
    if (trace) {
        std::fprintf(stderr, "cuda_emulator: %s grid (%u,%u,%u) block %u shared %u: %.3f s\n", name.c_str(), r.grid[0],
                     r.grid[1], r.grid[2], r.threads, r.dynamic_shared,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (!fault.empty()) return g_out.error(who + ": " + fault);
    g_out.ok();
}

void serve() {
    for (;;) {
        uint8_t op;
        if (!g_in.read_first(&op)) return;
        switch (op) {
            case 1: {   // ALLOC
                uint64_t bytes = g_in.u64(), address = 0;
                std::string e = g_memory.allocate(bytes, &address);
                if (!e.empty()) {
                    g_out.error("alloc: " + e);
                } else {
                    g_out.ok();
                    g_out.u64(address);
                }
                break;
            }
            case 2: {   // FREE
                std::string e = g_memory.release(g_in.u64());
                if (!e.empty()) g_out.error(e);
                else g_out.ok();
                break;
            }
            case 3: {   // HTOD
                uint64_t dst = g_in.u64(), bytes = g_in.u64();
                if (!g_memory.contains(dst, bytes)) {
                    g_in.skip(bytes);
                    g_out.error(range_error("copy to device", dst, bytes));
                } else {
                    g_in.read(reinterpret_cast<void*>(static_cast<uintptr_t>(dst)), bytes);
                    g_out.ok();
                }
                break;
            }
            case 4: {   // DTOH
                uint64_t src = g_in.u64(), bytes = g_in.u64();
                if (!g_memory.contains(src, bytes)) {
                    g_out.error(range_error("copy to host", src, bytes));
                } else {
                    g_out.ok();
                    g_out.bytes(reinterpret_cast<const void*>(static_cast<uintptr_t>(src)), bytes);
                }
                break;
            }
            case 5: {   // DTOD
                uint64_t dst = g_in.u64(), src = g_in.u64(), bytes = g_in.u64();
                if (!g_memory.contains(dst, bytes)) {
                    g_out.error(range_error("copy on device (destination)", dst, bytes));
                } else if (!g_memory.contains(src, bytes)) {
                    g_out.error(range_error("copy on device (source)", src, bytes));
                } else {
                    if (bytes > 0) {
                        std::memmove(reinterpret_cast<void*>(static_cast<uintptr_t>(dst)),
                                     reinterpret_cast<const void*>(static_cast<uintptr_t>(src)), bytes);
                    }
                    g_out.ok();
                }
                break;
            }
            case 6: {   // MEMSET
                uint64_t dst = g_in.u64();
                uint8_t value = g_in.u8();
                uint64_t bytes = g_in.u64();
                if (!g_memory.contains(dst, bytes)) {
                    g_out.error(range_error("memset", dst, bytes));
                } else {
                    if (bytes > 0) std::memset(reinterpret_cast<void*>(static_cast<uintptr_t>(dst)), value, bytes);
                    g_out.ok();
                }
                break;
            }
            case 7:   // LAUNCH
                launch();
                break;
            case 8:   // PING
                g_out.ok();
                break;
            case 9:   // QUIT
                g_out.ok();
                g_out.flush();
                _exit(0);
            default:
                fatal("unknown opcode " + std::to_string(op) + ": the request stream cannot be followed any further", 1);
        }
        g_out.flush();
    }
}

int list_kernels() {
    for (const emu::KernelInfo* k : emu::all_kernels()) {
        std::printf("%-24s %-12s %4u %s\n", k->name.c_str(), k->family.c_str(), k->max_threads, k->signature().c_str());
    }
    for (const std::string& p : emu::registry_problems()) std::fprintf(stderr, "cuda_emulator: %s\n", p.c_str());
    return emu::registry_problems().empty() && !emu::all_kernels().empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--list") == 0) return list_kernels();
    if (argc > 1) {
        std::fprintf(stderr, "usage: cuda_emulator [--list]   (the protocol is on stdin / stdout, see README.md)\n");
        return 2;
    }
    if (!emu::registry_problems().empty()) {
        for (const std::string& p : emu::registry_problems()) std::fprintf(stderr, "cuda_emulator: %s\n", p.c_str());
        return 1;
    }
    g_out_fd = dup(1);
    dup2(2, 1);   // stray stdout writes (a kernel's printf) go to stderr
    emu::fatal_exit = fatal;
    if (const char* s = std::getenv("EMU_HANG_SECONDS")) emu::set_hang_seconds(std::atof(s));
    install_crash_handler();
    serve();
    return 0;
}
