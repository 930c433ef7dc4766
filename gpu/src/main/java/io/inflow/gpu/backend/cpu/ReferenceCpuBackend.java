package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.cpu.reference.ReferenceImageOps;
import io.inflow.gpu.backend.cpu.reference.ReferenceTransformerOps;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The CPU reference backend: host memory ({@link CpuMemory}) and the plain, single-threaded kernel families of
 * {@code backend.cpu.reference} ({@link ReferenceTransformerOps}, {@link ReferenceImageOps}). Slow and obviously
 * right: the oracle for {@link FastCpuBackend} and the CUDA backend.
 *
 * <pre>{@code
 * try (Backend ref = new ReferenceCpuBackend(null);
 *      Tensor x = ref.upload(new float[] {0, 1, -1, 3}, 4);
 *      Tensor y = ref.allocate(DType.FLOAT32, 4)) {
 *     ref.transformer().gelu(x, y);
 * }
 * }</pre>
 */
public final class ReferenceCpuBackend implements Backend {
    private static final Set<Family> FAMILIES = Collections.unmodifiableSet(EnumSet.of(Family.TRANSFORMER, Family.IMAGE,
            Family.RETRIEVAL, Family.CLUSTERING, Family.QUANTIZED));

    private final CpuMemory memory;
    private final ReferenceTransformerOps transformer;
    private final io.inflow.gpu.backend.cpu.reference.RetrievalReference retrieval =
            new io.inflow.gpu.backend.cpu.reference.RetrievalReference();
    private final ReferenceImageOps image;

    /** A backend whose tensors come from a child of {@code parent} (or an own root allocator if null). */
    private final io.inflow.gpu.quant.QuantizedOps quantized =
            new io.inflow.gpu.backend.cpu.reference.QuantizedReference();

    public ReferenceCpuBackend(BufferAllocator parent) {
        this.memory = new CpuMemory(parent);
        this.transformer = new ReferenceTransformerOps(memory);
        this.image = new ReferenceImageOps();
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    @Override
    public String name() {
        return "cpu-reference";
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

    @Override
    public io.inflow.gpu.retrieval.RetrievalOps retrieval() {
        return retrieval;
    }

    @Override
    public io.inflow.gpu.quant.QuantizedOps quantized() {
        return quantized;
    }

    @Override
    public io.inflow.gpu.cluster.ClusteringOps clustering() {
        return io.inflow.gpu.cluster.ReferenceClustering.INSTANCE;
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
        memory.close();
    }
}
