package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** INT4 group-wise weights: packing, the exact INT8 expansion, and the error against float and against INT8. */
class Int4LinearTest {

    @Test
    void nibblesRoundTripAndExpandExactly() {
        Random rnd = new Random(3);
        int out = 7;
        int in = 300;                          // three groups, the last one partial
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.05 * (1 + (i % in) / 100));   // groups of different ranges
        }
        Int4Linear q = Int4Linear.quantize(w, null, out, in, 0.1f);
        Int8Linear e = q.toInt8();
        int groups = Int4Linear.groups(in);
        assertThat(groups).isEqualTo(3);
        for (int c = 0; c < out; c++) {
            for (int k = 0; k < in; k++) {
                int n = Int4Linear.nibble(q.packed(), (long) c * in + k);
                int m = q.multipliers()[c * groups + k / Int4Linear.GROUP];
                assertThat(n).isBetween(-7, 7);
                assertThat(m).isBetween(1, 15);
                assertThat((int) e.weights()[c * in + k]).isEqualTo(n * m);
            }
        }
        assertThat(q.bytes()).isLessThan(e.bytes() * 6 / 10);
    }

    /**
     * Relative L2 error of the dequantized weights, Gaussian rows with a 3x range change between groups: INT4 with
     * group multipliers chosen for least squared error measured 0.108 (0.121 with the largest multiplier), INT8 0.008
     * (bounds 0.15 and 0.02).
     */
    @Test
    void groupScalesKeepTheErrorOfFourBitsSmall() {
        Random rnd = new Random(5);
        int out = 64;
        int in = 384;
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * (i % in < 128 ? 0.02 : 0.06));
        }
        double e4 = error(w, Int4Linear.quantize(w, null, out, in, 1f).toInt8(), out, in);
        double e8 = error(w, Int8Linear.quantize(w, null, out, in, 1f), out, in);
        System.out.printf("int4 relative error %.4f, int8 %.4f%n", e4, e8);
        assertThat(e4).isLessThan(0.15);
        assertThat(e8).isLessThan(0.02);
    }

    static double error(float[] w, Int8Linear q, int out, int in) {
        double num = 0;
        double den = 0;
        for (int c = 0; c < out; c++) {
            for (int k = 0; k < in; k++) {
                double v = q.weights()[c * in + k] * (double) q.weightScale()[c];
                num += (v - w[c * in + k]) * (v - w[c * in + k]);
                den += (double) w[c * in + k] * w[c * in + k];
            }
        }
        return Math.sqrt(num / den);
    }
}
