#pragma once
#include <cstdint>
#include <cstring>
#include <cmath>
typedef uint16_t __half;
inline float __half2float(__half h) {
    uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float f;
    if (exp == 0) { f = std::ldexp((float) man, -24); }
    else if (exp == 31) { uint32_t b = 0x7f800000u | (man << 13); std::memcpy(&f, &b, 4); }
    else { uint32_t b = ((exp + 112) << 23) | (man << 13); std::memcpy(&f, &b, 4); }
    uint32_t bits; std::memcpy(&bits, &f, 4); bits |= sign; std::memcpy(&f, &bits, 4);
    return f;
}
