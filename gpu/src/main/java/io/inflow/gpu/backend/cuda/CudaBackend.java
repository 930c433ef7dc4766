package io.inflow.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.backend.cuda.kernels.ActivationsKernel;
import io.inflow.gpu.backend.cuda.kernels.AttentionKernel;
import io.inflow.gpu.backend.cuda.kernels.ElementwiseKernel;
import io.inflow.gpu.backend.cuda.kernels.EmbeddingKernel;
import io.inflow.gpu.backend.cuda.kernels.GemmKernel;
import io.inflow.gpu.backend.cuda.kernels.ImageKernel;
import io.inflow.gpu.backend.cuda.kernels.LayerNormKernel;
import io.inflow.gpu.backend.cuda.kernels.PoolingKernel;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * The CUDA backend: tensors live in a bounded device-memory pool, kernels are the {@code .cu} families under
 * {@code src/main/cuda} loaded from their fatbins, all driver calls run on the process's shared
 * {@link CudaContext} thread, and this backend's work is ordered on its own stream. Host data moves through a
 * pinned staging buffer. Float kernels compute in float32, except the GEMM, whose inputs are rounded to
 * {@link GemmPrecision BF16} (float32 accumulation).
 *
 * <p>Argument checks mirror the CPU backend's messages ({@link CudaChecks}); checks that need data values (token
 * ids, lengths) copy those small tensors to the host first. Tensors handed to kernels must be this backend's
 * device tensors.
 *
 * <pre>{@code
 * try (Backend gpu = CudaBackend.create(CudaBackendConfig.fromSystemProperties());
 *      Tensor x = gpu.upload(hostFloats, rows, in);
 *      Tensor y = gpu.allocate(DType.FLOAT32, rows, out)) {
 *     gpu.linear(x, weight, bias, y);
 *     float[] result = gpu.download(y);
 * }
 * }</pre>
 */
public final class CudaBackend implements Backend {
    private final CudaBackendConfig config;
    private final CudaContext context;
    private final CUstream stream;
    private final DeviceMemoryPool pool;
    private final PinnedStaging staging;
    private final KernelLauncher launcher;
    private boolean closed;

    private CudaBackend(CudaBackendConfig config, CudaContext context) {
        this.config = config;
        this.context = context;
        Object[] parts = context.call(() -> {
            CUstream s = new CUstream();
            CudaCheck.check(cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate", "-", "-");
            DeviceMemoryPool p;
            try {
                p = new DeviceMemoryPool(config.poolBytes());
            } catch (RuntimeException e) {
                cuStreamDestroy(s);
                throw e;
            }
            PinnedStaging st;
            try {
                st = new PinnedStaging(config.stagingBytes());
            } catch (RuntimeException e) {
                p.close();
                cuStreamDestroy(s);
                throw e;
            }
            return new Object[] {s, p, st};
        });
        this.stream = (CUstream) parts[0];
        this.pool = (DeviceMemoryPool) parts[1];
        this.staging = (PinnedStaging) parts[2];
        this.launcher = new KernelLauncher(context, stream, config.syncAfterLaunch());
    }

    /**
     * A backend on device {@code config.device()}; throws {@link CudaUnavailableException} (message says what was
     * found and what to change) when there is no usable driver or device.
     */
    public static CudaBackend create(CudaBackendConfig config) {
        CudaContext ctx = CudaContext.acquire(config.device());
        try {
            return new CudaBackend(config, ctx);
        } catch (RuntimeException e) {
            ctx.release();
            throw e;
        }
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CUDA;
    }

    @Override
    public String name() {
        return "cuda(" + context.deviceName() + ", sm_" + context.computeCapability() + ", "
                + config.gemmPrecision().name().toLowerCase(java.util.Locale.ROOT) + " gemm)";
    }

    public CudaBackendConfig config() {
        return config;
    }

    public CudaContext context() {
        return context;
    }

    /** The pool's bookkeeping (used, free, largest free block). */
    public BestFitAllocator memory() {
        return pool.allocator();
    }

    // ---- memory -------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        checkOpen();
        long bytes = Tensor.count(shape) * dtype.byteSize();
        long address = pool.allocate(bytes);   // bookkeeping only: no driver call, any thread
        try {
            return Tensor.owning(address, Math.max(bytes, 1), Tensor.Location.DEVICE, () -> pool.free(address), dtype,
                    shape);
        } catch (RuntimeException e) {
            pool.free(address);
            throw e;
        }
    }

    @Override
    public Tensor upload(float[] data, int... shape) {
        Tensor t = allocate(DType.FLOAT32, shape);
        try {
            CudaChecks.length(data.length, t);
            context.run(() -> toDevice(data, null, t.address(), data.length));
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    @Override
    public Tensor upload(int[] data, int... shape) {
        Tensor t = allocate(DType.INT32, shape);
        try {
            CudaChecks.length(data.length, t);
            context.run(() -> toDevice(null, data, t.address(), data.length));
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    @Override
    public void write(Tensor dst, int[] src) {
        if (dst.location() == Tensor.Location.HOST) {
            dst.copyFrom(src);
            return;
        }
        CudaChecks.dtype("write", "dst", dst, DType.INT32);
        CudaChecks.length(src.length, dst);
        context.run(() -> toDevice(null, src, dst.address(), src.length));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.dtype() != dst.dtype() || src.elementCount() != dst.elementCount()) {
            throw new IllegalArgumentException("copy from " + src + " into " + dst);
        }
        long bytes = src.elementCount() * src.dtype().byteSize();
        boolean srcDevice = src.location() == Tensor.Location.DEVICE;
        boolean dstDevice = dst.location() == Tensor.Location.DEVICE;
        if (!srcDevice && !dstDevice) {
            dst.copyFrom(src);
        } else if (srcDevice && dstDevice) {
            context.run(() -> {
                CudaCheck.check(cuMemcpyDtoDAsync(pool.pointer(dst.address(), bytes), pool.pointer(src.address(), bytes),
                        bytes, stream), "cuMemcpyDtoDAsync", "-", bytes + " bytes");
                sync("copy");
            });
        } else if (srcDevice) {
            context.run(() -> deviceToHost(src.address(), dst.address(), bytes));
        } else {
            context.run(() -> hostToDevice(src.address(), dst.address(), bytes));
        }
    }

    @Override
    public float[] download(Tensor t) {
        CudaChecks.dtype("download", "t", t, DType.FLOAT32);
        if (t.location() == Tensor.Location.HOST) {
            return t.toFloatArray();
        }
        float[] out = new float[Math.toIntExact(t.elementCount())];
        context.run(() -> toHost(t.address(), out, null, out.length));
        return out;
    }

    /** Copies an int32 device tensor to a new host array (used for the value checks of ids and lengths). */
    public int[] downloadInts(Tensor t) {
        CudaChecks.dtype("download", "t", t, DType.INT32);
        if (t.location() == Tensor.Location.HOST) {
            return t.toIntArray();
        }
        int[] out = new int[Math.toIntExact(t.elementCount())];
        context.run(() -> toHost(t.address(), null, out, out.length));
        return out;
    }

    /** Waits until all work queued on this backend's stream has finished (benchmarks, tests). */
    public void synchronize() {
        context.run(() -> sync("synchronize"));
    }

    // Context-thread helpers: host arrays go through the pinned staging buffer in chunks; each chunk's copy is
    // finished (stream synchronised) before the staging buffer is refilled.

    private void toDevice(float[] floats, int[] ints, long deviceAddress, int count) {
        int chunk = (int) (staging.bytes() / 4);
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            if (floats != null) {
                NativeMemory.copyFromArray(floats, done, staging.address(), n);
            } else {
                NativeMemory.copyFromArray(ints, done, staging.address(), n);
            }
            long bytes = 4L * n;
            CudaCheck.check(cuMemcpyHtoDAsync(pool.pointer(deviceAddress + 4L * done, bytes), staging.pointer(), bytes,
                    stream), "cuMemcpyHtoDAsync", "-", bytes + " bytes");
            sync("upload");
        }
    }

    private void toHost(long deviceAddress, float[] floats, int[] ints, int count) {
        int chunk = (int) (staging.bytes() / 4);
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            long bytes = 4L * n;
            CudaCheck.check(cuMemcpyDtoHAsync(staging.pointer(), pool.pointer(deviceAddress + 4L * done, bytes), bytes,
                    stream), "cuMemcpyDtoHAsync", "-", bytes + " bytes");
            sync("download");
            if (floats != null) {
                NativeMemory.copyToArray(staging.address(), floats, done, n);
            } else {
                NativeMemory.copyToArray(staging.address(), ints, done, n);
            }
        }
    }

    private void hostToDevice(long hostAddress, long deviceAddress, long bytes) {
        for (long done = 0; done < bytes; done += staging.bytes()) {
            long n = Math.min(staging.bytes(), bytes - done);
            NativeMemory.copy(hostAddress + done, staging.address(), n);
            CudaCheck.check(cuMemcpyHtoDAsync(pool.pointer(deviceAddress + done, n), staging.pointer(), n, stream),
                    "cuMemcpyHtoDAsync", "-", n + " bytes");
            sync("copy to device");
        }
    }

    private void deviceToHost(long deviceAddress, long hostAddress, long bytes) {
        for (long done = 0; done < bytes; done += staging.bytes()) {
            long n = Math.min(staging.bytes(), bytes - done);
            CudaCheck.check(cuMemcpyDtoHAsync(staging.pointer(), pool.pointer(deviceAddress + done, n), n, stream),
                    "cuMemcpyDtoHAsync", "-", n + " bytes");
            sync("copy to host");
            NativeMemory.copy(staging.address(), hostAddress + done, n);
        }
    }

    private void sync(String what) {
        CudaCheck.check(cuStreamSynchronize(stream), "cuStreamSynchronize", "-", what);
    }

    // ---- kernels --------------------------------------------------------------------------------------

    @Override
    public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] mnk = CudaChecks.matmul(a, b, transposeB, out);
        context.run(() -> GemmKernel.launch(launcher, config.gemmPrecision(), a, b, transposeB, null,
                GemmKernel.Epilogue.NONE, out, mnk[0], mnk[1], mnk[2]));
    }

    /** The bias is added in the GEMM's epilogue (one pass over the output instead of two). */
    @Override
    public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        int[] mnk = CudaChecks.matmul(x, weight, true, out);
        if (bias != null) {
            CudaChecks.shape("linear", "bias", bias, mnk[1]);
        }
        context.run(() -> GemmKernel.launch(launcher, config.gemmPrecision(), x, weight, true, bias,
                bias == null ? GemmKernel.Epilogue.NONE : GemmKernel.Epilogue.BIAS, out, mnk[0], mnk[1], mnk[2]));
    }

    /** {@code out = gelu(x · weight^T + bias)} in one kernel (the fused epilogue); without a bias, linear then gelu. */
    @Override
    public void linearGelu(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        if (bias == null) {
            linear(x, weight, null, out);
            gelu(out, out);
            return;
        }
        int[] mnk = CudaChecks.matmul(x, weight, true, out);
        CudaChecks.shape("linearGelu", "bias", bias, mnk[1]);
        context.run(() -> GemmKernel.launch(launcher, config.gemmPrecision(), x, weight, true, bias,
                GemmKernel.Epilogue.BIAS_GELU, out, mnk[0], mnk[1], mnk[2]));
    }

    @Override
    public void addBias(Tensor x, Tensor bias) {
        int[] rc = CudaChecks.bias("addBias", x, bias);
        context.run(() -> ElementwiseKernel.addBias(launcher, x, bias, rc[0], rc[1]));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        CudaChecks.sameSize("add", "a", a, "b", b);
        CudaChecks.sameSize("add", "a", a, "out", out);
        context.run(() -> ElementwiseKernel.add(launcher, a, b, out, out.elementCount()));
    }

    @Override
    public void fill(Tensor x, float value) {
        CudaChecks.dtype("fill", "x", x, DType.FLOAT32);
        context.run(() -> ElementwiseKernel.fill(launcher, x, value, x.elementCount()));
    }

    @Override
    public void scaleAdd(Tensor acc, Tensor x, float alpha) {
        CudaChecks.sameSize("scaleAdd", "acc", acc, "x", x);
        context.run(() -> ElementwiseKernel.scaleAdd(launcher, acc, x, alpha, acc.elementCount()));
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out) {
        int[] rc = CudaChecks.layerNorm(x, residual, gamma, beta, out);
        context.run(() -> LayerNormKernel.launch(launcher, x, residual, gamma, beta, eps, out, rc[0], rc[1]));
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        CudaChecks.sameSize("gelu", "x", x, "out", out);
        context.run(() -> ActivationsKernel.gelu(launcher, x, out, x.elementCount()));
    }

    @Override
    public void quickGelu(Tensor x, Tensor out) {
        CudaChecks.sameSize("quickGelu", "x", x, "out", out);
        context.run(() -> ActivationsKernel.quickGelu(launcher, x, out, x.elementCount()));
    }

    @Override
    public void glu(Tensor x, GluGate gate, Tensor out) {
        int[] rc = CudaChecks.glu(x, out);
        context.run(() -> ActivationsKernel.glu(launcher, x, gate, out, rc[0], rc[1] / 2));
    }

    @Override
    public void l2Normalize(Tensor x, Tensor out) {
        int[] rc = CudaChecks.matrix("l2Normalize", "x", x);
        CudaChecks.sameSize("l2Normalize", "x", x, "out", out);
        context.run(() -> ElementwiseKernel.l2Normalize(launcher, x, out, rc[0], rc[1]));
    }

    @Override
    public void embed(Tensor ids, Tensor tokenTypes, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                      Tensor out) {
        int[] bsd = CudaChecks.embed(ids, tokenTypes, wordTable, positionTable, typeTable, out);
        CudaChecks.tokenIds(downloadInts(ids), tokenTypes == null ? null : downloadInts(tokenTypes), wordTable.dim(0),
                typeTable == null ? 0 : typeTable.dim(0), typeTable != null, bsd[1]);
        context.run(() -> EmbeddingKernel.launch(launcher, ids, tokenTypes, wordTable, positionTable, typeTable, out,
                bsd[0], bsd[1], bsd[2]));
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) {
        int[] bsd = CudaChecks.attention(q, k, v, heads, out);
        CudaChecks.lengths("attention", lengths, downloadIntsChecked("attention", lengths, bsd[0]), bsd[0], bsd[1]);
        context.run(() -> AttentionKernel.launch(launcher, q, k, v, lengths, out, bsd[0], bsd[1], heads, bsd[2] / heads));
    }

    @Override
    public void meanPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CudaChecks.pool("meanPool", hidden, out);
        CudaChecks.lengths("meanPool", lengths, downloadIntsChecked("meanPool", lengths, bsd[0]), bsd[0], bsd[1]);
        context.run(() -> PoolingKernel.mean(launcher, hidden, lengths, out, bsd[0], bsd[1], bsd[2]));
    }

    @Override
    public void firstTokenPool(Tensor hidden, Tensor out) {
        int[] bsd = CudaChecks.pool("firstTokenPool", hidden, out);
        context.run(() -> PoolingKernel.first(launcher, hidden, out, bsd[0], bsd[1], bsd[2]));
    }

    @Override
    public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CudaChecks.pool("lastTokenPool", hidden, out);
        CudaChecks.lengths("lastTokenPool", lengths, downloadIntsChecked("lastTokenPool", lengths, bsd[0]), bsd[0],
                bsd[1]);
        context.run(() -> PoolingKernel.last(launcher, hidden, lengths, out, bsd[0], bsd[1], bsd[2]));
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
        int[] off = downloadInts(offsets);
        int[] w = downloadInts(widths);
        int[] h = downloadInts(heights);
        int[] c = downloadInts(channels);
        ShapeChecks.imageRows(op, off, w, h, c, pixels.elementCount());
        if (b == 0) {
            return;
        }
        List<Tensor> temporaries = new ArrayList<>();
        try {
            Tensor dPixels = pixels;
            if (pixels.location() == Tensor.Location.HOST) {
                dPixels = allocate(DType.UINT8, off[b]);
                temporaries.add(dPixels);
                copy(pixels.view(0, off[b]), dPixels);
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
        Tensor d = upload(values, values.length);
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

    private int[] downloadIntsChecked(String op, Tensor lengths, int batch) {
        CudaChecks.lengthsShape(op, lengths, batch);
        return downloadInts(lengths);
    }

    // ---- lifecycle ------------------------------------------------------------------------------------

    /** Waits for queued work, frees the pool, staging buffer and stream; fails if tensors are still open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        int leaked = pool.allocator().liveBlocks();
        long leakedBytes = pool.allocator().usedBytes();
        try {
            context.run(() -> {
                try {
                    sync("close");
                } finally {
                    try {
                        staging.close();
                    } finally {
                        try {
                            pool.close();
                        } finally {
                            cuStreamDestroy(stream);
                        }
                    }
                }
            });
        } finally {
            context.release();
        }
        if (leaked > 0) {
            throw new IllegalStateException("CUDA backend closed with " + leaked + " tensor(s) still open ("
                    + leakedBytes + " bytes); their device memory is freed now and they must not be used");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA backend is closed");
        }
    }
}
