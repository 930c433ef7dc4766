// Activation functions, float32 (n elements; out may alias x):
//   gelu_f32        x * 0.5 * (1 + erf(x / sqrt(2)))
//   quick_gelu_f32  x * sigmoid(1.702 x)
//   glu_f32         rows of x[rows, 2h] split [a | b]; out[rows, h] = a * gate(b), gate 0 = GELU (GEGLU),
//                   1 = sigmoid (GLU); out must not alias x (different shapes)
// CPU twin: backend/cpu/reference/ActivationsReference. Launcher: backend/cuda/kernels/ActivationsKernel.

#include "common.cuh"

#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

extern "C" __global__ void gelu_f32(const float* x, float* out, long long n) {
    GRID_STRIDE(i, n) {
        out[i] = inflow::gelu_erf(x[i]);
    }
}

extern "C" __global__ void quick_gelu_f32(const float* x, float* out, long long n) {
    GRID_STRIDE(i, n) {
        const float v = x[i];
        out[i] = v * inflow::sigmoid(1.702f * v);
    }
}

extern "C" __global__ void glu_f32(const float* x, float* out, long long rows, int h, int gate) {
    const long long n = rows * h;
    GRID_STRIDE(i, n) {
        const long long r = i / h;
        const int c = (int)(i % h);
        const float a = x[r * 2 * h + c];
        const float b = x[r * 2 * h + h + c];
        out[i] = a * (gate == 0 ? inflow::gelu_erf(b) : inflow::sigmoid(b));
    }
}
