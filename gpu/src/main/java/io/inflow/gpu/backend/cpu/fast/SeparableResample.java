package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.tensor.NativeMemory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * BILINEAR / BICUBIC preprocessing of a block of output rows of one image, in float32: for each output row kept by
 * the crop, the vertical pass combines the source rows its taps name (converted to float once each and kept in a
 * ring of {@code ty.taps} rows; only the source columns the horizontal taps read) into one row with the Vector API,
 * then the horizontal pass computes the cropped output columns from it, then clamp (bicubic), normalise and store
 * channel-major. The reference ({@link io.inflow.gpu.image.Resampler}) runs the horizontal pass first over the whole
 * image in double; the filter is separable, so only the rounding differs.
 *
 * <p>{@code SeparableResample.rows(image, 640, 3, 3, tx, ty, 0, 224, true, norm, 3, outImage, scratch);}
 */
final class SeparableResample {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();

    private SeparableResample() {
    }

    /**
     * Output rows {@code y0 .. y1 - 1} (indices into {@code ty}'s window) of one image.
     *
     * @param src          address of the image's interleaved 8-bit samples
     * @param srcChannels  1 or 3
     * @param workChannels channels resampled: 1 when the output is gray or the input is (gray is replicated after)
     * @param tx           taps of the cropped output columns
     * @param ty           taps of the cropped output rows
     * @param out          address of the image's {@code float32 [outChannels, ty.size, tx.size]} output
     */
    static void rows(long src, int width, int srcChannels, int workChannels, ResampleTaps tx, ResampleTaps ty,
                     int y0, int y1, boolean clamp, SampleNormaliser norm, int outChannels, long out, Scratch s) {
        int wc = workChannels;
        int len = (tx.hi - tx.lo) * wc;
        int padded = (len + L - 1) / L * L;
        int w = tx.size;
        float[][] ring = s.ring(ty.taps, padded);
        int[] ringRow = s.ringRow(ty.taps);
        float[][] taps = s.taps(ty.taps);
        float[] tmp = s.tmp(padded);
        float[] res = s.res(wc * w);
        float[] row = s.row(w);
        long plane = 4L * ty.size * w;
        for (int y = y0; y < y1; y++) {
            int first = ty.start[y];
            int n = ty.count[y];
            for (int k = 0; k < n; k++) {
                int r = first + k;
                int slot = r % ty.taps;
                if (ringRow[slot] != r) {
                    long in = src + ((long) r * width + tx.lo) * srcChannels;
                    convert(in, srcChannels, wc, len / wc, ring[slot]);
                    ringRow[slot] = r;
                }
                taps[k] = ring[slot];
            }
            vertical(taps, ty.weights, y * ty.taps, n, tmp, padded);
            if (wc == 1) {
                horizontal1(tmp, tx, res);
            } else {
                horizontal3(tmp, tx, res);
            }
            for (int c = 0; c < outChannels; c++) {
                norm.row(res, wc == 1 ? 0 : c * w, row, 0, w, c, clamp);
                NativeMemory.copyFromArray(row, 0, out + c * plane + 4L * y * w, w);
            }
        }
    }

    /** {@code pixels} pixels from {@code in} as floats with {@code wc} channels (PIL luma when 3 become 1). */
    private static void convert(long in, int srcChannels, int wc, int pixels, float[] dst) {
        if (srcChannels == wc) {
            for (int j = 0; j < pixels * wc; j++) {
                dst[j] = NativeMemory.getByte(in + j) & 0xFF;
            }
        } else {
            for (int j = 0; j < pixels; j++) {
                long p = in + 3L * j;
                dst[j] = ImagePreprocessor.luma(NativeMemory.getByte(p) & 0xFF, NativeMemory.getByte(p + 1) & 0xFF,
                        NativeMemory.getByte(p + 2) & 0xFF);
            }
        }
    }

    /** {@code dst[j] = sum_k w[o + k] * rows[k][j]} for {@code j < len} (a multiple of the vector length). */
    private static void vertical(float[][] rows, float[] w, int o, int n, float[] dst, int len) {
        int j = 0;
        for (; j + 4 * L <= len; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (int k = 0; k < n; k++) {
                FloatVector wk = FloatVector.broadcast(S, w[o + k]);
                float[] r = rows[k];
                a0 = FloatVector.fromArray(S, r, j).fma(wk, a0);
                a1 = FloatVector.fromArray(S, r, j + L).fma(wk, a1);
                a2 = FloatVector.fromArray(S, r, j + 2 * L).fma(wk, a2);
                a3 = FloatVector.fromArray(S, r, j + 3 * L).fma(wk, a3);
            }
            a0.intoArray(dst, j);
            a1.intoArray(dst, j + L);
            a2.intoArray(dst, j + 2 * L);
            a3.intoArray(dst, j + 3 * L);
        }
        for (; j < len; j += L) {
            FloatVector a = FloatVector.zero(S);
            for (int k = 0; k < n; k++) {
                a = FloatVector.fromArray(S, rows[k], j).fma(FloatVector.broadcast(S, w[o + k]), a);
            }
            a.intoArray(dst, j);
        }
    }

    /** One channel: {@code res[x] = sum_k wx[x][k] * tmp[start[x] - lo + k]}. */
    private static void horizontal1(float[] tmp, ResampleTaps tx, float[] res) {
        float[] w = tx.weights;
        for (int x = 0; x < tx.size; x++) {
            int b = tx.start[x] - tx.lo;
            int o = x * tx.taps;
            float a = 0f;
            for (int k = 0; k < tx.count[x]; k++) {
                a = Math.fma(w[o + k], tmp[b + k], a);
            }
            res[x] = a;
        }
    }

    /** Three interleaved channels into three planes of {@code res}. */
    private static void horizontal3(float[] tmp, ResampleTaps tx, float[] res) {
        float[] w = tx.weights;
        int size = tx.size;
        for (int x = 0; x < size; x++) {
            int b = (tx.start[x] - tx.lo) * 3;
            int o = x * tx.taps;
            float a0 = 0f;
            float a1 = 0f;
            float a2 = 0f;
            for (int k = 0; k < tx.count[x]; k++, b += 3) {
                float wk = w[o + k];
                a0 = Math.fma(wk, tmp[b], a0);
                a1 = Math.fma(wk, tmp[b + 1], a1);
                a2 = Math.fma(wk, tmp[b + 2], a2);
            }
            res[x] = a0;
            res[size + x] = a1;
            res[2 * size + x] = a2;
        }
    }

    /** Per-thread working arrays, grown on demand; {@link #ringRow} is reset for every block. */
    static final class Scratch {
        private float[][] ring = new float[0][];
        private int[] ringRow = new int[0];
        private float[][] taps = new float[0][];
        private float[] tmp = new float[0];
        private float[] res = new float[0];
        private float[] row = new float[0];

        float[][] ring(int rows, int len) {
            if (ring.length < rows || ring[0].length < len) {
                ring = new float[Math.max(rows, ring.length)][Math.max(len, ring.length == 0 ? 0 : ring[0].length)];
            }
            return ring;
        }

        int[] ringRow(int rows) {
            if (ringRow.length < rows) {
                ringRow = new int[rows];
            }
            java.util.Arrays.fill(ringRow, -1);
            return ringRow;
        }

        float[][] taps(int n) {
            return taps.length >= n ? taps : (taps = new float[n][]);
        }

        float[] tmp(int n) {
            return tmp.length >= n ? tmp : (tmp = new float[n]);
        }

        float[] res(int n) {
            return res.length >= n ? res : (res = new float[n]);
        }

        float[] row(int n) {
            return row.length >= n ? row : (row = new float[n]);
        }
    }
}
