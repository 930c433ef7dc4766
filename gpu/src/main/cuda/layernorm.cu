// LayerNorm over the last dimension with an optional residual added first, float32:
//   y = x + residual (residual may be null);  out = (y - mean(y)) / sqrt(var(y) + eps) * gamma + beta,
//   variance biased (divided by cols). Two passes over the row (mean, then the sum of squared deviations), which
//   keeps float32 statistics accurate without Welford.
// One block of 256 threads per row (grid = rows); warp shuffles, then one shared float per warp.
// out may alias x or residual: each thread reads y[c] and writes out[c] at the same indices, and all reads of the
// statistics passes finish (block barrier inside block_sum) before the first write.
// CPU twin: backend/cpu/reference/LayerNormReference. Launcher: backend/cuda/kernels/LayerNormKernel.

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
