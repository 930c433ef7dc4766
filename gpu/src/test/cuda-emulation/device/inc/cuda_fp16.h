// cuda_fp16.h stand-in: __half with round-to-nearest-even conversions from float (subnormals, overflow to
// infinity, NaN as 0x7fff as CUDA returns it) and exact conversion to float. Arithmetic is computed exactly in
// double and rounded once to half (double has more than 2 p + 2 bits, so that rounding twice is harmless).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace emu {

inline uint16_t float_to_half_bits(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t) ((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return 0x7fff;                   // NaN
    if (x >= 0x477ff000u) return sign | 0x7c00u;          // >= 65520: rounds to infinity
    if (x < 0x38800000u) {                                // below 2^-14: subnormal half, units of 2^-24
        float a;
        std::memcpy(&a, &x, 4);
        return sign | (uint16_t) std::nearbyint(a * 16777216.0f);   // exact scaling, then ties-to-even
    }
    uint32_t h = ((((x >> 23) - 127 + 15) << 10) | ((x & 0x7fffffu) >> 13));
    uint32_t rest = x & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;   // a carry into the exponent is still right
    return sign | (uint16_t) h;
}

inline float half_bits_to_float(uint16_t h) {
    uint32_t sign = (uint32_t) (h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    float f;
    if (exp == 0) {
        f = std::ldexp((float) man, -24);
        uint32_t b;
        std::memcpy(&b, &f, 4);
        b |= sign;
        std::memcpy(&f, &b, 4);
        return f;
    }
    uint32_t b = exp == 31 ? (sign | 0x7f800000u | (man << 13)) : (sign | ((exp + 112) << 23) | (man << 13));
    std::memcpy(&f, &b, 4);
    return f;
}

}  // namespace emu

struct __half {
    uint16_t __x;
    __half() = default;
    __half(float f) : __x(emu::float_to_half_bits(f)) {}
    __half(double d) : __x(emu::float_to_half_bits((float) d)) {}   // as CUDA: through float
    operator float() const { return emu::half_bits_to_float(__x); }
};
struct __half_raw {
    unsigned short x;
};

inline __half __float2half_rn(float f) { return __half(f); }
inline __half __float2half(float f) { return __half(f); }
inline float __half2float(__half h) { return emu::half_bits_to_float(h.__x); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __ushort_as_half(unsigned short v) {
    __half h;
    h.__x = v;
    return h;
}

namespace emu {
inline __half half_from_double(double v) {
    // correctly rounded: v is the exact (or double-rounded, harmlessly) result of one operation on two halves
    return __half((float) v == v ? (float) v : (float) v);
}
}  // namespace emu

inline __half __hadd(__half a, __half b) { return __half((float) ((double) (float) a + (double) (float) b)); }
inline __half __hsub(__half a, __half b) { return __half((float) ((double) (float) a - (double) (float) b)); }
inline __half __hmul(__half a, __half b) { return __half((float) a * (float) b); }   // exact in float
inline __half __hneg(__half a) { return __ushort_as_half(a.__x ^ 0x8000u); }
inline __half operator+(__half a, __half b) { return __hadd(a, b); }
inline __half operator-(__half a, __half b) { return __hsub(a, b); }
inline __half operator*(__half a, __half b) { return __hmul(a, b); }
inline __half operator-(__half a) { return __hneg(a); }
