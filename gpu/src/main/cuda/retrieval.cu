// retrieval.cu: exact top-k by inner product, cosine or L2 over float32 / float16 / int8 document vectors.
// CPU twins: RetrievalReference (oracle), FastRetrieval (fast); launcher: RetrievalKernel; ops: CudaRetrievalOps.
//
// Two kernels, so the [queries x documents] score matrix is never written to memory:
//
//   topk_slice_{f32,f16,i8}: fused score-and-select. Grid (slices of one chunk, query tiles), 256 threads (8 warps).
//     A block holds a tile of qt <= 4 queries in shared memory and walks its slice of rows: each warp scores one row
//     at a time against all qt queries (lanes stride the dim, so a warp's loads are coalesced; the document value is
//     loaded and widened once and used qt times; float16 -> __half2float, int8 -> float, the row's scale applied to
//     the finished dot), reduced by an xor butterfly (every lane gets the same bits). Selection is a "threshold +
//     candidate buffer" block select (as FAISS's BlockSelect keeps a running k-th value): per query a shared buffer of
//     cap = 2 kp entries (kp = power of two >= max(k_out, 64)); a row enters only if its score >= the query's current
//     k-th score; when a buffer could overflow in the next round (32 rows), the block sorts it (bitonic, best first
//     by the full hit order) and keeps k_out, which raises the threshold. At the end the slice's k_out best per
//     query are written to the candidate arrays (missing ones with row = EMPTY_ROW).
//   topk_merge: one block per query streams that query's candidates through the same block select (kp >= 256, one
//     candidate per thread per round) and writes the final k hits, their chunk, row and score, and the hit count.
//
// Hit order everywhere: score descending, tie key ascending, chunk ascending, row ascending (a strict total order on
// distinct rows, so the atomics' arrival order in the buffers never shows in the result). Identical stored vectors
// get bit-identical scores: one code path per row, fixed per-lane FMA order, commutative butterfly, and the metric
// epilogue in double with round-to-nearest intrinsics (no contraction) exactly as Metric.score in Java.
//
// Shared memory (dynamic, bytes): qt * dim * 4 (queries) + qt * cap * 8 (buffers) + 64; the launcher keeps it
// <= 48 KiB (k = 2048: cap 4096, qt 1, dim <= 2048). Merge: cap * 8 + 64.
// Aliasing: inputs are read-only and distinct from the outputs. Limits: k <= 2048, dim <= 2048 (checked on the host).
#include <cuda_fp16.h>
#include <math_constants.h>
#include <stdint.h>

#define EMPTY_ROW 0x7fffffff

constexpr int THREADS = 256;
constexpr int WARPS = THREADS / 32;
constexpr int ROWS_PER_WARP = 4;
constexpr int ROUND_ROWS = WARPS * ROWS_PER_WARP;   // rows a slice block scores between two buffer checks
constexpr int MAX_QT = 4;

extern __shared__ __align__(16) unsigned char smem[];   // dynamic shared memory of every kernel here

enum { METRIC_INNER_PRODUCT = 0, METRIC_COSINE = 1, METRIC_L2 = 2 };
enum { STORAGE_F32 = 0, STORAGE_F16 = 1, STORAGE_I8 = 2 };

// Tie-break keys of a buffer entry: in a slice the entry is a row of one chunk.
struct RowKeys {
    const long long* tie;
    __device__ long long tie_key(int i) const { return tie[i]; }
    __device__ int chunk(int) const { return 0; }
    __device__ int row(int i) const { return i; }
};

// In the merge the entry is an index into one query's candidates.
struct CandidateKeys {
    const long long* tie;
    const int* chunks;
    const int* rows;
    __device__ long long tie_key(int i) const { return tie[i]; }
    __device__ int chunk(int i) const { return chunks[i]; }
    __device__ int row(int i) const { return rows[i]; }
};

// Whether entry a comes before entry b in the hit order; EMPTY_ROW entries come after everything.
template <class Keys>
__device__ __forceinline__ bool before(float sa, int ia, float sb, int ib, const Keys& keys) {
    if (ia == EMPTY_ROW) return false;
    if (ib == EMPTY_ROW) return true;
    if (sa != sb) return sa > sb;
    long long ta = keys.tie_key(ia), tb = keys.tie_key(ib);
    if (ta != tb) return ta < tb;
    int ca = keys.chunk(ia), cb = keys.chunk(ib);
    if (ca != cb) return ca < cb;
    return keys.row(ia) < keys.row(ib);
}

// Block-wide bitonic sort of n (a power of two) entries, best first. Every thread of the block must call it.
template <class Keys>
__device__ void bitonic_sort(float* s, int* id, int n, const Keys& keys) {
    for (int size = 2; size <= n; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int t = threadIdx.x; t < n / 2; t += blockDim.x) {
                int lo = 2 * stride * (t / stride) + (t % stride);
                int hi = lo + stride;
                bool best_first = (lo & size) == 0;
                bool swap = best_first ? before(s[hi], id[hi], s[lo], id[lo], keys)
                                       : before(s[lo], id[lo], s[hi], id[hi], keys);
                if (swap) {
                    float ts = s[lo]; s[lo] = s[hi]; s[hi] = ts;
                    int ti = id[lo]; id[lo] = id[hi]; id[hi] = ti;
                }
            }
            __syncthreads();
        }
    }
}

// Sorts a query's buffer and keeps the k_out best; the k-th score becomes the threshold once k_out are held.
// Every thread of the block must call it (after a __syncthreads that makes *count final).
template <class Keys>
__device__ void compact(float* s, int* id, int* count, float* threshold, int cap, int k_out, const Keys& keys) {
    int n = *count;
    for (int i = threadIdx.x; i < cap; i += blockDim.x) {
        if (i >= n) { s[i] = -CUDART_INF_F; id[i] = EMPTY_ROW; }
    }
    __syncthreads();
    bitonic_sort(s, id, cap, keys);
    if (threadIdx.x == 0) {
        int kept = n < k_out ? n : k_out;
        *count = kept;
        *threshold = kept == k_out ? s[k_out - 1] : -CUDART_INF_F;
    }
    __syncthreads();
}

// Metric.score in double, with the same operations in the same order and no FMA contraction.
__device__ __forceinline__ float metric_score(int metric, float dot, double q_norm, float d_norm) {
    double d = (double) dot;
    double dn = (double) d_norm;
    if (metric == METRIC_INNER_PRODUCT) return dot;
    if (metric == METRIC_COSINE) {
        return (q_norm == 0.0 || dn == 0.0) ? 0.0f : (float) __ddiv_rn(d, __dmul_rn(q_norm, dn));
    }
    return (float) __dsub_rn(__dsub_rn(__dmul_rn(2.0, d), __dmul_rn(q_norm, q_norm)), __dmul_rn(dn, dn));
}

template <int STORAGE>
__device__ __forceinline__ float load_value(const void* values, size_t i) {
    if (STORAGE == STORAGE_F32) return __ldg(((const float*) values) + i);
    if (STORAGE == STORAGE_F16) return __half2float(((const __half*) values)[i]);
    return (float) __ldg(((const signed char*) values) + i);
}

// One chunk's rows [blockIdx.x * slice_rows, +slice_rows) against queries [blockIdx.y * qt, +qt).
// values: [rows, dim] as stored; scales: per row (int8 only, else unused); norms, tie, codes, live: per row.
// queries [nq, dim], q_norms [nq] (double), q_codes [nq] (-1: no filter).
// Candidates of query q: [q * total_slots + slot_base + blockIdx.x * k_out, + k_out).
template <int STORAGE>
__device__ void topk_slice(const void* values, const float* scales, const float* norms, const long long* tie,
                           const int* codes, const int* live, int rows, int dim, int chunk_index,
                           const float* queries, const double* q_norms, const int* q_codes, int nq, int qt,
                           int metric, int slice_rows, int k_out, int cap,
                           float* cand_score, long long* cand_tie, int* cand_chunk, int* cand_row,
                           int total_slots, int slot_base) {
    float* sq = (float*) smem;                       // [qt][dim]
    float* bs = sq + (size_t) qt * dim;              // [qt][cap]
    int* bi = (int*) (bs + (size_t) qt * cap);       // [qt][cap]
    int* count = bi + (size_t) qt * cap;             // [MAX_QT]
    float* threshold = (float*) (count + MAX_QT);    // [MAX_QT]

    const int q0 = blockIdx.y * qt;
    const int nqt = min(qt, nq - q0);
    const int r0 = blockIdx.x * slice_rows;
    const int r1 = min(rows, r0 + slice_rows);
    RowKeys keys{tie};

    for (int i = threadIdx.x; i < nqt * dim; i += blockDim.x) sq[i] = queries[(size_t) q0 * dim + i];
    if (threadIdx.x < MAX_QT) { count[threadIdx.x] = 0; threshold[threadIdx.x] = -CUDART_INF_F; }
    __syncthreads();

    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    for (int base = r0; base < r1; base += ROUND_ROWS) {
        // every thread decides on the same counts: read, then wait before anyone appends again
        int full = 0;   // bit t: query t's buffer needs compacting
        for (int t = 0; t < nqt; t++) full |= (count[t] > cap - ROUND_ROWS) << t;
        __syncthreads();
        for (int t = 0; t < nqt; t++) {
            if ((full >> t) & 1) {
                compact(bs + (size_t) t * cap, bi + (size_t) t * cap, count + t, threshold + t, cap, k_out, keys);
            }
        }
        for (int rr = 0; rr < ROWS_PER_WARP; rr++) {
            int r = base + rr * WARPS + warp;
            if (r >= r1 || !live[r]) continue;                       // warp-uniform
            int code = codes[r];
            float acc[MAX_QT] = {0.f, 0.f, 0.f, 0.f};
            for (int j = lane; j < dim; j += 32) {
                float v = load_value<STORAGE>(values, (size_t) r * dim + j);
#pragma unroll
                for (int t = 0; t < MAX_QT; t++) {
                    if (t < nqt) acc[t] = __fmaf_rn(sq[t * dim + j], v, acc[t]);
                }
            }
#pragma unroll
            for (int t = 0; t < MAX_QT; t++) {
#pragma unroll
                for (int off = 16; off > 0; off >>= 1) acc[t] = __fadd_rn(acc[t], __shfl_xor_sync(0xffffffffu, acc[t], off));
            }
            if (lane < nqt) {
                int q = q0 + lane;
                int f = q_codes[q];
                if (f < 0 || f == code) {
                    float dot = acc[0];
#pragma unroll
                    for (int t = 1; t < MAX_QT; t++) if (lane == t) dot = acc[t];
                    if (STORAGE == STORAGE_I8) dot = __fmul_rn(dot, scales[r]);
                    float s = metric_score(metric, dot, q_norms[q], norms[r]);
                    if (s >= threshold[lane]) {
                        int at = atomicAdd(count + lane, 1);
                        bs[(size_t) lane * cap + at] = s;
                        bi[(size_t) lane * cap + at] = r;
                    }
                }
            }
        }
        __syncthreads();
    }
    for (int t = 0; t < nqt; t++) {
        compact(bs + (size_t) t * cap, bi + (size_t) t * cap, count + t, threshold + t, cap, k_out, keys);
        size_t out = (size_t) (q0 + t) * total_slots + slot_base + (size_t) blockIdx.x * k_out;
        for (int i = threadIdx.x; i < k_out; i += blockDim.x) {
            bool has = i < count[t];
            int r = bi[(size_t) t * cap + i];
            cand_score[out + i] = has ? bs[(size_t) t * cap + i] : -CUDART_INF_F;
            cand_tie[out + i] = has ? tie[r] : 0;
            cand_chunk[out + i] = chunk_index;
            cand_row[out + i] = has ? r : EMPTY_ROW;
        }
    }
}

#define SLICE_KERNEL(name, storage, vtype)                                                                         \
    extern "C" __global__ void __launch_bounds__(THREADS, 4) name(                                                    \
            const vtype* values, const float* scales, const float* norms, const long long* tie, const int* codes,  \
            const int* live, int rows, int dim, int chunk_index, const float* queries, const double* q_norms,     \
            const int* q_codes, int nq, int qt, int metric, int slice_rows, int k_out, int cap, float* cand_score, \
            long long* cand_tie, int* cand_chunk, int* cand_row, int total_slots, int slot_base) {                \
        topk_slice<storage>(values, scales, norms, tie, codes, live, rows, dim, chunk_index, queries, q_norms,     \
                            q_codes, nq, qt, metric, slice_rows, k_out, cap, cand_score, cand_tie, cand_chunk,     \
                            cand_row, total_slots, slot_base);                                                     \
    }

SLICE_KERNEL(topk_slice_f32, STORAGE_F32, float)
SLICE_KERNEL(topk_slice_f16, STORAGE_F16, __half)
SLICE_KERNEL(topk_slice_i8, STORAGE_I8, signed char)

// One block per query: the k best of its total_slots candidates (EMPTY_ROW ones skipped), best first.
// out_score / out_chunk / out_row: [nq, k]; out_count: [nq].
extern "C" __global__ void __launch_bounds__(THREADS) topk_merge(
        const float* cand_score, const long long* cand_tie, const int* cand_chunk, const int* cand_row,
        int total_slots, int k, int cap, float* out_score, int* out_chunk, int* out_row, int* out_count) {
    float* bs = (float*) smem;                  // [cap]
    int* bi = (int*) (bs + cap);                // [cap]
    int* count = bi + cap;                      // [1]
    float* threshold = (float*) (count + 1);    // [1]

    const size_t q = blockIdx.x;
    const size_t base = q * total_slots;
    CandidateKeys keys{cand_tie + base, cand_chunk + base, cand_row + base};
    if (threadIdx.x == 0) { *count = 0; *threshold = -CUDART_INF_F; }
    __syncthreads();
    for (int from = 0; from < total_slots; from += blockDim.x) {
        bool full = *count > cap - (int) blockDim.x;
        __syncthreads();   // every thread decided on the same count before anyone appends again
        if (full) compact(bs, bi, count, threshold, cap, k, keys);
        int i = from + threadIdx.x;
        if (i < total_slots && cand_row[base + i] != EMPTY_ROW) {
            float s = cand_score[base + i];
            if (s >= *threshold) {
                int at = atomicAdd(count, 1);
                bs[at] = s;
                bi[at] = i;
            }
        }
        __syncthreads();
    }
    compact(bs, bi, count, threshold, cap, k, keys);
    int n = *count;
    for (int i = threadIdx.x; i < k; i += blockDim.x) {
        bool has = i < n;
        int c = has ? bi[i] : 0;
        out_score[q * k + i] = has ? bs[i] : 0.f;
        out_chunk[q * k + i] = has ? cand_chunk[base + c] : -1;
        out_row[q * k + i] = has ? cand_row[base + c] : -1;
    }
    if (threadIdx.x == 0) out_count[q] = n;
}
