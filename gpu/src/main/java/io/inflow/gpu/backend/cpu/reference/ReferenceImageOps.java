package io.inflow.gpu.backend.cpu.reference;

import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.cpu.CpuChecks;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;

/**
 * The image family of the reference CPU backend, the oracle: {@link ImagePreprocessor#preprocess} one image after the
 * other (exact by definition) and the plain im2col loop of {@link ImageReference#patchify}.
 *
 * <p>{@code new ReferenceImageOps().patchify(pixels, 4, patches);}
 */
public final class ReferenceImageOps implements ImageOps {

    @Override
    public void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                                 ImagePreprocessConfig config, Tensor out) {
        CpuChecks.ImageRows rows = CpuChecks.images(pixels, offsets, widths, heights, channels, config, out);
        ImagePreprocessor pre = new ImagePreprocessor(config);
        for (int i = 0; i < rows.count(); i++) {
            float[] image = ImageReference.preprocess(pre, pixels.address(), rows.offsets(), rows.widths(),
                    rows.heights(), rows.channels(), i);
            NativeMemory.copyFromArray(image, 0, out.address() + 4L * i * image.length, image.length);
        }
    }

    @Override
    public void patchify(Tensor pixels, int patch, Tensor out) {
        int[] bcs = CpuChecks.patchify(pixels, patch, out);
        out.copyFrom(ImageReference.patchify(pixels.toFloatArray(), bcs[0], bcs[1], bcs[2], patch));
    }
}
