package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.tensor.NativeMemory;

/**
 * Preprocessing where every output sample is one input sample: identity sizes (the crop only) and NEAREST. Output
 * {@code (y, x)} reads input pixel {@code (mapY[y], mapX[x])}, converts it (PIL luma for RGB to gray, replication for
 * gray to RGB) and normalises it through {@link SampleNormaliser#table}. No arithmetic on samples beyond the
 * reference's own, so the result is bit-identical to {@link ImagePreprocessor}.
 *
 * <p>{@code IndexedCopy.rows(image, 28, 1, mapX, mapY, 0, 28, norm, 1, outImage);}
 */
final class IndexedCopy {
    private IndexedCopy() {
    }

    /**
     * Output rows {@code y0 .. y1 - 1} of one image.
     *
     * @param src         address of the image's interleaved 8-bit samples
     * @param width       the image's width
     * @param srcChannels 1 or 3
     * @param outChannels 1 or 3
     * @param out         address of the image's {@code float32 [outChannels, mapY.length, mapX.length]} output
     */
    static void rows(long src, int width, int srcChannels, int[] mapX, int[] mapY, int y0, int y1,
                     SampleNormaliser norm, int outChannels, long out) {
        int w = mapX.length;
        long plane = 4L * mapY.length * w;
        for (int y = y0; y < y1; y++) {
            long in = src + (long) mapY[y] * width * srcChannels;
            long o = out + 4L * y * w;
            if (srcChannels == 1) {
                gray(in, mapX, norm, outChannels, o, plane);
            } else if (outChannels == 1) {
                luma(in, mapX, norm.table(0), o);
            } else {
                for (int c = 0; c < 3; c++) {
                    rgbChannel(in + c, mapX, norm.table(c), o + c * plane);
                }
            }
        }
    }

    private static void gray(long in, int[] mapX, SampleNormaliser norm, int outChannels, long o, long plane) {
        for (int c = 0; c < outChannels; c++) {
            float[] table = norm.table(c);
            long oc = o + c * plane;
            for (int x = 0; x < mapX.length; x++) {
                NativeMemory.putFloat(oc + 4L * x, table[NativeMemory.getByte(in + mapX[x]) & 0xFF]);
            }
        }
    }

    private static void luma(long in, int[] mapX, float[] table, long o) {
        for (int x = 0; x < mapX.length; x++) {
            long p = in + 3L * mapX[x];
            int v = ImagePreprocessor.luma(NativeMemory.getByte(p) & 0xFF, NativeMemory.getByte(p + 1) & 0xFF,
                    NativeMemory.getByte(p + 2) & 0xFF);
            NativeMemory.putFloat(o + 4L * x, table[v]);
        }
    }

    private static void rgbChannel(long in, int[] mapX, float[] table, long o) {
        for (int x = 0; x < mapX.length; x++) {
            NativeMemory.putFloat(o + 4L * x, table[NativeMemory.getByte(in + 3L * mapX[x]) & 0xFF]);
        }
    }
}
