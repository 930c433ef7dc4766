// emu_warp.h: warp intrinsics on the host. A collective publishes each lane's value in its warp's exchange for the
// current barrier phase, waits (yields) until every live lane of the warp arrived, and reads (emu::collective_enter,
// runtime.cpp).
// Every live lane (one that has not returned from the kernel) must reach the same collective at the same call site
// with the same mask, or the launch faults with both sites: a partial mask whose other lanes are elsewhere is not
// emulated. Reading a lane that has exited gives all-ones bits (NaN for floats, -1 for integers): undefined on a GPU.
// Widths 1, 2, 4, 8, 16, 32 behave as the CUDA guide says (out-of-segment sources return the caller's own value).
#pragma once

#include <climits>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <string>
#include <type_traits>

#include "emu_runtime.h"

namespace emu {

template <class T>
concept ShuffleValue = std::is_trivially_copyable_v<T> && (sizeof(T) == 4 || sizeof(T) == 8);

template <class T> inline uint64_t to_slot(T v) {
    uint64_t r = 0;
    std::memcpy(&r, &v, sizeof v);
    return r;
}

template <class T> inline T from_slot(uint64_t r) {
    T v;
    std::memcpy(&v, &r, sizeof v);
    return v;
}

[[gnu::noinline, gnu::cold]] inline void width_fault(int width, const std::source_location& site, const char* what) {
    fault(std::string(what) + " at " + describe(site) + ": width " + std::to_string(width) +
          " is not a power of two in 1..32");
}

inline void check_width(int width, const std::source_location& site, const char* what) {
    if (width < 1 || width > 32 || (width & (width - 1)) != 0) [[unlikely]] width_fault(width, site, what);
}

template <ShuffleValue T> inline T shuffle(uint32_t mask, T v, int src, const std::source_location& site, const char* what) {
    const Exchange& x = collective_enter(mask, to_slot(v), 0, false, site, what);
    return from_slot<T>(value_of(x, static_cast<unsigned>(src)));
}

}  // namespace emu

template <emu::ShuffleValue T>
inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32,
                     std::source_location site = std::source_location::current()) {
    emu::check_width(width, site, "__shfl_sync");
    int lane = (int) emu::t_lane;
    int src = (lane & ~(width - 1)) + (src_lane & (width - 1));
    return emu::shuffle(mask, v, src, site, "__shfl_sync");
}

template <emu::ShuffleValue T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32,
                         std::source_location site = std::source_location::current()) {
    emu::check_width(width, site, "__shfl_xor_sync");
    int lane = (int) emu::t_lane;
    int src = lane ^ (lane_mask & 31);
    if (src >= (lane & ~(width - 1)) + width) src = lane;   // later groups: own value
    return emu::shuffle(mask, v, src, site, "__shfl_xor_sync");
}

template <emu::ShuffleValue T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32,
                          std::source_location site = std::source_location::current()) {
    emu::check_width(width, site, "__shfl_down_sync");
    int lane = (int) emu::t_lane;
    long src = (long) lane + delta;
    if (src >= (lane & ~(width - 1)) + width) src = lane;
    return emu::shuffle(mask, v, (int) src, site, "__shfl_down_sync");
}

template <emu::ShuffleValue T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32,
                        std::source_location site = std::source_location::current()) {
    emu::check_width(width, site, "__shfl_up_sync");
    int lane = (int) emu::t_lane;
    long src = (long) lane - (long) delta;
    if (src < (lane & ~(width - 1))) src = lane;
    return emu::shuffle(mask, v, (int) src, site, "__shfl_up_sync");
}

// Bit l set when lane l is in mask, live, and passed a non-zero predicate.
inline unsigned __ballot_sync(unsigned mask, int predicate, std::source_location site = std::source_location::current()) {
    const emu::Exchange& x = emu::collective_enter(mask, predicate != 0, 0, false, site, "__ballot_sync");
    unsigned r = 0;
    for (unsigned l = 0; l < emu::kWarpSize; l++) {
        if (emu::took_part(x, l) && x.slot[l] != 0) r |= 1u << l;
    }
    return r;
}

inline int __any_sync(unsigned mask, int predicate, std::source_location site = std::source_location::current()) {
    return __ballot_sync(mask, predicate, site) != 0;
}

inline int __all_sync(unsigned mask, int predicate, std::source_location site = std::source_location::current()) {
    const emu::Exchange& x = emu::collective_enter(mask, predicate != 0, 0, false, site, "__all_sync");
    int all = 1;
    for (unsigned l = 0; l < emu::kWarpSize; l++) {
        if (emu::took_part(x, l) && x.slot[l] == 0) all = 0;
    }
    return all;
}

inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location site = std::source_location::current()) {
    emu::collective_enter(mask, 0, 0, false, site, "__syncwarp");
}

// The lanes that have not exited (the emulator runs a warp's live lanes as one converged group).
inline unsigned __activemask() { return emu::t_warp->live; }

inline unsigned __lanemask_lt() { return (1u << emu::t_lane) - 1u; }

// sm_80 warp reductions
#define EMU_WARP_REDUCE(name, T, init, op)                                                                     \
    inline T name(unsigned mask, T v, std::source_location site = std::source_location::current()) {           \
        const emu::Exchange& e = emu::collective_enter(mask, emu::to_slot((unsigned) v), 0, false, site, #name); \
        T r = init;                                                                                              \
        for (unsigned l = 0; l < emu::kWarpSize; l++) {                                                         \
            if (emu::took_part(e, l)) {                                                                          \
                T x = (T) (unsigned) e.slot[l];                                                                  \
                r = op;                                                                                          \
            }                                                                                                    \
        }                                                                                                        \
        return r;                                                                                                \
    }
EMU_WARP_REDUCE(__reduce_add_sync, unsigned, 0u, r + x)
EMU_WARP_REDUCE(__reduce_min_sync, unsigned, 0xffffffffu, (x < r ? x : r))
EMU_WARP_REDUCE(__reduce_max_sync, unsigned, 0u, (x > r ? x : r))
EMU_WARP_REDUCE(__reduce_add_sync, int, 0, (int) ((unsigned) r + (unsigned) x))
EMU_WARP_REDUCE(__reduce_min_sync, int, INT_MAX, (x < r ? x : r))
EMU_WARP_REDUCE(__reduce_max_sync, int, INT_MIN, (x > r ? x : r))
EMU_WARP_REDUCE(__reduce_and_sync, unsigned, 0xffffffffu, r & x)
EMU_WARP_REDUCE(__reduce_or_sync, unsigned, 0u, r | x)
EMU_WARP_REDUCE(__reduce_xor_sync, unsigned, 0u, r ^ x)
#undef EMU_WARP_REDUCE
