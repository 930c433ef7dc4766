package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.pooling.Pooler;
import io.inflow.gpu.pooling.PoolingConfig;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * Sentence embeddings from an integer model ({@link Int8Bert}): the integer-only forward pass, then pooling and
 * (optionally) L2 normalisation in float, as the float encoder does after its last layer. What a scorer's head reads
 * when the scorer runs at INT8 or mixed INT4/INT8. Not thread-safe (one batch at a time); the backend is the
 * caller's and stays open.
 *
 * <pre>{@code
 * try (Backend cpu = new FastCpuBackend(null, 2);
 *      Int8TextEncoder enc = new Int8TextEncoder(cpu, int8Model, PoolingMode.MEAN, true)) {
 *     float[] pooled = enc.encode(ids, lengths, rows, seq);   // [rows, 384]
 * }
 * }</pre>
 */
public final class Int8TextEncoder implements AutoCloseable {
    private final Backend backend;
    private final Int8BertEncoder encoder;
    private final Pooler pooler;
    private final boolean normalize;
    private final int dim;

    public Int8TextEncoder(Backend backend, Int8Bert model, PoolingMode pooling, boolean normalize) {
        if (pooling == PoolingMode.MULTI_LAYER_MEAN) {
            throw new IllegalArgumentException("the integer encoder pools the last layer only (MEAN, CLS or"
                    + " LAST_TOKEN), not MULTI_LAYER_MEAN");
        }
        this.backend = backend;
        this.encoder = new Int8BertEncoder(backend, model);
        this.pooler = new Pooler(PoolingConfig.of(pooling), model.config().layers());
        this.normalize = normalize;
        this.dim = model.config().hidden();
    }

    /** Width of the embeddings. */
    public int dimension() {
        return dim;
    }

    /** {@code int8} when every layer has 8-bit weights, else {@code mixed}. */
    public String precision() {
        Int8Bert m = encoder.model();
        for (int i = 0; i < m.config().layers(); i++) {
            if (m.weightBits(i) != 8) {
                return "mixed";
            }
        }
        return "int8";
    }

    /**
     * Pooled embeddings of a padded batch.
     *
     * @param ids     {@code [rows, seq]} token ids, each row's first {@code lengths[r]} real
     * @param lengths tokens per row, 1..seq
     * @return {@code [rows, dimension()]} row-major
     */
    public float[] encode(int[] ids, int[] lengths, int rows, int seq) {
        try (Tensor idT = backend.upload(ids, rows, seq);
             Tensor lenT = backend.upload(lengths, rows);
             Tensor pooled = backend.allocate(DType.FLOAT32, rows, dim)) {
            Tensor hidden = encoder.forward(idT, lenT);
            pooler.poolFinal(backend, hidden, lenT, pooled);
            if (normalize) {
                backend.transformer().l2Normalize(pooled, pooled);
            }
            return backend.download(pooled);
        }
    }

    @Override
    public void close() {
        encoder.close();
    }
}
