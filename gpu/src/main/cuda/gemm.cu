// Tensor-core matrix multiply with a fused epilogue:
//   C[M, N] = epilogue(A[M, K] . op(B)),  op(B) = B^T when trans_b (B is [N, K], the Linear layout), else B ([K, N]).
// gemm_bf16_f32 / gemm_f16_f32: A and B are float32 in device memory, rounded on the fly to BF16 / FP16 while they
// are staged in shared memory. gemm_bf16_f32_w16 / gemm_f16_f32_w16: B is already 16-bit (a resident Linear weight,
// rounded once by round_bf16_f32 / round_f16_f32 with the same round-to-nearest-even), so it is copied into the
// tile as is: half the weight bytes read, no conversion per call, and bit for bit the products of the f32 variant.
// Products accumulate in float32 (WMMA 16x16x16), C is float32.
// Epilogue: 0 = none, 1 = + bias[n], 2 = + bias[n] then GELU (erf form).
//
// Tiling: a block of 128 threads (4 warps in a 2 x 2 grid) computes a 64 x 64 tile of C; each warp owns a
// 32 x 32 sub-tile (2 x 2 WMMA accumulators). K advances 32 at a time. Every global load is guarded, so M, N and
// K need not be multiples of anything: out-of-range elements load as 0, which adds nothing to the products,
// and out-of-range outputs are never stored.
// Grid: (ceil(N / 64), ceil(M / 64)). Needs sm_80 or newer (BF16 WMMA).
// round_bf16_f32 / round_f16_f32: y[i] = 16-bit(x[i]), grid-stride over n (any grid); y must not alias x.
// CPU twin: backend/cpu/reference/MatmulReference. Launcher: backend/cuda/kernels/GemmKernel.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include "common.cuh"

namespace inflow_gemm {   // named: an anonymous namespace's symbols carry a path hash, so fatbins would differ by checkout

using namespace nvcuda;

constexpr int TILE_M = 64;
constexpr int TILE_N = 64;
constexpr int TILE_K = 32;
constexpr int THREADS = 128;
// Row strides of the shared tiles, padded against bank conflicts. WMMA needs the leading dimension to be a
// multiple of 8 elements (16-bit types) or 4 (float), and every fragment pointer 32-byte aligned: with these
// strides a fragment starts at row 16*i, column 16*j, i.e. at a multiple of 16*stride*size and 16*size bytes,
// both multiples of 32.
constexpr int A_STRIDE = TILE_K + 8;   // 40 halves = 80 bytes
constexpr int B_STRIDE = TILE_N + 8;   // 72 halves = 144 bytes
constexpr int C_STRIDE = TILE_N + 4;   // 68 floats = 272 bytes

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }

// A tile element from an operand in global memory: float32 is rounded here, a 16-bit value (already rounded) is
// copied unchanged.
template <typename T> __device__ __forceinline__ T to_tile(float v) { return from_float<T>(v); }
template <typename T> __device__ __forceinline__ T to_tile(T v) { return v; }

// TB: B's element type in global memory, float or T.
template <typename T, typename TB>
__device__ void gemm_tile(const float* A, const TB* B, float* C, const float* bias,
                          int M, int N, int K, int trans_b, int epilogue) {
    __shared__ __align__(32) T As[TILE_M * A_STRIDE];   // As[r][k]: row r of the A tile
    __shared__ __align__(32) T Bs[TILE_K * B_STRIDE];   // Bs[k][n]: op(B) tile, row-major K x N
    __shared__ __align__(32) float Cs[TILE_M * C_STRIDE];

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int warp_row = warp >> 1;   // 0..1: rows 32*warp_row .. +32 of the tile
    const int warp_col = warp & 1;    // 0..1: cols 32*warp_col .. +32
    const int m0 = blockIdx.y * TILE_M;
    const int n0 = blockIdx.x * TILE_N;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            wmma::fill_fragment(acc[i][j], 0.0f);
        }
    }

    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        // A tile: 64 x 32; consecutive threads read consecutive k of one row (coalesced).
        for (int i = tid; i < TILE_M * TILE_K; i += THREADS) {
            const int r = i / TILE_K;
            const int c = i % TILE_K;
            const int gr = m0 + r;
            const int gc = k0 + c;
            const float v = (gr < M && gc < K) ? A[(size_t)gr * K + gc] : 0.0f;
            As[r * A_STRIDE + c] = from_float<T>(v);
        }
        // B tile: 32 x 64 of op(B), stored Bs[k][n].
        if (trans_b) {
            // B is [N, K]: op(B)[k][n] = B[n * K + k]; consecutive threads read consecutive k (coalesced).
            for (int i = tid; i < TILE_K * TILE_N; i += THREADS) {
                const int n = i / TILE_K;
                const int k = i % TILE_K;
                const int gn = n0 + n;
                const int gk = k0 + k;
                Bs[k * B_STRIDE + n] = (gn < N && gk < K) ? to_tile<T>(B[(size_t)gn * K + gk]) : from_float<T>(0.0f);
            }
        } else {
            // B is [K, N]: op(B)[k][n] = B[k * N + n]; consecutive threads read consecutive n (coalesced).
            for (int i = tid; i < TILE_K * TILE_N; i += THREADS) {
                const int k = i / TILE_N;
                const int n = i % TILE_N;
                const int gk = k0 + k;
                const int gn = n0 + n;
                Bs[k * B_STRIDE + n] = (gk < K && gn < N) ? to_tile<T>(B[(size_t)gk * N + gn]) : from_float<T>(0.0f);
            }
        }
        __syncthreads();

        for (int kk = 0; kk < TILE_K; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b[2];
            for (int i = 0; i < 2; i++) {
                wmma::load_matrix_sync(a[i], As + (warp_row * 32 + i * 16) * A_STRIDE + kk, A_STRIDE);
            }
            for (int j = 0; j < 2; j++) {
                wmma::load_matrix_sync(b[j], Bs + kk * B_STRIDE + warp_col * 32 + j * 16, B_STRIDE);
            }
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
                }
            }
        }
        __syncthreads();   // the next iteration overwrites As and Bs
    }

    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            wmma::store_matrix_sync(Cs + (warp_row * 32 + i * 16) * C_STRIDE + warp_col * 32 + j * 16,
                                    acc[i][j], C_STRIDE, wmma::mem_row_major);
        }
    }
    __syncthreads();

    // Epilogue and guarded store; consecutive threads write consecutive columns (coalesced).
    for (int i = tid; i < TILE_M * TILE_N; i += THREADS) {
        const int r = i / TILE_N;
        const int c = i % TILE_N;
        const int gr = m0 + r;
        const int gc = n0 + c;
        if (gr < M && gc < N) {
            float v = Cs[r * C_STRIDE + c];
            if (epilogue >= 1) {
                v += bias[gc];
            }
            if (epilogue == 2) {
                v = inflow::gelu_erf(v);
            }
            C[(size_t)gr * N + gc] = v;
        }
    }
}

}  // namespace inflow_gemm

using namespace inflow_gemm;

extern "C" __global__ void __launch_bounds__(THREADS)
gemm_bf16_f32(const float* A, const float* B, float* C, const float* bias, int M, int N, int K, int trans_b,
              int epilogue) {
    gemm_tile<__nv_bfloat16, float>(A, B, C, bias, M, N, K, trans_b, epilogue);
}

extern "C" __global__ void __launch_bounds__(THREADS)
gemm_f16_f32(const float* A, const float* B, float* C, const float* bias, int M, int N, int K, int trans_b,
             int epilogue) {
    gemm_tile<__half, float>(A, B, C, bias, M, N, K, trans_b, epilogue);
}

extern "C" __global__ void __launch_bounds__(THREADS)
gemm_bf16_f32_w16(const float* A, const __nv_bfloat16* B, float* C, const float* bias, int M, int N, int K,
                  int trans_b, int epilogue) {
    gemm_tile<__nv_bfloat16, __nv_bfloat16>(A, B, C, bias, M, N, K, trans_b, epilogue);
}

extern "C" __global__ void __launch_bounds__(THREADS)
gemm_f16_f32_w16(const float* A, const __half* B, float* C, const float* bias, int M, int N, int K, int trans_b,
                 int epilogue) {
    gemm_tile<__half, __half>(A, B, C, bias, M, N, K, trans_b, epilogue);
}

extern "C" __global__ void round_bf16_f32(const float* x, __nv_bfloat16* y, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        y[i] = from_float<__nv_bfloat16>(x[i]);
    }
}

extern "C" __global__ void round_f16_f32(const float* x, __half* y, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        y[i] = from_float<__half>(x[i]);
    }
}
