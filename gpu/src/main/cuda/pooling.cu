// Pooling of hidden[batch, seq, dim] (float32) into out[batch, dim]:
//   mean_pool_f32        mean over the first lengths[b] positions (float32 sum, then divided by the length)
//   first_token_pool_f32 hidden[b, 0, :] (CLS)
//   last_token_pool_f32  hidden[b, lengths[b] - 1, :]
// lengths: int32 [batch], each in [1, seq] (checked by the launcher).
// Grid (ceil(dim / 128), batch), 128 threads: one thread per output column, so reads of one position are
// coalesced across the block.
// CPU twin: backend/cpu/reference/PoolingReference. Launcher: backend/cuda/kernels/PoolingKernel.

extern "C" __global__ void __launch_bounds__(128)
mean_pool_f32(const float* hidden, const int* lengths, float* out, int seq, int dim) {
    const int b = blockIdx.y;
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= dim) {
        return;
    }
    const int len = lengths[b];
    const float* row = hidden + (size_t)b * seq * dim;
    float sum = 0.0f;
    for (int s = 0; s < len; s++) {
        sum += row[(size_t)s * dim + c];
    }
    out[(size_t)b * dim + c] = sum / (float)len;
}

extern "C" __global__ void __launch_bounds__(128)
first_token_pool_f32(const float* hidden, float* out, int seq, int dim) {
    const int b = blockIdx.y;
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < dim) {
        out[(size_t)b * dim + c] = hidden[(size_t)b * seq * dim + c];
    }
}

extern "C" __global__ void __launch_bounds__(128)
last_token_pool_f32(const float* hidden, const int* lengths, float* out, int seq, int dim) {
    const int b = blockIdx.y;
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < dim) {
        const int last = lengths[b] - 1;
        out[(size_t)b * dim + c] = hidden[((size_t)b * seq + last) * dim + c];
    }
}
