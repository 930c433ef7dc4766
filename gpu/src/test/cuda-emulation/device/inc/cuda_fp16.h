// cuda_fp16.h stand-in: __half (IEEE binary16) with round-to-nearest-even conversions from float and double
// (subnormals, overflow to infinity, NaN as 0x7fff as CUDA gives it) and exact conversion to float. Arithmetic
// rounds the float result of the operation to half: float has more than 2 p + 2 bits, so rounding twice gives
// the correctly rounded half result for + - * /.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "emu_round.h"

namespace emu {

inline uint16_t double_to_half_bits(double v) {
    if (std::isnan(v)) return 0x7fff;
    uint16_t sign = std::signbit(v) ? 0x8000u : 0u;
    double r = round_to_format(v, 11, -14);
    if (r >= 65536.0) return sign | 0x7c00u;                       // also infinities
    if (r < 0x1p-14) return sign | (uint16_t) (r * 0x1p24);          // subnormal (or zero): units of 2^-24
    int e = std::ilogb(r);                                           // -14 .. 15
    uint16_t man = (uint16_t) ((std::ldexp(r, -e) - 1.0) * 1024.0);  // exact
    return sign | (uint16_t) ((e + 15) << 10) | man;
}

inline float half_bits_to_float(uint16_t h) {
    int exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float mag = exp == 0 ? std::ldexp((float) man, -24)
              : exp == 31 ? (man == 0 ? INFINITY : NAN)
              : std::ldexp((float) (1024 + man), exp - 25);
    return (h & 0x8000u) ? -mag : mag;
}

}  // namespace emu

struct __half {
    uint16_t __x;
    __half() = default;
    __half(float f) : __x(emu::double_to_half_bits(f)) {}
    __half(double d) : __x(emu::double_to_half_bits(d)) {}
    operator float() const { return emu::half_bits_to_float(__x); }
};

struct __half_raw {
    unsigned short x;
};

inline __half __float2half_rn(float f) { return __half(f); }
inline __half __float2half(float f) { return __half(f); }
inline __half __double2half(double d) { return __half(d); }
inline float __half2float(__half h) { return emu::half_bits_to_float(h.__x); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __ushort_as_half(unsigned short v) {
    __half h;
    h.__x = v;
    return h;
}

inline __half __hadd(__half a, __half b) { return __half(__half2float(a) + __half2float(b)); }
inline __half __hsub(__half a, __half b) { return __half(__half2float(a) - __half2float(b)); }
inline __half __hmul(__half a, __half b) { return __half(__half2float(a) * __half2float(b)); }
inline __half __hdiv(__half a, __half b) { return __half(__half2float(a) / __half2float(b)); }
inline __half __hneg(__half a) { return __ushort_as_half(a.__x ^ 0x8000u); }
inline __half operator+(__half a, __half b) { return __hadd(a, b); }
inline __half operator-(__half a, __half b) { return __hsub(a, b); }
inline __half operator*(__half a, __half b) { return __hmul(a, b); }
inline __half operator/(__half a, __half b) { return __hdiv(a, b); }
inline __half operator-(__half a) { return __hneg(a); }
