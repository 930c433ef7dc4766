// Host emulation of the CUDA built-ins retrieval.cu uses: one block at a time, one std::thread per CUDA thread,
// std::barrier for __syncthreads and for warp shuffles.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>
struct dim3 { unsigned x = 0, y = 0, z = 0; };
extern thread_local dim3 threadIdx;
extern thread_local dim3 blockIdx;
extern dim3 blockDim;
extern std::barrier<>* g_block_barrier;
extern std::barrier<>* g_warp_barrier[8];
extern float g_xchg[8][32];
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __ldg(p) (*(p))
using std::min;
using std::max;
inline void __syncthreads() { g_block_barrier->arrive_and_wait(); }
inline float __shfl_xor_sync(unsigned, float v, int off) {
    int w = threadIdx.x / 32, l = threadIdx.x % 32;
    g_warp_barrier[w]->arrive_and_wait();
    g_xchg[w][l] = v;
    g_warp_barrier[w]->arrive_and_wait();
    float r = g_xchg[w][l ^ off];
    g_warp_barrier[w]->arrive_and_wait();
    return r;
}
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
// Blocks run one after another on the host, so a fence orders nothing that is not already ordered.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
