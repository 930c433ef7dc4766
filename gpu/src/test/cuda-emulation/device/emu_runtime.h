// emu_runtime.h: the state shared by the CUDA shim (emu.h, inc/) and the emulator's runtime (runtime.cpp).
// One block runs at a time, and its CUDA threads run as cooperative fibers on one host thread (runtime.cpp): a
// thread runs until it reaches __syncthreads, a warp collective, __nanosleep or the end of the kernel, and only
// then does another one run. So the block's barriers, its warps, the shared memory and the built-in indices are
// plain process globals, set for the running thread at every switch. A thread that leaves the kernel drops out of
// its block's and its warp's barrier, as an exited thread stops counting for bar.sync on a GPU. A fault (an emulator
// check that fails inside a kernel) or a deadlock abandons the launch: every waiting thread resumes and throws
// emu::Abort through the kernel code, and the launch answers with an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

struct uint3 {
    unsigned x, y, z;
};

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    constexpr dim3() = default;
    constexpr dim3(unsigned vx, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

extern uint3 threadIdx;   // the running CUDA thread's (set at every switch)
extern uint3 blockIdx;    // the running block's
extern dim3 blockDim;     // per launch
extern dim3 gridDim;      // per launch

namespace emu {

constexpr unsigned kWarpSize = 32;
constexpr unsigned kMaxThreads = 1024;
constexpr unsigned kMaxWarps = kMaxThreads / kWarpSize;
constexpr std::size_t kMaxDynamicShared = 227 * 1024;   // sm_80 / sm_90: 227 KiB a block

struct Abort {};   // unwinds a kernel whose launch is being abandoned

// What the lanes of a warp publish for one collective (shuffle, vote, WMMA load / store).
struct Exchange {
    uint32_t phase[kWarpSize];              // the warp-barrier phase of each lane's last entry here
    uint64_t slot[kWarpSize];               // each lane's value
    uint64_t key[kWarpSize];                // each lane's second operand (WMMA: ldm and layout)
    uint32_t mask[kWarpSize];               // each lane's member mask
    std::source_location site[kWarpSize];   // each lane's call site: lanes must meet at the same collective
    uint32_t checked_phase;                 // the phase whose entries one lane has already found consistent
};

// One warp of the running block: its barrier (lanes arrived in the current phase), its live lanes, and two
// exchanges, for the even and the odd barrier phases. A lane publishes into the exchange of phase k only after
// passing phase k - 1, which every live lane reaches only after reading phase k - 2's exchange: one barrier phase
// per collective. A lane took part in the collective of phase k when its entry there carries phase k; a lane that
// leaves the kernel touches neither exchange, so slower lanes still read its values from the collectives it took
// part in.
struct Warp {
    uint32_t live = 0;         // lanes that have not left the kernel (bit l: lane l)
    uint32_t live_count = 0;   // how many
    uint32_t arrived = 0;      // live lanes waiting at the warp barrier
    Exchange bank[2];
};

// Counts the blocks run by this process (run_block increments it first): per-thread state that must not outlive its
// block (inflow_ptx.h's pending cp.async copies) is tagged with it.
extern uint64_t g_block_serial;

extern Warp* t_warp;      // the running thread's warp
extern unsigned t_lane;   // the running thread's lane

// __syncthreads: waits until every live thread of the block arrived (threads that returned do not count).
void sync_block(const std::source_location& site);

// A warp barrier that is not a collective (WMMA loads wait for the whole warp after reading the tile).
void warp_barrier(const std::source_location& site);

// Lets the block's other runnable threads run first (__nanosleep: a spin-wait's back-off).
void yield();

// Fails the launch: records the message (with the block and thread), wakes every waiting thread, throws Abort.
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

// The dynamic shared memory of the running block (every `extern __shared__` array starts here), 256-byte aligned.
extern unsigned char g_dynamic_shared[];

// Registers a static __shared__ array (rewritten into function-local static storage): NaN-poisoned now and before
// every later block. Returns true (the value initialises a function-local static, so it runs once).
bool register_static_shared(void* p, std::size_t bytes);

}  // namespace emu
