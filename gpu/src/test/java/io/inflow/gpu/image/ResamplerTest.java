package io.inflow.gpu.image;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Hand-computed cases of PIL's resampling rules (see {@link Resampler}). */
class ResamplerTest {

    private static final float EPS = 1e-4f;

    @Test
    void bilinearEnlargeMatchesAlignCornersFalse() {
        // centres (i + 0.5) * 0.5 = 0.25, 0.75, 1.25, 1.75: weights (1), (.75, .25), (.25, .75), (1)
        float[] out = Resampler.resize(new float[] {0, 100}, 1, 2, 1, 4, 1, Interpolation.BILINEAR);
        assertThat(out).containsExactly(new float[] {0, 25, 75, 100}, within(EPS));
    }

    @Test
    void bilinearShrinkAveragesLikePil() {
        // scale 2: support 2, taps at distance (j - c + 0.5) / 2; out0 = (0*.75 + 10*.75 + 20*.25) / 1.75
        float[] out = Resampler.resize(new float[] {0, 10, 20, 30}, 1, 4, 1, 2, 1, Interpolation.BILINEAR);
        assertThat(out).containsExactly(new float[] {12.5f / 1.75f, 40f / 1.75f}, within(EPS));
    }

    @Test
    void bilinearIsSeparableIn2d() {
        // rows become [0 25 75 100] and [100 125 175 200]; column pass weights (.75, .25) at y = 1
        float[] src = {0, 100, 100, 200};
        float[] out = Resampler.resize(src, 1, 2, 2, 4, 4, Interpolation.BILINEAR);
        assertThat(out[0]).isCloseTo(0f, within(EPS));
        assertThat(out[4 + 1]).isCloseTo(25 * .75f + 125 * .25f, within(EPS));
        assertThat(out[15]).isCloseTo(200f, within(EPS));
    }

    @Test
    void nearestPicksFloorOfCentre() {
        float[] shrink = Resampler.resize(new float[] {0, 10, 20, 30}, 1, 4, 1, 2, 1, Interpolation.NEAREST);
        assertThat(shrink).containsExactly(10, 30);
        float[] grow = Resampler.resize(new float[] {1, 2}, 1, 2, 1, 5, 1, Interpolation.NEAREST);
        assertThat(grow).containsExactly(1, 1, 2, 2, 2);
        // channels move together
        float[] rgb = Resampler.resize(new float[] {1, 2, 3, 4, 5, 6}, 3, 2, 1, 1, 1, Interpolation.NEAREST);
        assertThat(rgb).containsExactly(4, 5, 6);
    }

    @Test
    void bicubicKeepsConstantsAndClipsOvershoot() {
        float[] flat = new float[5 * 3];
        java.util.Arrays.fill(flat, 77f);
        for (float v : Resampler.resize(flat, 1, 5, 3, 8, 7, Interpolation.BICUBIC)) {
            assertThat(v).isCloseTo(77f, within(EPS));
        }
        // a step edge rings with Keys a = -0.5; results stay in 0..255
        float[] step = {0, 0, 255, 255};
        for (float v : Resampler.resize(step, 1, 4, 1, 9, 1, Interpolation.BICUBIC)) {
            assertThat(v).isBetween(0f, 255f);
        }
        // weights at distance 0.25 and 0.75 for an enlarge by 2 (hand-computed from the Keys polynomial)
        assertThat(Interpolation.BICUBIC.weight(0.25)).isCloseTo(0.8671875, within(1e-12));
        assertThat(Interpolation.BICUBIC.weight(1.25)).isCloseTo(-0.0703125, within(1e-12));
    }

    @Test
    void identitySizeCopies() {
        float[] src = {1, 2, 3, 4};
        float[] out = Resampler.resize(src, 1, 2, 2, 2, 2, Interpolation.BICUBIC);
        assertThat(out).containsExactly(1, 2, 3, 4).isNotSameAs(src);
    }
}
