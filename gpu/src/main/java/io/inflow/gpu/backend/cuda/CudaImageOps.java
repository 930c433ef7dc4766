package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.backend.cuda.kernels.ImageKernel;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The image family on CUDA ({@code image.cu}: {@code preprocess_u8_f32}, {@code patchify_f32}), launched on the
 * backend's stream.
 *
 * <p>{@code cudaBackend.image().preprocessImages(pixels, offsets, widths, heights, channels, config, out);}
 */
final class CudaImageOps implements ImageOps {
    private final CudaMemory memory;
    private final CudaContext context;
    private final KernelLauncher launcher;

    CudaImageOps(CudaMemory memory, CudaContext context, KernelLauncher launcher) {
        this.memory = memory;
        this.context = context;
        this.launcher = launcher;
    }

    /**
     * Inputs may be host tensors (the wrapped Arrow buffers of a {@code DecodedImageBatch}): their values are checked
     * on the host, then they are copied into temporary device tensors (only the bytes the rows use), freed after the
     * launch. Freeing before the kernel has run is safe: the pool only hands memory out again to work of this backend,
     * which is ordered after the kernel on the same stream.
     */
    @Override
    public void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                                 ImagePreprocessConfig config, Tensor out) {
        String op = "preprocessImages";
        int b = ShapeChecks.images(op, pixels, offsets, widths, heights, channels, config,
                CudaChecks.device(op, "out", out));
        int[] off = memory.downloadInts(offsets);
        int[] w = memory.downloadInts(widths);
        int[] h = memory.downloadInts(heights);
        int[] c = memory.downloadInts(channels);
        ShapeChecks.imageRows(op, off, w, h, c, pixels.elementCount());
        if (b == 0) {
            return;
        }
        List<Tensor> temporaries = new ArrayList<>();
        try {
            Tensor dPixels = pixels;
            if (pixels.location() == Tensor.Location.HOST) {
                dPixels = memory.allocate(DType.UINT8, off[b]);
                temporaries.add(dPixels);
                memory.copy(pixels.view(0, off[b]), dPixels);
            }
            Tensor dOffsets = onDevice(offsets, off, temporaries);
            Tensor dWidths = onDevice(widths, w, temporaries);
            Tensor dHeights = onDevice(heights, h, temporaries);
            Tensor dChannels = onDevice(channels, c, temporaries);
            Tensor px = dPixels;
            context.run(() -> ImageKernel.preprocess(launcher, px, dOffsets, dWidths, dHeights, dChannels, config, out,
                    b));
        } finally {
            temporaries.forEach(Tensor::close);
        }
    }

    /** {@code t} itself when on the device, else a temporary device copy of {@code values} (its contents). */
    private Tensor onDevice(Tensor t, int[] values, List<Tensor> temporaries) {
        if (t.location() == Tensor.Location.DEVICE) {
            return t;
        }
        Tensor d = memory.upload(values, values.length);
        temporaries.add(d);
        return d;
    }

    @Override
    public void patchify(Tensor pixels, int patch, Tensor out) {
        int[] bcs = ShapeChecks.patchify("patchify", CudaChecks.device("patchify", "pixels", pixels), patch,
                CudaChecks.device("patchify", "out", out));
        if (pixels.address() == out.address() && out.elementCount() > 0) {
            throw new IllegalArgumentException("patchify: out must not alias pixels");
        }
        context.run(() -> ImageKernel.patchify(launcher, pixels, out, bcs[0], bcs[1], bcs[2], patch));
    }
}
