#include "shim.h"
thread_local dim3 threadIdx;
thread_local dim3 blockIdx;
dim3 blockDim;
std::barrier<>* g_block_barrier;
std::barrier<>* g_warp_barrier[8];
float g_xchg[8][32];
alignas(16) unsigned char smem[48 * 1024];
#include "../../main/cuda/retrieval.cu"
#include <cstdio>
#include <functional>
#include <random>
#include <map>

template <class F> void launch(int gx, int gy, F kernel) {
    blockDim.x = 256;
    for (int by = 0; by < gy; by++) for (int bx = 0; bx < gx; bx++) {
        std::barrier<> bb(256);
        std::vector<std::unique_ptr<std::barrier<>>> wb;
        g_block_barrier = &bb;
        for (int w = 0; w < 8; w++) { wb.emplace_back(new std::barrier<>(32)); g_warp_barrier[w] = wb.back().get(); }
        std::memset(smem, 0xcd, sizeof smem);
        std::vector<std::thread> ts;
        for (int t = 0; t < 256; t++) ts.emplace_back([&, t] { threadIdx.x = t; blockIdx.x = bx; blockIdx.y = by; kernel(); });
        for (auto& th : ts) th.join();
    }
}

static uint16_t to_half(float f) {  // round to nearest even, normals and subnormals (test values are small)
    uint32_t b; std::memcpy(&b, &f, 4);
    uint32_t sign = (b >> 16) & 0x8000; float a = std::fabs(f);
    if (a < 6.1035156e-05f) { int m = (int) std::nearbyint(a * 16777216.0f); return sign | m; }
    int e; float m = std::frexp(a, &e);       // a = m 2^e, m in [0.5, 1)
    int mant = (int) std::nearbyint((m * 2 - 1) * 1024); int exp = e - 1 + 15;
    if (mant == 1024) { mant = 0; exp++; }
    return sign | (exp << 10) | mant;
}

struct Chunk { int storage, rows, dim; std::vector<float> f32; std::vector<uint16_t> f16; std::vector<int8_t> i8;
    std::vector<float> scales, norms; std::vector<long long> tie; std::vector<int> codes, live;
    float value(int r, int j) const { size_t i = (size_t) r * dim + j;
        return storage == 0 ? f32[i] : storage == 1 ? __half2float(f16[i]) : scales[r] * (float) i8[i]; } };

int main(int argc, char** argv) {
    std::mt19937 rng(7);
    std::normal_distribution<float> g;
    int failures = 0, cases = 0;
    int only_storage = argc > 1 ? atoi(argv[1]) : -1;
    for (int storage = 0; storage < 3; storage++)
    for (int metric = 0; metric < 3; metric++)
    for (int dim : {3, 40})
    for (int k : {1, 10, 300}) {
        if (only_storage >= 0 && storage != only_storage) continue;
        if (argc > 2 && (metric != atoi(argv[2]) || k != (argc > 3 ? atoi(argv[3]) : 10))) continue;
        int nq = 6;
        std::printf("case storage %d metric %d dim %d k %d\n", storage, metric, dim, k); std::fflush(stdout);
        std::vector<Chunk> chunks;
        for (int ci = 0; ci < 2; ci++) {
            Chunk c; c.storage = storage; c.rows = ci == 0 ? 1500 : 700; c.dim = dim;
            std::vector<float> v((size_t) c.rows * dim);
            for (auto& x : v) x = g(rng) * 0.1f;
            for (int r = 10; r < 30; r++) std::copy(v.begin(), v.begin() + dim, v.begin() + (size_t) r * dim); // ties
            c.f32 = v; c.f16.resize(v.size()); c.i8.resize(v.size()); c.scales.resize(c.rows);
            for (int r = 0; r < c.rows; r++) {
                float mx = 0; for (int j = 0; j < dim; j++) mx = std::max(mx, std::fabs(v[(size_t) r * dim + j]));
                float sc = mx == 0 ? 0 : mx / 127.f; c.scales[r] = sc;
                for (int j = 0; j < dim; j++) { size_t i = (size_t) r * dim + j; c.f16[i] = to_half(v[i]);
                    int q = sc == 0 ? 0 : (int) std::lround(v[i] / sc); c.i8[i] = (int8_t) std::max(-127, std::min(127, q)); }
            }
            c.norms.resize(c.rows); c.tie.resize(c.rows); c.codes.resize(c.rows); c.live.resize(c.rows);
            for (int r = 0; r < c.rows; r++) { double sq = 0; for (int j = 0; j < dim; j++) { double x = c.value(r, j); sq += x * x; }
                c.norms[r] = (float) std::sqrt(sq); c.tie[r] = rng() % 50; c.codes[r] = rng() % 3; c.live[r] = rng() % 10 != 0; }
            chunks.push_back(c);
        }
        std::vector<float> qs((size_t) nq * dim); for (auto& x : qs) x = g(rng);
        std::copy(chunks[0].f32.begin(), chunks[0].f32.begin() + dim, qs.begin() + dim);   // query 1 = the tied vector
        std::vector<double> qn(nq); std::vector<int> qc(nq);
        for (int q = 0; q < nq; q++) { double s = 0; for (int j = 0; j < dim; j++) s += (double) qs[q * dim + j] * qs[q * dim + j]; qn[q] = std::sqrt(s); qc[q] = q == 4 ? 1 : -1; }
        // the plan, as RetrievalKernel.plan
        auto pow2 = [](int n) { int p = 1; while (p < n) p <<= 1; return p; };
        int slice_rows = std::max(1024, 8 * k), k_out = std::min(k, slice_rows);
        int cap = 2 * pow2(std::max(k_out, 64)), merge_cap = 2 * pow2(std::max(k, 256));
        int qt = 4; while (qt > 1 && qt * (dim * 4 + cap * 8) + 64 > 48 * 1024) qt /= 2;
        int total = 0; std::vector<int> base;
        for (auto& c : chunks) { base.push_back(total); total += ((c.rows + slice_rows - 1) / slice_rows) * k_out; }
        std::vector<float> cs((size_t) nq * total); std::vector<long long> ct(cs.size()); std::vector<int> cc(cs.size()), cr(cs.size());
        for (int ci = 0; ci < 2; ci++) {
            Chunk& c = chunks[ci];
            int slices = (c.rows + slice_rows - 1) / slice_rows, tiles = (nq + qt - 1) / qt;
            launch(slices, tiles, [&] {
                if (storage == 0) topk_slice_f32(c.f32.data(), c.scales.data(), c.norms.data(), c.tie.data(), c.codes.data(), c.live.data(), c.rows, dim, ci, qs.data(), qn.data(), qc.data(), nq, qt, metric, slice_rows, k_out, cap, cs.data(), ct.data(), cc.data(), cr.data(), total, base[ci]);
                else if (storage == 1) topk_slice_f16(c.f16.data(), c.scales.data(), c.norms.data(), c.tie.data(), c.codes.data(), c.live.data(), c.rows, dim, ci, qs.data(), qn.data(), qc.data(), nq, qt, metric, slice_rows, k_out, cap, cs.data(), ct.data(), cc.data(), cr.data(), total, base[ci]);
                else topk_slice_i8((const signed char*) c.i8.data(), c.scales.data(), c.norms.data(), c.tie.data(), c.codes.data(), c.live.data(), c.rows, dim, ci, qs.data(), qn.data(), qc.data(), nq, qt, metric, slice_rows, k_out, cap, cs.data(), ct.data(), cc.data(), cr.data(), total, base[ci]);
            });
        }
        std::vector<float> os((size_t) nq * k); std::vector<int> oc(os.size()), orow(os.size()), ocount(nq);
        launch(nq, 1, [&] { topk_merge(cs.data(), ct.data(), cc.data(), cr.data(), total, k, merge_cap, os.data(), oc.data(), orow.data(), ocount.data()); });
        // oracle
        for (int q = 0; q < nq; q++) {
            struct H { double s; long long t; int c, r; };
            std::vector<H> hs; double maxn = 0;
            for (int ci = 0; ci < 2; ci++) { auto& c = chunks[ci]; for (int r = 0; r < c.rows; r++) { maxn = std::max(maxn, (double) c.norms[r]);
                if (!c.live[r] || (qc[q] >= 0 && c.codes[r] != qc[q])) continue;
                double dot = 0, dsq = 0; for (int j = 0; j < dim; j++) { double x = c.value(r, j); dot += qs[q * dim + j] * x; dsq += x * x; }
                double dn = std::sqrt(dsq);
                double s = metric == 0 ? dot : metric == 1 ? (qn[q] == 0 || dn == 0 ? 0 : dot / (qn[q] * dn)) : 2 * dot - qn[q] * qn[q] - dn * dn;
                hs.push_back({s, c.tie[r], ci, r}); } }
            std::sort(hs.begin(), hs.end(), [](const H& a, const H& b) { if (a.s != b.s) return a.s > b.s; if (a.t != b.t) return a.t < b.t; if (a.c != b.c) return a.c < b.c; return a.r < b.r; });
            int n = std::min<int>(k, hs.size());
            double scale = metric == 0 ? qn[q] * maxn : metric == 1 ? 1 : 2 * qn[q] * maxn + maxn * maxn;
            cases++;
            bool ok = ocount[q] == n;
            int swaps = 0;
            for (int i = 0; ok && i < n; i++) {
                double tol = 3e-5 * scale + 6e-8 * std::fabs(hs[i].s) + 1e-30;
                int c = oc[q * k + i], r = orow[q * k + i];
                if (std::fabs(os[q * k + i] - hs[i].s) > tol) { ok = false; std::printf("score rank %d: %g vs %g\n", i, os[q * k + i], hs[i].s); }
                if (c != hs[i].c || r != hs[i].r) {
                    swaps++;
                    auto it = std::find_if(hs.begin(), hs.end(), [&](const H& h) { return h.c == c && h.r == r; });
                    if (it == hs.end() || std::fabs(it->s - hs[i].s) > 2 * tol) { ok = false; std::printf("rank %d: got %d/%d expected %d/%d\n", i, c, r, hs[i].c, hs[i].r); }
                    else if (it->s == hs[i].s) { ok = false; std::printf("rank %d: exact tie out of order\n", i); }
                }
            }
            if (!ok) { failures++; std::printf("FAIL storage %d metric %d dim %d k %d query %d: count %d vs %d\n", storage, metric, dim, k, q, ocount[q], n); }
            else if (swaps) std::printf("storage %d metric %d dim %d k %d query %d: %d near-tie swaps\n", storage, metric, dim, k, q, swaps);
        }
    }
    std::printf("%d of %d query cases failed\n", failures, cases);
    return failures != 0;
}
