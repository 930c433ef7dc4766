// The integer definitions of the QUANTIZED family, ported line for line from io.inflow.gpu.quant (IntegerOps,
// Dyadic.apply, Requant.apply) for quant.cu. Every kernel there must produce exactly the integers of the Java
// reference (QuantizedReference), so these helpers keep Java's semantics:
//   - Java's long is long long; a product or sum that Java lets wrap (x * multiplier in a dyadic, the rounding term
//     added to it) is computed in unsigned 64-bit arithmetic and converted back, which wraps the same way (signed
//     overflow would be undefined in C++);
//   - right shifts of negative values are arithmetic (as Java's >>): nvcc and g++ both shift signed values
//     arithmetically;
//   - divisions only ever see non-negative operands, where C's truncation equals Java's; Math.floorDiv is floor_div.
// Included by quant.cu only; an edit here changes quant.fatbin (the manifest covers it).
#pragma once

namespace inflow_quant_int {   // named: an anonymous namespace's symbols carry a path hash, so fatbins would differ

constexpr int FRACTION_BITS = 10;                 // scores and GELU inputs: v / 2^10
constexpr int EXP_BITS = 25;                      // shift_exp(0) = 2^25
constexpr int SIGMOID_BITS = 16;                  // ShiftGELU's sigmoid factor at 2^-16
constexpr long long GELU_SLOPE = 1827469673LL;    // round(1.702 * 2^30)
constexpr long long GELU_INPUT_LIMIT = 1LL << 22;
constexpr long long RESIDUAL_LIMIT = 1LL << 25;   // LayerNorm inputs saturate here
constexpr long long INT16_LIMIT = 127 * 256 + 127;

// Requant.Output, as the launchers pass it.
constexpr int OUT_INT8 = 0;
constexpr int OUT_INT16 = 1;
constexpr int OUT_INT32 = 2;

__device__ __forceinline__ long long wrap_mul(long long a, long long b) {
    return (long long) ((unsigned long long) a * (unsigned long long) b);
}

__device__ __forceinline__ long long wrap_add(long long a, long long b) {
    return (long long) ((unsigned long long) a + (unsigned long long) b);
}

__device__ __forceinline__ long long clamp_ll(long long v, long long lo, long long hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

__device__ __forceinline__ int clamp_int8(long long v) { return (int) clamp_ll(v, -127, 127); }
__device__ __forceinline__ int clamp_int16(long long v) { return (int) clamp_ll(v, -INT16_LIMIT, INT16_LIMIT); }
__device__ __forceinline__ int clamp_int32(long long v) { return (int) clamp_ll(v, -2147483647LL - 1, 2147483647LL); }

// The signed low byte and the high byte of an int16 activation: v = 256 * high_byte(v) + low_byte(v).
__device__ __forceinline__ int low_byte(int v) { return (signed char) v; }
__device__ __forceinline__ int high_byte(int v) { return (v - (signed char) v) >> 8; }

// Dyadic.apply: round(x * multiplier / 2^shift), halves up, with Java's wrap-around.
__device__ __forceinline__ long long dyadic(long long x, int multiplier, int shift) {
    const long long p = wrap_mul(x, multiplier);
    return shift == 0 ? p : wrap_add(p, 1LL << (shift - 1)) >> shift;
}

// Saturation to a Requant output type.
__device__ __forceinline__ int saturate(long long v, int output) {
    return output == OUT_INT8 ? clamp_int8(v) : (output == OUT_INT16 ? clamp_int16(v) : clamp_int32(v));
}

// Requant.apply(c, x) for the channel's multiplier and shift.
__device__ __forceinline__ int requant(long long x, int multiplier, int shift, int output) {
    return saturate(dyadic(x, multiplier, shift), output);
}

// Math.floorDiv(a, b) for b > 0.
__device__ __forceinline__ long long floor_div(long long a, long long b) {
    const long long q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

// IntegerOps.isqrt: floor(sqrt(v)) for v >= 0 by Newton's iteration from a power of two above the root.
__device__ __forceinline__ long long isqrt(long long v) {
    if (v < 2) {
        return v;
    }
    const int bits = 64 - __clzll(v);
    long long x = 1LL << ((bits + 1) / 2);
    while (true) {
        const long long y = (x + v / x) >> 1;
        if (y >= x) {
            return x;
        }
        x = y;
    }
}

// IntegerOps.shiftExp: 2^(-t / 2^10) * 2^25 for t >= 0 (integer part a shift, fraction f as 1 - f/2).
__device__ __forceinline__ long long shift_exp(long long t) {
    const long long q = t >> FRACTION_BITS;
    if (q > EXP_BITS) {
        return 0;
    }
    const long long r = t & ((1 << FRACTION_BITS) - 1);
    return (((2LL << FRACTION_BITS) - r) << (EXP_BITS - FRACTION_BITS - 1)) >> q;
}

// IntegerOps.timesLog2e: d * 1.4375 by shifts (d <= 0).
__device__ __forceinline__ long long times_log2e(long long d) {
    return d + (d >> 1) - (d >> 4);
}

// IntegerOps.shiftGelu: x * sigmoid(1.702 x) at 2^-26 for v at 2^-10 (one 64-bit division, as the definition).
__device__ __forceinline__ long long shift_gelu(int v) {
    const long long a = clamp_ll(v < 0 ? -(long long) v : (long long) v, 0, GELU_INPUT_LIMIT);
    const long long z = (a * GELU_SLOPE + (1LL << 29)) >> 30;
    const long long e = shift_exp(z + (z >> 1) - (z >> 4));
    const long long one = 1LL << EXP_BITS;
    const long long neg = ((e << SIGMOID_BITS) + ((one + e) >> 1)) / (one + e);
    const long long sigmoid = v >= 0 ? (1LL << SIGMOID_BITS) - neg : neg;
    return clamp_ll(v, -GELU_INPUT_LIMIT, GELU_INPUT_LIMIT) * sigmoid;
}

}  // namespace inflow_quant_int
