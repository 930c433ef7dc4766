// runtime.h: runs one kernel launch over its grid. Blocks run one after another (x fastest, then y, then z), each
// block's CUDA threads as cooperative fibers on the calling host thread (thread t is always fiber t, with its own
// stack: EMU_STACK_KIB, default 256 KiB, behind a guard page).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emu_runtime.h"
#include "registry.h"

namespace emu {

struct LaunchRequest {
    const KernelInfo* kernel = nullptr;
    unsigned grid[3] = {1, 1, 1};
    unsigned threads = 0;             // blockDim.x (blockDim.y = blockDim.z = 1)
    uint32_t dynamic_shared = 0;      // bytes
    std::vector<uint64_t> args;       // raw values, already checked against the kernel's signature
};

// Runs every block of the launch. Returns "" or why it failed: a fault inside the kernel (an emulator check such as
// diverging warp collectives or a misaligned WMMA pointer), or a deadlock (live threads that all wait at barriers
// that cannot complete). The launch can be retried after a failure. A thread that runs for the hang timeout without
// reaching a barrier (an endless loop) ends the process (fatal_exit, code 3).
std::string run_launch(const LaunchRequest& launch);

// Seconds a thread may run without reaching a barrier before the process gives up (EMU_HANG_SECONDS, default 120).
void set_hang_seconds(double seconds);

// The crash handler's context (async-signal-safe): the running kernel's name (nullptr between launches), its block,
// the running CUDA thread (-1 when none runs), and the CUDA thread whose stack guard holds address (-1 if none).
const char* running_kernel();
uint3 running_block();
int running_thread();
int stack_guard_owner(const void* address);
unsigned stack_kib();   // the size of each CUDA thread's stack

// Writes an error response on the protocol stream and ends the process (installed by emulator.cpp).
extern void (*fatal_exit)(const std::string& message, int code);

}  // namespace emu
