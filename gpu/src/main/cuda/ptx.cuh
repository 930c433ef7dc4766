// Warp-level tensor-core and async-copy primitives of sm_80 / sm_90 (PTX ISA 7.0+), one inline-asm instruction each:
//   cp_async_16 / cp_async_commit / cp_async_wait<N>   cp.async.cg.shared.global (16 bytes, zero-filled tail),
//                                                      cp.async.commit_group, cp.async.wait_group N
//   ldmatrix_x1/x2/x4[_trans]                          ldmatrix.sync.aligned.m8n8.{x1,x2,x4}[.trans].shared.b16
//   mma_16816<T>                                       mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}.{..}.f32
//   pack2<T>                                           two floats rounded (nearest even) into one .b32 of 16-bit pair
//
// Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16 with floating point type"), with g = lane / 4 and
// t = lane % 4; each .b32 register holds two 16-bit values, the lower column (A, C) or row (B) in the low half:
//   A 16 x 16 (row):  a[0] = A[g][2t, 2t+1]      a[1] = A[g+8][2t, 2t+1]
//                     a[2] = A[g][2t+8, 2t+9]    a[3] = A[g+8][2t+8, 2t+9]
//   B 16 x 8  (col):  b[0] = B[2t, 2t+1][g]      b[1] = B[2t+8, 2t+9][g]
//   C/D 16 x 8 f32:   d[0], d[1] = D[g][2t, 2t+1]     d[2], d[3] = D[g+8][2t, 2t+1]
// ldmatrix: lanes 8j .. 8j+7 give the 16-byte-aligned addresses of rows 0..7 of matrix j (x1: j = 0; x2: j < 2;
// x4: j < 4); lane l receives r[j] = M_j[l / 4][2 (l % 4), +1], or with .trans M_j[2 (l % 4), +1][l / 4]. So an x4 of
// a row-major 16 x 16 tile (matrix j = rows 8 (j % 2).., columns 8 (j / 2)..) is exactly an A fragment, and an x2 of
// an [n][k] (k contiguous) 8 x 16 tile is exactly a B fragment.
//
// On the emulated device (gpu/src/test/cuda-emulation/device, INFLOW_EMULATED_DEVICE) the same functions come from
// its inflow_ptx.h: warp collectives that move the elements lane by lane as documented above, cp.async copies that
// land only at the matching wait (so a read before the wait sees poisoned shared memory) and an mma that
// accumulates in float in a fixed order. That checks indexing, layouts and barriers, not nvcc's code.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#ifdef INFLOW_EMULATED_DEVICE
#include <inflow_ptx.h>
// The emulator's rewrite.py hoists <inflow_ptx.h> to file scope but puts this file (and its family's .cu) inside
// namespace emu_family_<family>, so `inflow::ptx::` in a kernel names the family's own inflow::ptx (pack2 below);
// this makes the hoisted stand-ins visible through it too. Harmless at file scope (a namespace naming itself).
namespace inflow {
namespace ptx {
using namespace ::inflow::ptx;
}  // namespace ptx
}  // namespace inflow
#else

namespace inflow {
namespace ptx {

// Copies src_bytes (0..16) bytes from global to shared memory and zero-fills the rest of the 16; both addresses
// 16-byte aligned. With src_bytes == 0 nothing is read (src may point anywhere valid-looking, e.g. the matrix start).
__device__ __forceinline__ void cp_async_16(void* smem_dst, const void* gmem_src, int src_bytes) {
    const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem_dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem_src), "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most N of this thread's committed groups are still in flight (the others have landed in shared
// memory, visible to this thread; other threads see them after a __syncthreads).
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x1(uint32_t (&r)[1], const void* row) {
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(a));
}

__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* row) {
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row) {
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row) {
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1])
                 : "r"(a));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) {
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

// d += A . B for one 16 x 8 x 16 step, float accumulators; T is __nv_bfloat16 or __half.
template <typename T> __device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4],
                                                                const uint32_t (&b)[2]);

template <> __device__ __forceinline__ void mma_16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4],
                                                                     const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <> __device__ __forceinline__ void mma_16816<__half>(float (&d)[4], const uint32_t (&a)[4],
                                                              const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace ptx
}  // namespace inflow

#endif  // INFLOW_EMULATED_DEVICE

namespace inflow {
namespace ptx {

// {lo, hi} rounded to nearest even and packed, lo in the low 16 bits (an A-fragment register from two floats).
template <typename T> __device__ __forceinline__ uint32_t pack2(float lo, float hi);

template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
    return (uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(lo)) |
           ((uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(hi)) << 16);
}

template <> __device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
    return (uint32_t)__half_as_ushort(__float2half_rn(lo)) | ((uint32_t)__half_as_ushort(__float2half_rn(hi)) << 16);
}

// The 16-bit value of x as a float (to_float<T>(bits)).
template <typename T> __device__ __forceinline__ float to_float(T x);
template <> __device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 x) { return __bfloat162float(x); }
template <> __device__ __forceinline__ float to_float<__half>(__half x) { return __half2float(x); }

}  // namespace ptx
}  // namespace inflow
