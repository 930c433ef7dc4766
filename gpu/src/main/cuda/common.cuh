// Helpers shared by the Inflow kernels: warp and block reductions, the erf form of GELU.
// Included by the .cu files of this folder; an edit here changes every fatbin (the manifest covers it).
#pragma once

#include <math.h>

namespace inflow {

constexpr unsigned FULL_MASK = 0xffffffffu;

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, offset));
    }
    return v;
}

// Sum of v over the whole block, returned to every thread. `scratch` holds at least 32 floats of shared
// memory. blockDim.x must be a multiple of 32 (every launcher uses 128 or 256 threads). Safe to call several
// times in a row with the same scratch: the leading barrier keeps a call from overwriting a result that a
// slower thread has not read yet.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : 0.0f;
        w = warp_sum(w);
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

// GELU, erf form: x * 0.5 * (1 + erf(x / sqrt(2))), in float32 (erff: at most 2 ulp).
__device__ __forceinline__ float gelu_erf(float x) {
    return x * 0.5f * (1.0f + erff(x * 0.70710678118654752440f));
}

__device__ __forceinline__ float sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
}

}  // namespace inflow
