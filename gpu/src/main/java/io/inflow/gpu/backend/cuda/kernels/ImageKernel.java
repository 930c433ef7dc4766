package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code image.cu}: {@code preprocess_u8_f32} (decoded 8-bit images of any size to model input; grid
 * {@code (ceil(h * w / 256), batch)}, one thread per output pixel) and {@code patchify_f32} (im2col of the ViT patch
 * embedding; grid-stride, 256 threads). CPU twin: {@code ImageReference} ({@code ImagePreprocessor} for the maths).
 * The per-image values (sizes, channels, offsets) must have been checked on the host: the kernel trusts them.
 *
 * <p>{@code ImageKernel.preprocess(launcher, pixels, offsets, widths, heights, channels, config, out, batch);}
 */
public final class ImageKernel {
    public static final String MODULE = "image";
    static final int THREADS = 256;

    private ImageKernel() {
    }

    /** The {@code interpolation} argument of {@code preprocess_u8_f32} (the constants at the top of image.cu). */
    static int interpolationCode(Interpolation interpolation) {
        return switch (interpolation) {
            case NEAREST -> 0;
            case BILINEAR -> 1;
            case BICUBIC -> 2;
        };
    }

    /**
     * C signature {@code (pixels, offsets, widths, heights, channels, out, out_c, out_h, out_w, interpolation,
     * shortest_edge, rescale, mean0, mean1, mean2, std0, std1, std2)}; for a 1-channel config the unused mean / std
     * slots repeat channel 0.
     */
    public static void preprocess(KernelLauncher launcher, Tensor pixels, Tensor offsets, Tensor widths,
                                  Tensor heights, Tensor channels, ImagePreprocessConfig config, Tensor out,
                                  int batch) {
        if (batch == 0) {
            return;
        }
        int plane = Math.multiplyExact(config.height(), config.width());
        String shapes = "b=" + batch + " out=[" + config.channels() + ", " + config.height() + ", " + config.width()
                + "] " + config.interpolation() + (config.shortestEdge() > 0 ? " shortest_edge=" + config.shortestEdge()
                : "") + " pixel_bytes=" + pixels.elementCount();
        if (batch > 65535) {
            throw new IllegalArgumentException("preprocess_u8_f32 supports batch up to 65535 (requested " + batch
                    + "): " + shapes);
        }
        float[] mean = config.mean();
        float[] std = config.std();
        int c = config.channels();
        launcher.launch(MODULE, "preprocess_u8_f32", KernelLauncher.ceilDiv(plane, THREADS), batch, 1, THREADS, 0,
                shapes, KernelArgs.of().ptr(pixels).ptr(offsets).ptr(widths).ptr(heights).ptr(channels).ptr(out)
                        .i32(c).i32(config.height()).i32(config.width())
                        .i32(interpolationCode(config.interpolation())).i32(config.shortestEdge())
                        .f32(config.rescale())
                        .f32(mean[0]).f32(mean[Math.min(1, c - 1)]).f32(mean[Math.min(2, c - 1)])
                        .f32(std[0]).f32(std[Math.min(1, c - 1)]).f32(std[Math.min(2, c - 1)]));
    }

    /** C signature {@code (pixels, out, channels, size, patch, n)}, {@code n = batch * channels * size * size}. */
    public static void patchify(KernelLauncher launcher, Tensor pixels, Tensor out, int batch, int channels, int size,
                                int patch) {
        long n = (long) batch * channels * size * size;
        if (n == 0) {
            return;
        }
        launcher.launch(MODULE, "patchify_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0,
                "pixels=[" + batch + ", " + channels + ", " + size + ", " + size + "] patch=" + patch,
                KernelArgs.of().ptr(pixels).ptr(out).i32(channels).i32(size).i32(patch).i64(n));
    }
}
