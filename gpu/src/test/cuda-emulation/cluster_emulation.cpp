// Host emulation of cluster.cu (see README.md): prim_step_f32 (n - 1 launches, several blocks, the last-block
// ticket), covariance_f32 and jacobi_eigen_f64, checked against double-precision references: the spanning tree's
// total mutual-reachability weight against Prim in double (1e-5 relative, the contract's bar), the covariance
// element-wise (1e-12 relative), the eigenvalues against cyclic Jacobi (1e-9 of the largest) and the eigenvectors by
// their residual |A v - lambda v| and orthonormality (1e-9).
#include "shim.h"
thread_local dim3 threadIdx;
thread_local dim3 blockIdx;
dim3 blockDim;
dim3 gridDim;
std::barrier<>* g_block_barrier;
std::barrier<>* g_warp_barrier[8];
float g_xchg[8][32];
alignas(16) unsigned char smem[48 * 1024];
#include "../../main/cuda/cluster.cu"
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; if (failures <= 20) { std::printf("FAIL: " __VA_ARGS__); std::printf("\n"); } } } while (0)

// One launch: gx x gy blocks of 256 threads, one block at a time; the threads live for the whole launch.
template <class F> void launch(int gx, int gy, F kernel) {
    blockDim.x = 256;
    gridDim.x = gx;
    gridDim.y = gy;
    std::barrier<> bb(256);
    auto poison = [] () noexcept { std::memset(smem, 0xff, sizeof smem); };   // NaN-poisoned shared memory
    std::barrier<decltype(poison)> between(256, poison);
    std::vector<std::unique_ptr<std::barrier<>>> wb;
    g_block_barrier = &bb;
    for (int w = 0; w < 8; w++) { wb.emplace_back(new std::barrier<>(32)); g_warp_barrier[w] = wb.back().get(); }
    std::memset(smem, 0xff, sizeof smem);
    std::vector<std::thread> ts;
    for (int t = 0; t < 256; t++) {
        ts.emplace_back([&, t] {
            threadIdx.x = t;
            for (int by = 0; by < gy; by++) {
                for (int bx = 0; bx < gx; bx++) {
                    blockIdx.x = bx;
                    blockIdx.y = by;
                    kernel();
                    between.arrive_and_wait();
                }
            }
        });
    }
    for (auto& th : ts) th.join();
}

static double dist(const std::vector<float>& x, int d, int a, int b, int metric) {
    double s = 0, na = 0, nb = 0;
    for (int j = 0; j < d; j++) {
        double u = x[(size_t) a * d + j], v = x[(size_t) b * d + j];
        if (metric == 0) s += (u - v) * (u - v);
        else { s += u * v; na += u * u; nb += v * v; }
    }
    if (metric == 0) return std::sqrt(s);
    if (na == 0 || nb == 0) return 1;
    return std::max(0.0, 1 - s / std::sqrt(na * nb));
}

static void checkPrim(std::mt19937_64& rng, int n, int d, int metric, int per) {
    std::normal_distribution<float> g;
    std::vector<float> x((size_t) n * d);
    for (auto& v : x) v = g(rng);
    for (int i = 0; i + 1 < n && i < n / 10; i++) std::memcpy(&x[(size_t) (i + 1) * d], &x[(size_t) i * d], d * 4);  // duplicates
    int minSamples = std::min(n, 5);
    std::vector<double> core(n);
    for (int i = 0; i < n; i++) {
        std::vector<double> ds(n);
        for (int j = 0; j < n; j++) ds[j] = i == j ? 0 : dist(x, d, i, j, metric);
        std::nth_element(ds.begin(), ds.begin() + minSamples - 1, ds.end());
        core[i] = ds[minSamples - 1];
    }
    // reference: Prim in double from point 0
    double refTotal = 0;
    {
        std::vector<char> in(n, 0);
        std::vector<double> best(n, INFINITY);
        int cur = 0;
        in[0] = 1;
        for (int e = 0; e < n - 1; e++) {
            int next = -1;
            for (int j = 0; j < n; j++) {
                if (in[j]) continue;
                double mr = std::max(dist(x, d, cur, j, metric), std::max(core[cur], core[j]));
                if (mr < best[j]) best[j] = mr;
                if (next < 0 || best[j] < best[next]) next = j;
            }
            in[next] = 1;
            refTotal += best[next];
            cur = next;
        }
    }
    // the kernel, as ClusterKernel launches it
    std::vector<float> norms(n), coreKey(n), best(n, INFINITY);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double) x[(size_t) i * d + j] * x[(size_t) i * d + j];
        norms[i] = (float) std::sqrt(s);
        coreKey[i] = (float) (metric == 0 ? core[i] * core[i] : core[i]);
    }
    int blocks = (n + per - 1) / per;
    std::vector<int> inTree(n, 0), bestFrom(n, -1), blockArg(blocks), edgeFrom(std::max(1, n - 1), -1), edgeTo(std::max(1, n - 1), -1);
    std::vector<float> blockBest(blocks);
    int ticket = 0, state[1] = {0};
    inTree[0] = 1;
    for (int step = 0; step < n - 1; step++) {
        launch(blocks, 1, [&] {
            prim_step_f32(x.data(), norms.data(), coreKey.data(), n, d, metric, per, inTree.data(), best.data(),
                          bestFrom.data(), blockBest.data(), blockArg.data(), &ticket, state, edgeFrom.data(),
                          edgeTo.data(), step);
        });
    }
    CHECK(ticket == 0, "prim n %d: ticket left at %d", n, ticket);
    // spanning: union-find over the edges
    std::vector<int> parent(n);
    for (int i = 0; i < n; i++) parent[i] = i;
    auto find = [&](int a) { while (parent[a] != a) a = parent[a]; return a; };
    double total = 0;
    bool spanning = true;
    for (int e = 0; e < n - 1; e++) {
        int a = edgeFrom[e], b = edgeTo[e];
        if (a < 0 || b < 0 || a >= n || b >= n) { spanning = false; break; }
        int ra = find(a), rb = find(b);
        if (ra == rb) { spanning = false; break; }
        parent[ra] = rb;
        total += std::max(dist(x, d, a, b, metric), std::max(core[a], core[b]));
    }
    CHECK(spanning, "prim n %d dim %d metric %d per %d: the edges do not form a spanning tree", n, d, metric, per);
    CHECK(std::fabs(total - refTotal) <= 1e-5 * refTotal + 1e-6, "prim n %d dim %d metric %d per %d: total %.9f vs reference %.9f",
          n, d, metric, per, total, refTotal);
}

static void checkCovariance(std::mt19937_64& rng, int n, int d) {
    std::normal_distribution<float> g;
    std::vector<float> x((size_t) n * d);
    for (auto& v : x) v = 2.0f + g(rng);
    std::vector<double> mean(d, 0), ref((size_t) d * d, 0), got((size_t) d * d, NAN);
    for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) mean[k] += x[(size_t) i * d + k];
    for (int k = 0; k < d; k++) mean[k] /= std::max(1, n);
    for (int i = 0; i < n; i++)
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                ref[(size_t) a * d + b] += (x[(size_t) i * d + a] - mean[a]) * (x[(size_t) i * d + b] - mean[b]);
    double scale = 0;
    for (auto& v : ref) { v /= std::max(1, n - 1); scale = std::max(scale, std::fabs(v)); }
    int tiles = (d + 31) / 32;
    launch(tiles, tiles, [&] { covariance_f32(x.data(), mean.data(), n, d, got.data()); });
    for (size_t e = 0; e < ref.size(); e++) {
        CHECK(std::fabs(got[e] - ref[e]) <= 1e-12 * std::max(scale, 1e-300) || (scale == 0 && got[e] == 0),
              "covariance n %d dim %d cell %zu: %.17g vs %.17g", n, d, e, got[e], ref[e]);
    }
}

// Pca.fromCovariance's cyclic Jacobi, for the eigenvalues.
static std::vector<double> cyclicEigenvalues(std::vector<double> a, int d) {
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int i = 0; i < d; i++) for (int j = i + 1; j < d; j++) off += a[i * d + j] * a[i * d + j];
        if (off < 1e-30) break;
        for (int i = 0; i < d - 1; i++)
            for (int j = i + 1; j < d; j++) {
                double aij = a[i * d + j];
                if (std::fabs(aij) < 1e-300) continue;
                double theta = (a[j * d + j] - a[i * d + i]) / (2 * aij);
                double t = theta == 0 ? 1 : std::copysign(1.0, theta) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
                double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++) { double x = a[k * d + i], y = a[k * d + j]; a[k * d + i] = c * x - s * y; a[k * d + j] = s * x + c * y; }
                for (int k = 0; k < d; k++) { double x = a[i * d + k], y = a[j * d + k]; a[i * d + k] = c * x - s * y; a[j * d + k] = s * x + c * y; }
            }
    }
    std::vector<double> ev(d);
    for (int i = 0; i < d; i++) ev[i] = a[i * d + i];
    std::sort(ev.begin(), ev.end());
    return ev;
}

static void checkJacobi(std::mt19937_64& rng, int d, bool repeated) {
    std::normal_distribution<double> g;
    std::vector<double> a((size_t) d * d);
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) {
            double v = g(rng);
            a[i * d + j] = v;
            a[j * d + i] = v;
        }
    if (repeated) {   // a matrix with a repeated eigenvalue: the identity plus a rank-one term
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) a[i * d + j] = (i == j ? 2.0 : 0.0) + 0.5;
    }
    std::vector<double> work = a, v((size_t) d * d, NAN);
    int sweeps = -1;
    launch(1, 1, [&] { jacobi_eigen_f64(work.data(), v.data(), d, 100, &sweeps); });
    std::vector<double> ref = cyclicEigenvalues(a, d), got(d);
    double scale = 1e-300;
    for (double e : ref) scale = std::max(scale, std::fabs(e));
    for (int i = 0; i < d; i++) got[i] = work[i * d + i];
    std::sort(got.begin(), got.end());
    for (int i = 0; i < d; i++) CHECK(std::fabs(got[i] - ref[i]) <= 1e-9 * scale, "jacobi dim %d eigenvalue %d: %.17g vs %.17g", d, i, got[i], ref[i]);
    CHECK(sweeps >= 0 && sweeps < 100, "jacobi dim %d: %d sweeps", d, sweeps);
    for (int c = 0; c < d; c++) {
        double lambda = work[c * d + c], res = 0;
        for (int r = 0; r < d; r++) {
            double av = 0;
            for (int k = 0; k < d; k++) av += a[r * d + k] * v[k * d + c];
            res = std::max(res, std::fabs(av - lambda * v[r * d + c]));
        }
        CHECK(res <= 1e-9 * scale, "jacobi dim %d column %d: residual %.3g", d, c, res);
        for (int c2 = c; c2 < d; c2++) {
            double dot = 0;
            for (int k = 0; k < d; k++) dot += v[k * d + c] * v[k * d + c2];
            CHECK(std::fabs(dot - (c == c2 ? 1 : 0)) <= 1e-9, "jacobi dim %d columns %d %d: dot %.3g", d, c, c2, dot);
        }
    }
}

int main(int argc, char** argv) {
    std::string only = argc > 1 ? argv[1] : "";   // prim, covariance or jacobi: that kernel only
    std::mt19937_64 rng(20261202);
    int cases = 0;
    if (only.empty() || only == "prim") {
    for (int metric = 0; metric < 2; metric++)
        for (int d : {1, 3, 37, 130})
            for (int n : {1, 2, 40, 100}) {
                checkPrim(rng, n, d, metric, 16);   // several blocks: the ticket and the cross-block minimum
                cases++;
            }
    checkPrim(rng, 300, 8, 0, 300);               // one block
    checkPrim(rng, 200, 8, 1, 7);                 // blocks of 7 points: warps with no point
    cases += 2;
    }
    if (only.empty() || only == "covariance") {
    for (int d : {1, 5, 32, 37, 70})
        for (int n : {1, 2, 33, 257}) {
            checkCovariance(rng, n, d);
            cases++;
        }
    }
    if (only.empty() || only == "jacobi") {
    for (int d : {1, 2, 3, 5, 16, 37, 64}) {
        checkJacobi(rng, d, false);
        cases++;
    }
    checkJacobi(rng, 9, true);
    cases++;
    }
    std::printf("cluster emulation: %d cases, %d failures\n", cases, failures);
    return failures == 0 ? 0 : 1;
}
