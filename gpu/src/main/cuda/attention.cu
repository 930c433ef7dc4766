// Fused multi-head self-attention with a key-padding mask and an online (flash-style) softmax, float32:
//   out[b, i, h*hd + d] = sum_{j < len[b]} softmax_j(q_i . k_j * scale) * v[b, j, h*hd + d]   for i < len[b],
//   out[b, i, :] = 0 for padding queries (len[b] <= i < seq).
// q, k, v: rows of heads * head_dim values, in_stride floats apart (row t of q at q + t * in_stride): [batch, seq, d]
// tensors with in_stride = d (d = heads * head_dim), or the column blocks [0, d), [d, 2d), [2d, 3d) of one fused
// projection qkv [batch, seq, 3d] (the output of one GEMM with the concatenated [3d, d] weight) with in_stride = 3d
// and q = qkv, k = qkv + d, v = qkv + 2d. out: [batch, seq, d] row-major. lengths: int32 [batch], each in [1, seq]
// (checked by the launcher). out must not alias q, k or v.
//
// One block of 128 threads (4 warps) per (query block of 16 rows, head, batch row): grid
// (ceil(seq / 16), heads, batch). The block walks the valid keys 32 at a time (one key per lane); per query row it
// keeps the running max m, the running sum l of exp(s - m) and the unnormalised output O in shared memory, and on
// each key block rescales l and O by exp(m_old - m_new). Keys at or after len are never loaded (they load as 0)
// and score -inf, i.e. weight exactly 0. The first key block always holds key 0 (len >= 1), so m is finite
// after it and exp(-inf - m) = 0 starts the sums cleanly.
//
// Dynamic shared memory (floats), laid out by the launcher's formula:
//   Qs[16][hd] | Ks[32][hd + 1] | Vs[32][hd] | P[16][32] | O[16][hd] | M[16] | L[16] | Corr[16]
// head_dim <= 128 (the launcher checks it and raises the dynamic shared-memory limit above 48 KB when needed).
// CPU twin: backend/cpu/reference/AttentionReference. Launcher: backend/cuda/kernels/AttentionKernel.

#include "common.cuh"

namespace inflow_attention {   // named: an anonymous namespace's symbols carry a path hash, so fatbins would differ by checkout
constexpr int Q_BLOCK = 16;
constexpr int K_BLOCK = 32;   // = warp size: lane j handles key j of the block
constexpr int THREADS = 128;
constexpr int WARPS = THREADS / 32;
}  // namespace inflow_attention

using namespace inflow_attention;

extern "C" __global__ void __launch_bounds__(THREADS)
attention_f32(const float* q, const float* k, const float* v, const int* lengths, float* out,
              int seq, int heads, int head_dim, int in_stride, float scale) {
    extern __shared__ float smem[];
    const int hd = head_dim;
    float* Qs = smem;                          // [Q_BLOCK][hd]
    float* Ks = Qs + Q_BLOCK * hd;             // [K_BLOCK][hd + 1] (padded: lanes read different rows)
    float* Vs = Ks + K_BLOCK * (hd + 1);       // [K_BLOCK][hd]
    float* P = Vs + K_BLOCK * hd;              // [Q_BLOCK][K_BLOCK] scores, then probabilities
    float* O = P + Q_BLOCK * K_BLOCK;          // [Q_BLOCK][hd] unnormalised output
    float* M = O + Q_BLOCK * hd;               // [Q_BLOCK] running max
    float* L = M + Q_BLOCK;                    // [Q_BLOCK] running sum
    float* Corr = L + Q_BLOCK;                 // [Q_BLOCK] rescale factor of the current key block

    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int q0 = blockIdx.x * Q_BLOCK;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int d_model = heads * hd;
    const int len = lengths[b];
    const size_t row0 = (size_t)b * seq;      // first token of this batch row
    const int col0 = h * hd;                   // first column of this head

    if (q0 >= len) {
        // every query of this block is padding: write zeros (the whole block takes this branch or none does)
        for (int i = tid; i < Q_BLOCK * hd; i += THREADS) {
            const int r = i / hd;
            const int d = i % hd;
            const int qi = q0 + r;
            if (qi < seq) {
                out[(row0 + qi) * d_model + col0 + d] = 0.0f;
            }
        }
        return;
    }

    for (int i = tid; i < Q_BLOCK * hd; i += THREADS) {
        const int r = i / hd;
        const int d = i % hd;
        const int qi = q0 + r;
        Qs[i] = qi < seq ? q[(row0 + qi) * in_stride + col0 + d] : 0.0f;
        O[i] = 0.0f;
    }
    if (tid < Q_BLOCK) {
        M[tid] = -INFINITY;
        L[tid] = 0.0f;
    }
    __syncthreads();

    for (int j0 = 0; j0 < len; j0 += K_BLOCK) {
        // 1. keys and values of this block; rows at or after len load as 0
        for (int i = tid; i < K_BLOCK * hd; i += THREADS) {
            const int r = i / hd;
            const int d = i % hd;
            const int kj = j0 + r;
            const bool valid = kj < len;
            Ks[r * (hd + 1) + d] = valid ? k[(row0 + kj) * in_stride + col0 + d] : 0.0f;
            Vs[r * hd + d] = valid ? v[(row0 + kj) * in_stride + col0 + d] : 0.0f;
        }
        __syncthreads();

        // 2. scores P[r][c] = q_r . k_c * scale, -inf for keys at or after len
        for (int i = tid; i < Q_BLOCK * K_BLOCK; i += THREADS) {
            const int r = i / K_BLOCK;
            const int c = i % K_BLOCK;
            float s = -INFINITY;
            if (j0 + c < len) {
                float dot = 0.0f;
                for (int d = 0; d < hd; d++) {
                    dot += Qs[r * hd + d] * Ks[c * (hd + 1) + d];
                }
                s = dot * scale;
            }
            P[i] = s;
        }
        __syncthreads();

        // 3. online softmax update, one warp per query row, lane = key
        for (int r = warp; r < Q_BLOCK; r += WARPS) {
            const float s = P[r * K_BLOCK + lane];
            const float m_old = M[r];
            const float m_new = fmaxf(m_old, inflow::warp_max(s));   // finite: key j0 < len is valid
            const float p = expf(s - m_new);                          // exp(-inf) = 0 for masked keys
            const float p_sum = inflow::warp_sum(p);
            P[r * K_BLOCK + lane] = p;
            if (lane == 0) {
                const float corr = expf(m_old - m_new);               // 0 on the first block (m_old = -inf)
                Corr[r] = corr;
                L[r] = L[r] * corr + p_sum;
                M[r] = m_new;
            }
        }
        __syncthreads();

        // 4. O[r][d] = O[r][d] * corr[r] + sum_c P[r][c] * V[c][d]
        for (int i = tid; i < Q_BLOCK * hd; i += THREADS) {
            const int r = i / hd;
            const int d = i % hd;
            float acc = O[i] * Corr[r];
            for (int c = 0; c < K_BLOCK; c++) {
                acc += P[r * K_BLOCK + c] * Vs[c * hd + d];
            }
            O[i] = acc;
        }
        __syncthreads();   // the next key block overwrites Ks, Vs and P
    }

    for (int i = tid; i < Q_BLOCK * hd; i += THREADS) {
        const int r = i / hd;
        const int d = i % hd;
        const int qi = q0 + r;
        if (qi < seq) {
            out[(row0 + qi) * d_model + col0 + d] = qi < len ? O[i] / L[r] : 0.0f;
        }
    }
}
