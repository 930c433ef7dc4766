// FlashAttention-2-style fused multi-head self-attention on tensor cores (mma.sync m16n8k16, bf16 in, fp32
// accumulate) with a key-padding mask, reading the fused QKV projection in place:
//   out[b*seq + i, h*hd + c] = sum_{j < len[b]} softmax_j(q_i . k_j / sqrt(hd)) * v[b*seq + j, h*hd + c]   i < len[b]
//   out[b*seq + i, h*hd + c] = 0                                                          len[b] <= i < seq (padding)
// qkv: bf16 [batch * seq, 3d] (d = heads * hd): row t holds q (columns [0, d)), k ([d, 2d)) and v ([2d, 3d)); head h
// uses columns h*hd .. h*hd + hd - 1 of each third. lengths: int32 [batch], each in [1, seq] (the launcher's caller
// checks them). out: bf16 [batch * seq, d], the heads' contexts concatenated (as attention_f32 writes them); padded
// query rows are written as exact zeros, as attention_f32 and the CPU twin do. out must not alias qkv. qkv must be
// 16-byte aligned (the launcher checks it): every row start and head column then is, since 3d and hd are multiples
// of 8.
//
// Numbers: S = Q K^T in fp32 (exact bf16 products), online softmax in fp32 registers in the log2 domain (the
// launcher passes scale_log2 = log2(e) / sqrt(hd), so p = exp2(s * scale_log2 - m)); P is rounded to bf16 (nearest
// even) for P V, the row sum l stays fp32 over the unrounded p; O accumulates in fp32 and is divided by l and rounded
// to bf16 once, at the store. Keys at or after len are never read (their K / V rows are zero-filled by cp.async)
// and score -inf, i.e. weight exactly 0; zero V rows keep a masked key's 0 weight from meeting a NaN.
//
// Tiling (FA2): a block of 128 threads (4 warps) owns 64 query rows of one (head, batch row); warp w owns rows
// 16w .. 16w + 15. The Q tile is loaded once by cp.async and held as mma A fragments (ldmatrix_x4) for the whole
// key loop. Keys advance 64 at a time, only over tiles that start before len (rows of a batch have different
// lengths); the K and V tiles are double-buffered: tile j + 1 is copied (cp.async) into the other stage while tile
// j is computed. Per key tile and warp: S (16 x 64) = Q K^T with K fragments by ldmatrix_x4 from the [key][hd] tile
// (non-transposed: an [n][k] tile is the "col" B operand), mask, row max and sum across the 4 lanes of a quad
// (__shfl_xor_sync 1, 2), O rescaled by exp2(m_old - m_new), P packed to bf16 A fragments straight from the S
// accumulators (the C layout of two adjacent n8 tiles is the A layout of one k16 step), O += P V with V fragments by
// ldmatrix_x4_trans from the [key][hd] tile. One __syncthreads per key tile, after cp_async_wait: it makes tile j
// visible to every warp and certifies that every warp is done with tile j - 1, whose stage the next copy overwrites.
// Grid: (ceil(seq / 64), heads, batch). Blocks whose 64 rows all lie at or after len only write zeros.
// Kernels: flash_attention_bf16_hd32 / _hd64 / _hd128, one instantiation of the template per head dimension.
//
// Dynamic shared memory (bf16), rows padded by 8 elements (16 bytes) so that the 8 row addresses of an ldmatrix
// fall in different bank groups:
//   Qs[64][hd + 8] | Ks[2][64][hd + 8] | Vs[2][64][hd + 8]   = 320 (hd + 8) * 2 bytes (25.0 / 45.0 / 85.0 KB)
// (hd = 128 is above the default 48 KB: the launcher raises the limit through cuFuncSetAttribute.)
// CPU twin: backend/cpu/reference/AttentionReference (float32, on the same bf16-rounded q, k, v).
// Launcher: backend/cuda/kernels/FlashAttentionKernel.

#include <cuda_bf16.h>
#include <stdint.h>

#include "ptx.cuh"

namespace inflow_flash {   // named: an anonymous namespace's symbols carry a path hash, so fatbins would differ by checkout

using namespace inflow::ptx;

constexpr int THREADS = 128;   // 4 warps
constexpr int Q_TILE = 64;     // query rows per block, 16 per warp
constexpr int K_TILE = 64;     // keys per tile
constexpr int PAD = 8;         // bf16 elements of padding per shared row

typedef __nv_bfloat16 bf16;

// Copies rows [r0, r0 + 64) of one head's columns (col0 .. col0 + HD) of qkv into tile[64][HD + PAD]; rows at or
// after valid are zero-filled without being read.
template <int HD>
__device__ __forceinline__ void load_tile(bf16* tile, const bf16* qkv, size_t row0, int r0, int valid, int row_stride,
                                          int col0) {
    constexpr int CHUNKS = HD / 8;   // 16-byte chunks per row
    constexpr int LD = HD + PAD;
#pragma unroll 1   // 2 to 8 trips of a few instructions: unrolled, the three head dims' code grew the fatbin by 86 KB
    for (int i = threadIdx.x; i < 64 * CHUNKS; i += THREADS) {
        const int r = i / CHUNKS;
        const int c = (i % CHUNKS) * 8;
        const bool ok = r0 + r < valid;
        const bf16* src = ok ? qkv + (row0 + r0 + r) * (size_t)row_stride + col0 + c : qkv;
        cp_async_16(tile + r * LD + c, src, ok ? 16 : 0);
    }
}

template <int HD>
__device__ __forceinline__ void flash_attention(const bf16* __restrict__ qkv, const int* __restrict__ lengths,
                                                bf16* __restrict__ out, int seq, int heads, float scale_log2) {
    constexpr int LD = HD + PAD;
    constexpr int KSTEPS = HD / 16;   // k16 steps of Q K^T
    constexpr int DTILES = HD / 8;    // n8 tiles of O
    constexpr int STILES = K_TILE / 8;   // n8 tiles of S
    extern __shared__ __align__(16) unsigned char flash_smem[];
    bf16* Qs = reinterpret_cast<bf16*>(flash_smem);   // [64][LD]
    bf16* Ks = Qs + Q_TILE * LD;                        // [2][64][LD]
    bf16* Vs = Ks + 2 * K_TILE * LD;                    // [2][64][LD]

    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int g = lane >> 2;   // fragment row group
    const int t = lane & 3;    // thread in quad
    const int q0 = blockIdx.x * Q_TILE;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int d = heads * HD;
    const int row_stride = 3 * d;
    const int len = min(lengths[b], seq);   // in 1..seq (checked by the caller); clamped so keys never pass seq
    const size_t row0 = (size_t)b * seq;

    if (q0 >= len) {
        // every query of this block is padding: zeros, 16 bytes per store (the whole block takes this branch or none)
        const uint4 zero = {0u, 0u, 0u, 0u};
        for (int i = tid; i < Q_TILE * (HD / 8); i += THREADS) {
            const int r = i / (HD / 8);
            const int c = (i % (HD / 8)) * 8;
            if (q0 + r < seq) {
                *reinterpret_cast<uint4*>(out + (row0 + q0 + r) * (size_t)d + h * HD + c) = zero;
            }
        }
        return;
    }

    // prologue: the Q tile (rows past seq zero-filled) and key tile 0 into stage 0, one commit group
    load_tile<HD>(Qs, qkv, row0, q0, seq, row_stride, h * HD);
    load_tile<HD>(Ks, qkv, row0, 0, len, row_stride, d + h * HD);
    load_tile<HD>(Vs, qkv, row0, 0, len, row_stride, 2 * d + h * HD);
    cp_async_commit();

    uint32_t qf[KSTEPS][4];   // this warp's 16 query rows as A fragments, one per k16 step
    float o[DTILES][4];       // O accumulators: rows g, g + 8 of the warp's 16; columns 8 n + 2t, + 1
    #pragma unroll
    for (int n = 0; n < DTILES; n++) {
        o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    }
    float m_row[2] = {-INFINITY, -INFINITY};   // running max (log2 domain) of rows g, g + 8
    float l_row[2] = {0.0f, 0.0f};             // this lane's part of the running sum of rows g, g + 8

    const int tiles = (len + K_TILE - 1) / K_TILE;
    for (int j = 0; j < tiles; j++) {
        const int stage = j & 1;
        cp_async_wait<0>();
        __syncthreads();   // tile j (and Q) visible to every warp; every warp is done with tile j - 1's stage
        if (j == 0) {
            #pragma unroll
            for (int kk = 0; kk < KSTEPS; kk++) {
                ldmatrix_x4(qf[kk], Qs + (warp * 16 + (lane & 15)) * LD + kk * 16 + (lane >> 4) * 8);
            }
        }
        if (j + 1 < tiles) {   // prefetch tile j + 1 into the other stage while tile j is computed
            const int k0 = (j + 1) * K_TILE;
            load_tile<HD>(Ks + (stage ^ 1) * K_TILE * LD, qkv, row0, k0, len, row_stride, d + h * HD);
            load_tile<HD>(Vs + (stage ^ 1) * K_TILE * LD, qkv, row0, k0, len, row_stride, 2 * d + h * HD);
            cp_async_commit();
        }
        const bf16* Kt = Ks + stage * K_TILE * LD;
        const bf16* Vt = Vs + stage * K_TILE * LD;
        const int j0 = j * K_TILE;

        // S = Q K^T: x4 of K rows n0 .. n0 + 15 gives the B fragments of n8 tiles n0 / 8 and n0 / 8 + 1
        float s[STILES][4];
        #pragma unroll
        for (int n = 0; n < STILES; n++) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
        }
        #pragma unroll
        for (int kk = 0; kk < KSTEPS; kk++) {
            #pragma unroll
            for (int np = 0; np < STILES / 2; np++) {
                uint32_t kf[4];
                ldmatrix_x4(kf, Kt + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * LD + kk * 16 +
                                    ((lane >> 3) & 1) * 8);
                const uint32_t b0[2] = {kf[0], kf[1]};
                const uint32_t b1[2] = {kf[2], kf[3]};
                mma_16816<bf16>(s[2 * np], qf[kk], b0);
                mma_16816<bf16>(s[2 * np + 1], qf[kk], b1);
            }
        }

        // mask, scale to the log2 domain, row maxima across the quad
        float tile_max[2] = {-INFINITY, -INFINITY};
        #pragma unroll
        for (int n = 0; n < STILES; n++) {
            #pragma unroll
            for (int e = 0; e < 4; e++) {
                const int key = j0 + n * 8 + 2 * t + (e & 1);
                const float v = key < len ? s[n][e] * scale_log2 : -INFINITY;
                s[n][e] = v;
                tile_max[e >> 1] = fmaxf(tile_max[e >> 1], v);
            }
        }
        float corr[2];
        #pragma unroll
        for (int r = 0; r < 2; r++) {
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
            const float m_new = fmaxf(m_row[r], tile_max[r]);   // finite: key j0 < len is in this tile
            corr[r] = exp2f(m_row[r] - m_new);                  // 0 on the first tile (m_row = -inf)
            m_row[r] = m_new;
        }
        float tile_sum[2] = {0.0f, 0.0f};
        #pragma unroll
        for (int n = 0; n < STILES; n++) {
            #pragma unroll
            for (int e = 0; e < 4; e++) {
                const float p = exp2f(s[n][e] - m_row[e >> 1]);   // exp2(-inf) = 0 for masked keys
                s[n][e] = p;
                tile_sum[e >> 1] += p;
            }
        }
        #pragma unroll
        for (int r = 0; r < 2; r++) {
            l_row[r] = l_row[r] * corr[r] + tile_sum[r];   // reduced across the quad once, at the end
        }
        #pragma unroll
        for (int n = 0; n < DTILES; n++) {
            o[n][0] *= corr[0];
            o[n][1] *= corr[0];
            o[n][2] *= corr[1];
            o[n][3] *= corr[1];
        }

        // O += P V: k16 step kk of P is S tiles 2 kk and 2 kk + 1 rounded to bf16; x4_trans of V rows
        // kk*16 .. + 15 at columns n0 .. n0 + 15 gives the B fragments of O's n8 tiles n0 / 8 and n0 / 8 + 1
        #pragma unroll
        for (int kk = 0; kk < K_TILE / 16; kk++) {
            uint32_t pf[4];
            pf[0] = pack2<bf16>(s[2 * kk][0], s[2 * kk][1]);           // P[g][16 kk + 2t, + 1]
            pf[1] = pack2<bf16>(s[2 * kk][2], s[2 * kk][3]);           // P[g + 8][16 kk + 2t, + 1]
            pf[2] = pack2<bf16>(s[2 * kk + 1][0], s[2 * kk + 1][1]);   // P[g][16 kk + 8 + 2t, + 1]
            pf[3] = pack2<bf16>(s[2 * kk + 1][2], s[2 * kk + 1][3]);   // P[g + 8][16 kk + 8 + 2t, + 1]
            #pragma unroll
            for (int np = 0; np < DTILES / 2; np++) {
                uint32_t vf[4];
                ldmatrix_x4_trans(vf, Vt + (kk * 16 + (lane & 15)) * LD + np * 16 + (lane >> 4) * 8);
                const uint32_t b0[2] = {vf[0], vf[1]};
                const uint32_t b1[2] = {vf[2], vf[3]};
                mma_16816<bf16>(o[2 * np], pf, b0);
                mma_16816<bf16>(o[2 * np + 1], pf, b1);
            }
        }
    }

    // O / l (the quad's four partial sums added), rounded to bf16; padded rows (len <= i < seq) as zeros
    #pragma unroll
    for (int r = 0; r < 2; r++) {
        l_row[r] += __shfl_xor_sync(0xffffffffu, l_row[r], 1);
        l_row[r] += __shfl_xor_sync(0xffffffffu, l_row[r], 2);
    }
    #pragma unroll
    for (int r = 0; r < 2; r++) {
        const int qi = q0 + warp * 16 + g + 8 * r;
        if (qi >= seq) {
            continue;
        }
        const bool valid = qi < len;
        const float inv = 1.0f / l_row[r];   // l >= 1: the row max's own term is exp2(0)
        bf16* dst = out + (row0 + qi) * (size_t)d + h * HD + 2 * t;
        #pragma unroll
        for (int n = 0; n < DTILES; n++) {
            *reinterpret_cast<uint32_t*>(dst + n * 8) =
                valid ? pack2<bf16>(o[n][2 * r] * inv, o[n][2 * r + 1] * inv) : 0u;   // padding: exact zeros
        }
    }
}

}  // namespace inflow_flash

using namespace inflow_flash;

extern "C" __global__ void __launch_bounds__(THREADS)
flash_attention_bf16_hd32(const __nv_bfloat16* qkv, const int* lengths, __nv_bfloat16* out, int seq, int heads,
                          float scale_log2) {
    flash_attention<32>(qkv, lengths, out, seq, heads, scale_log2);
}

extern "C" __global__ void __launch_bounds__(THREADS)
flash_attention_bf16_hd64(const __nv_bfloat16* qkv, const int* lengths, __nv_bfloat16* out, int seq, int heads,
                          float scale_log2) {
    flash_attention<64>(qkv, lengths, out, seq, heads, scale_log2);
}

extern "C" __global__ void __launch_bounds__(THREADS)
flash_attention_bf16_hd128(const __nv_bfloat16* qkv, const int* lengths, __nv_bfloat16* out, int seq, int heads,
                           float scale_log2) {
    flash_attention<128>(qkv, lengths, out, seq, heads, scale_log2);
}
