package io.inflow.schemas;

import java.util.Base64;

/**
 * IEEE 754 binary16 ("half") conversion, written out because Java 17 has no {@code Float.floatToFloat16}.
 * {@link #fromFloat(float)} rounds to nearest, ties to even, produces subnormals, overflows to infinity and
 * keeps NaN a NaN (quiet, with the top payload bits). {@link #toFloat(short)} is exact. The base64 form is what
 * {@code embedding_f16_b64} carries: 2 bytes per value, little-endian, standard base64 with padding.
 *
 * <p>{@code
 * String wire = Float16.encodeBase64(new float[] {0.5f, -1.25f});  // "ADgAvQ=="
 * float[] back = Float16.decodeBase64(wire);                        // {0.5f, -1.25f}
 * }
 */
public final class Float16 {
    private static final int SIGN = 0x8000;
    private static final int EXP_MASK = 0x7c00;
    private static final int QUIET_NAN_BIT = 0x0200;

    private Float16() {
    }

    /** Rounds a float to the nearest half (ties to even). */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & SIGN;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            if (mant == 0) {
                return (short) (sign | EXP_MASK);
            }
            int payload = mant >>> 13;
            return (short) (sign | EXP_MASK | (payload != 0 ? payload : QUIET_NAN_BIT));
        }
        int e = exp - 127 + 15; // biased half exponent
        if (e >= 0x1f) {
            return (short) (sign | EXP_MASK);
        }
        if (e <= 0) {
            // Half subnormal (or zero): value / 2^-24, rounded. Below 2^-25 everything rounds to zero.
            if (e < -10) {
                return (short) sign;
            }
            int full = mant | 0x800000;
            int shift = 14 - e;
            return (short) (sign | roundShift(full, shift)); // a carry into bit 10 yields the smallest normal
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent; 0x7bff + 1 is infinity, as it should be
        }
        return (short) (sign | half);
    }

    private static int roundShift(int value, int shift) {
        int result = value >>> shift;
        int rem = value & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rem > halfway || (rem == halfway && (result & 1) != 0)) {
            result++;
        }
        return result;
    }

    /** The exact float value of a half. */
    public static float toFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & SIGN) << 16;
        int exp = (h & EXP_MASK) >>> 10;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float magnitude = mant * 0x1p-24f; // exact: mant < 2^10
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Rounds each value to half and encodes the halves little-endian in standard base64. */
    public static String encodeBase64(float[] values) {
        byte[] bytes = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            short h = fromFloat(values[i]);
            bytes[2 * i] = (byte) h;
            bytes[2 * i + 1] = (byte) (h >>> 8);
        }
        return Base64.getEncoder().encodeToString(bytes);
    }

    /**
     * Decodes little-endian halves from standard base64.
     *
     * @throws IllegalArgumentException if the text is not base64 or decodes to an odd number of bytes
     */
    public static float[] decodeBase64(String base64) {
        byte[] bytes = Base64.getDecoder().decode(base64);
        if (bytes.length % 2 != 0) {
            throw new IllegalArgumentException("float16 data is " + bytes.length + " bytes, must be a multiple of 2");
        }
        float[] values = new float[bytes.length / 2];
        for (int i = 0; i < values.length; i++) {
            values[i] = toFloat((short) ((bytes[2 * i] & 0xff) | (bytes[2 * i + 1] << 8)));
        }
        return values;
    }

    /** Number of halves in a padded base64 string, from its length alone (-1 if the length is impossible). */
    static int decodedLength(String base64) {
        int bytes = Base64Text.decodedLength(base64);
        return bytes < 0 || bytes % 2 != 0 ? -1 : bytes / 2;
    }
}
