package io.inflow.gpu.quant;

/**
 * The element and row definitions of the integer-only path (I-ViT), written once in plain Java: every backend
 * (the reference, the fast CPU kernels, the CUDA kernels in {@code quant.cu}) computes exactly these integers.
 * No floating point: the real constants arrive as {@link Dyadic}s chosen at quantization time.
 *
 * <p>Fixed scales (powers of two, so no calibration is needed for them):
 * <ul>
 *   <li>attention scores and GELU inputs: {@code real = v / 2^10} ({@link #FRACTION_BITS});</li>
 *   <li>Shiftmax probabilities and sigmoid factors: unsigned, {@code p = u / 2^8} and {@code / 2^16};</li>
 *   <li>the residual stream (LayerNorm inputs and the encoder output): {@code real = r / 2^12}
 *       ({@link #RESIDUAL_BITS}).</li>
 * </ul>
 *
 * <pre>{@code
 * int[] probs = new int[n];
 * IntegerOps.shiftmax(scores, 0, n, probs, 0);     // scores at 2^-10, probs at 2^-8, summing to about 256
 * long g = IntegerOps.shiftGelu(1024);             // GELU(1.0) at 2^-26: about 0.84 * 2^26
 * }</pre>
 */
public final class IntegerOps {
    /** Fractional bits of attention scores and of GELU inputs. */
    public static final int FRACTION_BITS = 10;
    /** Fractional bits of the residual stream. */
    public static final int RESIDUAL_BITS = 12;
    /** Fractional bits of Shiftmax outputs (unsigned 8-bit, 0..255). */
    public static final int PROB_BITS = 8;
    /** Fractional bits of the sigmoid inside ShiftGELU; its output {@code x * sigmoid} is at 2^-(10+16). */
    public static final int SIGMOID_BITS = 16;
    /** Bits of {@link #shiftExp}'s result: exp(0) = 2^25. */
    public static final int EXP_BITS = 25;
    /** round(1.702 * 2^30): the slope of GELU's sigmoid form, x * sigmoid(1.702 x). */
    static final long GELU_SLOPE = 1_827_469_673L;
    /** GELU inputs beyond +-2^22 (+-4096 real) saturate; they never occur in a trained model. */
    static final long GELU_INPUT_LIMIT = 1L << 22;
    /** LayerNorm inputs beyond +-2^25 (+-8192 real) saturate, keeping the variance sum inside 64 bits for d <= 1024. */
    public static final long RESIDUAL_LIMIT = 1L << 25;

    private IntegerOps() {
    }

    /** {@code floor(sqrt(v))} for {@code v >= 0}, exactly: Newton's iteration from a power of two above the root. */
    public static long isqrt(long v) {
        if (v < 0) {
            throw new IllegalArgumentException("isqrt of " + v);
        }
        if (v < 2) {
            return v;
        }
        int bits = 64 - Long.numberOfLeadingZeros(v);
        long x = 1L << ((bits + 1) / 2);
        while (true) {
            long y = (x + v / x) >> 1;
            if (y >= x) {
                return x;
            }
            x = y;
        }
    }

    /**
     * {@code 2^(-t / 2^10)} scaled by {@code 2^25}, for {@code t >= 0}: the integer part of the exponent becomes a
     * right shift, the fraction {@code f} uses I-ViT's linear piece {@code 2^-f ~ 1 - f/2}. Zero from {@code t >= 26 * 2^10}.
     */
    public static long shiftExp(long t) {
        long q = t >> FRACTION_BITS;
        if (q > EXP_BITS) {
            return 0;
        }
        long r = t & ((1 << FRACTION_BITS) - 1);
        return (((2L << FRACTION_BITS) - r) << (EXP_BITS - FRACTION_BITS - 1)) >> q;
    }

    /** {@code d * log2(e)} for {@code d <= 0} by shifts, as I-ViT: {@code d + d/2 - d/16} (1.4375 for 1.4427). */
    public static long timesLog2e(long d) {
        return d + (d >> 1) - (d >> 4);
    }

    /**
     * Shiftmax over {@code n >= 1} scores at 2^-10 ({@code scores[from..from+n)}): {@code probs[to..to+n)} get
     * softmax at 2^-8, 0..255. Subtracts the row max, takes {@link #shiftExp} of {@code -(d * log2 e)}, then
     * normalises with one 64-bit reciprocal: {@code p = (e * floor(2^56 / sum) + 2^47) >> 48}.
     */
    public static void shiftmax(int[] scores, int from, int n, int[] probs, int to) {
        int max = Integer.MIN_VALUE;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, scores[from + j]);
        }
        long sum = 0;
        for (int j = 0; j < n; j++) {
            long e = shiftExp(-timesLog2e((long) scores[from + j] - max));
            probs[to + j] = (int) e;                         // e <= 2^25 fits an int until normalised
            sum += e;
        }
        long factor = (1L << 56) / sum;                      // sum >= 2^25: the max element contributes exactly that
        for (int j = 0; j < n; j++) {
            probs[to + j] = (int) Math.min(255, (probs[to + j] * factor + (1L << 47)) >> 48);
        }
    }

    /**
     * ShiftGELU of {@code v} at 2^-10: {@code x * sigmoid(1.702 x)} at 2^-26 ({@code |result| < 2^39}). The
     * sigmoid uses {@link #shiftExp} of {@code -1.702 |x| log2 e} and one integer division; each element depends
     * only on itself (I-ViT's row maximum is not needed once the exponent is always negative).
     */
    public static long shiftGelu(int v) {
        long a = Math.min(Math.abs((long) v), GELU_INPUT_LIMIT);
        long z = (a * GELU_SLOPE + (1L << 29)) >> 30;
        long e = shiftExp(z + (z >> 1) - (z >> 4));          // 2^25 * exp(-1.702 |x|)
        long one = 1L << EXP_BITS;
        long neg = ((e << SIGMOID_BITS) + ((one + e) >> 1)) / (one + e);   // sigmoid(-1.702 |x|) at 2^-16
        long sigmoid = v >= 0 ? (1L << SIGMOID_BITS) - neg : neg;
        long x = Math.max(-GELU_INPUT_LIMIT, Math.min(GELU_INPUT_LIMIT, v));
        return x * sigmoid;
    }

    /** Saturates to the symmetric int8 range -127..127. */
    public static int clampInt8(long v) {
        return (int) Math.max(-127, Math.min(127, v));
    }

    /** Largest int16 activation: its high byte {@code (v - lowByte(v)) / 256} stays within -127..127. */
    public static final int INT16_LIMIT = 127 * 256 + 127;

    /** Saturates to the symmetric int16 range of the wide GEMM, -32639..32639. */
    public static int clampInt16(long v) {
        return (int) Math.max(-INT16_LIMIT, Math.min(INT16_LIMIT, v));
    }

    /** The signed low byte of an int16 activation, -128..127. */
    public static int lowByte(int v) {
        return (byte) v;
    }

    /** The high byte, -127..127: {@code v = 256 * highByte(v) + lowByte(v)}. */
    public static int highByte(int v) {
        return (v - (byte) v) >> 8;
    }

    /** Saturates to the int32 range. */
    public static int clampInt32(long v) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }

    /**
     * I-LayerNorm's normalisation of one row: {@code y[from..from+d)} plus {@code residual} (or nothing) is
     * centred and divided by its integer standard deviation, giving {@code out[j] = (y - mean) / sqrt(sum (y-mean)^2)
     * * 2^30} (the caller's per-channel dyadic folds in {@code sqrt(d) * gamma}). Inputs saturate at
     * {@link #RESIDUAL_LIMIT}; a constant row normalises to zeros.
     */
    public static void normalizeRow(int[] y, int[] residual, int from, int d, long[] out) {
        long sum = 0;
        for (int j = 0; j < d; j++) {
            long v = y[from + j] + (residual == null ? 0L : residual[from + j]);
            v = Math.max(-RESIDUAL_LIMIT, Math.min(RESIDUAL_LIMIT, v));
            out[j] = v;
            sum += v;
        }
        long mean = Math.floorDiv(2 * sum + d, 2L * d);      // round(sum / d), halves up
        long var = 0;
        for (int j = 0; j < d; j++) {
            long c = out[j] - mean;
            out[j] = c;
            var += c * c;
        }
        long std = Math.max(1, isqrt(var));
        long factor = (1L << 47) / std;                      // |c| <= std, so |c * factor| <= 2^47
        for (int j = 0; j < d; j++) {
            out[j] = (out[j] * factor) >> 17;
        }
    }
}
