package io.inflow.gpu.backend.cpu.reference;

import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.tensor.NativeMemory;

/**
 * The image kernels of the CPU backends (CPU twin of {@code image.cu}): preprocessing of one row of a decoded-image
 * batch, which is {@link ImagePreprocessor#preprocess} on a {@link DecodedImage} view of the row (the maths lives
 * there, once), and the ViT patch embedding's im2col.
 *
 * <p>{@code float[] cols = ImageReference.patchify(pixels, b, c, size, patch);}
 */
public final class ImageReference {
    private ImageReference() {
    }

    /**
     * Row {@code i} of a decoded-image batch in host memory, preprocessed: {@code float32 [c, h, w]} of the
     * preprocessor's config. The row's samples are copied out of {@code pixelsAddress + offsets[i]}.
     */
    public static float[] preprocess(ImagePreprocessor pre, long pixelsAddress, int[] offsets, int[] widths,
                                     int[] heights, int[] channels, int i) {
        byte[] samples = new byte[offsets[i + 1] - offsets[i]];
        NativeMemory.copyToArray(pixelsAddress + offsets[i], samples, 0, samples.length);
        return pre.preprocess(new DecodedImage(widths[i], heights[i], channels[i], samples, null));
    }

    /**
     * Lays out the patches of {@code pixels [b, c, size, size]} as rows {@code [b * (size/p)^2, c * p * p]}, patches
     * in row-major grid order, each row in the convolution weight's {@code (c, ky, kx)} order.
     */
    public static float[] patchify(float[] pixels, int b, int c, int size, int p) {
        int grid = size / p;
        int k = c * p * p;
        float[] out = new float[b * grid * grid * k];
        int o = 0;
        for (int i = 0; i < b; i++) {
            int image = i * c * size * size;
            for (int gy = 0; gy < grid; gy++) {
                for (int gx = 0; gx < grid; gx++) {
                    for (int ch = 0; ch < c; ch++) {
                        int plane = image + ch * size * size;
                        for (int ky = 0; ky < p; ky++) {
                            System.arraycopy(pixels, plane + (gy * p + ky) * size + gx * p, out, o, p);
                            o += p;
                        }
                    }
                }
            }
        }
        return out;
    }
}
