package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cpu.reference.Erf;
import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The integer definitions against their float counterparts (I-ViT's habit: each integer op next to the float op it
 * replaces), with the approximation error measured and bounded, plus the exact parts (integer square root, byte
 * planes, dyadic rounding) checked exactly.
 */
class IntegerOpsTest {
    static final long SEED = 42;

    @Test
    void isqrtIsTheExactFloorOfTheRoot() {
        Random rnd = new Random(SEED);
        long[] pinned = {0, 1, 2, 3, 4, 8, 9, 15, 16, 17, (1L << 62), Long.MAX_VALUE, 999_999_999_999L};
        for (long v : pinned) {
            assertThat(IntegerOps.isqrt(v)).as("isqrt(%d)", v).isEqualTo(BigInteger.valueOf(v).sqrt().longValueExact());
        }
        for (int i = 0; i < 100_000; i++) {
            long v = rnd.nextLong() >>> (1 + rnd.nextInt(63));
            assertThat(IntegerOps.isqrt(v)).isEqualTo(BigInteger.valueOf(v).sqrt().longValueExact());
            long r = rnd.nextInt(1 << 30);
            assertThat(IntegerOps.isqrt(r * r)).isEqualTo(r);
            if (r > 0) {
                assertThat(IntegerOps.isqrt(r * r - 1)).isEqualTo(r - 1);
            }
        }
        assertThatThrownBy(() -> IntegerOps.isqrt(-1)).hasMessageContaining("isqrt of -1");
    }

    /** Down to 2^-31; smaller reals reach the shift limit (62) and keep fewer multiplier bits. */
    @Test
    void dyadicsStandForTheirRealWithinOnePartIn2To30() {
        Random rnd = new Random(SEED);
        for (int i = 0; i < 10_000; i++) {
            double real = Math.scalb(rnd.nextDouble() + 0.5, -rnd.nextInt(31)) * (rnd.nextBoolean() ? 1 : -1);
            Dyadic d = Dyadic.of(real, 31);
            assertThat(Math.abs(d.value() - real) / Math.abs(real)).isLessThanOrEqualTo(Math.scalb(1.0, -30));
            long x = rnd.nextInt(1 << 24) - (1 << 23);
            double exact = x * d.value();
            assertThat((double) d.apply(x)).isEqualTo(Math.floor(exact + 0.5));   // half up, negatives included
        }
        assertThat(new Dyadic(3, 1).apply(-1)).as("-1.5 rounds half up to -1").isEqualTo(-1);
        assertThat(new Dyadic(3, 1).apply(1)).as("1.5 rounds up to 2").isEqualTo(2);
        assertThatThrownBy(() -> Dyadic.of(Double.NaN, 31)).hasMessageContaining("non-finite");
        assertThatThrownBy(() -> Dyadic.of(3e9, 31)).hasMessageContaining("beyond 31 bits");
    }

    @Test
    void int16ActivationsSplitIntoTwoBytePlanesExactly() {
        for (int v = -IntegerOps.INT16_LIMIT; v <= IntegerOps.INT16_LIMIT; v++) {
            int hi = IntegerOps.highByte(v);
            int lo = IntegerOps.lowByte(v);
            assertThat(hi).isBetween(-127, 127);
            assertThat(lo).isBetween(-128, 127);
            assertThat(256 * hi + lo).isEqualTo(v);
        }
        assertThat(IntegerOps.clampInt16(1 << 20)).isEqualTo(IntegerOps.INT16_LIMIT);
    }

    /**
     * Shiftmax against softmax on scores in [-12, 12] (real), rows of 1..300 keys. Its error has three parts:
     * I-ViT's linear 2^-f (up to 6% relative on one exponential, partly cancelled by the normalisation), log2(e) as
     * 1.4375, and the 8-bit output (half a unit, 0.002). Measured worst |p - softmax| 0.0169; bound 0.025. Probabilities sum to 1 within the rounding of each (n / 512) plus that error.
     */
    @Test
    void shiftmaxApproximatesSoftmax() {
        Random rnd = new Random(SEED);
        double worst = 0;
        for (int trial = 0; trial < 2_000; trial++) {
            int n = 1 + rnd.nextInt(300);
            double spread = rnd.nextDouble() * 12;
            int[] scores = new int[n];
            double[] real = new double[n];
            for (int j = 0; j < n; j++) {
                real[j] = (rnd.nextDouble() * 2 - 1) * spread;
                scores[j] = (int) Math.round(real[j] * 1024);
                real[j] = scores[j] / 1024.0;
            }
            int[] p = new int[n];
            IntegerOps.shiftmax(scores, 0, n, p, 0);
            double max = Double.NEGATIVE_INFINITY;
            for (double v : real) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (double v : real) {
                sum += Math.exp(v - max);
            }
            long total = 0;
            for (int j = 0; j < n; j++) {
                double exact = Math.exp(real[j] - max) / sum;
                worst = Math.max(worst, Math.abs(p[j] / 256.0 - exact));
                assertThat(p[j]).isBetween(0, 255);
                total += p[j];
            }
            assertThat(Math.abs(total / 256.0 - 1)).isLessThanOrEqualTo(0.05 + n / 512.0);
        }
        System.out.printf("shiftmax: worst |p - softmax| %.4f%n", worst);
        assertThat(worst).isLessThanOrEqualTo(0.025);
        int[] one = {5};
        int[] p = new int[1];
        IntegerOps.shiftmax(one, 0, 1, p, 0);
        assertThat(p[0]).as("a single key takes (almost) all").isEqualTo(255);
    }

    /**
     * ShiftGELU against GELU in erf form on [-8, 8]: x * sigmoid(1.702 x) differs from erf-GELU by up to 0.020
     * (the sigmoid form itself), the shift exponential adds a little; measured worst 0.0239, bound 0.03.
     */
    @Test
    void shiftGeluApproximatesGelu() {
        double worst = 0;
        for (int v = -8 * 1024; v <= 8 * 1024; v++) {
            double x = v / 1024.0;
            double gelu = 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
            double got = IntegerOps.shiftGelu(v) / (double) (1L << 26);
            worst = Math.max(worst, Math.abs(got - gelu));
        }
        System.out.printf("shiftGelu: worst |g - gelu| %.4f%n", worst);
        assertThat(worst).isLessThanOrEqualTo(0.03);
        assertThat(IntegerOps.shiftGelu(Integer.MAX_VALUE)).as("saturates, no overflow").isPositive();
        assertThat(IntegerOps.shiftGelu(Integer.MIN_VALUE)).isLessThanOrEqualTo(0);
    }

    /**
     * I-LayerNorm's normalisation against double LayerNorm: the integer standard deviation is the floor of the root,
     * off by less than one unit, so the relative error is below {@code 1 / std} plus the 2^-24 of the reciprocal
     * (on the residual stream at 2^-12, std is about 4096 sqrt(d): 1e-5 for MiniLM).
     */
    @Test
    void normalizeRowMatchesLayerNorm() {
        Random rnd = new Random(SEED);
        for (int trial = 0; trial < 500; trial++) {
            int d = 1 + rnd.nextInt(800);
            int[] y = new int[d];
            for (int j = 0; j < d; j++) {
                y[j] = (int) (rnd.nextGaussian() * (1 << (8 + rnd.nextInt(12))));
            }
            long[] n = new long[d];
            IntegerOps.normalizeRow(y, null, 0, d, n);
            double mean = 0;
            for (int v : y) {
                mean += v;
            }
            mean /= d;
            double var = 0;
            for (int v : y) {
                var += (v - mean) * (v - mean);
            }
            double std = Math.max(1, Math.floor(Math.sqrt(var)));
            for (int j = 0; j < d; j++) {
                double exact = var == 0 ? 0 : (y[j] - mean) / Math.sqrt(var);   // n = that * 2^30
                double tol = Math.abs(exact) * (1 / std + Math.scalb(1.0, -24)) + 1 / std + Math.scalb(1.0, -29);
                assertThat(n[j] / (double) (1L << 30)).isCloseTo(exact, org.assertj.core.data.Offset.offset(tol));
            }
        }
        long[] n = new long[4];
        IntegerOps.normalizeRow(new int[] {7, 7, 7, 7}, null, 0, 4, n);
        assertThat(n).as("a constant row normalises to zeros").containsOnly(0L);
    }
}
