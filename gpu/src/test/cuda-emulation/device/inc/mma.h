// mma.h stand-in: nvcuda::wmma for 16 x 16 x 16 tiles of __half or __nv_bfloat16 with float accumulators, and of
// signed char / unsigned char with int accumulators (the s8 / u8 tensor-core path of sm_72 and newer).
//
// NVIDIA leaves the mapping of fragment elements to lanes unspecified, so this emulation picks one:
//   matrix_a / matrix_b: every lane holds the whole 16 x 16 tile (x[r * 16 + c], num_elements = 256);
//   accumulator: lane l holds row l / 2, columns 8 (l % 2) .. + 8 (x[0..8), num_elements = 8).
// Kernels that only apply the same operation to every x[i] work with any mapping; a kernel that relies on which
// element x[i] is (the PTX fragment layouts) would be wrong here, so none of gemm.cu's code may do that.
//
// load_matrix_sync and store_matrix_sync are warp collectives (the guide: they wait until every lane arrives):
// each checks that all lanes pass the same pointer, ldm and layout, that the pointer is 32-byte aligned and ldm a
// multiple of 16 bytes (as the hardware requires). A load then copies the tile into each lane and waits again
// before anyone goes on (so no lane overwrites the tile while another still reads it); a store writes each lane's
// own 8 elements once, with no trailing wait, so as on a GPU other lanes' elements are visible only after a
// __syncwarp or __syncthreads. mma_sync computes each of the lane's elements as c + sum_k a[r][k] b[k][c] in
// float, k = 0..15 in order, each product exact (16-bit inputs), each addition rounded to nearest: one valid
// FP32-accumulation order; a tensor core's internal order and rounding may differ within the contract's tolerance.
// With 8-bit inputs mma_sync computes c + sum_k a[r][k] b[k][c] exactly in int32 with wrap-around on overflow (the
// hardware's mma without .satfinite, which is what wmma::mma_sync uses unless satf is set): any order gives the
// same bits, so the integer path is emulated exactly.
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <type_traits>

#include "cuda_bf16.h"
#include "cuda_fp16.h"
#include "emu.h"

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void> class fragment {
    static_assert(M == 16 && N == 16 && K == 16 && !std::is_same_v<Use, Use>,
                  "the emulator's wmma supports 16x16x16 half / bf16 inputs with float accumulators and 8-bit "
                  "inputs with int accumulators only");
};

template <class T, class Layout> struct input_fragment {
    static_assert(std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16> || std::is_same_v<T, signed char> ||
                      std::is_same_v<T, unsigned char>,
                  "the emulator's wmma inputs are __half, __nv_bfloat16, signed char or unsigned char");
    static_assert(std::is_same_v<Layout, row_major> || std::is_same_v<Layout, col_major>,
                  "matrix_a / matrix_b fragments need row_major or col_major");
    static constexpr int num_elements = 256;
    T x[256];   // x[r * 16 + c]: row r, column c of the logical tile
};

template <class T, class Layout> class fragment<matrix_a, 16, 16, 16, T, Layout> : public input_fragment<T, Layout> {};
template <class T, class Layout> class fragment<matrix_b, 16, 16, 16, T, Layout> : public input_fragment<T, Layout> {};

template <class T> struct accumulator_fragment {
    static constexpr int num_elements = 8;
    T x[8];   // row t_lane / 2, columns 8 * (t_lane % 2) + i
};

template <> class fragment<accumulator, 16, 16, 16, float, void> : public accumulator_fragment<float> {};
template <> class fragment<accumulator, 16, 16, 16, int, void> : public accumulator_fragment<int> {};

namespace detail {

inline unsigned acc_row() { return emu::t_lane / 2; }
inline unsigned acc_col0() { return 8 * (emu::t_lane % 2); }

inline void enter(const void* p, unsigned ldm, unsigned element_bytes, int layout, const std::source_location& site,
                  const char* what) {
    emu::collective_enter(0xffffffffu, reinterpret_cast<uint64_t>(p), (uint64_t(ldm) << 8) | unsigned(layout), true,
                          site, what);
    if (reinterpret_cast<uintptr_t>(p) % 32 != 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%p", p);
        emu::fault(std::string(what) + " at " + emu::describe(site) + ": pointer " + buf +
                   " is not 32-byte (256-bit) aligned");
    }
    if ((ldm * element_bytes) % 16 != 0) {
        emu::fault(std::string(what) + " at " + emu::describe(site) + ": ldm " + std::to_string(ldm) +
                   " is not a multiple of " + std::to_string(16 / element_bytes) + " elements");
    }
}

template <class Layout> constexpr int layout_code() { return std::is_same_v<Layout, row_major> ? 0 : 1; }

inline float to_float(__half v) { return __half2float(v); }
inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T> constexpr bool is_8bit = std::is_same_v<T, signed char> || std::is_same_v<T, unsigned char>;

}  // namespace detail

template <class T, class Layout>
inline void fill_fragment(input_fragment<T, Layout>& f, std::type_identity_t<T> v) {
    for (int i = 0; i < 256; i++) f.x[i] = v;
}

template <class A> inline void fill_fragment(accumulator_fragment<A>& f, std::type_identity_t<A> v) {
    for (int i = 0; i < 8; i++) f.x[i] = v;
}

template <class T, class Layout>
inline void load_matrix_sync(input_fragment<T, Layout>& f, const T* p, unsigned ldm,
                             std::source_location site = std::source_location::current()) {
    detail::enter(p, ldm, sizeof(T), detail::layout_code<Layout>(), site, "wmma::load_matrix_sync");
    for (unsigned r = 0; r < 16; r++) {
        for (unsigned c = 0; c < 16; c++) {
            f.x[r * 16 + c] = std::is_same_v<Layout, row_major> ? p[(size_t) r * ldm + c] : p[(size_t) c * ldm + r];
        }
    }
    emu::warp_barrier(site);   // nobody writes the tile before every lane has read it
}

template <class A>
inline void load_matrix_sync(accumulator_fragment<A>& f, const std::type_identity_t<A>* p, unsigned ldm,
                             layout_t layout, std::source_location site = std::source_location::current()) {
    detail::enter(p, ldm, sizeof(A), layout, site, "wmma::load_matrix_sync");
    const unsigned r = detail::acc_row(), c0 = detail::acc_col0();
    for (unsigned i = 0; i < 8; i++) {
        const unsigned c = c0 + i;
        f.x[i] = layout == mem_row_major ? p[(size_t) r * ldm + c] : p[(size_t) c * ldm + r];
    }
    emu::warp_barrier(site);   // nobody writes the tile before every lane has read it
}

template <class A>
inline void store_matrix_sync(std::type_identity_t<A>* p, const accumulator_fragment<A>& f, unsigned ldm,
                              layout_t layout, std::source_location site = std::source_location::current()) {
    detail::enter(p, ldm, sizeof(A), layout, site, "wmma::store_matrix_sync");
    const unsigned r = detail::acc_row(), c0 = detail::acc_col0();
    for (unsigned i = 0; i < 8; i++) {
        const unsigned c = c0 + i;
        (layout == mem_row_major ? p[(size_t) r * ldm + c] : p[(size_t) c * ldm + r]) = f.x[i];
    }
}

template <class T, class LayoutA, class LayoutB>
    requires(!detail::is_8bit<T>)
inline void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, LayoutA>& a,
                     const fragment<matrix_b, 16, 16, 16, T, LayoutB>& b,
                     const fragment<accumulator, 16, 16, 16, float>& c) {
    const unsigned r = detail::acc_row(), c0 = detail::acc_col0();
    float out[8];
    for (unsigned i = 0; i < 8; i++) {
        float acc = c.x[i];
        for (unsigned k = 0; k < 16; k++) {
            acc += detail::to_float(a.x[r * 16 + k]) * detail::to_float(b.x[k * 16 + c0 + i]);
        }
        out[i] = acc;
    }
    for (unsigned i = 0; i < 8; i++) d.x[i] = out[i];
}

// 8-bit inputs, int32 accumulators: exact products, sums modulo 2^32 (computed unsigned, so no C++ overflow).
template <class T, class LayoutA, class LayoutB>
    requires detail::is_8bit<T>
inline void mma_sync(fragment<accumulator, 16, 16, 16, int>& d, const fragment<matrix_a, 16, 16, 16, T, LayoutA>& a,
                     const fragment<matrix_b, 16, 16, 16, T, LayoutB>& b,
                     const fragment<accumulator, 16, 16, 16, int>& c, bool satf = false) {
    if (satf) {
        emu::fault("wmma::mma_sync: satf (saturating int accumulation) is not emulated");
    }
    const unsigned r = detail::acc_row(), c0 = detail::acc_col0();
    int out[8];
    for (unsigned i = 0; i < 8; i++) {
        uint32_t acc = (uint32_t) c.x[i];
        for (unsigned k = 0; k < 16; k++) {
            acc += (uint32_t) ((int) a.x[r * 16 + k] * (int) b.x[k * 16 + c0 + i]);
        }
        out[i] = (int) acc;
    }
    for (unsigned i = 0; i < 8; i++) d.x[i] = out[i];
}

}  // namespace wmma
}  // namespace nvcuda
