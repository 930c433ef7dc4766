package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.image.Resampler;

/**
 * The filter taps of one axis of a resize, for a window of output indices only (the ones a centre crop keeps), as
 * float: {@link Resampler.Coefficients} computes the weights in double, once, and they are rounded here. Two layouts
 * of the same weights:
 * <ul>
 *   <li>per output ({@link #weights}, for the vertical pass, one output row at a time): output {@code i} reads
 *       {@code taps} inputs from {@code start[i]}, padded with zero weights where the filter has fewer taps (the
 *       window is shifted left where it would pass {@code hi});</li>
 *   <li>per block of {@link #LANES} consecutive outputs ({@link #dense}, for the horizontal pass with the Vector API):
 *       for each input {@code j} of the block's span, the {@code LANES} weights of {@code j} in the block's outputs,
 *       zero where {@code j} is outside an output's taps. A vector of outputs is then a sum of weight vectors times
 *       broadcast inputs, without gathers.</li>
 * </ul>
 * A zero weight times a finite sample adds exactly nothing, so the padding changes no result. Every read stays in
 * {@code [lo, hi)}.
 *
 * <p>{@code ResampleTaps tx = ResampleTaps.of(640, 341, Interpolation.BICUBIC, 58, 224);   // columns 58..281}
 */
final class ResampleTaps {
    /** Outputs per block of {@link #dense}: the vector length. */
    static final int LANES = VectorMath.S.length();
    /** Number of outputs in the window. */
    final int size;
    /** Inputs per output: the largest tap count in the window. */
    final int taps;
    final int[] start;
    /** {@code [size, taps]}. */
    final float[] weights;
    /** First input index any output of the window reads. */
    final int lo;
    /** One past the last input index any output of the window reads. */
    final int hi;
    /** Blocks of {@link #LANES} outputs (the last one padded with outputs of weight zero). */
    final int blocks;
    /** Per block: its first input, its number of inputs, where its {@code [span, LANES]} weights start in dense. */
    final int[] blockStart;
    final int[] blockSpan;
    final int[] blockOffset;
    final float[] dense;

    private ResampleTaps(int size, int taps, int[] start, float[] weights, int lo, int hi) {
        this.size = size;
        this.taps = taps;
        this.start = start;
        this.weights = weights;
        this.lo = lo;
        this.hi = hi;
        this.blocks = (size + LANES - 1) / LANES;
        this.blockStart = new int[blocks];
        this.blockSpan = new int[blocks];
        this.blockOffset = new int[blocks];
        int total = 0;
        for (int b = 0; b < blocks; b++) {
            int last = Math.min(size, (b + 1) * LANES) - 1;
            blockStart[b] = start[b * LANES];                        // start[] never decreases
            blockSpan[b] = start[last] + taps - blockStart[b];
            blockOffset[b] = total;
            total += blockSpan[b] * LANES;
        }
        this.dense = new float[total];
        for (int i = 0; i < size; i++) {
            int b = i / LANES;
            for (int k = 0; k < taps; k++) {
                int j = start[i] + k - blockStart[b];
                dense[blockOffset[b] + j * LANES + i % LANES] = weights[i * taps + k];
            }
        }
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
        float[] weights = new float[size * taps];
        for (int i = 0; i < size; i++) {
            int first = co.start(from + i);
            start[i] = Math.min(first, hi - taps);
            for (int k = 0; k < co.count(from + i); k++) {
                weights[i * taps + first - start[i] + k] = (float) co.weight(from + i, k);
            }
        }
        return new ResampleTaps(size, taps, start, weights, lo, hi);
    }
}
