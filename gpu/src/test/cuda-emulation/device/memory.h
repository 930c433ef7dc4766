// memory.h: the emulated device memory. Allocations are host memory (256-byte aligned like cuMemAlloc, filled with
// 0xff bytes: NaN as floats, like uninitialised memory), addressed by their host pointers. Every copy and every
// pointer argument is checked against the allocation table.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace emu {

class DeviceMemory {
public:
    DeviceMemory();

    // "" and *address, or why not (0 bytes, over the limit, out of host memory).
    std::string allocate(uint64_t bytes, uint64_t* address);
    // "" or why not (not the start of a live allocation).
    std::string release(uint64_t address);
    // Whether [p, p + bytes) lies inside one allocation (an empty range always does).
    bool contains(uint64_t p, uint64_t bytes) const;
    // Whether p points into an allocation.
    bool inside(uint64_t p) const { return contains(p, 1); }
    // The allocation holding p, for messages: "allocation 0x.. of N bytes" or "no allocation".
    std::string describe(uint64_t p) const;

private:
    std::map<uint64_t, uint64_t> blocks_;   // start -> bytes
    uint64_t total_ = 0;
    uint64_t limit_;
};

}  // namespace emu
