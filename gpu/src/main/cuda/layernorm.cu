// LayerNorm over the last dimension with an optional residual added first, float32:
//   y = x + residual (residual may be null);  out = (y - mean(y)) / sqrt(var(y) + eps) * gamma + beta,
//   variance biased (divided by cols). Two passes over the row (mean, then the sum of squared deviations), which
//   keeps float32 statistics accurate without Welford.
// One block of 256 threads per row (grid = rows); warp shuffles, then one shared float per warp.
// out may alias x or residual: each thread reads y[c] and writes out[c] at the same indices, and all reads of the
// statistics passes finish (block barrier inside block_sum) before the first write.
// CPU twin: backend/cpu/reference/LayerNormReference. Launcher: backend/cuda/kernels/LayerNormKernel.

#include <cuda_bf16.h>

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256)
layernorm_f32(const float* x, const float* residual, const float* gamma, const float* beta, float eps, float* out,
              int rows, int cols) {
    __shared__ float scratch[32];
    const int row = blockIdx.x;
    if (row >= rows) {
        return;   // the whole block leaves together
    }
    const size_t base = (size_t)row * cols;

    float sum = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        sum += x[base + c] + (residual != nullptr ? residual[base + c] : 0.0f);
    }
    const float mean = inflow::block_sum(sum, scratch) / (float)cols;

    float sq = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float y = x[base + c] + (residual != nullptr ? residual[base + c] : 0.0f);
        sq += (y - mean) * (y - mean);
    }
    const float var = inflow::block_sum(sq, scratch) / (float)cols;
    const float inv = 1.0f / sqrtf(var + eps);

    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float y = x[base + c] + (residual != nullptr ? residual[base + c] : 0.0f);
        out[base + c] = (y - mean) * inv * gamma[c] + beta[c];
    }
}

// layernorm_f32_bf16: the same LayerNorm for the BF16-activation encoder, one warp per row (8 rows per block of 256
// threads: a 384-wide row is 12 values a lane, where the kernel above would leave most of a 256-thread block idle),
// writing the result as float32 into out (the residual stream; may be null) and/or rounded to bf16 into out_bf16
// (the next GEMM's operand; may be null). Same two-pass statistics in float32; the sums run in another order than
// layernorm_f32 (lane-strided, then a butterfly), so the two agree to float32 rounding, not bit for bit.
// grid = ceil(rows / 8). out may alias x or residual (each lane reads and writes the same indices, the statistics
// of the row are complete before its first write: the warp's shuffles order them).
extern "C" __global__ void __launch_bounds__(256)
layernorm_f32_bf16(const float* x, const float* residual, const float* gamma, const float* beta, float eps, float* out,
                   __nv_bfloat16* out_bf16, int rows, int cols) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * 8 + (threadIdx.x >> 5);
    if (row >= rows) {
        return;   // the whole warp leaves together
    }
    const size_t base = (size_t)row * cols;
    float sum = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        sum += x[base + c] + (residual != nullptr ? residual[base + c] : 0.0f);
    }
    const float mean = inflow::warp_sum(sum) / (float)cols;
    float sq = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        const float y = x[base + c] + (residual != nullptr ? residual[base + c] : 0.0f);
        sq += (y - mean) * (y - mean);
    }
    const float inv = 1.0f / sqrtf(inflow::warp_sum(sq) / (float)cols + eps);
    for (int c = lane; c < cols; c += 32) {
        const float y = x[base + c] + (residual != nullptr ? residual[base + c] : 0.0f);
        const float v = (y - mean) * inv * gamma[c] + beta[c];
        if (out != nullptr) {
            out[base + c] = v;
        }
        if (out_bf16 != nullptr) {
            out_bf16[base + c] = __float2bfloat16_rn(v);
        }
    }
}
