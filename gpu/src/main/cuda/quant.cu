// The QUANTIZED family: the integer-only INT8 transformer ops of I-ViT (io.inflow.gpu.quant.QuantizedOps), bit for
// bit the integers of the CPU reference (backend/cpu/reference/QuantizedReference). The element definitions are
// ported in quant_int.cuh (IntegerOps, Dyadic, Requant with Java's wrap-around, shifts and divisions).
// Launcher: backend/cuda/kernels/QuantKernel (called by CudaQuantizedOps, which uploads the parameters once).
//
// Layouts: activations are row-major; INT8 tensors are `signed char`, INT32 `int`. A Requant is two int arrays
// (multiplier[c], shift[c]) and an output code (0 INT8, 1 INT16, 2 INT32, see quant_int.cuh). Kernels with an
// output of either type take both `out8` and `out32` and write the one the code names (the other may be null).
// An INT8 tensor receives the low byte of each saturated value, as the reference's store does (so a linear with an
// INT16 requant writes the low byte; only qgelu_i32 splits INT16 values into a high and a low plane).
//
// qlinear_s8 / qlinear_wide_s8: out[i, c] = requant_c(acc), a tensor-core GEMM (WMMA 16x16x16, signed char inputs,
//   int accumulators: mma.sync s8 on sm_80 / sm_90).
//     qlinear_s8:      x [m, k] INT8, acc = bias[c] + sum_p x[i, p] w[c, p] in int32 with wrap-around (Java's int).
//     qlinear_wide_s8: x [m, 2k] holds an int16 activation as a high plane x[i, 0..k) and a low plane x[i, k..2k);
//                      acc = 256 * hi + lo + bias[c] in 64 bits, hi and lo each exact in int32 (k <= 2^17, checked
//                      by the launcher).
//   w [n, k] INT8 (the Linear layout), bias [n] int32. Tiling: a block of 128 threads (4 warps, 2 x 2) computes a
//   64 x 64 tile of the output, each warp a 32 x 32 sub-tile (2 x 2 accumulators per plane); K advances 64 at a
//   time. The shared tiles are stored as k-slabs of 16 columns (As[plane][slab][row][16], Ws[slab][col][16]) so
//   that every fragment pointer is 32-byte aligned and ldm is 16 bytes; A fragments are row-major, B fragments
//   column-major (element (k, c) of op(w) at Ws[slab][c][k]). Every global load is guarded (zero outside m, n, k),
//   so no size needs to be a multiple of anything; slabs past k are skipped. After the K loop the accumulators go
//   through shared memory (Cs, int [plane][64][68]) to the epilogue: bias, per-channel dyadic, saturation, store.
//   Grid (ceil(n / 64), ceil(m / 64)); static shared memory 4 + 4 + 17 KiB (wide: 8 + 4 + 34 KiB, under the 48 KiB
//   static limit). x, w and out must not overlap.
//
// qattention_s8: per (query row i, head h, batch b) of qkv INT8 [b * s, 3d] (query | key | value), with `valid` =
//   lengths[b] keys: score[t] = clamp32(score_dyadic(q_i . k_t)) (dot in 64 bits), IntegerOps.shiftmax over the
//   valid keys (row max, shift_exp of -(d * log2 e), one reciprocal floor(2^56 / sum), p = min(255, (e * r + 2^47)
//   >> 48)), then out[i, h*dh + j] = requant_{h*dh+j}(sum_t p[t] v[t, j]) (64-bit sum). Padding query rows are
//   computed like valid ones. Grid (seq, heads, batch), 128 threads; dynamic shared memory 4 * (head_dim + seq)
//   bytes (the query row, then the scores / probabilities), static 256 bytes of reduction scratch. Lengths must be
//   in 1..seq (checked on the host). out must not overlap qkv.
//
// qlayernorm_i32: I-LayerNorm of one row per block (IntegerOps.normalizeRow, then IntLayerNorm's dyadics):
//   v = clamp(x + residual, +-2^25); mean = floorDiv(2 sum + d, 2d); c = v - mean; var = sum c^2 (64 bits);
//   std = max(1, isqrt(var)); n = (c * floor(2^47 / std)) >> 17; out8[j] = clamp8(q_dyadic_j(n) + q_bias[j]),
//   out32[j] = clamp32(r_dyadic_j(n) + r_bias[j]) (either may be null). params int [6d]: q_mul | q_shift | q_bias |
//   r_mul | r_shift | r_bias. Grid (rows), 128 threads; dynamic shared memory 4 * d bytes (the row), static 256
//   bytes. Every read of x and residual happens before the first write, so out32 may alias x or residual.
//
// qgelu_i32: ShiftGELU (IntegerOps.shiftGelu, the direct formula with its one 64-bit division per element: equal to
//   ShiftGeluTable by construction) of x INT32 [rows, f] at 2^-10, requantised per column c: INT32 or INT8 [rows, f],
//   or for INT16 INT8 [rows, 2f] (high plane, then low plane, per row). Grid-stride, 256 threads. out32 may alias x.
//
// qembed_s8: out[r, j] = clamp32(word_dyadic_w(word[w, j]) + pos_dyadic_p(pos[p, j]) (+ type_dyadic_0(type[0, j])))
//   for w = ids[r], p = r % seq; tables INT8 [rows, d] with one dyadic per row. Ids must be in range (checked on the
//   host). Grid (batch * seq), 128 threads.
//
// dequantize_i32: out[i] = ldexpf((float) x[i], -fraction_bits) (one rounding of the int, then an exact scaling;
//   correctly rounded where the result is subnormal, as Java's Math.scalb). quantize_f32: out[i] =
//   clamp(floor(__fadd_rn(__fmul_rn(x[i], inv), 0.5f)), -127, 127), NaN -> 0 (QuantizedOps.quantizeElement).
// qadd_i32: out[i] = clamp32((long long) a[i] + b[i]); out may alias a or b. All three: grid-stride, 256 threads.

#include <math.h>
#include <mma.h>

#include "quant_int.cuh"

namespace inflow_quant {   // named: an anonymous namespace's symbols carry a path hash, so fatbins would differ

using namespace nvcuda;
using namespace inflow_quant_int;

constexpr unsigned FULL = 0xffffffffu;

// ---- reductions over a block (blockDim.x a multiple of 32; scratch: 32 long longs of shared memory) --------------

__device__ __forceinline__ long long block_sum_ll(long long v, long long* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(FULL, v, offset);
    }
    __syncthreads();   // a previous call's result has been read by everyone
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        long long w = lane < (int) (blockDim.x >> 5) ? scratch[lane] : 0;
        for (int offset = 16; offset > 0; offset >>= 1) {
            w += __shfl_xor_sync(FULL, w, offset);
        }
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

__device__ __forceinline__ int block_max_int(int v, long long* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) {
        const int o = __shfl_xor_sync(FULL, v, offset);
        v = o > v ? o : v;
    }
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        int w = lane < (int) (blockDim.x >> 5) ? (int) scratch[lane] : (-2147483647 - 1);
        for (int offset = 16; offset > 0; offset >>= 1) {
            const int o = __shfl_xor_sync(FULL, w, offset);
            w = o > w ? o : w;
        }
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return (int) scratch[0];
}

// ---- GEMM ---------------------------------------------------------------------------------------------------------

constexpr int TILE_M = 64;
constexpr int TILE_N = 64;
constexpr int TILE_K = 64;
constexpr int SLAB = 16;                  // columns of one k-slab: one fragment's k extent
constexpr int SLABS = TILE_K / SLAB;
constexpr int GEMM_THREADS = 128;
constexpr int C_STRIDE = TILE_N + 4;      // 68 ints = 272 bytes: a multiple of 16 bytes, fragment rows 32-byte aligned

template <int PLANES>
__device__ void qlinear_tile(const signed char* x, const signed char* w, const int* bias, const int* mul,
                             const int* shift, signed char* out8, int* out32, int m, int n, int k, int output) {
    __shared__ __align__(32) signed char As[PLANES * SLABS * TILE_M * SLAB];
    __shared__ __align__(32) signed char Ws[SLABS * TILE_N * SLAB];
    __shared__ __align__(32) int Cs[PLANES * TILE_M * C_STRIDE];

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int warp_row = warp >> 1;   // rows 32 * warp_row .. + 32 of the tile
    const int warp_col = warp & 1;    // columns 32 * warp_col .. + 32
    const int m0 = blockIdx.y * TILE_M;
    const int n0 = blockIdx.x * TILE_N;
    const size_t x_stride = (size_t) PLANES * k;   // plane p of row r: x[r * x_stride + p * k ..]

    wmma::fragment<wmma::accumulator, 16, 16, 16, int> acc[PLANES][2][2];
    for (int p = 0; p < PLANES; p++) {
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                wmma::fill_fragment(acc[p][i][j], 0);
            }
        }
    }

    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        // A tiles: consecutive threads read consecutive k of one row (coalesced); slab layout in shared memory.
        for (int i = tid; i < PLANES * TILE_M * TILE_K; i += GEMM_THREADS) {
            const int p = i / (TILE_M * TILE_K);
            const int r = (i / TILE_K) % TILE_M;
            const int c = i % TILE_K;
            const int gr = m0 + r;
            const int gc = k0 + c;
            As[((p * SLABS + c / SLAB) * TILE_M + r) * SLAB + c % SLAB] =
                (gr < m && gc < k) ? x[(size_t) gr * x_stride + (size_t) p * k + gc] : (signed char) 0;
        }
        // W tile: rows of w are output columns; Ws[slab][col][16] is op(w) = w^T in column-major fragments.
        for (int i = tid; i < TILE_N * TILE_K; i += GEMM_THREADS) {
            const int r = i / TILE_K;
            const int c = i % TILE_K;
            const int gn = n0 + r;
            const int gc = k0 + c;
            Ws[((c / SLAB) * TILE_N + r) * SLAB + c % SLAB] =
                (gn < n && gc < k) ? w[(size_t) gn * k + gc] : (signed char) 0;
        }
        __syncthreads();

        for (int s = 0; s < SLABS && k0 + s * SLAB < k; s++) {   // slabs wholly past k hold zeros: skipped
            wmma::fragment<wmma::matrix_b, 16, 16, 16, signed char, wmma::col_major> b[2];
            for (int j = 0; j < 2; j++) {
                wmma::load_matrix_sync(b[j], Ws + (s * TILE_N + warp_col * 32 + j * 16) * SLAB, SLAB);
            }
            for (int p = 0; p < PLANES; p++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, signed char, wmma::row_major> a[2];
                for (int i = 0; i < 2; i++) {
                    wmma::load_matrix_sync(a[i], As + ((p * SLABS + s) * TILE_M + warp_row * 32 + i * 16) * SLAB,
                                           SLAB);
                }
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 2; j++) {
                        wmma::mma_sync(acc[p][i][j], a[i], b[j], acc[p][i][j]);
                    }
                }
            }
        }
        __syncthreads();   // the next K step overwrites the tiles
    }

    for (int p = 0; p < PLANES; p++) {
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                int* tile = Cs + (p * TILE_M + warp_row * 32 + i * 16) * C_STRIDE + warp_col * 32 + j * 16;
                wmma::store_matrix_sync(tile, acc[p][i][j], C_STRIDE, wmma::mem_row_major);
            }
        }
    }
    __syncthreads();

    // Epilogue: consecutive threads handle consecutive output columns (coalesced stores).
    for (int i = tid; i < TILE_M * TILE_N; i += GEMM_THREADS) {
        const int r = i / TILE_N;
        const int c = i % TILE_N;
        const int gr = m0 + r;
        const int gc = n0 + c;
        if (gr >= m || gc >= n) {
            continue;
        }
        long long v;
        if (PLANES == 1) {   // Java's int accumulator: bias + products, modulo 2^32
            v = (int) ((unsigned) Cs[r * C_STRIDE + c] + (unsigned) bias[gc]);
        } else {             // 256 * hi + lo + bias in 64 bits
            v = 256LL * Cs[r * C_STRIDE + c] + Cs[(TILE_M + r) * C_STRIDE + c] + bias[gc];
        }
        const int q = requant(v, mul[gc], shift[gc], output);
        if (output == OUT_INT32) {
            out32[(size_t) gr * n + gc] = q;
        } else {
            out8[(size_t) gr * n + gc] = (signed char) q;
        }
    }
}

// ---- block sizes of the other kernels ---------------------------------------------------------------------------

constexpr int ROW_THREADS = 128;   // qattention_s8, qlayernorm_i32, qembed_s8
constexpr int ELEMENT_THREADS = 256;

}  // namespace inflow_quant

using namespace inflow_quant;

extern "C" __global__ void __launch_bounds__(GEMM_THREADS)
qlinear_s8(const signed char* x, const signed char* w, const int* bias, const int* mul, const int* shift,
           signed char* out8, int* out32, int m, int n, int k, int output) {
    qlinear_tile<1>(x, w, bias, mul, shift, out8, out32, m, n, k, output);
}

extern "C" __global__ void __launch_bounds__(GEMM_THREADS)
qlinear_wide_s8(const signed char* x, const signed char* w, const int* bias, const int* mul, const int* shift,
                signed char* out8, int* out32, int m, int n, int k, int output) {
    qlinear_tile<2>(x, w, bias, mul, shift, out8, out32, m, n, k, output);
}

extern "C" __global__ void __launch_bounds__(ROW_THREADS)
qattention_s8(const signed char* qkv, const int* lengths, signed char* out8, int* out32, int seq, int heads,
              int head_dim, int score_mul, int score_shift, const int* ctx_mul, const int* ctx_shift, int output) {
    extern __shared__ int attention_shared[];   // q[head_dim] | p[seq]
    __shared__ long long scratch[32];
    int* q = attention_shared;
    int* p = attention_shared + head_dim;
    const int i = blockIdx.x;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int d = heads * head_dim;
    const size_t row_stride = 3 * (size_t) d;
    const signed char* head = qkv + (size_t) b * seq * row_stride + (size_t) h * head_dim;   // row t: + t * row_stride
    const int valid = lengths[b];

    for (int j = threadIdx.x; j < head_dim; j += blockDim.x) {
        q[j] = head[(size_t) i * row_stride + j];
    }
    __syncthreads();
    // Scores of this thread's keys (t = tid, tid + 128, ...: each thread keeps to its own t below).
    int local_max = -2147483647 - 1;
    for (int t = threadIdx.x; t < valid; t += blockDim.x) {
        const signed char* key = head + (size_t) t * row_stride + d;
        long long dot = 0;
        for (int j = 0; j < head_dim; j++) {
            dot += q[j] * (int) key[j];
        }
        const int s = clamp_int32(dyadic(dot, score_mul, score_shift));
        p[t] = s;
        local_max = s > local_max ? s : local_max;
    }
    const int row_max = block_max_int(local_max, scratch);
    long long local_sum = 0;
    for (int t = threadIdx.x; t < valid; t += blockDim.x) {
        const long long e = shift_exp(-times_log2e((long long) p[t] - row_max));   // <= 2^25: fits an int
        p[t] = (int) e;
        local_sum += e;
    }
    const long long sum = block_sum_ll(local_sum, scratch);   // >= 2^25: the maximum contributes exactly that
    const long long factor = (1LL << 56) / sum;
    for (int t = threadIdx.x; t < valid; t += blockDim.x) {
        const long long v = (p[t] * factor + (1LL << 47)) >> 48;
        p[t] = (int) (v < 255 ? v : 255);
    }
    __syncthreads();
    // Context: thread j sums column j of the values over the valid keys.
    const size_t out_row = ((size_t) b * seq + i) * d;
    for (int j = threadIdx.x; j < head_dim; j += blockDim.x) {
        const signed char* value = head + 2 * (size_t) d + j;
        long long acc = 0;
        for (int t = 0; t < valid; t++) {
            acc += (long long) p[t] * value[(size_t) t * row_stride];
        }
        const int c = h * head_dim + j;
        const int v = requant(acc, ctx_mul[c], ctx_shift[c], output);
        if (output == OUT_INT32) {
            out32[out_row + c] = v;
        } else {
            out8[out_row + c] = (signed char) v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(ROW_THREADS)
qlayernorm_i32(const int* x, const int* residual, const int* params, signed char* out8, int* out32, int rows, int d) {
    extern __shared__ int layernorm_row[];   // the row's saturated inputs, then centred (|c| <= 2^26)
    __shared__ long long scratch[32];
    const size_t off = (size_t) blockIdx.x * d;
    long long local = 0;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        const long long v = clamp_ll((long long) x[off + j] + (residual ? residual[off + j] : 0), -RESIDUAL_LIMIT,
                                     RESIDUAL_LIMIT);
        layernorm_row[j] = (int) v;
        local += v;
    }
    const long long sum = block_sum_ll(local, scratch);
    const long long mean = floor_div(2 * sum + d, 2LL * d);   // round(sum / d), halves up
    local = 0;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        const long long c = layernorm_row[j] - mean;
        layernorm_row[j] = (int) c;
        local += c * c;
    }
    const long long var = block_sum_ll(local, scratch);   // its barriers: every read of x / residual is done
    const long long sd = isqrt(var);
    const long long factor = (1LL << 47) / (sd > 1 ? sd : 1);   // |c| <= std, so |c * factor| <= 2^47
    const int* q_mul = params;
    const int* q_shift = params + d;
    const int* q_bias = params + 2 * (size_t) d;
    const int* r_mul = params + 3 * (size_t) d;
    const int* r_shift = params + 4 * (size_t) d;
    const int* r_bias = params + 5 * (size_t) d;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        const long long nrm = ((long long) layernorm_row[j] * factor) >> 17;
        if (out8) {
            out8[off + j] = (signed char) clamp_int8(wrap_add(dyadic(nrm, q_mul[j], q_shift[j]), q_bias[j]));
        }
        if (out32) {
            out32[off + j] = clamp_int32(wrap_add(dyadic(nrm, r_mul[j], r_shift[j]), r_bias[j]));
        }
    }
}

extern "C" __global__ void __launch_bounds__(ELEMENT_THREADS)
qgelu_i32(const int* x, const int* mul, const int* shift, signed char* out8, int* out32, long long rows, int f,
          int output) {
    const long long n = rows * f;
    const long long step = (long long) gridDim.x * blockDim.x;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        const long long row = i / f;
        const int c = (int) (i - row * f);
        const int v = requant(shift_gelu(x[i]), mul[c], shift[c], output);
        if (output == OUT_INT32) {
            out32[i] = v;
        } else if (output == OUT_INT16) {
            out8[row * 2 * f + c] = (signed char) high_byte(v);
            out8[row * 2 * f + f + c] = (signed char) low_byte(v);
        } else {
            out8[i] = (signed char) v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(ROW_THREADS)
qembed_s8(const int* ids, const signed char* word, const int* word_mul, const int* word_shift,
          const signed char* position, const int* position_mul, const int* position_shift, const signed char* type,
          const int* type_mul, const int* type_shift, int* out, int seq, int d) {
    const int row = blockIdx.x;
    const int w = ids[row];
    const int p = row % seq;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        long long v = wrap_add(dyadic(word[(size_t) w * d + j], word_mul[w], word_shift[w]),
                               dyadic(position[(size_t) p * d + j], position_mul[p], position_shift[p]));
        if (type) {
            v = wrap_add(v, dyadic(type[j], type_mul[0], type_shift[0]));
        }
        out[(size_t) row * d + j] = clamp_int32(v);
    }
}

extern "C" __global__ void __launch_bounds__(ELEMENT_THREADS)
dequantize_i32(const int* x, float* out, int fraction_bits, long long n) {
    const long long step = (long long) gridDim.x * blockDim.x;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        out[i] = ldexpf(__int2float_rn(x[i]), -fraction_bits);
    }
}

extern "C" __global__ void __launch_bounds__(ELEMENT_THREADS)
quantize_f32(const float* x, signed char* out, float inv, long long n) {
    const long long step = (long long) gridDim.x * blockDim.x;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        const float v = __fadd_rn(__fmul_rn(x[i], inv), 0.5f);
        int q = 0;   // NaN
        if (v == v) {
            const float f = floorf(v);
            q = f >= 127.0f ? 127 : (f <= -127.0f ? -127 : (int) f);
        }
        out[i] = (signed char) q;
    }
}

extern "C" __global__ void __launch_bounds__(ELEMENT_THREADS)
qadd_i32(const int* a, const int* b, int* out, long long n) {
    const long long step = (long long) gridDim.x * blockDim.x;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        out[i] = clamp_int32((long long) a[i] + b[i]);
    }
}
