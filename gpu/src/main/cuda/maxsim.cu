// maxsim.cu: MaxSim (ColBERT late interaction) of query token vectors against documents' stored token vectors.
// CPU twins: RetrievalReference.maxSim (oracle), FastMaxSim (fast); launcher: MaxSimKernel; ops: CudaRetrievalOps.
//
//   score(pair) = sum over the query's tokens i of  max over the document's tokens t of  scale_t * sum_j q_ij x_tj
//
// with x the stored values: float32 (scale 1), int8 (scale max|x| / 127), or 1-bit signs as +1 / -1 (bit j % 64 of
// 64-bit word j / 64 set: +1; scale mean|x|; only the dim used bits are read, so the unused high bits never count).
// A 1-bit dot is scale_t * (sum of q over set bits - sum of q over clear bits), i.e. scale_t * (2 * sum over set bits
// - sum_j q_ij) without the cancellation.
//
// maxsim_{f32,i8,b1}: one 256-thread block per pair (pairs are sorted by document on the host, so neighbouring blocks
// share a document in L2). The [query tokens x document tokens] dot tile is computed GEMM-style in tiles of
// QT = 32 query tokens x DT = 32 document tokens: both sides are staged in shared memory in chunks of KC = 64 values
// (the query tokens as float32, the document tokens widened to float32: int8 -> float, bit -> +1 / -1, exact), and
// thread (ty, tx) = (tid / 16, tid % 16) accumulates the 2 x 2 dots of query rows ty, ty + 16 and document columns tx,
// tx + 16. Each dot is one sequential FMA chain over j = 0 .. dim - 1 (the chain FastMaxSim uses, so both backends
// compute the same bits); the per-token scale multiplies the finished dot. Row maxima: a running max per thread over
// the document tiles, then a warp-level max over the 16 lanes that share a row (xor shuffles 8, 4, 2, 1, within each
// half warp). Thread 0 sums the row maxima in token order (a fixed order, as the CPU backends: a pair's score does
// not depend on the other pairs, the launch or the device).
//
// Shared memory (dynamic, bytes): (QT + DT) * (KC + 1) * 4 + QT * 4 = 16,768 (the +1 pitch keeps the column reads of a
// half warp on distinct banks). Aliasing: inputs read-only, distinct from out. Sizes: any dim, any token counts
// (tiles and chunks loop); token index x dim in size_t.
#include <math_constants.h>

constexpr int THREADS = 256;
constexpr int QT = 32;            // query tokens per tile
constexpr int DT = 32;            // document tokens per tile
constexpr int KC = 64;            // values per shared-memory chunk
constexpr int PITCH = KC + 1;
static_assert(QT == DT, "one staging loop fills both tiles");

extern __shared__ __align__(16) unsigned char smem[];   // dynamic shared memory of every kernel here

enum { STORAGE_F32 = 0, STORAGE_I8 = 1, STORAGE_B1 = 2 };

// Stored value j of global token t, widened exactly to float (without its scale).
template <int STORAGE>
__device__ __forceinline__ float stored(const void* values, size_t t, int j, int dim, int words) {
    if (STORAGE == STORAGE_F32) return __ldg(((const float*) values) + t * dim + j);
    if (STORAGE == STORAGE_I8) return (float) __ldg(((const signed char*) values) + t * dim + j);
    unsigned long long w = __ldg(((const unsigned long long*) values) + t * words + (j >> 6));
    return ((w >> (j & 63)) & 1ull) ? 1.0f : -1.0f;
}

// values: the documents' tokens as stored ([tokens, dim] floats or bytes, or [tokens, words] 64-bit words);
// scales: per token (int8, 1-bit; unused for float32); doc_offsets: [documents + 1]; queries: [query tokens, dim];
// query_offsets: [queries + 1]; pair_query, pair_doc, out: [pairs], block b scores pair b.
template <int STORAGE>
__device__ void maxsim(const void* values, const float* scales, const int* doc_offsets, const float* queries,
                       const int* query_offsets, const int* pair_query, const int* pair_doc, int dim, int words,
                       float* out) {
    float* sq = (float*) smem;                    // [QT][PITCH] query chunk
    float* sd = sq + QT * PITCH;                  // [DT][PITCH] document chunk
    float* row_max = sd + DT * PITCH;             // [QT]

    const int p = blockIdx.x;
    const int q = pair_query[p];
    const int d = pair_doc[p];
    const int q0 = query_offsets[q];
    const int nq = query_offsets[q + 1] - q0;
    const int t0 = doc_offsets[d];
    const int nd = doc_offsets[d + 1] - t0;
    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    float sum = 0.0f;                             // thread 0's running score

    for (int qa = 0; qa < nq; qa += QT) {
        float best0 = -CUDART_INF_F;              // row ty over this thread's columns so far
        float best1 = -CUDART_INF_F;              // row ty + 16
        for (int ta = 0; ta < nd; ta += DT) {
            float acc00 = 0.0f, acc01 = 0.0f, acc10 = 0.0f, acc11 = 0.0f;
            for (int ja = 0; ja < dim; ja += KC) {
                const int kc = min(KC, dim - ja);
                __syncthreads();                  // everyone is done with the previous chunk
                for (int i = threadIdx.x; i < QT * KC; i += THREADS) {
                    const int r = i / KC;
                    const int jj = i % KC;
                    const bool in = jj < kc;
                    sq[r * PITCH + jj] = in && qa + r < nq ? queries[(size_t) (q0 + qa + r) * dim + ja + jj] : 0.0f;
                    sd[r * PITCH + jj] = in && ta + r < nd
                            ? stored<STORAGE>(values, (size_t) (t0 + ta + r), ja + jj, dim, words) : 0.0f;
                }
                __syncthreads();
                for (int jj = 0; jj < kc; jj++) {
                    const float a0 = sq[ty * PITCH + jj];
                    const float a1 = sq[(ty + 16) * PITCH + jj];
                    const float b0 = sd[tx * PITCH + jj];
                    const float b1 = sd[(tx + 16) * PITCH + jj];
                    acc00 = __fmaf_rn(a0, b0, acc00);
                    acc01 = __fmaf_rn(a0, b1, acc01);
                    acc10 = __fmaf_rn(a1, b0, acc10);
                    acc11 = __fmaf_rn(a1, b1, acc11);
                }
            }
            const int c0 = ta + tx;
            const int c1 = ta + tx + 16;
            if (c0 < nd) {
                const float s = STORAGE == STORAGE_F32 ? 1.0f : scales[t0 + c0];
                best0 = fmaxf(best0, STORAGE == STORAGE_F32 ? acc00 : __fmul_rn(acc00, s));
                best1 = fmaxf(best1, STORAGE == STORAGE_F32 ? acc10 : __fmul_rn(acc10, s));
            }
            if (c1 < nd) {
                const float s = STORAGE == STORAGE_F32 ? 1.0f : scales[t0 + c1];
                best0 = fmaxf(best0, STORAGE == STORAGE_F32 ? acc01 : __fmul_rn(acc01, s));
                best1 = fmaxf(best1, STORAGE == STORAGE_F32 ? acc11 : __fmul_rn(acc11, s));
            }
        }
        // the 16 lanes of a half warp share rows ty and ty + 16: max over them (column 0 is always a real token)
#pragma unroll
        for (int off = 8; off > 0; off >>= 1) {
            best0 = fmaxf(best0, __shfl_xor_sync(0xffffffffu, best0, off));
            best1 = fmaxf(best1, __shfl_xor_sync(0xffffffffu, best1, off));
        }
        if (tx == 0) {
            row_max[ty] = best0;
            row_max[ty + 16] = best1;
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            const int rows = min(QT, nq - qa);
            for (int r = 0; r < rows; r++) sum = __fadd_rn(sum, row_max[r]);
        }
        __syncthreads();                          // row_max is read before the next query tile writes it
    }
    if (threadIdx.x == 0) out[p] = sum;
}

#define MAXSIM_KERNEL(name, storage, vtype)                                                                        \
    extern "C" __global__ void __launch_bounds__(THREADS) name(                                                     \
            const vtype* values, const float* scales, const int* doc_offsets, const float* queries,                 \
            const int* query_offsets, const int* pair_query, const int* pair_doc, int dim, int words, float* out) { \
        maxsim<storage>(values, scales, doc_offsets, queries, query_offsets, pair_query, pair_doc, dim, words,     \
                        out);                                                                                       \
    }

MAXSIM_KERNEL(maxsim_f32, STORAGE_F32, float)
MAXSIM_KERNEL(maxsim_i8, STORAGE_I8, signed char)
MAXSIM_KERNEL(maxsim_b1, STORAGE_B1, unsigned long long)
