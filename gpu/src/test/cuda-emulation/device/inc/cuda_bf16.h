// cuda_bf16.h stand-in: __nv_bfloat16 (the high 16 bits of a float) with round-to-nearest-even conversions
// (__float2bfloat16 and __float2bfloat16_rn both round to nearest, as in CUDA; NaN becomes 0x7fff) and exact
// conversion to float. Arithmetic rounds the float result of the operation (harmless double rounding, as for half).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "emu_round.h"

namespace emu {

inline uint16_t float_to_bf16_bits(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fff;      // NaN
    x += 0x7fffu + ((x >> 16) & 1u);                          // ties to even; overflow carries into infinity
    return (uint16_t) (x >> 16);
}

inline uint16_t double_to_bf16_bits(double v) {
    if (std::isnan(v)) return 0x7fff;
    double r = round_to_format(v, 8, -126);
    float f = r >= 0x1p128 ? INFINITY : (float) r;            // exact: r has 8 significant bits
    return float_to_bf16_bits(std::signbit(v) ? -f : f);       // exact: nothing left to round
}

inline float bf16_bits_to_float(uint16_t h) {
    uint32_t x = (uint32_t) h << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
}

}  // namespace emu

struct __nv_bfloat16 {
    uint16_t __x;
    __nv_bfloat16() = default;
    __nv_bfloat16(float f) : __x(emu::float_to_bf16_bits(f)) {}
    __nv_bfloat16(double d) : __x(emu::double_to_bf16_bits(d)) {}
    operator float() const { return emu::bf16_bits_to_float(__x); }
};

struct __nv_bfloat16_raw {
    unsigned short x;
};

inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rz(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    __nv_bfloat16 b;
    b.__x = ((x & 0x7fffffffu) > 0x7f800000u) ? 0x7fff : (uint16_t) (x >> 16);
    return b;
}
inline __nv_bfloat16 __double2bfloat16(double d) { return __nv_bfloat16(d); }
inline float __bfloat162float(__nv_bfloat16 h) { return emu::bf16_bits_to_float(h.__x); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short v) {
    __nv_bfloat16 h;
    h.__x = v;
    return h;
}

inline __nv_bfloat16 __hadd(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat16(__bfloat162float(a) + __bfloat162float(b)); }
inline __nv_bfloat16 __hsub(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat16(__bfloat162float(a) - __bfloat162float(b)); }
inline __nv_bfloat16 __hmul(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat16(__bfloat162float(a) * __bfloat162float(b)); }
inline __nv_bfloat16 __hdiv(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat16(__bfloat162float(a) / __bfloat162float(b)); }
inline __nv_bfloat16 __hneg(__nv_bfloat16 a) { return __ushort_as_bfloat16(a.__x ^ 0x8000u); }
inline __nv_bfloat16 operator+(__nv_bfloat16 a, __nv_bfloat16 b) { return __hadd(a, b); }
inline __nv_bfloat16 operator-(__nv_bfloat16 a, __nv_bfloat16 b) { return __hsub(a, b); }
inline __nv_bfloat16 operator*(__nv_bfloat16 a, __nv_bfloat16 b) { return __hmul(a, b); }
inline __nv_bfloat16 operator/(__nv_bfloat16 a, __nv_bfloat16 b) { return __hdiv(a, b); }
inline __nv_bfloat16 operator-(__nv_bfloat16 a) { return __hneg(a); }
