// semantics.cu: kernels that exercise the emulator's CUDA semantics directly (selftest.py builds an emulator from
// this folder alone and checks them): lanes leaving right after a shuffle, reads of exited lanes, shuffle widths and
// votes, threads returning before __syncthreads, atomics, shared memory poisoned between blocks, WMMA column-major
// tiles and accumulator loads, WMMA s8 tiles with int32 accumulators, 1024-thread blocks, a spin-wait with
// __nanosleep, the faults a launch must report (diverging collectives, a deadlock, __trap), planted missing barriers
// that must give wrong results, and the faults that end the process (an endless loop, a stack overflow). Not a
// project kernel: it is never built by nvcc.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <inflow_ptx.h>
#include <mma.h>

constexpr unsigned FULL = 0xffffffffu;

// out[t] = value from lane ^ 16; lanes 16..31 return at once, lanes 0..15 then read them again (exited: NaN).
extern "C" __global__ void exit_after_shuffle(float* out, float* again) {
    const int lane = threadIdx.x & 31;
    const size_t t = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
    float r = __shfl_xor_sync(FULL, (float) (lane + 100 * blockIdx.x), 16);
    out[t] = r;
    if (lane >= 16) return;
    again[t] = __shfl_xor_sync(FULL, r, 16);
}

// Per lane: shfl (src 3), up (2), down (3), xor (5) at widths 32, 16, 8; ballot / any / all; 8-byte values.
extern "C" __global__ void shuffles(int* out, double* d, long long* ll) {
    const int lane = threadIdx.x & 31;
    int* o = out + threadIdx.x * 16;
    int k = 0;
    for (int width = 32; width >= 8; width >>= 1) {
        o[k++] = __shfl_sync(FULL, lane * 10, 3, width);
        o[k++] = __shfl_up_sync(FULL, lane * 10, 2, width);
        o[k++] = __shfl_down_sync(FULL, lane * 10, 3, width);
        o[k++] = __shfl_xor_sync(FULL, lane * 10, 5, width);
    }
    o[k++] = (int) __ballot_sync(FULL, lane % 3 == 0);
    o[k++] = __any_sync(FULL, lane == 7);
    o[k++] = __all_sync(FULL, lane < 31);
    o[k++] = __all_sync(FULL, lane < 32);
    d[threadIdx.x] = __shfl_down_sync(FULL, lane + 0.25, 1);
    ll[threadIdx.x] = __shfl_xor_sync(FULL, (long long) lane << 40, 1);
}

// Threads t % 3 == 0 return first; the others count themselves, wait, read the count.
extern "C" __global__ void early_exit(int* out, int* counter) {
    if (threadIdx.x % 3 == 0) return;
    atomicAdd(counter + blockIdx.x, 1);
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = counter[blockIdx.x];
    __syncthreads();
}

extern "C" __global__ void atomics(float* f, double* d, unsigned long long* u, int* mx, int* mn, int* cas, unsigned* inc) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    atomicAdd(f, 0.5f);
    atomicAdd(d, 0.25);
    atomicAdd(u, 3ull);
    atomicMax(mx, t);
    atomicMin(mn, -t);
    int old = *cas, seen;
    while ((seen = atomicCAS(cas, old, old + 2)) != old) old = seen;
    atomicInc(inc, 99);
}

// out[b] = s[5] and dyn[5] read before anything writes them (must be NaN in every block), then both are written.
extern "C" __global__ void poison(float* out, float* dyn_out) {
    __shared__ float s[64];
    extern __shared__ float dyn[];
    if (threadIdx.x == 0) {
        out[blockIdx.x] = s[5];
        dyn_out[blockIdx.x] = dyn[5];
    }
    __syncthreads();
    s[threadIdx.x % 64] = 1.0f;
    dyn[threadIdx.x % 64] = 1.0f;
}

// C (16 x 16, column major) = A (column major) . B (column major) + Cin (row major), one warp.
extern "C" __global__ void wmma_col_major(const float* A, const float* B, const float* Cin, float* C) {
    using namespace nvcuda;
    __shared__ __align__(32) __half As[256];
    __shared__ __align__(32) __half Bs[256];
    __shared__ __align__(32) float Cs[256];
    for (int i = threadIdx.x; i < 256; i += 32) {
        As[i] = __float2half_rn(A[i]);
        Bs[i] = __float2half_rn(B[i]);
        Cs[i] = Cin[i];
    }
    __syncwarp();
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::col_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> c;
    wmma::load_matrix_sync(a, As, 16);
    wmma::load_matrix_sync(b, Bs, 16);
    wmma::load_matrix_sync(c, Cs, 16, wmma::mem_row_major);
    wmma::mma_sync(c, a, b, c);
    wmma::store_matrix_sync(C, c, 16, wmma::mem_col_major);
}

// C (16 x 16 ints, row major) = A (signed char, row major) . B (signed char, column major) + Cin (row major), one
// warp: the s8 tensor-core path, exact, the int32 sums wrapping around (Cin holds values near the int32 limits).
extern "C" __global__ void wmma_s8(const signed char* A, const signed char* B, const int* Cin, int* C) {
    using namespace nvcuda;
    __shared__ __align__(32) signed char As[256];
    __shared__ __align__(32) signed char Bs[256];
    __shared__ __align__(32) int Cs[256];
    for (int i = threadIdx.x; i < 256; i += 32) {
        As[i] = A[i];
        Bs[i] = B[i];
        Cs[i] = Cin[i];
    }
    __syncwarp();
    wmma::fragment<wmma::matrix_a, 16, 16, 16, signed char, wmma::row_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, signed char, wmma::col_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 16, int> c;
    wmma::load_matrix_sync(a, As, 16);
    wmma::load_matrix_sync(b, Bs, 16);
    wmma::load_matrix_sync(c, Cs, 16, wmma::mem_row_major);
    wmma::mma_sync(c, a, b, c);
    wmma::store_matrix_sync(C, c, 16, wmma::mem_row_major);
}

// D (16 x 8 floats, row major) = A . B + Cin through ptx.cuh's primitives, one warp, inputs already bf16 in global
// memory: A [16][16] row major, copied into shared memory by cp.async (one 16-byte chunk a lane), Bt [8][16] (B
// transposed, n-major), Bk [16][8] (k-major). A comes in by ldmatrix_x4 (lane l names row l % 16, column 8 (l / 16)),
// B by ldmatrix_x2 from Bt (plain) or by ldmatrix_x2_trans from Bk; the accumulators are loaded and stored in the
// PTX C-fragment layout. early[l] = the first A element lane l reads from shared memory after issuing its copy but
// before waiting for it (must still be the NaN poison: copies land at the wait).
extern "C" __global__ void ptx_mma_bf16(const __nv_bfloat16* A, const __nv_bfloat16* Bt, const __nv_bfloat16* Bk,
                                        const float* Cin, int trans, float* D, float* early) {
    using namespace inflow::ptx;
    __shared__ __align__(16) __nv_bfloat16 As[256];
    __shared__ __align__(16) __nv_bfloat16 Bts[128];
    __shared__ __align__(16) __nv_bfloat16 Bks[128];
    const unsigned lane = threadIdx.x;
    cp_async_16(As + 8 * lane, A + 8 * lane, 16);
    cp_async_commit();
    early[lane] = __bfloat162float(As[8 * lane]);
    cp_async_wait<0>();
    if (lane < 16) {
        Bts[8 * lane] = Bt[8 * lane];
        for (int i = 1; i < 8; i++) Bts[8 * lane + i] = Bt[8 * lane + i];
        for (int i = 0; i < 8; i++) Bks[8 * lane + i] = Bk[8 * lane + i];
    }
    __syncwarp();
    uint32_t a[4], b[2];
    ldmatrix_x4(a, As + (lane % 16) * 16 + (lane / 16) * 8);
    if (trans) {
        ldmatrix_x2_trans(b, Bks + (lane % 16) * 8);
    } else {
        ldmatrix_x2(b, Bts + (lane % 8) * 16 + ((lane / 8) % 2) * 8);
    }
    const unsigned g = lane / 4, t = lane % 4;
    float d[4];
    for (int i = 0; i < 4; i++) d[i] = Cin[(g + (i >= 2 ? 8 : 0)) * 8 + 2 * t + (i % 2)];
    mma_16816<__nv_bfloat16>(d, a, b);
    for (int i = 0; i < 4; i++) D[(g + (i >= 2 ? 8 : 0)) * 8 + 2 * t + (i % 2)] = d[i];
}

// Two commit groups, wait<1>: the older group has landed, the newer one not yet (its shared bytes still NaN); then
// wait<0> lands it. out[0..3] = {old before, new before, old after wait<1>, new after wait<1>}, out[4] = new after
// wait<0>; a source size below 16 zero-fills: out[5] = element 7 of a copy of 8 bytes (4 elements) = 0.
extern "C" __global__ void ptx_cp_async_groups(const float* src, float* out) {
    using namespace inflow::ptx;
    __shared__ __align__(16) float s[12];
    if (threadIdx.x == 0) {
        cp_async_16(s, src, 16);
        cp_async_commit();
        cp_async_16(s + 4, src + 4, 16);
        cp_async_commit();
        cp_async_16(s + 8, src + 8, 8);
        out[0] = s[0];
        out[1] = s[4];
        cp_async_wait<1>();
        out[2] = s[0];
        out[3] = s[4];
        cp_async_commit();
        cp_async_wait<0>();
        out[4] = s[4];
        out[5] = s[11];
        out[6] = s[9];
    }
}

// One block of 1024 threads: out[0] = sum of t over the block, by warp shuffles and a shared array.
extern "C" __global__ void __launch_bounds__(1024) block_sum_1024(int* out) {
    __shared__ int partial[32];
    int v = threadIdx.x;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(FULL, v, off);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        int s = 0;
        for (int w = 0; w < 32; w++) s += partial[w];
        out[0] = s;
    }
}

// Odd and even lanes shuffle at different call sites: a fault naming both.
extern "C" __global__ void diverging_collectives(float* out) {
    float v = threadIdx.x;
    v = (threadIdx.x & 1) ? __shfl_xor_sync(FULL, v, 1) : __shfl_xor_sync(FULL, v, 2);
    out[threadIdx.x] = v;
}

// Half of each warp waits at __syncthreads, the other half in a shuffle: a deadlock, reported at once.
extern "C" __global__ void hang(float* out) {
    float v = threadIdx.x;
    if ((threadIdx.x & 31) < 16) {
        __syncthreads();
    } else {
        v = __shfl_xor_sync(FULL, v, 1);
    }
    out[threadIdx.x] = v;
}

extern "C" __global__ void trap(int* out) {
    if (threadIdx.x == 7) __trap();
    out[threadIdx.x] = 1;
}

// ---- planted bugs: a missing barrier must show as a wrong result under every schedule ----------------------------

// As gemm.cu without its tile barrier: every thread writes its part of a shared tile, the warps meet only in a warp
// collective (__syncwarp), then every thread reads the value the next warp wrote: out[t] would be
// (t + 32) % blockDim.x with the barrier.
extern "C" __global__ void missing_tile_barrier(float* out) {
    __shared__ float tile[256];
    tile[threadIdx.x] = (float) threadIdx.x;
    // missing: __syncthreads();
    __syncwarp();
    out[threadIdx.x] = tile[(threadIdx.x + 32) % blockDim.x];
}

// A shared buffer reused without the barrier that keeps the next round's writes from overtaking this round's reads
// (gemm.cu's second __syncthreads): out[r * blockDim.x + t] would be r * 1000 + (t + 32) % blockDim.x with it.
extern "C" __global__ void missing_reuse_barrier(float* out) {
    __shared__ float buf[256];
    const unsigned n = blockDim.x, t = threadIdx.x;
    for (int r = 0; r < 3; r++) {
        buf[t] = (float) (r * 1000 + t);
        __syncthreads();
        out[r * n + t] = buf[(t + 32) % n];
        // missing: __syncthreads();
    }
}

// Thread 0 spin-waits (with __nanosleep) for a flag that the block's last thread sets: the waiting thread yields.
extern "C" __global__ void spin_wait(int* flag, int* out) {
    if (threadIdx.x == 0) {
        while (atomicAdd(flag, 0) == 0) __nanosleep(100);
        out[0] = 1;
    }
    if (threadIdx.x == blockDim.x - 1) atomicExch(flag, 1);
}

// Thread 5 never reaches a barrier (the watchdog ends the process: EMU_HANG_SECONDS).
extern "C" __global__ void endless(int* flag) {
    if (threadIdx.x == 5) {
        while (*(volatile int*) flag == 0) {
        }
    }
    __syncthreads();
}

// Thread 3 needs an 8 MiB local array: a stack overflow (SIGSEGV in the guard below its stack).
extern "C" __global__ void stack_overflow(int* out) {
    if (threadIdx.x == 3) {
        volatile char big[8 << 20];
        big[0] = 1;
        big[sizeof big - 1] = 2;
        out[0] = big[0] + big[sizeof big - 1];
    }
}

// Threads 0 and 1 spin-wait (with __nanosleep) for a flag that nobody sets: they only yield to each other, forever
// (the watchdog ends the process: yields are not progress).
extern "C" __global__ void spin_forever(int* flag) {
    if (threadIdx.x < 2) {
        while (atomicAdd(flag, 0) == 0) __nanosleep(100);
    }
}
