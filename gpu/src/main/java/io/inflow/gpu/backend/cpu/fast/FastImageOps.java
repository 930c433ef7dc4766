package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.cpu.CpuChecks;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.Tensor;
import java.util.List;

/**
 * The image family of the fast CPU backend: {@link FastImagePreprocess} for preprocessing; {@code patchify} has no
 * fast version and runs the reference (listed in {@link #FALLBACKS}, reported by {@code FastCpuBackend.fallbacks()}).
 *
 * <p>{@code new FastImageOps(runner, new ReferenceImageOps()).preprocessImages(px, off, w, h, c, config, out);}
 */
public final class FastImageOps implements ImageOps {
    /** The methods of this family that run the reference kernel: no fast version exists (yet). */
    public static final List<String> FALLBACKS = List.of("patchify");

    private final ParallelRunner runner;
    private final ImageOps reference;

    /** Fast kernels on {@code runner}'s threads; {@code reference} runs the {@link #FALLBACKS}. */
    public FastImageOps(ParallelRunner runner, ImageOps reference) {
        this.runner = runner;
        this.reference = reference;
    }

    /**
     * Only what the crop keeps; float32 and the Vector API for BILINEAR / BICUBIC (a few ulps of 255 from the
     * double-precision reference), index maps for identity sizes and NEAREST (bit-identical); images, or blocks of
     * rows of few large images, spread over the kernel threads.
     */
    @Override
    public void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                                 ImagePreprocessConfig config, Tensor out) {
        CpuChecks.ImageRows rows = CpuChecks.images(pixels, offsets, widths, heights, channels, config, out);
        FastImagePreprocess.preprocess(pixels.address(), rows.offsets(), rows.widths(), rows.heights(),
                rows.channels(), config, out.address(), runner);
    }

    // ---- no fast kernel: the reference runs (keep FALLBACKS in step) ----------------------------------------

    @Override
    public void patchify(Tensor pixels, int patch, Tensor out) {
        reference.patchify(pixels, patch, out);
    }
}
