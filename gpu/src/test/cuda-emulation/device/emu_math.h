// emu_math.h: CUDA's math intrinsics on the host. The explicitly rounded ones (__fadd_rn, __fmaf_rn, __dmul_rn, ...)
// are the IEEE round-to-nearest operations they name (the build uses -ffp-contract=off, so a * b + c is never fused
// unless the source says fma). The standard functions (expf, erff, sqrtf, ...) are glibc's: correctly rounded or
// within 1 ulp, where CUDA's are within 1-2 ulp, so those results may differ in the last bits from a GPU's. The fast
// approximations (__expf, __fdividef, rsqrtf, ...) are computed accurately here: a GPU's are less accurate.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace emu {
template <class To, class From> inline To bit_cast(From v) {
    static_assert(sizeof(To) == sizeof(From));
    To r;
    std::memcpy(&r, &v, sizeof r);
    return r;
}
}  // namespace emu

// ---- explicitly rounded arithmetic -----------------------------------------------------------------------------
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __frsqrt_rn(float a) { return (float) (1.0 / std::sqrt((double) a)); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline double __drcp_rn(double a) { return 1.0 / a; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }

// ---- fast approximations (accurate here) -----------------------------------------------------------------------
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline void __sincosf(float x, float* s, float* c) { *s = std::sin(x); *c = std::cos(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __saturatef(float x) { return std::isnan(x) ? 0.0f : (x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x)); }

// ---- reinterpretation and conversion ---------------------------------------------------------------------------
inline float __int_as_float(int v) { return emu::bit_cast<float>(v); }
inline int __float_as_int(float v) { return emu::bit_cast<int>(v); }
inline float __uint_as_float(unsigned v) { return emu::bit_cast<float>(v); }
inline unsigned __float_as_uint(float v) { return emu::bit_cast<unsigned>(v); }
inline double __longlong_as_double(long long v) { return emu::bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return emu::bit_cast<long long>(v); }
inline int __double2hiint(double v) { return (int) (emu::bit_cast<unsigned long long>(v) >> 32); }
inline int __double2loint(double v) { return (int) (unsigned) emu::bit_cast<unsigned long long>(v); }
inline double __hiloint2double(int hi, int lo) {
    return emu::bit_cast<double>(((unsigned long long) (unsigned) hi << 32) | (unsigned) lo);
}
inline int __float2int_rn(float v) { return (int) std::nearbyint(v); }
inline int __float2int_rz(float v) { return (int) std::trunc(v); }
inline int __float2int_rd(float v) { return (int) std::floor(v); }
inline int __float2int_ru(float v) { return (int) std::ceil(v); }
inline unsigned __float2uint_rn(float v) { return (unsigned) std::nearbyint(v); }
inline float __int2float_rn(int v) { return (float) v; }
inline float __uint2float_rn(unsigned v) { return (float) v; }
inline float __ll2float_rn(long long v) { return (float) v; }
inline float __double2float_rn(double v) { return (float) v; }
inline int __double2int_rn(double v) { return (int) std::nearbyint(v); }

// ---- integer intrinsics ----------------------------------------------------------------------------------------
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz((unsigned) v); }
inline int __clzll(long long v) { return v == 0 ? 64 : __builtin_clzll((unsigned long long) v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline unsigned __brev(unsigned v) {
    unsigned r = 0;
    for (int i = 0; i < 32; i++) r |= ((v >> i) & 1u) << (31 - i);
    return r;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned) (((unsigned long long) a * b) >> 32); }
inline int __mulhi(int a, int b) { return (int) (((long long) a * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long) (((unsigned __int128) a * b) >> 64);
}
inline long long __mul64hi(long long a, long long b) { return (long long) (((__int128) a * b) >> 64); }
