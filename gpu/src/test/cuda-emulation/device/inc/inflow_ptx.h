// inflow_ptx.h: the emulated device's stand-ins for gpu/src/main/cuda/ptx.cuh (inline PTX there): cp.async with
// commit / wait groups, ldmatrix (x1 / x2 / x4, plain and .trans) and mma.sync m16n8k16 with bf16 / f16 inputs and
// float accumulators. The fragment layouts are the PTX ISA's (see ptx.cuh), moved lane by lane through a warp
// collective, so a kernel that indexes a fragment wrongly computes wrong numbers here as on a GPU.
//
// cp.async: each CUDA thread keeps its copies pending, in commit groups (a snapshot of the source is taken at the
// call, the source bytes beyond src_bytes read as zero); cp_async_wait<N> writes every committed group except the
// newest N into shared memory. Until then the destination keeps whatever it held (NaN poison at the block's start),
// so a kernel that reads a tile before its wait, or before the __syncthreads after the wait, reads wrong values.
// Pending copies die with their block (tagged with emu::g_block_serial).
//
// ldmatrix: every lane publishes its row address; lane l reads, for each matrix j, the two 16-bit values the ISA
// gives it from the rows other lanes named, then the warp waits for every lane (as after a WMMA load) so that no
// lane overwrites the rows while another still reads them. Row addresses must be 16-byte aligned.
//
// mma: every lane publishes the address of its A and B registers; lane l computes its four D elements as
// c + sum_k A[r][k] B[k][c], k = 0..15 in order, each product exact in float (16-bit inputs), each addition rounded
// to nearest: one valid FP32-accumulation order (a tensor core's internal order and rounding may differ within the
// contract's tolerance). A warp wait follows, so no lane changes its registers before every lane has read them.
#pragma once

#include <cstdint>
#include <cstring>
#include <source_location>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_bf16.h"
#include "cuda_fp16.h"
#include "emu.h"

namespace inflow {
namespace ptx {

namespace emulated {

struct Copy {
    unsigned char* dst;
    unsigned char bytes[16];
};

struct ThreadCopies {
    uint64_t block = ~uint64_t(0);
    std::vector<std::vector<Copy>> committed;   // oldest first
    std::vector<Copy> open;                     // issued since the last commit
};

inline ThreadCopies& copies_of_running_thread() {
    static ThreadCopies table[emu::kMaxThreads];
    const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    ThreadCopies& c = table[t];
    if (c.block != emu::g_block_serial) {
        c.block = emu::g_block_serial;
        c.committed.clear();
        c.open.clear();
    }
    return c;
}

inline void check_aligned(const void* p, unsigned bytes, const char* what, const char* which,
                          const std::source_location& site) {
    if (reinterpret_cast<uintptr_t>(p) % bytes != 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%p", p);
        emu::fault(std::string(what) + " at " + emu::describe(site) + ": " + which + " " + buf + " is not " +
                   std::to_string(bytes) + "-byte aligned");
    }
}

inline uint16_t half_of(uint32_t reg, unsigned which) { return (uint16_t) (which ? reg >> 16 : reg & 0xffffu); }

enum Op : uint64_t { kLdX1 = 1, kLdX2 = 2, kLdX4 = 4, kTrans = 8, kMmaBf16 = 16, kMmaF16 = 32 };

template <int Count, bool Trans>
inline void ldmatrix(uint32_t (&r)[Count], const void* row, const std::source_location& site) {
    const char* what = Trans ? "ldmatrix .trans" : "ldmatrix";
    const emu::Exchange& x = emu::collective_enter(0xffffffffu, reinterpret_cast<uint64_t>(row),
                                                   (uint64_t) Count | (Trans ? kTrans : 0), false, site, what);
    const unsigned lane = emu::t_lane;
    uint32_t out[Count];
    for (int j = 0; j < Count; j++) {
        uint16_t v[2];
        for (unsigned e = 0; e < 2; e++) {
            // plain: row lane / 4 of matrix j, column 2 (lane % 4) + e; .trans: row 2 (lane % 4) + e, column lane / 4
            const unsigned src_row = Trans ? 2 * (lane % 4) + e : lane / 4;
            const unsigned col = Trans ? lane / 4 : 2 * (lane % 4) + e;
            const unsigned src_lane = 8 * j + src_row;
            if (!emu::took_part(x, src_lane)) {
                emu::fault(std::string(what) + " at " + emu::describe(site) + ": lane " + std::to_string(src_lane) +
                           " (row " + std::to_string(src_row) + " of matrix " + std::to_string(j) +
                           ") left the kernel before the collective");
            }
            const auto* p = reinterpret_cast<const uint16_t*>(emu::value_of(x, src_lane));
            check_aligned(p, 16, what, "row address", site);
            v[e] = p[col];
        }
        out[j] = (uint32_t) v[0] | ((uint32_t) v[1] << 16);
    }
    emu::warp_barrier(site);   // nobody overwrites the rows before every lane has read them
    for (int j = 0; j < Count; j++) r[j] = out[j];
}

struct MmaInputs {
    uint32_t a[4];
    uint32_t b[2];
};

template <typename T> inline float value(uint16_t bits) {
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        return __bfloat162float(__ushort_as_bfloat16(bits));
    } else {
        return __half2float(__ushort_as_half(bits));
    }
}

template <typename T>
inline void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const std::source_location& site) {
    static_assert(std::is_same_v<T, __nv_bfloat16> || std::is_same_v<T, __half>, "mma_16816: bf16 or f16 inputs");
    MmaInputs mine;
    std::memcpy(mine.a, a, sizeof mine.a);
    std::memcpy(mine.b, b, sizeof mine.b);
    const char* what = "mma.sync m16n8k16";
    const emu::Exchange& x = emu::collective_enter(0xffffffffu, reinterpret_cast<uint64_t>(&mine),
                                                   std::is_same_v<T, __nv_bfloat16> ? kMmaBf16 : kMmaF16, false,
                                                   site, what);
    const unsigned lane = emu::t_lane;
    const unsigned g = lane / 4, t = lane % 4;
    auto inputs = [&](unsigned l) -> const MmaInputs& {
        if (!emu::took_part(x, l)) {
            emu::fault(std::string(what) + " at " + emu::describe(site) + ": lane " + std::to_string(l) +
                       " left the kernel before the collective");
        }
        return *reinterpret_cast<const MmaInputs*>(emu::value_of(x, l));
    };
    // A[row][k]: lane 4 (row % 8) + (k % 8) / 2, register (row >= 8) + 2 (k >= 8), half k % 2.
    auto A = [&](unsigned row, unsigned k) {
        const MmaInputs& in = inputs(4 * (row % 8) + (k % 8) / 2);
        return value<T>(half_of(in.a[(row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0)], k % 2));
    };
    // B[k][col]: lane 4 col + (k % 8) / 2, register (k >= 8), half k % 2.
    auto B = [&](unsigned k, unsigned col) {
        const MmaInputs& in = inputs(4 * col + (k % 8) / 2);
        return value<T>(half_of(in.b[k >= 8 ? 1 : 0], k % 2));
    };
    float out[4];
    for (unsigned i = 0; i < 4; i++) {
        const unsigned row = g + (i >= 2 ? 8 : 0);
        const unsigned col = 2 * t + (i % 2);
        float acc = d[i];
        for (unsigned k = 0; k < 16; k++) acc += A(row, k) * B(k, col);
        out[i] = acc;
    }
    emu::warp_barrier(site);   // every lane has read everyone's registers before any lane goes on
    for (unsigned i = 0; i < 4; i++) d[i] = out[i];
}

}  // namespace emulated

inline void cp_async_16(void* smem_dst, const void* gmem_src, int src_bytes,
                        std::source_location site = std::source_location::current()) {
    emulated::check_aligned(smem_dst, 16, "cp.async", "shared destination", site);
    if (src_bytes < 0 || src_bytes > 16) {
        emu::fault("cp.async at " + emu::describe(site) + ": src-size " + std::to_string(src_bytes) +
                   " is outside 0..16");
    }
    emulated::Copy c;
    c.dst = static_cast<unsigned char*>(smem_dst);
    std::memset(c.bytes, 0, sizeof c.bytes);
    if (src_bytes > 0) {
        emulated::check_aligned(gmem_src, 16, "cp.async", "global source", site);
        std::memcpy(c.bytes, gmem_src, (size_t) src_bytes);
    }
    emulated::copies_of_running_thread().open.push_back(c);
}

inline void cp_async_commit() {
    emulated::ThreadCopies& c = emulated::copies_of_running_thread();
    c.committed.push_back(std::move(c.open));   // an empty group is a group too, as in PTX
    c.open.clear();
}

template <int N> inline void cp_async_wait() {
    static_assert(N >= 0, "cp.async.wait_group N needs N >= 0");
    emulated::ThreadCopies& c = emulated::copies_of_running_thread();
    while (c.committed.size() > (size_t) N) {
        for (const emulated::Copy& copy : c.committed.front()) std::memcpy(copy.dst, copy.bytes, 16);
        c.committed.erase(c.committed.begin());
    }
}

inline void ldmatrix_x1(uint32_t (&r)[1], const void* row, std::source_location site = std::source_location::current()) {
    emulated::ldmatrix<1, false>(r, row, site);
}
inline void ldmatrix_x2(uint32_t (&r)[2], const void* row, std::source_location site = std::source_location::current()) {
    emulated::ldmatrix<2, false>(r, row, site);
}
inline void ldmatrix_x4(uint32_t (&r)[4], const void* row, std::source_location site = std::source_location::current()) {
    emulated::ldmatrix<4, false>(r, row, site);
}
inline void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row,
                              std::source_location site = std::source_location::current()) {
    emulated::ldmatrix<2, true>(r, row, site);
}
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row,
                              std::source_location site = std::source_location::current()) {
    emulated::ldmatrix<4, true>(r, row, site);
}

template <typename T>
inline void mma_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                      std::source_location site = std::source_location::current()) {
    emulated::mma<T>(d, a, b, site);
}

}  // namespace ptx
}  // namespace inflow
