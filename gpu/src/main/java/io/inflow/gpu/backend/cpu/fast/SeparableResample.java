package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.tensor.NativeMemory;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * BILINEAR / BICUBIC preprocessing of a block of output rows of one image, in float32 with the Vector API. For each
 * output row kept by the crop, the vertical pass combines the source rows its taps name (each converted to float
 * once and kept in a ring of {@code ty.taps} rows; only the source columns the horizontal taps read) into one row;
 * the horizontal pass then computes the cropped output columns of {@value #ROWS} such rows at a time, vectorised
 * over output columns ({@link ResampleTaps#dense}); then clamp (bicubic), normalise and store channel-major. The
 * reference ({@link io.inflow.gpu.image.Resampler}) runs the horizontal pass first, over the whole image, in double;
 * the filter is separable, so only the rounding differs.
 *
 * <p>{@code SeparableResample.rows(image, 640, 3, 3, tx, ty, 0, 224, true, norm, 3, outImage, scratch);}
 */
final class SeparableResample {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();
    /** Bytes and ints of one float vector's lanes. */
    private static final VectorSpecies<Byte> B =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize() / 4));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    /** Output rows per horizontal pass (its four accumulators): independent FMA chains hide the FMA latency. */
    static final int ROWS = 4;

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
        int wPad = tx.blocks * L;
        float[][] ring = s.ring(ty.taps, padded);
        int[] ringRow = s.ringRow(ty.taps);
        float[][] taps = s.taps(ty.taps);
        float[][] tmp = s.tmp(padded);
        float[] res = s.res(ROWS * wc * wPad);
        float[] row = s.row(w);
        byte[] bytes = s.bytes((tx.hi - tx.lo) * srcChannels);
        long plane = 4L * ty.size * w;
        for (int y = y0; y < y1; y += ROWS) {
            int rows = Math.min(ROWS, y1 - y);
            for (int r = 0; r < rows; r++) {
                int first = ty.start[y + r];
                for (int k = 0; k < ty.taps; k++) {
                    int sy = first + k;
                    int slot = sy % ty.taps;
                    if (ringRow[slot] != sy) {
                        convert(src + ((long) sy * width + tx.lo) * srcChannels, srcChannels, wc, len / wc, bytes,
                                ring[slot]);
                        ringRow[slot] = sy;
                    }
                    taps[k] = ring[slot];
                }
                vertical(taps, ty.weights, (y + r) * ty.taps, ty.taps, tmp[r], padded);
            }
            for (int c = 0; c < wc; c++) {
                // fewer than ROWS rows left: tmp[0] stands in for the missing ones, whose results are not stored
                horizontal(tmp[0], tmp[rows > 1 ? 1 : 0], tmp[rows > 2 ? 2 : 0], tmp[rows > 3 ? 3 : 0], wc, c, tx,
                        res, wc * wPad, c * wPad);
            }
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < outChannels; c++) {
                    norm.row(res, (r * wc + (wc == 1 ? 0 : c)) * wPad, row, 0, w, c, clamp);
                    NativeMemory.copyFromArray(row, 0, out + c * plane + 4L * (y + r) * w, w);
                }
            }
        }
    }

    /** {@code pixels} pixels from {@code in} as floats with {@code wc} channels (PIL luma when 3 become 1). */
    private static void convert(long in, int srcChannels, int wc, int pixels, byte[] bytes, float[] dst) {
        int n = pixels * srcChannels;
        NativeMemory.copyToArray(in, bytes, 0, n);
        if (srcChannels == wc) {
            int j = 0;
            for (int bound = S.loopBound(n); j < bound; j += L) {
                toFloats(bytes, j, dst);
            }
            for (; j < n; j++) {
                dst[j] = bytes[j] & 0xFF;
            }
        } else {
            for (int j = 0; j < pixels; j++) {
                dst[j] = ImagePreprocessor.luma(bytes[3 * j] & 0xFF, bytes[3 * j + 1] & 0xFF, bytes[3 * j + 2] & 0xFF);
            }
        }
    }

    /** {@code dst[j + i] = bytes[j + i] & 0xFF} for one vector: sign-extend to int, mask, convert. */
    private static void toFloats(byte[] bytes, int j, float[] dst) {
        IntVector i = (IntVector) ByteVector.fromArray(B, bytes, j).convertShape(VectorOperators.B2I, I, 0);
        ((FloatVector) i.and(0xFF).convertShape(VectorOperators.I2F, S, 0)).intoArray(dst, j);
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

    /**
     * Channel {@code c} of four rows {@code t0..t3} (interleaved, {@code wc} channels from input {@code tx.lo}):
     * {@code res[r * stride + o + x] = sum_j t_r[(j - lo) * wc + c] * weight(j, x)} over each block's span.
     */
    private static void horizontal(float[] t0, float[] t1, float[] t2, float[] t3, int wc, int c, ResampleTaps tx,
                                   float[] res, int stride, int o) {
        float[] dense = tx.dense;
        for (int b = 0; b < tx.blocks; b++) {
            int t = (tx.blockStart[b] - tx.lo) * wc + c;
            int d = tx.blockOffset[b];
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (int j = 0; j < tx.blockSpan[b]; j++, t += wc, d += L) {
                FloatVector wj = FloatVector.fromArray(S, dense, d);
                a0 = wj.fma(FloatVector.broadcast(S, t0[t]), a0);
                a1 = wj.fma(FloatVector.broadcast(S, t1[t]), a1);
                a2 = wj.fma(FloatVector.broadcast(S, t2[t]), a2);
                a3 = wj.fma(FloatVector.broadcast(S, t3[t]), a3);
            }
            int x = o + b * L;
            a0.intoArray(res, x);
            a1.intoArray(res, x + stride);
            a2.intoArray(res, x + 2 * stride);
            a3.intoArray(res, x + 3 * stride);
        }
    }

    /** Per-thread working arrays, grown on demand; {@link #ringRow} is reset for every block of rows. */
    static final class Scratch {
        private float[][] ring = new float[0][0];
        private int[] ringRow = new int[0];
        private float[][] taps = new float[0][];
        private float[][] tmp = new float[ROWS][0];
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
            Arrays.fill(ringRow, -1);
            return ringRow;
        }

        float[][] taps(int n) {
            return taps.length >= n ? taps : (taps = new float[n][]);
        }

        float[][] tmp(int len) {
            if (tmp[0].length < len) {
                tmp = new float[ROWS][len];
            }
            return tmp;
        }

        float[] res(int n) {
            return res.length >= n ? res : (res = new float[n]);
        }

        private byte[] bytes = new byte[0];

        byte[] bytes(int n) {
            return bytes.length >= n ? bytes : (bytes = new byte[n]);
        }

        float[] row(int n) {
            return row.length >= n ? row : (row = new float[n]);
        }
    }
}
