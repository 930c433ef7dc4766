package io.inflow.gpu.backend;

import java.util.Set;

/**
 * A compute backend: its memory ({@link TensorMemory}, which every backend has) and the kernel families it offers,
 * each a separate interface ({@link Family}): {@link #transformer()} and {@link #image()} today, room for retrieval,
 * clustering and quantized arithmetic. {@link #supports(Family)} answers per family; asking for a family the backend
 * does not offer throws {@link UnsupportedFamilyException} naming the backend and the family.
 *
 * <pre>{@code
 * try (Backend cpu = Backends.create(BackendKind.CPU, 2);
 *      Tensor x = cpu.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
 *      Tensor w = cpu.upload(new float[] {1, 0, 0, 0, 1, 0}, 2, 3);   // Linear weight [out, in]
 *      Tensor y = cpu.allocate(DType.FLOAT32, 2, 2)) {
 *     cpu.require(Family.TRANSFORMER);                                 // fails naming backend and family
 *     cpu.transformer().linear(x, w, null, y);                         // y = x · w^T
 * }
 * }</pre>
 */
public interface Backend extends TensorMemory, AutoCloseable {

    /** The kind this backend implements (never {@code AUTO}). */
    BackendKind kind();

    /** A short name for logs and benchmark tables, e.g. {@code cpu-fast(2 threads)}. */
    String name();

    /** The kernel families this backend implements. */
    Set<Family> families();

    /** Whether this backend implements {@code family}. */
    default boolean supports(Family family) {
        return families().contains(family);
    }

    /** Fails with {@link UnsupportedFamilyException} (naming this backend and the family) unless it is supported. */
    default void require(Family family) {
        if (!supports(family)) {
            throw new UnsupportedFamilyException(name(), family, families());
        }
    }

    /** The {@link Family#TRANSFORMER} kernels; throws {@link UnsupportedFamilyException} where not supported. */
    default TransformerOps transformer() {
        throw new UnsupportedFamilyException(name(), Family.TRANSFORMER, families());
    }

    /** The {@link Family#IMAGE} kernels; throws {@link UnsupportedFamilyException} where not supported. */
    default ImageOps image() {
        throw new UnsupportedFamilyException(name(), Family.IMAGE, families());
    }

    /** The {@link Family#RETRIEVAL} kernels; throws {@link UnsupportedFamilyException} where not supported. */
    default io.inflow.gpu.retrieval.RetrievalOps retrieval() {
        throw new UnsupportedFamilyException(name(), Family.RETRIEVAL, families());
    }

    /** The {@link Family#CLUSTERING} kernels; throws {@link UnsupportedFamilyException} where not supported. */
    default io.inflow.gpu.cluster.ClusteringOps clustering() {
        throw new UnsupportedFamilyException(name(), Family.CLUSTERING, families());
    }

    /** The {@link Family#QUANTIZED} kernels; throws {@link UnsupportedFamilyException} where not supported. */
    default io.inflow.gpu.quant.QuantizedOps quantized() {
        throw new UnsupportedFamilyException(name(), Family.QUANTIZED, families());
    }

    /** Frees what the backend holds (thread pools, allocators); fails if tensors it allocated are still open. */
    @Override
    void close();
}
