package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.resources.ProcessResources;
import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The CUDA backend: tensors live in a bounded device-memory pool ({@link CudaMemory}), kernels are the {@code .cu}
 * families under {@code src/main/cuda} loaded from their fatbins when the process's shared {@link CudaContext} is
 * created (driver calls run on the calling thread, the device's context made current there), and this backend's work
 * is ordered on its own stream. Host data moves through a pinned staging buffer. Families: {@link CudaTransformerOps}
 * (float32 kernels, except the GEMM, whose inputs are rounded to {@link GemmPrecision BF16} with float32
 * accumulation; weights declared at load are kept as 16-bit copies and a self-attention's projections fused, freed
 * with the weights or when the backend closes), {@link CudaImageOps}, {@link CudaRetrievalOps},
 * {@link CudaClusteringOps} and {@link CudaQuantizedOps} (the integer-only INT8 path, bit-identical to the CPU
 * reference; its parameters are uploaded once per object and freed when the backend closes).
 *
 * <p>Argument checks mirror the CPU backend's messages ({@link CudaChecks}). Tensors handed to kernels must be this
 * backend's device tensors.
 *
 * <pre>{@code
 * try (Backend gpu = CudaBackend.create(CudaBackendConfig.defaults());
 *      Tensor x = gpu.upload(hostFloats, rows, in);
 *      Tensor y = gpu.allocate(DType.FLOAT32, rows, out)) {
 *     gpu.transformer().linear(x, weight, bias, y);
 *     float[] result = gpu.download(y);
 * }
 * }</pre>
 */
public final class CudaBackend implements Backend {
    private static final Set<Family> FAMILIES = Collections.unmodifiableSet(EnumSet.of(Family.TRANSFORMER,
            Family.IMAGE, Family.RETRIEVAL, Family.CLUSTERING, Family.QUANTIZED));

    private final CudaBackendConfig config;
    private final AutoCloseable contextLease;
    private final CudaContext context;
    private final CudaMemory memory;
    private final CudaTransformerOps transformer;
    private final CudaImageOps image;
    private final CudaRetrievalOps retrieval;
    private final CudaClusteringOps clustering;
    private final CudaQuantizedOps quantized;
    private boolean closed;

    private CudaBackend(CudaBackendConfig config, ProcessResources.Lease<CudaContext> contextLease) {
        this(config, contextLease, contextLease.get());
    }

    private CudaBackend(CudaBackendConfig config, AutoCloseable contextLease, CudaContext context) {
        this.contextLease = contextLease;
        this.config = config;
        this.context = context;
        this.memory = new CudaMemory(context, config);
        KernelLauncher launcher = new KernelLauncher(context, memory, config.syncAfterLaunch());
        this.transformer = new CudaTransformerOps(memory, context, launcher, config.gemmPrecision());
        this.image = new CudaImageOps(memory, context, launcher);
        this.retrieval = new CudaRetrievalOps(memory, context, launcher);
        this.clustering = new CudaClusteringOps(memory, context, launcher, retrieval);
        this.quantized = new CudaQuantizedOps(memory, context, launcher);
    }

    /**
     * A backend on device {@code config.device()}; throws {@link CudaUnavailableException} (message says what was
     * found and what to change) when there is no usable driver or device.
     */
    public static CudaBackend create(CudaBackendConfig config) {
        ProcessResources.Lease<CudaContext> ctx = CudaContext.acquire(config.device());
        try {
            return new CudaBackend(config, ctx);
        } catch (RuntimeException e) {
            closeQuietly(ctx, e);
            throw e;
        }
    }

    /**
     * A backend on a context of another device implementation (the tests' emulated device: {@link CudaContext#on});
     * closing the backend leaves the context open.
     */
    public static CudaBackend on(CudaContext context, CudaBackendConfig config) {
        return new CudaBackend(config, () -> { }, context);
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

    @Override
    public Set<Family> families() {
        return FAMILIES;
    }

    @Override
    public TransformerOps transformer() {
        return transformer;
    }

    @Override
    public ImageOps image() {
        return image;
    }

    /** Exact top-k ({@code retrieval.cu}: fused score-and-select per chunk slice, then a merge per query). */
    @Override
    public io.inflow.gpu.retrieval.RetrievalOps retrieval() {
        return retrieval;
    }

    /** The density tree's heavy stages ({@code cluster.cu}; core distances through the retrieval kernels). */
    @Override
    public io.inflow.gpu.cluster.ClusteringOps clustering() {
        return clustering;
    }

    /** The integer-only INT8 transformer ops ({@code quant.cu}), bit-identical to {@code QuantizedReference}. */
    @Override
    public io.inflow.gpu.quant.QuantizedOps quantized() {
        return quantized;
    }

    /** Resident 16-bit weight copies held now: {linear weights, fused self-attention projections} (tests). */
    int[] residentWeights() {
        return transformer.residentWeights();
    }

    /** {eager passes, graphs captured, graph replays} of the recorded forward passes so far. */
    long[] graphCounts() {
        return transformer.graphCounts();
    }

    /**
     * Frees the resident weight copies: the GEMMs round the float32 weights per call until weights are declared
     * again (tests).
     */
    void releaseResidentWeights() {
        transformer.releaseResidentWeights();
    }

    /** Device copies of quantized-model parameters held now (tests of the cache). */
    int cachedQuantizedParameters() {
        return quantized.cachedParameters();
    }

    public CudaBackendConfig config() {
        return config;
    }

    public CudaContext context() {
        return context;
    }

    /** The pool's bookkeeping (used, free, largest free block). */
    public BestFitAllocator pool() {
        return memory.pool();
    }

    // ---- memory -------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        return memory.allocate(dtype, shape);
    }

    @Override
    public Tensor upload(float[] data, int... shape) {
        return memory.upload(data, shape);
    }

    @Override
    public Tensor upload(int[] data, int... shape) {
        return memory.upload(data, shape);
    }

    @Override
    public void write(Tensor dst, int[] src) {
        memory.write(dst, src);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        memory.copy(src, dst);
    }

    @Override
    public float[] download(Tensor t) {
        return memory.download(t);
    }

    /** Copies an int32 tensor (device or host) to a new host array. */
    @Override
    public int[] downloadInts(Tensor t) {
        return memory.downloadInts(t);
    }

    /** Waits until all work queued on this backend's stream has finished (benchmarks, tests). */
    public void synchronize() {
        memory.synchronize();
    }

    // ---- lifecycle ------------------------------------------------------------------------------------

    /** Waits for queued work, frees the pool, staging buffer and stream; fails if tensors are still open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            try {
                retrieval.close();
            } finally {
                try {
                    quantized.close();
                } finally {
                    transformer.close();
                }
            }
            memory.close();
        } finally {
            try {
                contextLease.close();
            } catch (Exception e) {
                throw new IllegalStateException("releasing the CUDA context failed: " + e, e);
            }
        }
    }

    private static void closeQuietly(AutoCloseable lease, RuntimeException cause) {
        try {
            lease.close();
        } catch (Exception e) {
            cause.addSuppressed(e);
        }
    }
}
