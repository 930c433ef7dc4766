// Embedding gather, float32: out[b, s, :] = word[ids[b, s]] + position[s] + type[types[b, s]].
// types == null means type 0; type_table == null means no type embedding. Ids and types are range-checked by the
// launcher on the host before the launch (the error names the value, its position and the limit), so the kernel
// trusts them. The additions happen in the same order as the CPU twin ((word + position) + type), so results are
// bit-identical.
// One block per token (grid = batch * seq), threads stride over dim.
// CPU twin: backend/cpu/reference/EmbeddingReference. Launcher: backend/cuda/kernels/EmbeddingKernel.

extern "C" __global__ void __launch_bounds__(128)
embedding_f32(const int* ids, const int* types, const float* word_table, const float* position_table,
              const float* type_table, float* out, int seq, int dim) {
    const int token = blockIdx.x;   // b * seq + s
    const int s = token % seq;
    const size_t word_row = (size_t)ids[token] * dim;
    const size_t pos_row = (size_t)s * dim;
    const size_t type_row = (size_t)(types != nullptr ? types[token] : 0) * dim;
    const size_t out_row = (size_t)token * dim;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) {
        float e = word_table[word_row + c] + position_table[pos_row + c];
        if (type_table != nullptr) {
            e += type_table[type_row + c];
        }
        out[out_row + c] = e;
    }
}
