// runtime.cpp: executes launches. A persistent pool of host threads plays the CUDA threads (thread t is always
// threadIdx.x = t). For each launch the first blockDim.x pool threads run every block in turn: the kernel, then
// leave the block (dropping out of its barriers), then meet on a step barrier whose last arrival sets up the next
// block (fresh barriers, NaN-poisoned shared memory) or ends the grid. The main thread waits, watching a progress
// counter: a launch whose barriers stop completing is abandoned with a report of who waits where.
#include "runtime.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free,
              "the barriers' futexes need a plain 32-bit atomic word");

__thread uint3 threadIdx;
__thread uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;

namespace emu {

std::atomic<bool> g_abort{false};
std::atomic<uint64_t> g_progress{0};
int g_fuzz = [] {
    const char* s = std::getenv("EMU_SCHEDULE_FUZZ");
    return s ? std::max(0, std::atoi(s)) : 0;
}();

void fuzz_delay() {
    static thread_local uint64_t state = 0x9e3779b97f4a7c15ull ^ (uint64_t) threadIdx.x * 0x2545f4914f6cdd1dull;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    if (state % (uint64_t) g_fuzz == 0) std::this_thread::sleep_for(std::chrono::microseconds(100 + (state >> 32) % 900));
}
Block g_block;
__thread Warp* t_warp = nullptr;
__thread unsigned t_lane = 0;
__thread uint32_t t_phase = 0;
alignas(256) unsigned char g_dynamic_shared[kMaxDynamicShared];
void (*fatal_exit)(const std::string& message, int code) = nullptr;

void futex_wait(std::atomic<uint32_t>* word, uint32_t value) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, value, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>* word) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

namespace {

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
    uint3 block{0, 0, 0};   // the block running now; changed only by the step barrier's completion
    bool done = false;      // set by the completion after the last block (or on abort)
    std::mutex fault_mu;
    std::string fault;      // the first fault of this launch
    std::mutex mu;
    std::condition_variable cv;
    unsigned active = 0;    // pool threads still working on this launch
    std::atomic<const char*> kernel_name{nullptr};
};

Launch L;
Barrier g_step;
double g_hang_seconds = 120;

void record_fault(const std::string& message) {
    std::lock_guard<std::mutex> lock(L.fault_mu);
    if (L.fault.empty()) L.fault = message;
}

void abort_all() {
    g_abort.store(true, std::memory_order_seq_cst);
    g_block.bar.wake_all();
    for (Warp& w : g_block.warps) w.bar.wake_all();
}

void setup_block() {
    const unsigned threads = L.req->threads;
    g_block.bar.reset(threads);
    for (unsigned w = 0; w < threads / kWarpSize; w++) {
        Warp& warp = g_block.warps[w];
        warp.bar.reset(kWarpSize);
        warp.live.store(0xffffffffu, std::memory_order_relaxed);
        for (Exchange& x : warp.bank) {
            for (unsigned l = 0; l < kWarpSize; l++) {
                x.phase[l] = ~uint32_t(0);
                x.slot[l] = ~uint64_t(0);
                x.key[l] = 0;
                x.mask[l] = 0;
                x.site[l] = std::source_location();
            }
        }
    }
    poison_shared(L.req->dynamic_shared);
}

// The step barrier's completion: the next block (x fastest, then y, then z), or the end of the grid.
void advance() {
    if (g_abort.load()) {
        L.done = true;
        return;
    }
    const LaunchRequest& r = *L.req;
    uint3 b = L.block;
    if (++b.x == r.grid[0]) {
        b.x = 0;
        if (++b.y == r.grid[1]) {
            b.y = 0;
            if (++b.z == r.grid[2]) {
                L.done = true;
                return;
            }
        }
    }
    L.block = b;
    setup_block();
}

// A thread that is done with the block no longer counts at any barrier (its exchange entries stay as they are: a
// slower lane may still be reading its last collective).
void leave_block(unsigned t) {
    Warp& w = *t_warp;
    const unsigned lane = t % kWarpSize;
    w.live.fetch_and(~(1u << lane), std::memory_order_acq_rel);
    w.bar.arrive_and_drop();
    g_block.bar.arrive_and_drop();
    g_progress.fetch_add(1, std::memory_order_relaxed);
}

void run_blocks(unsigned t) {
    const KernelInfo* k = L.req->kernel;
    const uint64_t* args = L.req->args.data();
    for (;;) {
        blockIdx = L.block;
        t_warp = &g_block.warps[t / kWarpSize];
        t_phase = 0;
        if (!g_abort.load(std::memory_order_relaxed)) {
            try {
                k->invoke(k->fn, args);
            } catch (const Abort&) {
            } catch (const std::exception& e) {
                record_fault(std::string("a C++ exception left the kernel: ") + e.what());
                abort_all();
            } catch (...) {
                record_fault("a C++ exception left the kernel");
                abort_all();
            }
        }
        leave_block(t);
        g_step.arrive_and_wait_then(advance);
        if (L.done) return;
    }
}

// ---- the pool --------------------------------------------------------------------------------------------------

struct PoolThread {
    std::atomic<uint32_t> go{0};
};

std::vector<std::unique_ptr<PoolThread>> g_pool;

void pool_main(PoolThread* self, unsigned t) {
    threadIdx = {t, 0, 0};
    t_lane = t % kWarpSize;
    for (;;) {
        self->go.wait(0, std::memory_order_acquire);
        if (self->go.exchange(0, std::memory_order_acq_rel) == 0) continue;
        run_blocks(t);
        std::lock_guard<std::mutex> lock(L.mu);
        if (--L.active == 0) L.cv.notify_all();
    }
}

void ensure_pool(unsigned threads) {
    while (g_pool.size() < threads) {
        g_pool.push_back(std::make_unique<PoolThread>());
        std::thread(pool_main, g_pool.back().get(), static_cast<unsigned>(g_pool.size() - 1)).detach();
    }
}

std::string hang_report() {
    const LaunchRequest& r = *L.req;
    char head[256];
    std::snprintf(head, sizeof head,
                  "no barrier progress for %.0f s in block (%u,%u,%u) of grid (%u,%u,%u): %u of %u live threads wait "
                  "at __syncthreads",
                  g_hang_seconds, L.block.x, L.block.y, L.block.z, r.grid[0], r.grid[1], r.grid[2],
                  g_block.bar.arrived_now(), g_block.bar.expected_now());
    std::string s = head;
    std::string warps;
    for (unsigned w = 0; w < r.threads / kWarpSize; w++) {
        const Barrier& b = g_block.warps[w].bar;
        if (b.arrived_now() != 0) {
            warps += (warps.empty() ? "" : ", ") + std::string("warp ") + std::to_string(w) + " (" +
                     std::to_string(b.arrived_now()) + " of " + std::to_string(b.expected_now()) + " live lanes)";
        }
    }
    if (!warps.empty()) s += "; lanes wait in a warp collective in " + warps;
    return s + ". A barrier that some live thread never reaches (a __syncthreads or warp collective in divergent "
               "code) hangs here; on a GPU it is undefined behaviour";
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

static bool same_site(const std::source_location& a, const std::source_location& b) {
    return a.line() == b.line() && a.column() == b.column() &&
           (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

static std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

const Exchange& collective_enter(uint32_t mask, uint64_t value, uint64_t key, bool same_value,
                                 const std::source_location& site, const char* what) {
    Warp& w = *t_warp;
    const uint32_t phase = t_phase++;
    Exchange& x = w.bank[phase & 1u];
    const unsigned lane = t_lane;
    auto here = [&] { return std::string(what) + " at " + describe(site); };
    if (!((mask >> lane) & 1u)) fault(here() + ": the mask " + hex32(mask) + " leaves out the calling lane " + std::to_string(lane));
    x.slot[lane] = value;
    x.key[lane] = key;
    x.mask[lane] = mask;
    x.site[lane] = site;
    x.phase[lane] = phase;
    w.bar.arrive_and_wait();
    if (g_fuzz) fuzz_delay();
    // Every lane that had not left the kernel arrived at this phase; those that did not publish here are elsewhere
    // (a lane that took part may already have left again, so participation is read from the phases, not `live`).
    const uint32_t live = w.live.load(std::memory_order_acquire);
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
    return x;
}

// ---- launches --------------------------------------------------------------------------------------------------

void set_hang_seconds(double seconds) { g_hang_seconds = seconds; }

const char* running_kernel() { return L.kernel_name.load(); }

uint3 running_block() { return L.block; }

std::string run_launch(const LaunchRequest& r) {
    ensure_pool(r.threads);
    L.req = &r;
    L.block = {0, 0, 0};
    L.done = false;
    L.fault.clear();
    g_abort.store(false);
    blockDim = dim3(r.threads, 1, 1);
    gridDim = dim3(r.grid[0], r.grid[1], r.grid[2]);
#ifdef __SANITIZE_ADDRESS__
    ASAN_UNPOISON_MEMORY_REGION(g_dynamic_shared, kMaxDynamicShared);
    ASAN_POISON_MEMORY_REGION(g_dynamic_shared + r.dynamic_shared, kMaxDynamicShared - r.dynamic_shared);
#endif
    setup_block();
    g_step.reset(r.threads);
    L.kernel_name.store(r.kernel->name.c_str());
    {
        std::lock_guard<std::mutex> lock(L.mu);
        L.active = r.threads;
    }
    for (unsigned t = 0; t < r.threads; t++) {
        g_pool[t]->go.store(1, std::memory_order_release);
        g_pool[t]->go.notify_one();
    }

    using clock = std::chrono::steady_clock;
    std::unique_lock<std::mutex> lock(L.mu);
    uint64_t seen = g_progress.load();
    auto since = clock::now();
    bool abandoned = false;
    while (L.active > 0) {
        L.cv.wait_for(lock, std::chrono::milliseconds(250));
        if (L.active == 0) break;
        const uint64_t now_progress = g_progress.load();
        const auto now = clock::now();
        if (now_progress != seen) {
            seen = now_progress;
            since = now;
            continue;
        }
        const double idle = std::chrono::duration<double>(now - since).count();
        if (!abandoned && idle > g_hang_seconds) {
            record_fault(hang_report());
            abort_all();
            abandoned = true;
            since = now;
        } else if (abandoned && idle > 10) {
            fatal_exit("kernel " + r.kernel->name + ": " + L.fault +
                       "; some threads did not stop either (a loop without barriers), so the emulator exits", 3);
        }
    }
    L.kernel_name.store(nullptr);
#ifdef __SANITIZE_ADDRESS__
    ASAN_UNPOISON_MEMORY_REGION(g_dynamic_shared, kMaxDynamicShared);
#endif
    return L.fault;
}

}  // namespace emu
