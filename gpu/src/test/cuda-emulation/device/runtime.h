// runtime.h: runs one kernel launch over its grid. Blocks run one after another (x fastest, then y, then z), each on
// a persistent pool of host threads, one per CUDA thread (grown to the largest block seen, at most 1024).
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
// diverging warp collectives or a misaligned WMMA pointer), or no barrier progress for the hang timeout (threads
// that wait at a barrier some live thread never reaches). The launch can be retried after a failure; a kernel
// stuck in a loop without barriers ends the process (fatal_exit).
std::string run_launch(const LaunchRequest& launch);

// Seconds without barrier progress before a launch is abandoned as hung (EMU_HANG_SECONDS, default 120).
void set_hang_seconds(double seconds);

// The crash handler's context: the running kernel's name (nullptr between launches) and block.
const char* running_kernel();
uint3 running_block();

// Writes an error response on the protocol stream and ends the process (installed by emulator.cpp).
extern void (*fatal_exit)(const std::string& message, int code);

}  // namespace emu
