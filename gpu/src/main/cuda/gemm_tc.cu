// BF16 tensor-core matrix multiply for BF16 activations and resident BF16 Linear weights, with a fused epilogue:
//   C[M, N] = epilogue(A[M, K] . W^T),  A bf16 row-major [M, K], W bf16 row-major [N, K] (a Linear weight as
//   ResidentWeights keeps it), products accumulated in float32 by mma.sync m16n8k16 (ptx.cuh).
// Epilogue: 0 = none, 1 = + bias[n], 2 = + bias[n] then GELU (erf form, inflow::gelu_erf),
//           3 = + bias[n] + C[m, n] (residual: C is float32, read and then written in place by the same thread).
// gemm_tc_bf16_f32* store C as float32; gemm_tc_bf16_bf16* store C as bf16, rounded to nearest even (no residual).
// bias is float32 [N] (unused, may be null, with epilogue 0).
//
// Tiling: a block computes a BM x 128 tile of C, K advancing 32 at a time. Its warps form a (BM / 64) x 4 grid and
// each owns a 64 x 32 sub-tile: 4 x 4 mma tiles of 16 x 8, 64 float accumulators per thread. BM = 128 (256 threads,
// kernels gemm_tc_bf16_f32 / gemm_tc_bf16_bf16) or BM = 64 (128 threads, the *_m64 kernels, which the launcher picks
// when the 128-row grid would not fill the GPU). A 3-stage cp.async pipeline stages the A and W tiles: 16-byte
// copies (8 elements) of rows of 32 k, an out-of-range row or k chunk zero-filled (src_bytes 0), which adds nothing
// to the products, so M and N need not be multiples of anything; K must be a multiple of 8 (whole 16-byte chunks),
// A and W 16-byte aligned. Per K step: cp_async_wait<STAGES-2> + __syncthreads (the step's tiles have landed, and
// every warp has finished the step before, whose stage the next prefetch overwrites), prefetch step + 2, then per
// 16-wide k slice ldmatrix_x4 A fragments (rows 16 i.., the x4's matrices = the fragment's 4 registers) and
// ldmatrix_x4 pairs of B fragments (W's [n][k] rows are exactly the col-major B operand) and 16 mma per warp.
// The epilogue writes from the accumulator fragments (C layout of ptx.cuh: rows g, g + 8, columns 2t, 2t + 1),
// two adjacent columns as one 8-byte (float) / 4-byte (bf16) store where N is even and C aligned, every store
// guarded by M and N.
// Grid: (ceil(N / 128), ceil(M / BM)); block BM * 2 threads. Dynamic shared memory 3 stages x (BM + 128) rows x 40
// bf16 (32 + 8 padding: 80-byte rows put the 8 rows of an ldmatrix in 8 different 16-byte bank groups): 61,440
// bytes for BM = 128 (over 48 KB: the launcher raises the function's limit), 46,080 for BM = 64.
// Aliasing: C must not overlap A, W or bias (with epilogue 3 C is both read and written, element by element by the
// same thread). Needs sm_80 or newer.
// CPU twin: backend/cpu/reference/MatmulReference on the bf16-rounded inputs. Launcher: backend/cuda/kernels/GemmTcKernel.

#include <cuda_bf16.h>
#include <stdint.h>

#include "common.cuh"
#include "ptx.cuh"

namespace inflow_gemm_tc {   // named: an anonymous namespace's symbols carry a path hash, so fatbins would differ by checkout

constexpr int BN = 128;
constexpr int BK = 32;
constexpr int STAGES = 3;
constexpr int SK = BK + 8;          // shared row stride in bf16: 80 bytes, 16-byte aligned, conflict-free ldmatrix
constexpr int CHUNKS_PER_ROW = BK / 8;   // 16-byte cp.async chunks per tile row
constexpr int WARP_M = 64;
constexpr int WARP_N = 32;
constexpr int MI = WARP_M / 16;     // 16-row mma tiles per warp
constexpr int NI = WARP_N / 8;      // 8-column mma tiles per warp

template <int BM> struct Tile {
    static constexpr int WARPS_M = BM / WARP_M;
    static constexpr int WARPS_N = BN / WARP_N;
    static constexpr int THREADS = 32 * WARPS_M * WARPS_N;
    static constexpr int STAGE_ELEMS = (BM + BN) * SK;   // A rows then W rows of one stage
    static constexpr int SHARED_BYTES = STAGES * STAGE_ELEMS * 2;
};

extern __shared__ __align__(16) unsigned char smem[];

// The cp.async work of one thread: chunk q (q < ITERS) of a tile is row ld_row + q * THREADS / 4, k ld_k .. + 8 of
// the step. Row pointers and row guards are set up once; a step only adds its k offset.
template <int ROWS, int THREADS> struct Loader {
    static constexpr int ITERS = ROWS * CHUNKS_PER_ROW / THREADS;
    static constexpr int ROW_STEP = THREADS / CHUNKS_PER_ROW;
    static_assert(ROWS * CHUNKS_PER_ROW % THREADS == 0, "whole chunks per thread");
    const __nv_bfloat16* base;   // the matrix (the source of a zero-filled copy)
    const __nv_bfloat16* row0;   // base + (first row + ld_row) * K + ld_k, or base when out of range
    size_t step;                 // ROW_STEP rows, in elements
    int valid_rows;              // how many of this thread's ITERS rows are inside the matrix
    int smem_off;                // ld_row * SK + ld_k
    int k_off;                   // ld_k

    __device__ __forceinline__ Loader(const __nv_bfloat16* m, int first, int rows, int K) {
        const int ld_row = threadIdx.x / CHUNKS_PER_ROW;
        const int ld_k = (threadIdx.x % CHUNKS_PER_ROW) * 8;
        base = m;
        step = (size_t)ROW_STEP * K;
        const int left = rows - first - ld_row;   // rows of the matrix from this thread's first row on
        valid_rows = left <= 0 ? 0 : min(ITERS, (left + ROW_STEP - 1) / ROW_STEP);
        row0 = valid_rows > 0 ? m + (size_t)(first + ld_row) * K + ld_k : m;
        smem_off = ld_row * SK + ld_k;
        k_off = ld_k;
    }

    // Issues this thread's copies of K step kt (k from kt * BK) into the stage tile at dst.
    __device__ __forceinline__ void load(__nv_bfloat16* dst, int kt, int K) const {
        const int k0 = kt * BK;
        const bool k_in = k0 + k_off < K;   // K % 8 == 0: a chunk is all in or all out
#pragma unroll
        for (int q = 0; q < ITERS; q++) {
            const bool in = k_in && q < valid_rows;
            const __nv_bfloat16* src = in ? row0 + q * step + k0 : base;
            inflow::ptx::cp_async_16(dst + smem_off + q * ROW_STEP * SK, src, in ? 16 : 0);
        }
    }
};

// Out of line: inlined, erff would be copied into each of the epilogue's unrolled element sites.
__device__ __noinline__ float gelu_out_of_line(float v) { return inflow::gelu_erf(v); }

__device__ __forceinline__ void store_pair(float* C, size_t row_off, int col, int N, bool pair, float v0, float v1,
                                           int epilogue) {
    float* p = C + row_off + col;
    if (pair) {
        if (epilogue == 3) {
            const float2 old = *reinterpret_cast<const float2*>(p);
            v0 += old.x;
            v1 += old.y;
        }
        *reinterpret_cast<float2*>(p) = make_float2(v0, v1);
    } else {
        if (epilogue == 3) {
            v0 += p[0];
        }
        p[0] = v0;
        if (col + 1 < N) {
            if (epilogue == 3) {
                v1 += p[1];
            }
            p[1] = v1;
        }
    }
}

__device__ __forceinline__ void store_pair(__nv_bfloat16* C, size_t row_off, int col, int N, bool pair, float v0,
                                           float v1, int /*epilogue: never 3 here*/) {
    __nv_bfloat16* p = C + row_off + col;
    if (pair) {
        *reinterpret_cast<uint32_t*>(p) = inflow::ptx::pack2<__nv_bfloat16>(v0, v1);
    } else {
        p[0] = __float2bfloat16_rn(v0);
        if (col + 1 < N) {
            p[1] = __float2bfloat16_rn(v1);
        }
    }
}

template <int BM, typename OutT>
__device__ __forceinline__ void gemm_tc(const __nv_bfloat16* __restrict__ A, const __nv_bfloat16* __restrict__ W,
                                        const float* __restrict__ bias, OutT* C, int M, int N, int K, int epilogue) {
    using T = Tile<BM>;
    __nv_bfloat16* tiles = reinterpret_cast<__nv_bfloat16*>(smem);

    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warp_m = warp / T::WARPS_N;   // rows 64 warp_m .. + 64 of the block tile
    const int warp_n = warp % T::WARPS_N;   // columns 32 warp_n .. + 32
    const int m0 = blockIdx.y * BM;
    const int n0 = blockIdx.x * BN;
    const int KT = (K + BK - 1) / BK;

    float acc[MI][NI][4];
#pragma unroll
    for (int i = 0; i < MI; i++) {
#pragma unroll
        for (int j = 0; j < NI; j++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                acc[i][j][e] = 0.0f;
            }
        }
    }

    const Loader<BM, T::THREADS> a_loader(A, m0, M, K);
    const Loader<BN, T::THREADS> w_loader(W, n0, N, K);

    // Prologue: steps 0 .. STAGES-2 in flight, one commit group each (empty groups past the end keep the count).
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < KT) {
            a_loader.load(tiles + s * T::STAGE_ELEMS, s, K);
            w_loader.load(tiles + s * T::STAGE_ELEMS + BM * SK, s, K);
        }
        inflow::ptx::cp_async_commit();
    }

    // ldmatrix row addresses inside a stage (elements): A x4: lanes 0-15 rows 0-15 at k 0, lanes 16-31 rows 0-15 at
    // k 8 (matrices: rows 0-7 / 8-15 x k 0-7 / 8-15 = a[0..3]); W x4 for the pair of n8 tiles (j, j + 1): lanes
    // 0-7 tile j k 0, 8-15 tile j k 8, 16-23 tile j + 1 k 0, 24-31 tile j + 1 k 8 (= b[j][0], b[j][1], b[j+1][0..1]).
    const int a_row = warp_m * WARP_M + (lane & 15);
    const int a_col = (lane >> 4) * 8;
    const int b_row = warp_n * WARP_N + ((lane >> 4) * 8) + (lane & 7);
    const int b_col = ((lane >> 3) & 1) * 8;

    for (int kt = 0; kt < KT; kt++) {
        inflow::ptx::cp_async_wait<STAGES - 2>();
        __syncthreads();   // step kt landed for every thread; every warp is done with step kt - 1's stage

        const int next = kt + STAGES - 1;
        if (next < KT) {
            a_loader.load(tiles + (next % STAGES) * T::STAGE_ELEMS, next, K);
            w_loader.load(tiles + (next % STAGES) * T::STAGE_ELEMS + BM * SK, next, K);
        }
        inflow::ptx::cp_async_commit();

        const __nv_bfloat16* As = tiles + (kt % STAGES) * T::STAGE_ELEMS;
        const __nv_bfloat16* Bs = As + BM * SK;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            uint32_t a[MI][4];
            uint32_t b[NI][2];
#pragma unroll
            for (int i = 0; i < MI; i++) {
                inflow::ptx::ldmatrix_x4(a[i], As + (a_row + i * 16) * SK + kk + a_col);
            }
#pragma unroll
            for (int j = 0; j < NI; j += 2) {
                uint32_t r[4];
                inflow::ptx::ldmatrix_x4(r, Bs + (b_row + j * 8) * SK + kk + b_col);
                b[j][0] = r[0];
                b[j][1] = r[1];
                b[j + 1][0] = r[2];
                b[j + 1][1] = r[3];
            }
#pragma unroll
            for (int i = 0; i < MI; i++) {
#pragma unroll
                for (int j = 0; j < NI; j++) {
                    inflow::ptx::mma_16816<__nv_bfloat16>(acc[i][j], a[i], b[j]);
                }
            }
        }
    }
    inflow::ptx::cp_async_wait<0>();   // nothing left in flight when the block exits (only empty groups remain)

    // Epilogue straight from the fragments: thread (g, t) holds rows g and g + 8, columns 2t and 2t + 1 of each tile.
    // The bias and column guards of the warp's 4 column tiles are loaded once. The loop over the 4 row tiles is not
    // unrolled (code size: 64 unrolled element sites made a 65 KB kernel): each trip stores acc[0] and moves
    // acc[1..3] down one, so that every accumulator index stays a compile-time constant (registers, no local memory).
    const int g = lane >> 2;
    const int t = lane & 3;
    const bool aligned = (N % 2 == 0) && (reinterpret_cast<uintptr_t>(C) % (2 * sizeof(OutT)) == 0);
    float b0[NI], b1[NI];
    int cols[NI];
#pragma unroll
    for (int j = 0; j < NI; j++) {
        cols[j] = n0 + warp_n * WARP_N + j * 8 + 2 * t;
        b0[j] = (epilogue >= 1 && cols[j] < N) ? bias[cols[j]] : 0.0f;
        b1[j] = (epilogue >= 1 && cols[j] + 1 < N) ? bias[cols[j] + 1] : 0.0f;
    }
#pragma unroll 1
    for (int i = 0; i < MI; i++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int row = m0 + warp_m * WARP_M + i * 16 + g + 8 * h;
            if (row < M) {
                const size_t row_off = (size_t)row * N;
#pragma unroll
                for (int j = 0; j < NI; j++) {
                    const int col = cols[j];
                    if (col < N) {
                        const bool two = col + 1 < N;
                        float v0 = acc[0][j][2 * h] + b0[j];
                        float v1 = acc[0][j][2 * h + 1] + b1[j];
                        if (epilogue == 2) {
                            v0 = gelu_out_of_line(v0);
                            v1 = two ? gelu_out_of_line(v1) : 0.0f;
                        }
                        store_pair(C, row_off, col, N, aligned && two, v0, v1, epilogue);
                    }
                }
            }
        }
#pragma unroll
        for (int s = 0; s + 1 < MI; s++) {
#pragma unroll
            for (int j = 0; j < NI; j++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    acc[s][j][e] = acc[s + 1][j][e];
                }
            }
        }
    }
}

}  // namespace inflow_gemm_tc

using namespace inflow_gemm_tc;

extern "C" __global__ void __launch_bounds__(256)
gemm_tc_bf16_f32(const __nv_bfloat16* A, const __nv_bfloat16* W, const float* bias, float* C, int M, int N, int K,
                 int epilogue) {
    gemm_tc<128, float>(A, W, bias, C, M, N, K, epilogue);
}

extern "C" __global__ void __launch_bounds__(256)
gemm_tc_bf16_bf16(const __nv_bfloat16* A, const __nv_bfloat16* W, const float* bias, __nv_bfloat16* C, int M, int N,
                  int K, int epilogue) {
    gemm_tc<128, __nv_bfloat16>(A, W, bias, C, M, N, K, epilogue);
}

extern "C" __global__ void __launch_bounds__(128)
gemm_tc_bf16_f32_m64(const __nv_bfloat16* A, const __nv_bfloat16* W, const float* bias, float* C, int M, int N,
                     int K, int epilogue) {
    gemm_tc<64, float>(A, W, bias, C, M, N, K, epilogue);
}

extern "C" __global__ void __launch_bounds__(128)
gemm_tc_bf16_bf16_m64(const __nv_bfloat16* A, const __nv_bfloat16* W, const float* bias, __nv_bfloat16* C, int M,
                      int N, int K, int epilogue) {
    gemm_tc<64, __nv_bfloat16>(A, W, bias, C, M, N, K, epilogue);
}
