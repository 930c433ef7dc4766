package io.inflow.gpu.quant;

/**
 * A dyadic number {@code multiplier / 2^shift}: how the integer-only path multiplies by a real constant (a ratio
 * of scales, a LayerNorm gamma) without floating point, as in I-ViT's dyadic requantisation. The constant is
 * chosen once, at quantization time, in double; inference only multiplies and shifts.
 *
 * <p>{@link #apply(long)} rounds half up: {@code (x * multiplier + 2^(shift-1)) >> shift} with an arithmetic
 * shift. The caller keeps {@code |x * multiplier| < 2^62} (each kernel documents its ranges).
 *
 * <pre>{@code
 * Dyadic d = Dyadic.of(0.0123, 31);          // multiplier in [2^30, 2^31), shift chosen to match
 * long y = d.apply(100_000);                 // 1230, without a float in sight
 * }</pre>
 *
 * @param multiplier signed, |multiplier| < 2^31
 * @param shift      0..62
 */
public record Dyadic(int multiplier, int shift) {
    /** Largest shift: keeps the rounding term and the product inside a signed 64-bit value. */
    public static final int MAX_SHIFT = 62;

    public Dyadic {
        if (shift < 0 || shift > MAX_SHIFT) {
            throw new IllegalArgumentException("dyadic shift " + shift + " outside 0.." + MAX_SHIFT);
        }
    }

    /** The identity. */
    public static final Dyadic ONE = new Dyadic(1, 0);

    /**
     * The closest dyadic to {@code real} whose multiplier has at most {@code bits} bits of magnitude (2..31):
     * {@code |multiplier|} lands in {@code [2^(bits-1), 2^bits)} unless the shift limit makes it smaller.
     */
    public static Dyadic of(double real, int bits) {
        if (bits < 2 || bits > 31) {
            throw new IllegalArgumentException("multiplier bits " + bits + " outside 2..31");
        }
        if (!Double.isFinite(real)) {
            throw new IllegalArgumentException("dyadic of a non-finite value " + real);
        }
        if (real == 0) {
            return new Dyadic(0, 0);
        }
        int exponent = Math.getExponent(real);            // 2^exponent <= |real| < 2^(exponent+1)
        int shift = bits - 1 - exponent;
        if (shift < 0) {
            throw new IllegalArgumentException("dyadic of " + real + " needs a multiplier beyond " + bits + " bits");
        }
        shift = Math.min(shift, MAX_SHIFT);
        long m = Math.round(Math.scalb(real, shift));
        if (Math.abs(m) >= (1L << bits)) {                  // rounded up to 2^bits
            m /= 2;
            shift--;
        }
        return new Dyadic((int) m, shift);
    }

    /** {@code round(x * multiplier / 2^shift)}, halves rounded up. */
    public long apply(long x) {
        long p = x * multiplier;
        return shift == 0 ? p : (p + (1L << (shift - 1))) >> shift;
    }

    /** The real value this dyadic stands for (reports and tests only). */
    public double value() {
        return Math.scalb((double) multiplier, -shift);
    }
}
