// cluster.cu: the clustering family's O(n^2 d) and O(n d^2) stages (ClusteringOps) for the density tree
// (HDBSCAN*). CPU twins: ReferenceClustering (SpanningTree.prim, Pca), FastClustering; launcher: ClusterKernel; ops:
// CudaClusteringOps. Core distances reuse retrieval.cu's exact top-k (CudaClusteringOps).
//
// prim_step_f32: one step of Prim's algorithm on the complete mutual-reachability graph.
//   key(a, b) = sum_j (x_aj - x_bj)^2                           metric 0 (L2: the squared distance)
//             = max(0, 1 - dot(a, b) / (|a| |b|)), 1 if a norm is 0   metric 1 (cosine distance)
//   mr(a, b)  = max(key(a, b), core_key[a], core_key[b])         (core_key: squared core distance for L2)
// state[0] is the point added by the previous step. It is staged in shared memory. Block b owns the points
// [b * per, min(n, (b + 1) * per)); its warps take them in turn (warp w: start + w, start + w + 8, ...), skip points
// already in the tree, compute key(cur, i) with lanes over j and a butterfly sum, and lower best[i] / best_from[i]
// (only the owning warp writes them). Each block writes the minimum (best, index) of its points, smaller index on
// ties, to block_best / block_arg. The last block to finish (an atomic ticket taken after __threadfence) reads every
// block's minimum, picks the overall one (smaller index on ties, as SpanningTree.prim), marks it in the tree,
// writes the edge (best_from[next], next) at position `step`, makes it state[0] and resets the ticket. So n - 1
// launches build the tree without a host round trip. The weights the host reports are recomputed in double from
// the chosen edges.
// Grid: `blocks` x 256 threads, dynamic shared memory 2128 + dim * 4 bytes. Aliasing: x, norms, core_key read-only.
//
// covariance_f32: cov[a][b] = sum_i (x_ia - mean_a)(x_ib - mean_b) / max(1, n - 1), accumulated in double.
// Grid (ceil(d / 32), ceil(d / 32)) blocks of 256 threads (32 x 8). Block (bx, by) computes the 32 x 32 tile of rows
// a = 32 by .., columns b = 32 bx ..; blocks below the diagonal (bx < by) return, and each tile writes its mirror.
// Rows of x are staged 32 at a time, centred in double, in shared memory (2 x 32 x 33 doubles: 16,896 bytes).
// Thread (ty, tx) accumulates rows ty, ty + 8, ty + 16, ty + 24 of column tx.
//
// jacobi_eigen_f64: every eigenpair of a symmetric d x d matrix (d <= 2048) by parallel cyclic Jacobi, one block of
// 256 threads. Each sweep runs m - 1 rounds (m = d rounded up to even) of the round-robin tournament: index m - 1
// is fixed and the others rotate, so every pair (p, q) meets once a sweep. In a round the m / 2 pairs are disjoint,
// so their rotations (the same formula as Pca.rotate) are computed from the current matrix and applied at once:
// first to columns p, q of a and v (A J, V J), then to rows p, q of a (J^T A J). Sweeps stop when
// sum_{i<j} a_ij^2 <= 1e-30 * sum_i a_ii^2 (Pca.fromCovariance's test) or after max_sweeps. On return the diagonal
// of a holds the eigenvalues and column c of v (v[k * d + c]) the eigenvector of a[c][c]; sweeps_out[0] the sweeps.
// Shared memory: 256 doubles for reductions and each pair's rotation (c, s, p, q): 2048 + 24 * (m / 2) bytes.
#include <math_constants.h>

#include "common.cuh"

namespace inflow_cluster {

constexpr int THREADS = 256;
constexpr int WARPS = THREADS / 32;
constexpr int TILE = 32;

// Sum of v over the block (double), returned to every thread; red holds THREADS doubles.
__device__ double block_sum_f64(double v, double* red) {
    __syncthreads();
    red[threadIdx.x] = v;
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if ((int) threadIdx.x < s) {
            red[threadIdx.x] += red[threadIdx.x + s];
        }
        __syncthreads();
    }
    return red[0];
}

// (value, index) a is smaller than b: smaller value, then smaller index.
__device__ __forceinline__ bool before(float av, int ai, float bv, int bi) {
    return av < bv || (av == bv && ai < bi);
}

}  // namespace inflow_cluster

using namespace inflow_cluster;

// Dynamic shared memory of every kernel here (only dynamic: the host emulation maps it to one buffer per block).
extern __shared__ __align__(16) unsigned char smem[];

extern "C" __global__ void __launch_bounds__(THREADS)
prim_step_f32(const float* x, const float* norms, const float* core_key, int n, int dim, int metric, int per,
              int* in_tree, float* best, int* best_from, float* block_best, int* block_arg, int* ticket,
              int* state, int* edge_from, int* edge_to, int step) {
    float* fin_best = (float*) smem;                    // [THREADS]   the last block's per-thread minima
    int* fin_arg = (int*) (fin_best + THREADS);         // [THREADS]
    float* warp_best = (float*) (fin_arg + THREADS);    // [WARPS]     each warp's minimum
    int* warp_arg = (int*) (warp_best + WARPS);         // [WARPS]
    int* is_last = warp_arg + WARPS;                    // [4]         this block took the last ticket
    float* cur_x = (float*) (is_last + 4);              // [dim]       the point added by the previous step

    const int cur = state[0];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int j = threadIdx.x; j < dim; j += THREADS) {
        cur_x[j] = x[(size_t) cur * dim + j];
    }
    __syncthreads();
    const float cur_core = core_key[cur];
    const float cur_norm = metric == 1 ? norms[cur] : 0.0f;

    const int start = blockIdx.x * per;
    const int end = min(n, start + per);
    float my_best = CUDART_INF_F;
    int my_arg = -1;
    for (int i = start + warp; i < end; i += WARPS) {
        if (in_tree[i]) {
            continue;                                   // warp-uniform: every lane reads the same flag
        }
        const float* row = x + (size_t) i * dim;
        float acc = 0.0f;
        if (metric == 0) {
            for (int j = lane; j < dim; j += 32) {
                float diff = cur_x[j] - row[j];
                acc = __fmaf_rn(diff, diff, acc);
            }
        } else {
            for (int j = lane; j < dim; j += 32) {
                acc = __fmaf_rn(cur_x[j], row[j], acc);
            }
        }
        acc = inflow::warp_sum(acc);
        float key;
        if (metric == 0) {
            key = acc;
        } else {
            float ni = norms[i];
            key = (cur_norm == 0.0f || ni == 0.0f) ? 1.0f
                    : fmaxf(0.0f, (float) (1.0 - (double) acc / ((double) cur_norm * (double) ni)));
        }
        float mr = fmaxf(key, fmaxf(cur_core, core_key[i]));
        const float old = best[i];
        const float b = mr < old ? mr : old;            // only lane 0's copy is used (it alone writes best[i])
        if (lane == 0 && mr < old) {
            best[i] = mr;
            best_from[i] = cur;
        }
        if (before(b, i, my_best, my_arg) || my_arg < 0) {
            my_best = b;
            my_arg = i;
        }
    }
    if (lane == 0) {
        warp_best[warp] = my_best;
        warp_arg[warp] = my_arg;
    }
    __threadfence();                                    // best / best_from writes visible device-wide
    __syncthreads();
    if (threadIdx.x == 0) {
        float bb = CUDART_INF_F;
        int ba = -1;
        for (int w = 0; w < WARPS; w++) {
            if (warp_arg[w] >= 0 && (ba < 0 || before(warp_best[w], warp_arg[w], bb, ba))) {
                bb = warp_best[w];
                ba = warp_arg[w];
            }
        }
        block_best[blockIdx.x] = bb;
        block_arg[blockIdx.x] = ba;
        __threadfence();                                // the block's minimum is visible before the ticket
        *is_last = atomicAdd(ticket, 1) == (int) gridDim.x - 1;
    }
    __syncthreads();
    if (!*is_last) {
        return;
    }
    // the last block: the overall minimum (reads bypass L1: other blocks wrote these)
    float fb = CUDART_INF_F;
    int fa = -1;
    for (int b = threadIdx.x; b < (int) gridDim.x; b += THREADS) {
        int a = ((volatile int*) block_arg)[b];
        float v = ((volatile float*) block_best)[b];
        if (a >= 0 && (fa < 0 || before(v, a, fb, fa))) {
            fb = v;
            fa = a;
        }
    }
    fin_best[threadIdx.x] = fb;
    fin_arg[threadIdx.x] = fa;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int t = 1; t < THREADS; t++) {
            if (fin_arg[t] >= 0 && (fa < 0 || before(fin_best[t], fin_arg[t], fb, fa))) {
                fb = fin_best[t];
                fa = fin_arg[t];
            }
        }
        if (fa >= 0) {
            in_tree[fa] = 1;
            edge_from[step] = ((volatile int*) best_from)[fa];
            edge_to[step] = fa;
            state[0] = fa;
        }
        *ticket = 0;
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
covariance_f32(const float* x, const double* mean, int n, int dim, double* cov) {
    double (*sa)[TILE + 1] = (double (*)[TILE + 1]) smem;   // [TILE][TILE + 1]: row i, column a - a0
    double (*sb)[TILE + 1] = sa + TILE;                     // [TILE][TILE + 1]: row i, column b - b0
    const int bx = blockIdx.x;
    const int by = blockIdx.y;
    if (bx < by) {
        return;
    }
    const int a0 = by * TILE;
    const int b0 = bx * TILE;
    const int tx = threadIdx.x % TILE;
    const int ty = threadIdx.x / TILE;                  // 0 .. 7
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    for (int i0 = 0; i0 < n; i0 += TILE) {
        for (int r = ty; r < TILE; r += THREADS / TILE) {
            int i = i0 + r;
            int a = a0 + tx;
            int b = b0 + tx;
            sa[r][tx] = (i < n && a < dim) ? (double) x[(size_t) i * dim + a] - mean[a] : 0.0;
            sb[r][tx] = (i < n && b < dim) ? (double) x[(size_t) i * dim + b] - mean[b] : 0.0;
        }
        __syncthreads();
        for (int r = 0; r < TILE; r++) {
            double vb = sb[r][tx];
            for (int q = 0; q < 4; q++) {
                acc[q] = __fma_rn(sa[r][ty + 8 * q], vb, acc[q]);
            }
        }
        __syncthreads();
    }
    const double norm = (double) max(1, n - 1);
    for (int q = 0; q < 4; q++) {
        int a = a0 + ty + 8 * q;
        int b = b0 + tx;
        if (a < dim && b < dim && a <= b) {
            double v = acc[q] / norm;
            cov[(size_t) a * dim + b] = v;
            cov[(size_t) b * dim + a] = v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
jacobi_eigen_f64(double* a, double* v, int dim, int max_sweeps, int* sweeps_out) {
    const int tid = threadIdx.x;
    const int m = dim + (dim & 1);                      // players; index dim (odd dim) is a bye
    const int pairs = m / 2;
    double* red = (double*) smem;                       // [THREADS]  reductions
    double* rot_c = red + THREADS;                      // [pairs]    this round's rotations
    double* rot_s = rot_c + pairs;                      // [pairs]
    int* rot_p = (int*) (rot_s + pairs);                // [pairs]
    int* rot_q = rot_p + pairs;                         // [pairs]
    const int cells = dim * dim;                        // <= 2048^2: int arithmetic
    for (int e = tid; e < cells; e += THREADS) {
        v[e] = (e / dim == e % dim) ? 1.0 : 0.0;
    }
    __syncthreads();
    int sweep = 0;
    for (; sweep < max_sweeps; sweep++) {
        double off = 0.0;
        double diag = 0.0;
        for (int e = tid; e < cells; e += THREADS) {
            int i = e / dim;
            int j = e % dim;
            double x = a[e];
            if (i == j) {
                diag += x * x;
            } else if (i < j) {
                off += x * x;
            }
        }
        off = block_sum_f64(off, red);
        diag = block_sum_f64(diag, red);
        if (off <= 1e-30 * fmax(diag, 1e-300)) {
            break;
        }
        for (int round = 0; round < m - 1; round++) {
            for (int k = tid; k < pairs; k += THREADS) {
                int p;
                int q;
                if (k == 0) {
                    p = m - 1;
                    q = round;
                } else {
                    p = (round + k) % (m - 1);
                    q = (round - k + (m - 1)) % (m - 1);
                }
                if (p > q) {
                    int t = p;
                    p = q;
                    q = t;
                }
                double c = 1.0;
                double s = 0.0;
                if (q < dim) {
                    double apq = a[p * dim + q];
                    if (fabs(apq) >= 1e-300) {
                        double theta = (a[q * dim + q] - a[p * dim + p]) / (2.0 * apq);
                        double t = theta == 0.0 ? 1.0
                                : copysign(1.0, theta) / (fabs(theta) + sqrt(theta * theta + 1.0));
                        c = 1.0 / sqrt(t * t + 1.0);
                        s = t * c;
                    }
                }
                rot_c[k] = c;
                rot_s[k] = s;
                rot_p[k] = p;
                rot_q[k] = q < dim ? q : p;   // a bye: an identity rotation of p with itself, skipped
            }
            __syncthreads();
            // columns p, q of a and v: A J, V J
            for (int item = tid; item < pairs * dim; item += THREADS) {
                int k = item / dim;
                int r = item % dim;
                double s = rot_s[k];
                if (s == 0.0) {
                    continue;
                }
                double c = rot_c[k];
                int p = rot_p[k];
                int q = rot_q[k];
                double arp = a[r * dim + p];
                double arq = a[r * dim + q];
                a[r * dim + p] = c * arp - s * arq;
                a[r * dim + q] = s * arp + c * arq;
                double vrp = v[r * dim + p];
                double vrq = v[r * dim + q];
                v[r * dim + p] = c * vrp - s * vrq;
                v[r * dim + q] = s * vrp + c * vrq;
            }
            __syncthreads();
            // rows p, q of a: J^T (A J)
            for (int item = tid; item < pairs * dim; item += THREADS) {
                int k = item / dim;
                int col = item % dim;
                double s = rot_s[k];
                if (s == 0.0) {
                    continue;
                }
                double c = rot_c[k];
                int p = rot_p[k];
                int q = rot_q[k];
                double apc = a[p * dim + col];
                double aqc = a[q * dim + col];
                a[p * dim + col] = c * apc - s * aqc;
                a[q * dim + col] = s * apc + c * aqc;
            }
            __syncthreads();
        }
    }
    if (tid == 0) {
        sweeps_out[0] = sweep;
    }
}
