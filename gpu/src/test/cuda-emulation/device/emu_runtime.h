// emu_runtime.h: the state shared by the CUDA shim (emu.h, inc/) and the emulator's runtime (runtime.cpp).
// One block runs at a time, so the block's barrier, its warps and the shared memory are process globals. A thread
// that leaves the kernel drops out of its block's and its warp's barrier, as an exited thread stops counting for
// bar.sync on a GPU. A fault (an emulator check that fails inside a kernel) or a hang abandons the launch: every
// barrier wakes and throws emu::Abort through the kernel code, and the launch answers with an error.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

#include <sched.h>

struct uint3 {
    unsigned x, y, z;
};

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    constexpr dim3() = default;
    constexpr dim3(unsigned vx, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

extern __thread uint3 threadIdx;   // set once per pool thread
extern __thread uint3 blockIdx;    // set by every thread before each block
extern dim3 blockDim;              // per launch
extern dim3 gridDim;               // per launch

namespace emu {

constexpr unsigned kWarpSize = 32;
constexpr unsigned kMaxThreads = 1024;
constexpr unsigned kMaxWarps = kMaxThreads / kWarpSize;
constexpr std::size_t kMaxDynamicShared = 227 * 1024;   // sm_80 / sm_90: 227 KiB a block

struct Abort {};                          // unwinds a kernel whose launch is being abandoned
extern std::atomic<bool> g_abort;         // the current launch is being abandoned
extern std::atomic<uint64_t> g_progress;  // barrier phases completed and threads finished (the hang watchdog)

// EMU_SCHEDULE_FUZZ=N (N > 0): after each __syncthreads and warp collective a thread sleeps, with probability 1/N,
// for up to a millisecond, so that a missing barrier (a read racing with the next phase's write) shows up.
extern int g_fuzz;
void fuzz_delay();

// Linux futexes on a barrier's phase word (runtime.cpp): sleep while *word == value; wake every sleeper.
void futex_wait(std::atomic<uint32_t>* word, uint32_t value);
void futex_wake_all(std::atomic<uint32_t>* word);

// A reusable barrier that threads can leave for good (arrive_and_drop), like std::barrier, plus an abort that
// wakes every waiter. state_ packs (expected << 32) | arrived, so a drop and an arrival can never both complete
// the same phase.
class Barrier {
public:
    // Only while no thread is inside.
    void reset(uint32_t participants) { state_.store(uint64_t(participants) << 32, std::memory_order_relaxed); }

    // Throws Abort when the launch is being abandoned.
    void arrive_and_wait() {
        if (g_abort.load(std::memory_order_relaxed)) throw Abort{};
        uint32_t ph = phase_.load(std::memory_order_acquire);
        uint64_t v = state_.fetch_add(1, std::memory_order_acq_rel) + 1;
        if (arrived(v) == expected(v)) {
            complete(v);
            return;
        }
        wait_phase(ph);
        if (g_abort.load(std::memory_order_relaxed)) throw Abort{};
    }

    // The last thread to arrive runs on_complete() before anyone is released. Ignores aborts.
    template <class F> void arrive_and_wait_then(F&& on_complete) {
        uint32_t ph = phase_.load(std::memory_order_acquire);
        uint64_t v = state_.fetch_add(1, std::memory_order_acq_rel) + 1;
        if (arrived(v) == expected(v)) {
            on_complete();
            complete(v);
            return;
        }
        wait_phase(ph);
    }

    void arrive_and_drop() {
        uint64_t v = state_.fetch_sub(uint64_t(1) << 32, std::memory_order_acq_rel) - (uint64_t(1) << 32);
        if (arrived(v) != 0 && arrived(v) == expected(v)) complete(v);
    }

    // Releases every waiter (they see g_abort and throw); the barrier is reset before it is used again.
    void wake_all() {
        phase_.fetch_add(1, std::memory_order_acq_rel);
        futex_wake_all(&phase_);
    }

    uint32_t arrived_now() const { return arrived(state_.load(std::memory_order_relaxed)); }
    uint32_t expected_now() const { return expected(state_.load(std::memory_order_relaxed)); }

private:
    static uint32_t arrived(uint64_t v) { return uint32_t(v); }
    static uint32_t expected(uint64_t v) { return uint32_t(v >> 32); }

    void complete(uint64_t v) {
        state_.store(v & ~uint64_t(0xffffffffu), std::memory_order_relaxed);   // nobody can arrive before the bump
        g_progress.fetch_add(1, std::memory_order_relaxed);
        phase_.fetch_add(1, std::memory_order_acq_rel);
        futex_wake_all(&phase_);
    }

    // Oversubscribed (hundreds of threads on a few cores): yielding a few times lets the threads that have yet to
    // arrive run, which is much cheaper than sleeping at once; then sleep on the futex.
    void wait_phase(uint32_t ph) {
        for (int i = 0; i < 16; i++) {
            if (phase_.load(std::memory_order_acquire) != ph) return;
            sched_yield();
        }
        while (phase_.load(std::memory_order_acquire) == ph) futex_wait(&phase_, ph);
    }

    std::atomic<uint64_t> state_{0};
    std::atomic<uint32_t> phase_{0};
};

// What the lanes of a warp publish for one collective (shuffle, vote, WMMA load / store).
struct Exchange {
    uint32_t phase[kWarpSize];              // the warp-barrier phase of each lane's last entry here
    uint64_t slot[kWarpSize];               // each lane's value
    uint64_t key[kWarpSize];                // each lane's second operand (WMMA: ldm and layout)
    uint32_t mask[kWarpSize];               // each lane's member mask
    std::source_location site[kWarpSize];   // each lane's call site: lanes must meet at the same collective
};

// One warp of the running block: its barrier, and two exchanges, for the even and the odd barrier phases. A lane
// publishes into the exchange of phase k only after passing phase k - 1, which every live lane reaches only after
// reading phase k - 2's exchange: one barrier phase per collective. A lane took part in the collective of phase k
// when its entry there carries phase k; a lane that leaves the kernel touches neither exchange, so slower lanes
// still read its values from the collectives it took part in.
struct alignas(64) Warp {
    Barrier bar;
    std::atomic<uint32_t> live{0};          // lanes that have not left the kernel
    Exchange bank[2];
};

struct Block {
    Barrier bar;
    Warp warps[kMaxWarps];
};

extern Block g_block;
extern __thread Warp* t_warp;   // this thread's warp in g_block
extern __thread unsigned t_lane;
extern __thread uint32_t t_phase;  // warp-barrier phases this thread has entered in the current block

// Fails the launch: records the message (with the block and thread), wakes every barrier, throws Abort.
[[noreturn]] void fault(const std::string& message);

std::string describe(const std::source_location& site);   // "file:line:column"

// A warp collective: publish (value, key), wait for every live lane of the warp, check that they all called the
// same collective at the same site with the same mask (and the same value when same_value); returns the exchange to
// read (with took_part / value_of) until this lane's next warp collective or barrier.
const Exchange& collective_enter(uint32_t mask, uint64_t value, uint64_t key, bool same_value,
                                 const std::source_location& site, const char* what);

// Whether lane l took part in the collective that returned x (false for lanes that had left the kernel).
inline bool took_part(const Exchange& x, unsigned l) { return x.phase[l] == x.phase[t_lane]; }

// Lane src's value in x; all ones when src did not take part (it had exited: undefined on a GPU).
inline uint64_t value_of(const Exchange& x, unsigned src) { return took_part(x, src) ? x.slot[src] : ~uint64_t(0); }

// A warp barrier that is not a collective (WMMA loads wait for the whole warp after reading the tile).
inline void warp_barrier() {
    t_phase++;
    t_warp->bar.arrive_and_wait();
}

// The dynamic shared memory of the running block (every `extern __shared__` array starts here), 256-byte aligned.
extern unsigned char g_dynamic_shared[];

// Registers a static __shared__ array (rewritten into function-local static storage): NaN-poisoned now and before
// every later block. Returns true (the value initialises a function-local static, so it runs once).
bool register_static_shared(void* p, std::size_t bytes);

}  // namespace emu
