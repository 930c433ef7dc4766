// Host emulation of maxsim.cu (see README.md): maxsim_f32 / _i8 / _b1 on every storage, dims 1 to 384, query and
// document lengths around the 32-token tiles, checked pair by pair against a double-precision brute force on the
// stored values (the contract's tolerance) and bit for bit against FastMaxSim's arithmetic (sequential FMA chain per
// dot, scale on the finished dot, exact max, row maxima summed in token order).
#include "shim.h"
thread_local dim3 threadIdx;
thread_local dim3 blockIdx;
dim3 blockDim;
std::barrier<>* g_block_barrier;
std::barrier<>* g_warp_barrier[8];
float g_xchg[8][32];
alignas(16) unsigned char smem[48 * 1024];
#include "../../main/cuda/maxsim.cu"
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

template <class F> void launch(int gx, F kernel) {
    blockDim.x = 256;
    for (int bx = 0; bx < gx; bx++) {
        std::barrier<> bb(256);
        std::vector<std::unique_ptr<std::barrier<>>> wb;
        g_block_barrier = &bb;
        for (int w = 0; w < 8; w++) { wb.emplace_back(new std::barrier<>(32)); g_warp_barrier[w] = wb.back().get(); }
        std::memset(smem, 0xcd, sizeof smem);          // garbage, as uninitialised shared memory
        std::vector<std::thread> ts;
        for (int t = 0; t < 256; t++) ts.emplace_back([&, t] { threadIdx.x = t; blockIdx.x = bx; kernel(); });
        for (auto& th : ts) th.join();
    }
}

// The documents in one storage, as TokenSet holds them.
struct Docs {
    int storage, dim, words; std::vector<int> off; std::vector<float> f32, scales; std::vector<int8_t> i8;
    std::vector<unsigned long long> bits;
    float widened(int t, int j) const {   // stored value without its scale
        if (storage == 0) return f32[(size_t) t * dim + j];
        if (storage == 1) return (float) i8[(size_t) t * dim + j];
        return ((bits[(size_t) t * words + j / 64] >> (j % 64)) & 1) ? 1.f : -1.f;
    }
    double value(int t, int j) const { return storage == 0 ? widened(t, j) : (double) scales[t] * widened(t, j); }
};

static Docs encode(int storage, int dim, const std::vector<int>& lengths, const std::vector<float>& x) {
    Docs d; d.storage = storage; d.dim = dim; d.words = (dim + 63) / 64; d.off.push_back(0);
    for (int n : lengths) d.off.push_back(d.off.back() + n);
    int total = d.off.back();
    if (storage == 0) d.f32 = x;
    d.scales.resize(total); d.i8.resize((size_t) total * dim); d.bits.assign((size_t) total * d.words, 0);
    for (int t = 0; t < total; t++) {
        const float* v = &x[(size_t) t * dim];
        float mx = 0; double sum = 0;
        for (int j = 0; j < dim; j++) { mx = std::max(mx, std::fabs(v[j])); sum += std::fabs(v[j]); }
        if (storage == 1) {
            float sc = mx == 0 ? 0 : mx / 127.f; d.scales[t] = sc;
            for (int j = 0; j < dim; j++) d.i8[(size_t) t * dim + j] = (int8_t) std::max(-127L, std::min(127L, sc == 0 ? 0L : std::lround(v[j] / sc)));
        } else if (storage == 2) {
            d.scales[t] = (float) (sum / dim);
            for (int j = 0; j < dim; j++) if (v[j] >= 0) d.bits[(size_t) t * d.words + j / 64] |= 1ull << (j % 64);
        }
    }
    return d;
}

int main() {
    std::mt19937 rng(11);
    std::normal_distribution<float> g;
    std::uniform_real_distribution<float> u01(0.f, 1.f);
    int failures = 0, pairs_checked = 0, bit_identical = 0;
    for (int storage = 0; storage < 3; storage++)
    for (int dim : {1, 37, 64, 100, 130, 384}) {
        std::vector<int> ql = {1, 5, 32, 33, 40}, dl = {1, 31, 32, 33, 128, 70};
        int nqt = 0; std::vector<int> qoff = {0}; for (int n : ql) qoff.push_back(nqt += n);
        std::vector<float> qs((size_t) nqt * dim);
        for (int i = 0; i < nqt; i++) {              // unit tokens, every third scaled 0.3 to 3
            double sq = 0; for (int j = 0; j < dim; j++) { float v = g(rng); qs[(size_t) i * dim + j] = v; sq += (double) v * v; }
            float s = (float) ((i % 3 == 2 ? 0.3 + 2.7 * u01(rng) : 1.0) / std::sqrt(sq));
            for (int j = 0; j < dim; j++) qs[(size_t) i * dim + j] *= s;
        }
        int ndt = 0; for (int n : dl) ndt += n;
        std::vector<float> xs((size_t) ndt * dim);
        for (auto& v : xs) v = g(rng) * 0.1f;
        Docs docs = encode(storage, dim, dl, xs);
        std::vector<int> pq, pd;                      // every query x every document, document-major as the host sorts
        for (int d = 0; d < (int) dl.size(); d++) for (int q = 0; q < (int) ql.size(); q++) { pq.push_back(q); pd.push_back(d); }
        int np = pq.size();
        std::vector<float> out(np, std::nanf(""));
        std::printf("storage %d dim %d: %d pairs\n", storage, dim, np); std::fflush(stdout);
        launch(np, [&] {
            if (storage == 0) maxsim_f32(docs.f32.data(), docs.scales.data(), docs.off.data(), qs.data(), qoff.data(), pq.data(), pd.data(), dim, docs.words, out.data());
            else if (storage == 1) maxsim_i8((const signed char*) docs.i8.data(), docs.scales.data(), docs.off.data(), qs.data(), qoff.data(), pq.data(), pd.data(), dim, docs.words, out.data());
            else maxsim_b1(docs.bits.data(), docs.scales.data(), docs.off.data(), qs.data(), qoff.data(), pq.data(), pd.data(), dim, docs.words, out.data());
        });
        for (int p = 0; p < np; p++) {
            int q = pq[p], d = pd[p];
            double want = 0, bound = 0, dmax = 0; float fast = 0.f;
            for (int t = docs.off[d]; t < docs.off[d + 1]; t++) { double s = 0; for (int j = 0; j < dim; j++) s += docs.value(t, j) * docs.value(t, j); dmax = std::max(dmax, std::sqrt(s)); }
            for (int i = qoff[q]; i < qoff[q + 1]; i++) {
                double best = -INFINITY, qn = 0; float fbest = -INFINITY;
                for (int j = 0; j < dim; j++) qn += (double) qs[(size_t) i * dim + j] * qs[(size_t) i * dim + j];
                for (int t = docs.off[d]; t < docs.off[d + 1]; t++) {
                    double dot = 0; float acc = 0.f;
                    for (int j = 0; j < dim; j++) { dot += qs[(size_t) i * dim + j] * docs.value(t, j); acc = std::fma(qs[(size_t) i * dim + j], docs.widened(t, j), acc); }
                    best = std::max(best, dot);
                    fbest = std::max(fbest, storage == 0 ? acc : acc * docs.scales[t]);
                }
                want += best; bound += std::sqrt(qn) * dmax; fast += fbest;
            }
            double tol = (dim + (qoff[q + 1] - qoff[q]) + 4) * 0x1p-24 * bound + 6e-8 * std::fabs(want);
            pairs_checked++;
            if (!(std::fabs(out[p] - want) <= tol)) { failures++; std::printf("FAIL storage %d dim %d pair %d (query %d, doc %d): %.9g vs %.9g (tol %.3g)\n", storage, dim, p, q, d, out[p], want, tol); }
            if (out[p] == fast) bit_identical++;
            else { failures++; std::printf("FAIL storage %d dim %d pair %d: %.9g differs from FastMaxSim's arithmetic %.9g\n", storage, dim, p, out[p], fast); }
        }
    }
    std::printf("%d of %d pairs failed; %d bit-identical to FastMaxSim's arithmetic\n", failures, pairs_checked, bit_identical);
    return failures != 0;
}
