package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.cpu.fast.FastImageOps;
import io.inflow.gpu.backend.cpu.fast.FastClustering;
import io.inflow.gpu.backend.cpu.fast.FastRetrieval;
import io.inflow.gpu.backend.cpu.fast.FastTransformerOps;
import io.inflow.gpu.backend.cpu.fast.ParallelRunner;
import io.inflow.gpu.backend.cpu.reference.ReferenceImageOps;
import io.inflow.gpu.backend.cpu.reference.ReferenceTransformerOps;
import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fast CPU backend: host memory ({@link CpuMemory}) and the multi-threaded, cache-blocked Vector API kernel
 * families of {@code backend.cpu.fast} ({@link FastTransformerOps}, {@link FastImageOps}, {@link FastRetrieval}). It composes with the
 * reference families rather than inheriting from them: a kernel without a fast version is an explicit delegation to
 * the reference, listed by {@link #fallbacks()} and logged once per process when the first fast backend is created.
 *
 * <pre>{@code
 * try (FastCpuBackend cpu = new FastCpuBackend(null, 2)) {
 *     cpu.transformer().linear(x, weight, bias, y);
 *     List<String> slow = cpu.fallbacks();     // e.g. [transformer.addBias, ..., image.patchify]
 * }
 * }</pre>
 */
public final class FastCpuBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(FastCpuBackend.class);
    private static final Set<Family> FAMILIES = Collections.unmodifiableSet(EnumSet.of(Family.TRANSFORMER,
            Family.IMAGE, Family.RETRIEVAL, Family.CLUSTERING, Family.QUANTIZED));
    private static final List<String> FALLBACKS = fallbackList();
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private final CpuMemory memory;
    private final ParallelRunner runner;
    private final FastTransformerOps transformer;
    private final FastImageOps image;
    private final FastRetrieval retrieval;
    private final FastClustering clustering;
    private final io.inflow.gpu.backend.cpu.fast.FastQuantizedOps quantized;

    /** A backend with {@code threads} kernel threads (the caller's thread counts as one). */
    public FastCpuBackend(BufferAllocator parent, int threads) {
        this.memory = new CpuMemory(parent);
        this.runner = new ParallelRunner(threads);
        this.transformer = new FastTransformerOps(runner, new ReferenceTransformerOps(memory));
        this.image = new FastImageOps(runner, new ReferenceImageOps());
        this.retrieval = new FastRetrieval(runner);
        this.clustering = new FastClustering(runner);
        this.quantized = new io.inflow.gpu.backend.cpu.fast.FastQuantizedOps(runner, memory);
        if (LOGGED.compareAndSet(false, true)) {
            LOG.info("cpu-fast: {} kernel(s) have no fast version and run the reference: {}", FALLBACKS.size(),
                    String.join(", ", FALLBACKS));
        }
    }

    private static List<String> fallbackList() {
        List<String> all = new ArrayList<>();
        FastTransformerOps.FALLBACKS.forEach(m -> all.add("transformer." + m));
        FastImageOps.FALLBACKS.forEach(m -> all.add("image." + m));
        return List.copyOf(all);
    }

    /** The kernels that run the reference implementation here, as {@code family.method}. */
    public List<String> fallbacks() {
        return FALLBACKS;
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    @Override
    public String name() {
        return "cpu-fast(" + runner.threads() + " threads)";
    }

    public int threads() {
        return runner.threads();
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

    /** Exact top-k ({@link FastRetrieval}: blocked, Vector API, split over the kernel threads). */
    @Override
    public RetrievalOps retrieval() {
        return retrieval;
    }

    @Override
    public io.inflow.gpu.quant.QuantizedOps quantized() {
        return quantized;
    }

    @Override
    public io.inflow.gpu.cluster.ClusteringOps clustering() {
        return clustering;
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
    public float[] download(Tensor t) {
        return memory.download(t);
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
    public void close() {
        try {
            runner.close();
            transformer.clear();
        } finally {
            memory.close();
        }
    }
}
