// Image kernels:
//   preprocess_u8_f32  a batch of decoded 8-bit images of any size -> model input out[b, C, H, W] (float32):
//                      colour conversion (PIL "L" luma (r*19595 + g*38470 + b*7471 + 0x8000) >> 16, or gray
//                      replicated to RGB), resize with PIL's separable filters (NEAREST: input floor((i + 0.5) *
//                      in / out); BILINEAR / BICUBIC (a = -0.5): taps and weights as Resampler.Coefficients, the
//                      support widened by the scale when shrinking (antialias), weights normalised to sum 1;
//                      BICUBIC clamped to 0..255), optionally the shorter side to shortest_edge then a centre crop
//                      (top = rint((rh - H) / 2)), then (s * rescale - mean[c]) / std[c].
//   patchify_f32       im2col of pixels[b, c, s, s] into out[b * (s/p)^2, c * p * p]: patches in row-major grid
//                      order, each row in (c, ky, kx) order (the ViT patch embedding's convolution as one GEMM).
//
// preprocess_u8_f32: image i is pixels[offsets[i] .. offsets[i + 1]), interleaved [height, width, channels]
// (channels 1 or 3), with its size in widths[i] / heights[i]; the launcher has checked every value on the host.
// Grid (ceil(H * W / 256), b), 256 threads: one thread per output pixel, all output channels. Each thread derives
// its image's geometry (resized size, crop offsets) and its filter windows on the fly, in double precision with
// the same operations, in the same order, as the CPU twin (ImagePreprocessor + Resampler): __d*_rn / __f*_rn
// intrinsics keep nvcc from contracting a multiply-add into an FMA, which would round differently. The separable
// filter runs as one 2-D pass: for each tap row, the horizontal sum (double) is rounded to float, as the CPU's
// intermediate [inH, outW] image is, then accumulated vertically (double) and rounded to float. Weights are
// recomputed per tap instead of tabulated (no shared memory; double arithmetic, which is cheap on sm_80 / sm_90
// data-centre parts and slow on consumer GPUs, dominates only for strong shrinks).
// No aliasing: out is written once per element, the inputs are read only.
//
// patchify_f32: grid-stride over the output elements (256 threads); writes coalesced, reads contiguous along kx.
// out must not alias pixels.
// CPU twin: backend/cpu/reference/ImageReference (ImagePreprocessor for the maths). Launcher:
// backend/cuda/kernels/ImageKernel.

#include <math.h>

namespace inflow_image {   // named: an anonymous namespace's symbols carry a path hash, so fatbins would differ by checkout

constexpr int INTERP_NEAREST = 0;
constexpr int INTERP_BILINEAR = 1;
constexpr int INTERP_BICUBIC = 2;

__device__ __forceinline__ double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ double div_rn(double a, double b) { return __ddiv_rn(a, b); }

// Interpolation.weight: the filter at distance x (input pixels at scale 1).
__device__ double filter_weight(int interpolation, double x) {
    x = fabs(x);
    if (interpolation == INTERP_BILINEAR) {
        return x < 1.0 ? sub_rn(1.0, x) : 0.0;
    }
    const double a = -0.5;   // BICUBIC
    if (x < 1.0) {
        return add_rn(mul_rn(mul_rn(sub_rn(mul_rn(add_rn(a, 2.0), x), add_rn(a, 3.0)), x), x), 1.0);
    }
    if (x < 2.0) {
        return mul_rn(sub_rn(mul_rn(add_rn(mul_rn(sub_rn(x, 5.0), x), 8.0), x), 4.0), a);
    }
    return 0.0;
}

// The taps of output index i on an axis of `in` inputs scaled to `out` (Resampler.Coefficients.of): inputs
// [lo, hi), weight of input j = filter_weight((j - centre + 0.5) / filter_scale) / sum (unnormalised when sum is 0).
struct Window {
    int lo;
    int hi;
    double centre;
    double filter_scale;
    double sum;
};

__device__ __forceinline__ double raw_weight(int interpolation, const Window& w, int j) {
    return filter_weight(interpolation, div_rn(add_rn(sub_rn((double)j, w.centre), 0.5), w.filter_scale));
}

__device__ __forceinline__ double weight(int interpolation, const Window& w, int j) {
    const double v = raw_weight(interpolation, w, j);
    return w.sum != 0.0 ? div_rn(v, w.sum) : v;
}

__device__ Window window(int interpolation, int i, int in, int out) {
    const double scale = div_rn((double)in, (double)out);
    const double filter_scale = fmax(scale, 1.0);
    const double support = mul_rn(interpolation == INTERP_BICUBIC ? 2.0 : 1.0, filter_scale);
    Window w;
    w.centre = mul_rn(add_rn((double)i, 0.5), scale);
    w.filter_scale = filter_scale;
    w.lo = max((int)add_rn(sub_rn(w.centre, support), 0.5), 0);
    w.hi = min((int)add_rn(add_rn(w.centre, support), 0.5), in);
    w.sum = 0.0;
    double sum = 0.0;
    for (int j = w.lo; j < w.hi; j++) {
        sum = add_rn(sum, raw_weight(interpolation, w, j));
    }
    w.sum = sum;
    return w;
}

// Resampler.nearestIndex: min(in - 1, floor((i + 0.5) * in / out)).
__device__ __forceinline__ int nearest_index(int i, int in, int out) {
    return min(in - 1, (int)floor(div_rn(mul_rn(add_rn((double)i, 0.5), (double)in), (double)out)));
}

// Sample c (of out_c output channels) at column x, row y of an image of in_c channels, after the colour step.
__device__ __forceinline__ int sample(const unsigned char* image, int width, int in_c, int out_c, int x, int y, int c) {
    const unsigned char* p = image + ((size_t)y * width + x) * in_c;
    if (in_c == out_c) {
        return p[c];
    }
    if (out_c == 1) {   // RGB -> PIL "L"
        return ((int)p[0] * 19595 + (int)p[1] * 38470 + (int)p[2] * 7471 + 0x8000) >> 16;
    }
    return p[0];        // gray -> RGB
}

}  // namespace inflow_image

using namespace inflow_image;

extern "C" __global__ void __launch_bounds__(256)
preprocess_u8_f32(const unsigned char* pixels, const int* offsets, const int* widths, const int* heights,
                  const int* channels, float* out, int out_c, int out_h, int out_w, int interpolation,
                  int shortest_edge, float rescale, float mean0, float mean1, float mean2, float std0, float std1,
                  float std2) {
    const int b = blockIdx.y;
    const int plane = out_h * out_w;
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= plane) {
        return;
    }
    const int ox = p % out_w;
    const int oy = p / out_w;
    const int w = widths[b];
    const int h = heights[b];
    const int in_c = channels[b];
    const unsigned char* image = pixels + offsets[b];

    // geometry: resized size, then the centre crop's offset into it
    int rw = out_w;
    int rh = out_h;
    if (shortest_edge != 0) {
        if (w <= h) {
            rw = shortest_edge;
            rh = (int)((long long)shortest_edge * h / w);
        } else {
            rh = shortest_edge;
            rw = (int)((long long)shortest_edge * w / h);
        }
    }
    const int rx = ox + (int)rint((rw - out_w) / 2.0);
    const int ry = oy + (int)rint((rh - out_h) / 2.0);

    float v[3] = {0.0f, 0.0f, 0.0f};
    if (rw == w && rh == h) {                       // no resize (the CPU skips it too)
#pragma unroll
        for (int c = 0; c < 3; c++) {
            if (c < out_c) {
                v[c] = (float)sample(image, w, in_c, out_c, rx, ry, c);
            }
        }
    } else if (interpolation == INTERP_NEAREST) {
        const int sx = nearest_index(rx, w, rw);
        const int sy = nearest_index(ry, h, rh);
#pragma unroll
        for (int c = 0; c < 3; c++) {
            if (c < out_c) {
                v[c] = (float)sample(image, w, in_c, out_c, sx, sy, c);
            }
        }
    } else {
        const Window wx = window(interpolation, rx, w, rw);
        const Window wy = window(interpolation, ry, h, rh);
        double acc[3] = {0.0, 0.0, 0.0};
        for (int y = wy.lo; y < wy.hi; y++) {
            double row[3] = {0.0, 0.0, 0.0};
            for (int x = wx.lo; x < wx.hi; x++) {
                const double k = weight(interpolation, wx, x);
#pragma unroll
                for (int c = 0; c < 3; c++) {
                    if (c < out_c) {
                        row[c] = add_rn(row[c], mul_rn(k, (double)sample(image, w, in_c, out_c, x, y, c)));
                    }
                }
            }
            const double k = weight(interpolation, wy, y);
#pragma unroll
            for (int c = 0; c < 3; c++) {
                acc[c] = add_rn(acc[c], mul_rn(k, (double)(float)row[c]));   // the CPU's float intermediate image
            }
        }
#pragma unroll
        for (int c = 0; c < 3; c++) {
            v[c] = (float)acc[c];
            if (interpolation == INTERP_BICUBIC) {
                v[c] = fmaxf(0.0f, fminf(255.0f, v[c]));
            }
        }
    }

    float* dst = out + (size_t)b * out_c * plane + p;
#pragma unroll
    for (int c = 0; c < 3; c++) {
        if (c < out_c) {
            const float mean = c == 0 ? mean0 : (c == 1 ? mean1 : mean2);
            const float stdev = c == 0 ? std0 : (c == 1 ? std1 : std2);
            dst[(size_t)c * plane] = __fdiv_rn(__fsub_rn(__fmul_rn(v[c], rescale), mean), stdev);
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
patchify_f32(const float* pixels, float* out, int channels, int size, int patch, long long n) {
    const int grid = size / patch;
    const int k = channels * patch * patch;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)n; i += stride) {
        const size_t row = i / k;                 // b * grid^2 + gy * grid + gx
        const int col = (int)(i - row * k);       // (ch * patch + ky) * patch + kx
        const size_t image = row / (grid * grid);
        const int cell = (int)(row - image * grid * grid);
        const int gy = cell / grid;
        const int gx = cell - gy * grid;
        const int ch = col / (patch * patch);
        const int r = col - ch * patch * patch;
        const int ky = r / patch;
        const int kx = r - ky * patch;
        out[i] = pixels[((image * channels + ch) * size + (size_t)gy * patch + ky) * size + (size_t)gx * patch + kx];
    }
}
