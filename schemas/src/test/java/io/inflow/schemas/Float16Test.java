package io.inflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Float16Test {
    private static final int POS_INF = 0x7c00;

    private static boolean isNaN(int h) {
        return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    }

    /** Reference value of a half, straight from the IEEE definition. */
    private static double reference(int h) {
        int sign = (h & 0x8000) != 0 ? -1 : 1;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return mant == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        return exp == 0 ? sign * Math.scalb((double) mant, -24) : sign * Math.scalb((double) (1024 + mant), exp - 25);
    }

    @Test
    void allHalvesConvertExactlyAndRoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Float16.toFloat((short) h);
            short back = Float16.fromFloat(f);
            if (isNaN(h)) {
                assertThat(f).isNaN();
                assertThat(isNaN(back & 0xffff)).as("NaN stays NaN: 0x%04x", h).isTrue();
                assertThat(back & 0x8000).isEqualTo(h & 0x8000);
            } else {
                assertThat((double) f).as("value of 0x%04x", h).isEqualTo(reference(h));
                assertThat(back & 0xffff).as("round trip of 0x%04x", h).isEqualTo(h);
            }
        }
    }

    @Test
    void midpointsBetweenNeighboursRoundToEvenAndNeighboursOfMidpointsRoundToTheCloserHalf() {
        for (int h = 0; h < POS_INF; h++) { // every pair of adjacent finite halves, and 65504 / infinity
            float lo = Float16.toFloat((short) h);
            // past 65504 the next step would be 65536, so the overflow threshold is the midpoint 65520
            float hi = h + 1 == POS_INF ? 65536f : Float16.toFloat((short) (h + 1));
            float mid = (lo + hi) / 2; // exact: 12 significant bits
            int even = (h & 1) == 0 ? h : h + 1;
            for (int sign : new int[] {0, 0x8000}) {
                float s = sign == 0 ? 1f : -1f;
                assertThat(Float16.fromFloat(s * mid) & 0xffff).as("tie above 0x%04x", h).isEqualTo(sign | even);
                assertThat(Float16.fromFloat(s * Math.nextDown(mid)) & 0xffff).isEqualTo(sign | h);
                assertThat(Float16.fromFloat(s * Math.nextUp(mid)) & 0xffff).isEqualTo(sign | (h + 1));
            }
        }
    }

    @Test
    void pinnedEdgeCases() {
        assertThat(bits(0.0f)).isEqualTo(0x0000);
        assertThat(bits(-0.0f)).isEqualTo(0x8000);
        assertThat(bits(1.0f)).isEqualTo(0x3c00);
        assertThat(bits(-2.0f)).isEqualTo(0xc000);
        assertThat(bits(1f / 3f)).isEqualTo(0x3555);
        assertThat(bits(65504f)).isEqualTo(0x7bff); // largest finite half
        assertThat(bits(65519.996f)).isEqualTo(0x7bff);
        assertThat(bits(65520f)).isEqualTo(0x7c00); // overflow by rounding
        assertThat(bits(1e10f)).isEqualTo(0x7c00);
        assertThat(bits(-1e10f)).isEqualTo(0xfc00);
        assertThat(bits(Float.POSITIVE_INFINITY)).isEqualTo(0x7c00);
        assertThat(bits(Float.NEGATIVE_INFINITY)).isEqualTo(0xfc00);
        assertThat(isNaN(bits(Float.NaN))).isTrue();
        assertThat(isNaN(bits(Float.intBitsToFloat(0x7f800001)))).as("NaN with only low payload bits").isTrue();
        assertThat(bits(0x1p-24f)).isEqualTo(0x0001); // smallest subnormal half
        assertThat(bits(0x1p-25f)).isEqualTo(0x0000); // tie between 0 and 2^-24: even is 0
        assertThat(bits(Math.nextUp(0x1p-25f))).isEqualTo(0x0001);
        assertThat(bits(0x1.8p-24f)).isEqualTo(0x0002); // 1.5 ulp: tie, rounds to even 2
        assertThat(bits(0x1p-14f)).isEqualTo(0x0400); // smallest normal half
        assertThat(bits(0x3ffp-24f)).isEqualTo(0x03ff); // largest subnormal half
        assertThat(bits(0x3ff.8p-24f)).isEqualTo(0x0400); // tie above it carries into the exponent
        assertThat(bits(Float.MIN_VALUE)).isEqualTo(0x0000); // float subnormal underflows
        assertThat(bits(-Float.MIN_VALUE)).isEqualTo(0x8000);
        assertThat(Float16.toFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(Float16.toFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(Float16.toFloat((short) 0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void randomFloatsRoundToTheNearestHalf() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++) {
            float f = i % 2 == 0 ? Float.intBitsToFloat(random.nextInt()) // all exponents
                    : (float) random.nextDouble(-70000, 70000); // the half range
            if (Float.isNaN(f) || Math.abs(f) >= 65520f) {
                continue;
            }
            int h = Float16.fromFloat(f) & 0xffff;
            double err = Math.abs(reference(h) - f);
            int up = (h & 0x7fff) == 0x7bff ? -1 : h + 1;
            int down = (h & 0x7fff) == 0 ? -1 : h - 1;
            for (int n : new int[] {up, down}) {
                if (n >= 0) {
                    double other = Math.abs(reference(n) - f);
                    assertThat(err).as("seed %d, f=%s (0x%08x) -> 0x%04x", seed, f, Float.floatToIntBits(f), h)
                            .isLessThanOrEqualTo(other);
                    if (err == other) {
                        assertThat(h & 1).as("tie goes to even, seed %d, f=%s", seed, f).isZero();
                    }
                }
            }
        }
    }

    @Test
    void base64IsLittleEndianHalves() {
        assertThat(Float16.encodeBase64(new float[] {1.0f})).isEqualTo("ADw="); // bytes 0x00 0x3C
        assertThat(Float16.encodeBase64(new float[] {0.5f, -1.25f})).isEqualTo("ADgAvQ==");
        assertThat(Float16.encodeBase64(new float[0])).isEmpty();
        float[] halves = {0f, -0f, 1f, -65504f, 0x1p-24f, 0.099975586f, Float.POSITIVE_INFINITY};
        assertThat(Float16.decodeBase64(Float16.encodeBase64(halves))).containsExactly(halves);
        assertThat(Float16.decodeBase64(Float16.encodeBase64(new float[] {0.1f}))).containsExactly(0.099975586f);
    }

    @Test
    void base64DecodeRejectsBadInput() {
        String odd = Base64.getEncoder().encodeToString(new byte[3]);
        assertThatThrownBy(() -> Float16.decodeBase64(odd)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 bytes");
        assertThatThrownBy(() -> Float16.decodeBase64("not base64!")).isInstanceOf(IllegalArgumentException.class);
    }

    private static int bits(float f) {
        return Float16.fromFloat(f) & 0xffff;
    }
}
