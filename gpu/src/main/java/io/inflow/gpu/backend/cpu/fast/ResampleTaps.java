package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.image.Resampler;

/**
 * The filter taps of one axis of a resize, for a window of output indices only (the ones a centre crop keeps), as
 * float: {@link Resampler.Coefficients} computes the weights in double, once, and they are rounded here. Output
 * {@code i} of the window reads inputs {@code start[i] .. start[i] + count[i] - 1} with weights
 * {@code weights[i * taps + k]}; every read stays in {@code [lo, hi)}.
 *
 * <p>{@code ResampleTaps tx = ResampleTaps.of(640, 341, Interpolation.BICUBIC, 58, 224);   // columns 58..281}
 */
final class ResampleTaps {
    /** Number of outputs in the window. */
    final int size;
    /** Row stride of {@link #weights}: the largest tap count in the window. */
    final int taps;
    final int[] start;
    final int[] count;
    /** {@code [size, taps]}, zero past each output's count. */
    final float[] weights;
    /** First input index any output of the window reads. */
    final int lo;
    /** One past the last input index any output of the window reads. */
    final int hi;

    private ResampleTaps(int size, int taps, int[] start, int[] count, float[] weights, int lo, int hi) {
        this.size = size;
        this.taps = taps;
        this.start = start;
        this.count = count;
        this.weights = weights;
        this.lo = lo;
        this.hi = hi;
    }

    /** Taps of outputs {@code from .. from + size - 1} of a resize from {@code in} to {@code out} samples. */
    static ResampleTaps of(int in, int out, Interpolation interpolation, int from, int size) {
        Resampler.Coefficients co = Resampler.Coefficients.of(in, out, interpolation);
        int taps = 1;
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        for (int i = from; i < from + size; i++) {
            taps = Math.max(taps, co.count(i));
            lo = Math.min(lo, co.start(i));
            hi = Math.max(hi, co.start(i) + co.count(i));
        }
        int[] start = new int[size];
        int[] count = new int[size];
        float[] weights = new float[size * taps];
        for (int i = 0; i < size; i++) {
            start[i] = co.start(from + i);
            count[i] = co.count(from + i);
            for (int k = 0; k < count[i]; k++) {
                weights[i * taps + k] = (float) co.weight(from + i, k);
            }
        }
        return new ResampleTaps(size, taps, start, count, weights, Math.min(lo, hi), hi);
    }
}
