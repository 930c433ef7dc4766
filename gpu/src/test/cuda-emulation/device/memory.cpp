// memory.cpp: the allocation table of the emulated device. The limit on the bytes held at once is EMU_MEMORY_LIMIT
// (bytes; default: half the host's physical memory, at most 16 GiB), so a runaway allocation fails like
// cuMemAlloc's CUDA_ERROR_OUT_OF_MEMORY instead of exhausting the host.
#include "memory.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace emu {

static uint64_t default_limit() {
    if (const char* s = std::getenv("EMU_MEMORY_LIMIT")) return std::strtoull(s, nullptr, 10);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t half = pages > 0 && page > 0 ? (uint64_t) pages * (uint64_t) page / 2 : (uint64_t) 4 << 30;
    return std::min<uint64_t>(half, (uint64_t) 16 << 30);
}

DeviceMemory::DeviceMemory() : limit_(default_limit()) {}

std::string DeviceMemory::allocate(uint64_t bytes, uint64_t* address) {
    if (bytes == 0) return "cannot allocate 0 bytes (cuMemAlloc rejects it with CUDA_ERROR_INVALID_VALUE)";
    if (bytes > limit_ - std::min(limit_, total_)) {
        return "out of memory: " + std::to_string(bytes) + " bytes requested, " + std::to_string(total_) +
               " held, limit " + std::to_string(limit_) + " (EMU_MEMORY_LIMIT)";
    }
    void* p = nullptr;
    if (posix_memalign(&p, 256, bytes) != 0 || p == nullptr) {
        return "out of memory: the host could not allocate " + std::to_string(bytes) + " bytes";
    }
    std::memset(p, 0xff, bytes);
    *address = reinterpret_cast<uintptr_t>(p);
    blocks_[*address] = bytes;
    total_ += bytes;
    return "";
}

std::string DeviceMemory::release(uint64_t address) {
    auto it = blocks_.find(address);
    if (it == blocks_.end()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "0x%" PRIx64, address);
        return std::string("free of ") + buf + ", which is not the start of a live allocation (" + describe(address) + ")";
    }
    total_ -= it->second;
    std::free(reinterpret_cast<void*>(static_cast<uintptr_t>(address)));
    blocks_.erase(it);
    return "";
}

bool DeviceMemory::contains(uint64_t p, uint64_t bytes) const {
    if (bytes == 0) return true;
    auto it = blocks_.upper_bound(p);
    if (it == blocks_.begin()) return false;
    --it;
    const uint64_t start = it->first, size = it->second;
    return p >= start && p - start < size && bytes <= size - (p - start);
}

std::string DeviceMemory::describe(uint64_t p) const {
    auto it = blocks_.upper_bound(p);
    if (it == blocks_.begin()) return "below every allocation";
    --it;
    char buf[128];
    std::snprintf(buf, sizeof buf, "nearest allocation below: 0x%" PRIx64 " of %" PRIu64 " bytes", it->first, it->second);
    return buf;
}

}  // namespace emu
