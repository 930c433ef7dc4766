// runtime.cpp: executes launches. Blocks run one after another on the calling (main) host thread; the CUDA threads
// of a block are cooperative fibers (thread t is always fiber t, with its own stack behind a guard area): a fiber
// runs until it waits at __syncthreads or a warp collective, yields (__nanosleep) or leaves the kernel, and then
// switches straight to the next runnable fiber, or back to the main context when none is left. Then either every
// thread of the block has left the kernel (the next block starts, with fresh barriers and NaN-poisoned shared
// memory), or the live ones all wait at barriers that cannot complete: a deadlock, reported at once with who waits
// where, after which the waiting fibers resume only to throw Abort and unwind. A watchdog thread ends the process
// when a fiber runs for EMU_HANG_SECONDS without any switch (an endless loop cannot be interrupted).
//
// Scheduling (which runnable fiber runs next): by default the lowest-numbered one, so a warp runs until all of its
// lanes wait (each lane in turn, from lane 0) before a later warp runs at all, and after every __syncthreads warp 0
// runs first again: a warp reaches its next barrier or collective before later warps write what they would write
// before theirs, which makes a missing __syncthreads between a shared-memory write and another warp's read show up
// as NaN (poisoned) or stale data. EMU_SCHEDULE_FUZZ=<seed> picks, at every switch, a random runnable lane of the
// same warp (3 in 4) or of a random warp: reproducible for a seed and a request sequence.
#include "runtime.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
#define EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_NO_ASAN __attribute__((no_sanitize_address))
#else
#define EMU_NO_ASAN
#endif

uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;

extern "C" [[noreturn]] void emu_fiber_entry();

namespace emu {

uint64_t g_block_serial = 0;

Warp* t_warp = nullptr;
unsigned t_lane = 0;
alignas(256) unsigned char g_dynamic_shared[kMaxDynamicShared];
void (*fatal_exit)(const std::string& message, int code) = nullptr;

namespace {

// ---- context switch ------------------------------------------------------------------------------------------

#ifdef EMU_ASM_SWITCH
// emu_switch_context(save, load): pushes the callee-saved registers (System V: rbx, rbp, r12-r15) and the SSE / x87
// control words on the current stack, stores the stack pointer in *save, continues on the stack `load` (a stack
// saved the same way, or a new one prepared by init_context). Everything else is caller-saved. The control words are
// loaded only when they differ from the current ones (loading MXCSR costs more than the rest of the switch, and
// kernels do not change rounding modes).
extern "C" void emu_switch_context(void** save, void* load);
asm(R"(
    .text
    .globl emu_switch_context
    .type emu_switch_context, @function
    .p2align 4
emu_switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, %rax
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    movl (%rsp), %ecx
    cmpl (%rax), %ecx
    je 1f
    ldmxcsr (%rsp)
1:
    movzwl 4(%rsp), %ecx
    cmpw 4(%rax), %cx
    je 2f
    fldcw 4(%rsp)
2:
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch_context, .-emu_switch_context
)");

struct Context {
    void* sp = nullptr;
};
#else
struct Context {
    ucontext_t uc;
};
#endif

enum State : uint8_t { kReady, kRunning, kWaitBlock, kWaitWarp, kExited };

struct Fiber {
    Context ctx;
    char* guard = nullptr;             // inaccessible, right below the stack
    char* stack = nullptr;             // lowest usable address
    std::size_t stack_bytes = 0;
    unsigned index = 0;                // threadIdx.x
    State state = kExited;
    uint32_t phase = 0;                // warp-barrier phases this thread entered in the current block
    const char* wait_what = nullptr;   // what it waits in, for deadlock reports
    std::source_location wait_site;
#ifdef __SANITIZE_ADDRESS__
    void* fake_stack = nullptr;        // AddressSanitizer's fake stack while switched out
#endif
};

struct BlockState {
    uint32_t live = 0;      // threads that have not left the kernel
    uint32_t arrived = 0;   // live threads waiting at __syncthreads
    unsigned warps = 0;
    Warp warp[kMaxWarps];
};

Fiber g_fibers[kMaxThreads];
unsigned g_allocated = 0;                 // fibers with a stack
BlockState g_block;
uint32_t g_ready[kMaxWarps];              // bit l of g_ready[w]: thread 32 w + l can run
uint32_t g_ready_warps = 0;               // bit w: g_ready[w] != 0
Fiber* g_cur = nullptr;                   // the running fiber; nullptr: the main context
Context g_main;
bool g_abort = false;                     // the launch is being abandoned
uint64_t g_fp_control = 0;                // the main thread's MXCSR | x87 control word << 32: every fiber's start

std::atomic<uint64_t> g_progress{0};      // switches (the watchdog's clock)
std::atomic<int> g_running{-1};
std::atomic<unsigned> g_block_x{0}, g_block_y{0}, g_block_z{0};
std::atomic<const char*> g_kernel_name{nullptr};

constexpr std::size_t kGuardBytes = 64 * 1024;

std::size_t g_stack_bytes = [] {
#ifdef __SANITIZE_ADDRESS__
    long kib = 1024;   // instrumented frames carry red zones
#else
    long kib = 256;
#endif
    if (const char* s = std::getenv("EMU_STACK_KIB")) kib = std::max(16L, std::atol(s));
    const std::size_t page = (std::size_t) sysconf(_SC_PAGESIZE);
    return ((std::size_t) kib * 1024 + page - 1) / page * page;
}();

// EMU_SCHEDULE_FUZZ=<seed>: random scheduling choices (xorshift64*, seeded with splitmix64 of the seed).
uint64_t g_rng = 0;
bool g_fuzz = [] {
    const char* s = std::getenv("EMU_SCHEDULE_FUZZ");
    if (!s || !*s || std::strcmp(s, "0") == 0) return false;
    char* end = nullptr;
    uint64_t seed = std::strtoull(s, &end, 0);
    if (*end != '\0') {   // not a number: hash the text
        seed = 1469598103934665603ull;
        for (const char* c = s; *c; c++) seed = (seed ^ (unsigned char) *c) * 1099511628211ull;
    }
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    g_rng = (z ^ (z >> 31)) | 1;
    return true;
}();

uint64_t rng() {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545f4914f6cdd1dull;
}

// ---- static __shared__ arrays ----------------------------------------------------------------------------------

std::mutex g_static_mu;
std::vector<std::pair<void*, std::size_t>> g_statics;

void poison_shared(uint32_t dynamic_bytes) {
    std::memset(g_dynamic_shared, 0xff, dynamic_bytes);
    std::lock_guard<std::mutex> lock(g_static_mu);
    for (auto& [p, n] : g_statics) std::memset(p, 0xff, n);
}

// ---- the launch in progress ------------------------------------------------------------------------------------

struct Launch {
    const LaunchRequest* req = nullptr;
    std::string fault;   // the first fault of this launch
};

Launch L;

void record_fault(const std::string& message) {
    if (L.fault.empty()) L.fault = message;
}

// ---- fibers: stacks and contexts -------------------------------------------------------------------------------

// Stacks for threads [0, n), mapped a warp at a time and kept for the process's life. "" or why not.
std::string ensure_fibers(unsigned n) {
    while (g_allocated < n) {
        const std::size_t per = kGuardBytes + g_stack_bytes;
        void* p = mmap(nullptr, per * kWarpSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (p == MAP_FAILED) {
            return "cannot map " + std::to_string(per * kWarpSize) + " bytes for the stacks of threads " +
                   std::to_string(g_allocated) + ".." + std::to_string(g_allocated + kWarpSize - 1) + ": " +
                   std::strerror(errno);
        }
        char* base = static_cast<char*>(p);
        for (unsigned i = 0; i < kWarpSize; i++) {
            Fiber& f = g_fibers[g_allocated + i];
            f.guard = base + i * per;
            f.stack = f.guard + kGuardBytes;
            f.stack_bytes = g_stack_bytes;
            f.index = g_allocated + i;
            mprotect(f.guard, kGuardBytes, PROT_NONE);
        }
        g_allocated += kWarpSize;
    }
    return "";
}

// A fresh context that starts emu_fiber_entry on f's stack.
EMU_NO_ASAN void init_context(Fiber& f) {
#ifdef __SANITIZE_ADDRESS__
    // The frames that never return (emu_fiber_entry and the final switch) may have left poisoned red zones at the
    // top of the stack; everything deeper returned or was unwound.
    const std::size_t top = std::min<std::size_t>(f.stack_bytes, 64 * 1024);
    ASAN_UNPOISON_MEMORY_REGION(f.stack + f.stack_bytes - top, top);
#endif
#ifdef EMU_ASM_SWITCH
    uintptr_t end = (reinterpret_cast<uintptr_t>(f.stack) + f.stack_bytes) & ~uintptr_t(15);
    uint64_t* sp = reinterpret_cast<uint64_t*>(end);
    *--sp = 0;                                                    // emu_fiber_entry's return address: none
    *--sp = reinterpret_cast<uint64_t>(&emu_fiber_entry);         // where emu_switch_context returns to
    for (int i = 0; i < 6; i++) *--sp = 0;                        // rbp, rbx, r12 .. r15
    *--sp = g_fp_control;                                         // MXCSR, x87 control word
    f.ctx.sp = sp;
#else
    getcontext(&f.ctx.uc);
    f.ctx.uc.uc_stack.ss_sp = f.stack;
    f.ctx.uc.uc_stack.ss_size = f.stack_bytes;
    f.ctx.uc.uc_link = nullptr;
    makecontext(&f.ctx.uc, emu_fiber_entry, 0);
#endif
}

#ifdef __SANITIZE_ADDRESS__
void* g_main_fake = nullptr;
const void* g_main_bottom = nullptr;
std::size_t g_main_size = 0;
bool g_from_main = false;   // the switch in progress leaves the main context

// After a context switch, on the new stack: tells AddressSanitizer, learning the main stack on the way.
EMU_NO_ASAN void asan_arrived(void* fake) {
    const void* bottom = nullptr;
    std::size_t size = 0;
    __sanitizer_finish_switch_fiber(fake, &bottom, &size);
    if (g_from_main) {
        g_main_bottom = bottom;
        g_main_size = size;
    }
}
#endif

inline void activate(Fiber* f) {
    g_cur = f;
    f->state = kRunning;
    threadIdx = {f->index, 0, 0};
    t_lane = f->index % kWarpSize;
    t_warp = &g_block.warp[f->index / kWarpSize];
    g_running.store((int) f->index, std::memory_order_relaxed);
}

// Leaves the context `from` (the fiber from_fiber, or the main context when it is null) for the fiber `to` (the
// main context when null); returns when something switches back. A dying fiber is never switched back to. Every
// switch but a yield's is progress for the watchdog (threads that only yield to each other spin forever).
EMU_NO_ASAN void transfer(Context* from, Fiber* from_fiber, Fiber* to, bool dying, bool progress = true) {
    if (to) {
        activate(to);
    } else {
        g_cur = nullptr;
        g_running.store(-1, std::memory_order_relaxed);
    }
    if (progress) g_progress.store(g_progress.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
#ifdef __SANITIZE_ADDRESS__
    void** fake = dying ? nullptr : from_fiber ? &from_fiber->fake_stack : &g_main_fake;
    g_from_main = from_fiber == nullptr;
    __sanitizer_start_switch_fiber(fake, to ? to->stack : g_main_bottom, to ? to->stack_bytes : g_main_size);
#else
    (void) dying;
    (void) from_fiber;
#endif
#ifdef EMU_ASM_SWITCH
    emu_switch_context(&from->sp, to ? to->ctx.sp : g_main.sp);
#else
    swapcontext(&from->uc, to ? &to->ctx.uc : &g_main.uc);
#endif
#ifdef __SANITIZE_ADDRESS__
    asan_arrived(from_fiber ? from_fiber->fake_stack : g_main_fake);
#endif
}

// ---- the ready set and the scheduling order ----------------------------------------------------------------------

inline void make_ready(unsigned t) {
    g_ready[t / kWarpSize] |= 1u << (t % kWarpSize);
    g_ready_warps |= 1u << (t / kWarpSize);
    g_fibers[t].state = kReady;
}

inline Fiber* take(unsigned w, unsigned l) {
    g_ready[w] &= ~(1u << l);
    if (!g_ready[w]) g_ready_warps &= ~(1u << w);
    return &g_fibers[w * kWarpSize + l];
}

inline unsigned nth_bit(uint32_t m, unsigned n) {
    while (n--) m &= m - 1;
    return (unsigned) std::countr_zero(m);
}

// The next fiber to run (removed from the ready set), or nullptr when none can. `warp`: the warp of the fiber that
// switches away (-1 from the main context).
Fiber* pick(int warp) {
    if (!g_ready_warps) return nullptr;
    if (!g_fuzz) {
        const unsigned w = (unsigned) std::countr_zero(g_ready_warps);
        return take(w, (unsigned) std::countr_zero(g_ready[w]));
    }
    unsigned w;
    if (warp >= 0 && g_ready[warp] && rng() % 4 != 0) w = (unsigned) warp;
    else w = nth_bit(g_ready_warps, (unsigned) (rng() % (unsigned) std::popcount(g_ready_warps)));
    return take(w, nth_bit(g_ready[w], (unsigned) (rng() % (unsigned) std::popcount(g_ready[w]))));
}

// The first ready fiber after thread t in cyclic order (a yield), or nullptr.
Fiber* pick_after(unsigned t) {
    if (!g_ready_warps) return nullptr;
    if (g_fuzz) return pick(-1);
    const unsigned w = t / kWarpSize, l = t % kWarpSize;
    const uint32_t lanes = l == kWarpSize - 1 ? 0 : g_ready[w] & (~0u << (l + 1));
    if (lanes) return take(w, (unsigned) std::countr_zero(lanes));
    const uint32_t warps = w == kMaxWarps - 1 ? 0 : g_ready_warps & (~0u << (w + 1));
    const unsigned w2 = (unsigned) std::countr_zero(warps ? warps : g_ready_warps);
    return take(w2, (unsigned) std::countr_zero(g_ready[w2]));
}

// The running fiber cannot go on (it waits, or it is ready but others should run first): the next one runs.
void switch_away(Fiber* self) {
    Fiber* next = pick((int) (self->index / kWarpSize));
    if (next == self) {
        activate(self);
        return;
    }
    transfer(&self->ctx, self, next, false);
}

// Every live thread waits at __syncthreads (or has just arrived): all of them can go on.
void complete_block() {
    g_block.arrived = 0;
    for (unsigned w = 0; w < g_block.warps; w++) {
        uint32_t live = g_block.warp[w].live;
        if (!live) continue;
        g_ready[w] |= live;
        g_ready_warps |= 1u << w;
        for (uint32_t m = live; m; m &= m - 1) g_fibers[w * kWarpSize + std::countr_zero(m)].state = kReady;
    }
}

// Every live lane of warp w waits at its barrier: all of them can go on.
void complete_warp(unsigned w) {
    Warp& warp = g_block.warp[w];
    warp.arrived = 0;
    if (!warp.live) return;
    g_ready[w] |= warp.live;
    g_ready_warps |= 1u << w;
    for (uint32_t m = warp.live; m; m &= m - 1) g_fibers[w * kWarpSize + std::countr_zero(m)].state = kReady;
}

// The running fiber arrives at its warp's barrier and waits until every live lane of the warp arrived.
void warp_wait(const char* what, const std::source_location& site) {
    Fiber* self = g_cur;
    const unsigned w = self->index / kWarpSize;
    Warp& warp = g_block.warp[w];
    self->wait_what = what;
    self->wait_site = site;
    if (++warp.arrived == warp.live_count) complete_warp(w);
    else self->state = kWaitWarp;
    switch_away(self);
    if (g_abort) throw Abort{};
}

// Wakes every waiting fiber: each resumes only to throw Abort (fibers that have not started never run the kernel).
void abort_all() {
    g_abort = true;
    for (unsigned t = 0; t < g_block.warps * kWarpSize; t++) {
        if (g_fibers[t].state == kWaitBlock || g_fibers[t].state == kWaitWarp) make_ready(t);
    }
}

// A thread that is done with the block no longer counts at any barrier (its exchange entries stay as they are: a
// slower lane may still be reading its last collective).
void leave_block(Fiber& f) {
    const unsigned w = f.index / kWarpSize;
    Warp& warp = g_block.warp[w];
    warp.live &= ~(1u << (f.index % kWarpSize));
    warp.live_count--;
    f.state = kExited;
    g_block.live--;
    if (warp.arrived != 0 && warp.arrived == warp.live_count) complete_warp(w);
    if (g_block.arrived != 0 && g_block.arrived == g_block.live) complete_block();
}

void setup_block() {
    const unsigned threads = L.req->threads;
    g_block.warps = threads / kWarpSize;
    g_block.live = threads;
    g_block.arrived = 0;
    g_ready_warps = 0;
    for (unsigned w = 0; w < g_block.warps; w++) {
        Warp& warp = g_block.warp[w];
        warp.live = 0xffffffffu;
        warp.live_count = kWarpSize;
        warp.arrived = 0;
        for (Exchange& x : warp.bank) {
            for (unsigned l = 0; l < kWarpSize; l++) {
                x.phase[l] = ~uint32_t(0);
                x.slot[l] = ~uint64_t(0);
                x.key[l] = 0;
                x.mask[l] = 0;
                x.site[l] = std::source_location();
            }
            x.checked_phase = ~uint32_t(0);
        }
        g_ready[w] = 0xffffffffu;
        g_ready_warps |= 1u << w;
    }
    for (unsigned t = 0; t < threads; t++) {
        Fiber& f = g_fibers[t];
        f.state = kReady;
        f.phase = 0;
        f.wait_what = nullptr;
        init_context(f);
    }
    poison_shared(L.req->dynamic_shared);
}

// "0-15, 32-47"
std::string ranges(const std::vector<unsigned>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size();) {
        std::size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1) j++;
        s += (s.empty() ? "" : ", ") + std::to_string(v[i]) + (j > i ? "-" + std::to_string(v[j]) : "");
        i = j + 1;
    }
    return s;
}

std::string describe_site(const std::source_location& site) {
    return site.file_name() && *site.file_name() ? describe(site) : std::string("an unknown site");
}

// Who waits where, grouped by call site: "threads 0-15 at f.cu:12:5; threads 32-47 at f.cu:20:5".
std::string waiters(unsigned from, unsigned to, State state, const char* noun) {
    std::vector<std::pair<std::string, std::vector<unsigned>>> groups;
    for (unsigned t = from; t < to; t++) {
        const Fiber& f = g_fibers[t];
        if (f.state != state) continue;
        std::string where = (state == kWaitWarp && f.wait_what ? std::string(f.wait_what) + " at " : std::string("")) +
                            describe_site(f.wait_site);
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == where; });
        if (it == groups.end()) groups.push_back({where, {t % (state == kWaitWarp ? kWarpSize : kMaxThreads)}});
        else it->second.push_back(t % (state == kWaitWarp ? kWarpSize : kMaxThreads));
    }
    std::string s;
    for (std::size_t i = 0; i < groups.size() && i < 6; i++) {
        s += (s.empty() ? "" : "; ") + std::string(noun) + " " + ranges(groups[i].second) + " " +
             (state == kWaitWarp ? "in " : "at ") + groups[i].first;
    }
    if (groups.size() > 6) s += "; ...";
    return s;
}

std::string deadlock_report() {
    const LaunchRequest& r = *L.req;
    char head[256];
    std::snprintf(head, sizeof head,
                  "deadlock in block (%u,%u,%u) of grid (%u,%u,%u): no live thread can go on: %u of %u live threads "
                  "wait at __syncthreads",
                  blockIdx.x, blockIdx.y, blockIdx.z, r.grid[0], r.grid[1], r.grid[2], g_block.arrived, g_block.live);
    std::string s = head;
    if (g_block.arrived) s += " (" + waiters(0, g_block.warps * kWarpSize, kWaitBlock, "threads") + ")";
    std::string warps;
    for (unsigned w = 0; w < g_block.warps; w++) {
        const Warp& warp = g_block.warp[w];
        if (warp.arrived == 0) continue;
        warps += (warps.empty() ? "" : ", ") + std::string("warp ") + std::to_string(w) + " (" +
                 std::to_string(warp.arrived) + " of " + std::to_string(warp.live_count) + " live lanes: " +
                 waiters(w * kWarpSize, (w + 1) * kWarpSize, kWaitWarp, "lanes") + ")";
    }
    if (!warps.empty()) s += "; lanes wait in a warp collective in " + warps;
    return s + ". A barrier that some live thread never reaches (a __syncthreads or warp collective in divergent "
               "code) deadlocks the block; on a GPU it is undefined behaviour (typically a hang)";
}

// Runs one block to its end: every thread left the kernel (possibly after a fault or a deadlock, which abandon it).
void run_block(uint3 b) {
    ::emu::g_block_serial++;
    blockIdx = b;
    g_block_x.store(b.x, std::memory_order_relaxed);
    g_block_y.store(b.y, std::memory_order_relaxed);
    g_block_z.store(b.z, std::memory_order_relaxed);
    setup_block();
    for (;;) {
        // The fibers switch among themselves; control comes back here when none can run.
        while (Fiber* f = pick(-1)) transfer(&g_main, nullptr, f, false);
        if (g_block.live == 0) return;
        if (!g_abort) record_fault(deadlock_report());
        abort_all();
        if (!g_ready_warps) {   // cannot happen: every live fiber waits somewhere
            record_fault("internal error: " + std::to_string(g_block.live) + " threads neither run nor wait");
            std::fprintf(stderr, "cuda_emulator: %s\n", L.fault.c_str());
            fatal_exit("kernel " + L.req->kernel->name + ": " + L.fault, 1);
        }
    }
}

// ---- the watchdog: a fiber that never switches (an endless loop) ---------------------------------------------

double g_hang_seconds = 120;
// Never destroyed: the detached watchdog thread waits on them until the process ends.
std::mutex& g_watch_mu = *new std::mutex;
std::condition_variable& g_watch_cv = *new std::condition_variable;
bool g_watch_active = false;   // a launch is running
bool g_watch_started = false;

void watchdog_main() {
    using clock = std::chrono::steady_clock;
    std::unique_lock<std::mutex> lock(g_watch_mu);
    for (;;) {
        g_watch_cv.wait(lock, [] { return g_watch_active; });
        uint64_t seen = g_progress.load(std::memory_order_relaxed);
        auto since = clock::now();
        while (g_watch_active) {
            g_watch_cv.wait_for(lock, std::chrono::milliseconds(250));
            const uint64_t now_progress = g_progress.load(std::memory_order_relaxed);
            const auto now = clock::now();
            if (now_progress != seen || !g_watch_active) {
                seen = now_progress;
                since = now;
                continue;
            }
            const double idle = std::chrono::duration<double>(now - since).count();
            if (g_hang_seconds > 0 && idle > g_hang_seconds) {
                const char* kernel = g_kernel_name.load();
                const int t = g_running.load(std::memory_order_relaxed);
                char msg[640];
                std::snprintf(msg, sizeof msg,
                              "kernel %s: thread %d of block (%u,%u,%u) ran for %.0f s without reaching a barrier or "
                              "warp collective (an endless loop, or a spin-wait for another thread of the block: the "
                              "emulator runs a block's threads one at a time and switches only at __syncthreads, warp "
                              "collectives and __nanosleep), so the emulator exits",
                              kernel ? kernel : "?", t, g_block_x.load(), g_block_y.load(), g_block_z.load(), idle);
                fatal_exit(msg, 3);
            }
        }
    }
}

void watch(bool active) {
    std::lock_guard<std::mutex> lock(g_watch_mu);
    if (!g_watch_started) {
        std::thread(watchdog_main).detach();
        g_watch_started = true;
    }
    g_watch_active = active;
    g_watch_cv.notify_all();
}

}  // namespace

// ---- the shim's entry points -----------------------------------------------------------------------------------

std::string describe(const std::source_location& site) {
    return std::string(site.file_name()) + ":" + std::to_string(site.line()) + ":" + std::to_string(site.column());
}

void fault(const std::string& message) {
    char where[96];
    std::snprintf(where, sizeof where, "block (%u,%u,%u) thread %u: ", blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x);
    record_fault(where + message);
    abort_all();
    throw Abort{};
}

bool register_static_shared(void* p, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(g_static_mu);
    g_statics.emplace_back(p, bytes);
    std::memset(p, 0xff, bytes);
    return true;
}

void sync_block(const std::source_location& site) {
    if (g_abort) throw Abort{};
    Fiber* self = g_cur;
    self->wait_what = "__syncthreads";
    self->wait_site = site;
    if (++g_block.arrived == g_block.live) complete_block();
    else self->state = kWaitBlock;
    switch_away(self);
    if (g_abort) throw Abort{};
}

void warp_barrier(const std::source_location& site) {
    if (g_abort) throw Abort{};
    g_cur->phase++;
    warp_wait("a WMMA load's trailing warp barrier", site);
}

void yield() {
    if (g_abort) throw Abort{};
    Fiber* self = g_cur;
    Fiber* next = pick_after(self->index);
    if (!next) return;
    make_ready(self->index);
    transfer(&self->ctx, self, next, false, false);
    if (g_abort) throw Abort{};
}

static bool same_site(const std::source_location& a, const std::source_location& b) {
    return a.line() == b.line() && a.column() == b.column() &&
           (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

static std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

// The lanes' entries of a collective's phase, checked from one lane's point of view: every lane that had not left
// the kernel took part, at the same call site, with the same mask holding every live lane, the same key (and value
// when same_value). Faults otherwise.
[[gnu::noinline]] static void check_exchange(const Exchange& x, const Warp& w, uint32_t phase, unsigned lane,
                                             uint32_t mask, uint64_t value, uint64_t key, bool same_value,
                                             const std::source_location& site, const char* what) {
    auto here = [&] { return std::string(what) + " at " + describe(site); };
    // Every lane that had not left the kernel arrived at this phase; those that did not publish here are elsewhere
    // (a lane that took part may already have left again, so participation is read from the phases, not `live`).
    const uint32_t live = w.live;
    for (unsigned l = 0; l < kWarpSize; l++) {
        if (l == lane) continue;
        if (x.phase[l] != phase) {
            if ((live >> l) & 1u) {
                fault("warp collectives diverged: lane " + std::to_string(lane) + " is in " + here() + ", lane " +
                      std::to_string(l) + " waits at another warp barrier (a WMMA load's) or collective");
            }
            continue;
        }
        if (!same_site(x.site[l], site)) {
            fault("warp collectives diverged: lane " + std::to_string(lane) + " is in " + here() + ", lane " +
                  std::to_string(l) + " in a collective at " + describe(x.site[l]) +
                  " (every live lane of the warp must reach the same collective; partial masks whose other lanes run "
                  "elsewhere are not emulated)");
        }
        if (x.mask[l] != mask || !((mask >> l) & 1u)) {
            fault(here() + ": lane " + std::to_string(lane) + " passes mask " + hex32(mask) + ", live lane " +
                  std::to_string(l) + " passes " + hex32(x.mask[l]) + " (the emulator needs every live lane in the mask)");
        }
        if (x.key[l] != key || (same_value && x.slot[l] != value)) {
            fault(here() + ": lanes " + std::to_string(lane) + " and " + std::to_string(l) +
                  " pass different pointers, leading dimensions or layouts");
        }
    }
}

[[gnu::noinline, gnu::cold]] static void mask_fault(uint32_t mask, unsigned lane, const std::source_location& site,
                                                    const char* what) {
    fault(std::string(what) + " at " + describe(site) + ": the mask " + hex32(mask) + " leaves out the calling lane " +
          std::to_string(lane));
}

const Exchange& collective_enter(uint32_t mask, uint64_t value, uint64_t key, bool same_value,
                                 const std::source_location& site, const char* what) {
    if (g_abort) throw Abort{};
    Warp& w = *t_warp;
    const uint32_t phase = g_cur->phase++;
    Exchange& x = w.bank[phase & 1u];
    const unsigned lane = t_lane;
    if (!((mask >> lane) & 1u)) [[unlikely]] mask_fault(mask, lane, site, what);
    x.slot[lane] = value;
    x.key[lane] = key;
    x.mask[lane] = mask;
    x.site[lane] = site;
    x.phase[lane] = phase;
    warp_wait(what, site);
    // One lane that finds every entry consistent with its own has checked them for all (the checks compare every
    // lane with every other through it); until then each lane checks, and the first to find a difference faults.
    if (x.checked_phase != phase) {
        check_exchange(x, w, phase, lane, mask, value, key, same_value, site, what);
        x.checked_phase = phase;
    }
    return x;
}

// ---- launches --------------------------------------------------------------------------------------------------

void set_hang_seconds(double seconds) { g_hang_seconds = seconds; }

const char* running_kernel() { return g_kernel_name.load(); }

uint3 running_block() {
    return {g_block_x.load(std::memory_order_relaxed), g_block_y.load(std::memory_order_relaxed),
            g_block_z.load(std::memory_order_relaxed)};
}

int running_thread() { return g_running.load(std::memory_order_relaxed); }

int stack_guard_owner(const void* address) {
    const char* a = static_cast<const char*>(address);
    for (unsigned t = 0; t < g_allocated; t++) {
        if (a >= g_fibers[t].guard && a < g_fibers[t].guard + kGuardBytes) return (int) t;
    }
    return -1;
}

unsigned stack_kib() { return (unsigned) (g_stack_bytes / 1024); }

std::string run_launch(const LaunchRequest& r) {
    std::string problem = ensure_fibers(r.threads);
    if (!problem.empty()) return problem;
#ifdef EMU_ASM_SWITCH
    uint32_t mxcsr;
    uint16_t fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    g_fp_control = mxcsr | (uint64_t) fpucw << 32;
#endif
    L.req = &r;
    L.fault.clear();
    g_abort = false;
    blockDim = dim3(r.threads, 1, 1);
    gridDim = dim3(r.grid[0], r.grid[1], r.grid[2]);
#ifdef __SANITIZE_ADDRESS__
    ASAN_UNPOISON_MEMORY_REGION(g_dynamic_shared, kMaxDynamicShared);
    ASAN_POISON_MEMORY_REGION(g_dynamic_shared + r.dynamic_shared, kMaxDynamicShared - r.dynamic_shared);
#endif
    g_kernel_name.store(r.kernel->name.c_str());
    watch(true);
    for (unsigned z = 0; z < r.grid[2] && !g_abort; z++) {
        for (unsigned y = 0; y < r.grid[1] && !g_abort; y++) {
            for (unsigned x = 0; x < r.grid[0] && !g_abort; x++) run_block({x, y, z});
        }
    }
    watch(false);
    g_kernel_name.store(nullptr);
    g_running.store(-1, std::memory_order_relaxed);
#ifdef __SANITIZE_ADDRESS__
    ASAN_UNPOISON_MEMORY_REGION(g_dynamic_shared, kMaxDynamicShared);
#endif
    return L.fault;
}

}  // namespace emu

// Every fiber starts here (on its own stack, entered by a context switch) and never returns: after the kernel it
// leaves the block and switches to the next fiber or the main context, and its stack is reinitialised for the next
// block.
extern "C" EMU_NO_ASAN void emu_fiber_entry() {
    using namespace emu;
#ifdef __SANITIZE_ADDRESS__
    asan_arrived(nullptr);
#endif
    Fiber* self = g_cur;
    if (!g_abort) {
        const KernelInfo* k = L.req->kernel;
        try {
            k->invoke(k->fn, L.req->args.data());
        } catch (const Abort&) {
        } catch (const std::exception& e) {
            record_fault(std::string("a C++ exception left the kernel: ") + e.what());
            abort_all();
        } catch (...) {
            record_fault("a C++ exception left the kernel");
            abort_all();
        }
    }
    leave_block(*self);
    transfer(&self->ctx, self, pick((int) (self->index / kWarpSize)), true);
    std::abort();   // never switched back to
}
