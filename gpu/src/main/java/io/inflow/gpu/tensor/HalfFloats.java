package io.inflow.gpu.tensor;

/**
 * Conversions from the 16-bit float formats weight files use (IEEE half, bfloat16) to float32, and float32 to
 * bfloat16 with the GPU's rounding ({@code __float2bfloat16_rn}: nearest, ties to even; NaN stays NaN).
 * Java 17 has no {@code Float.float16ToFloat}; this is the textbook bit manipulation.
 *
 * <p>{@code float x = HalfFloats.f16ToFloat((short) 0x3c00); // 1.0f}
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /** IEEE 754 binary16 bits to float32 (exact: every half value is representable). */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {                       // inf or NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);   // signed zero
            }
            float v = mant * 0x1p-24f;              // subnormal: mant * 2^-24
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** bfloat16 bits to float32: the upper 16 bits of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float32 to bfloat16 bits, rounded to nearest even as {@code __float2bfloat16_rn} (NaN stays a quiet NaN). */
    public static short floatToBf16(float x) {
        int b = Float.floatToRawIntBits(x);
        if ((b & 0x7fffffff) > 0x7f800000) {
            return (short) ((b >>> 16) | 0x0040);
        }
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }

    /** x rounded to the nearest bfloat16 value, as a float32. */
    public static float roundToBf16(float x) {
        return bf16ToFloat(floatToBf16(x));
    }
}
