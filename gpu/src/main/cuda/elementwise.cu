// Element-wise and row-wise float32 kernels:
//   add_f32        out = a + b                    (n elements; out may alias a or b)
//   fill_f32       x = value
//   scale_add_f32  acc += alpha * x               (multiply and add rounded separately, as Java does, so the
//                                                  result is bit-identical to the CPU twin: no FMA contraction)
//   add_bias_f32   x[r, c] += bias[c]             (rows x cols, in place)
//   l2_normalize_f32  out[r, :] = x[r, :] / ||x[r, :]||, rows of norm 0 stay 0 (one block of 256 threads per row;
//                     out may alias x)
// Element counts are 64-bit; the grid-stride loops accept any grid size.
// CPU twin: backend/cpu/reference/ElementwiseReference. Launcher: backend/cuda/kernels/ElementwiseKernel.

#include "common.cuh"

#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
    GRID_STRIDE(i, n) {
        out[i] = a[i] + b[i];
    }
}

extern "C" __global__ void fill_f32(float* x, float value, long long n) {
    GRID_STRIDE(i, n) {
        x[i] = value;
    }
}

extern "C" __global__ void scale_add_f32(float* acc, const float* x, float alpha, long long n) {
    GRID_STRIDE(i, n) {
        acc[i] = __fadd_rn(acc[i], __fmul_rn(alpha, x[i]));
    }
}

extern "C" __global__ void add_bias_f32(float* x, const float* bias, long long rows, int cols) {
    const long long n = rows * cols;
    GRID_STRIDE(i, n) {
        x[i] += bias[i % cols];
    }
}

extern "C" __global__ void __launch_bounds__(256)
l2_normalize_f32(const float* x, float* out, int rows, int cols) {
    __shared__ float scratch[32];
    const int row = blockIdx.x;
    if (row >= rows) {
        return;
    }
    const size_t base = (size_t)row * cols;
    float sq = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        sq += x[base + c] * x[base + c];
    }
    const float norm = sqrtf(inflow::block_sum(sq, scratch));
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        out[base + c] = norm == 0.0f ? 0.0f : x[base + c] / norm;
    }
}
