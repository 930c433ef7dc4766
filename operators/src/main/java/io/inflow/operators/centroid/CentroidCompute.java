package io.inflow.operators.centroid;

import io.inflow.gpu.batch.VectorBatch;
import io.inflow.operators.batch.BatchCompute;
import io.inflow.operators.batch.Emitter;
import io.inflow.operators.batch.StateStores;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;

import java.util.List;

/**
 * A per-tenant running embedding centroid, and each event's drift from it: the example of a stateful batching
 * operator (the "add an operator" recipe in {@code operators/README.md} builds it step by step). Run it on a stream
 * keyed by tenant: the batch (L2 normalisation of each row, the part worth batching) is computed off the task thread;
 * {@link #emit} runs on the task thread under the row's tenant, reads the tenant's centroid from keyed state, emits
 * the drift and adds the row. Buffered rows and the centroids survive checkpoints, restores and rescaling.
 *
 * <pre>{@code
 * DataStream<CentroidDrift> drift = embeddings.keyBy(TenantEmbedding::tenant)
 *         .transform("centroid", TypeInformation.of(CentroidDrift.class),
 *                 new BatchOperatorFactory<>(new CentroidCompute(384, 64),
 *                         new BatchSettings(Duration.ofMillis(50), 2, "centroid", "text")));
 * }</pre>
 */
public final class CentroidCompute implements BatchCompute<TenantEmbedding, VectorBatch, float[][], CentroidDrift> {

    private static final long serialVersionUID = 1L;
    /** Stage of the dead letters of events whose embedding is unusable. */
    public static final String STAGE = "centroid";

    private final int dim;
    private final int maxRows;
    private transient ValueState<float[]> sum;
    private transient ValueState<Long> count;

    /**
     * @param dim embedding dimension
     * @param maxRows rows per batch
     */
    public CentroidCompute(int dim, int maxRows) {
        if (dim <= 0 || maxRows <= 0) {
            throw new IllegalArgumentException("dim and maxRows must be positive (dim=" + dim + ", maxRows="
                    + maxRows + ")");
        }
        this.dim = dim;
        this.maxRows = maxRows;
    }

    @Override
    public void initializeState(StateStores stores) {
        sum = stores.requireKeyed().getState(new ValueStateDescriptor<>("centroid-sum",
                PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        count = stores.requireKeyed().getState(new ValueStateDescriptor<>("centroid-count", Types.LONG));
    }

    @Override
    public VectorBatch newBatch(BufferAllocator allocator, int bucket) {
        return new VectorBatch(allocator, dim, maxRows);
    }

    @Override
    public void append(VectorBatch batch, TenantEmbedding input) {
        if (input.embedding().length != dim) {
            throw new IllegalArgumentException("embedding of " + input.id() + " has " + input.embedding().length
                    + " values, the operator " + dim);
        }
        batch.append(input.embedding());
    }

    @Override
    public RawRecord raw(TenantEmbedding input) {
        return input.raw();
    }

    @Override
    public io.inflow.schemas.DeadLetterRecord rejected(TenantEmbedding input, long nowMs) {
        return input.embedding().length == dim ? null : io.inflow.operators.decode.DeadLetters.of(input.raw(),
                ErrorKind.INVALID_FIELD, "embedding has " + input.embedding().length + " values, expected " + dim,
                STAGE, nowMs);
    }

    @Override
    public void open() {
    }

    @Override
    public ModelRef model() {
        return new ModelRef("tenant-centroid", "1");
    }

    /** L2-normalised rows; null for a row of norm 0 or with a non-finite value. */
    @Override
    public float[][] compute(VectorBatch batch, List<TenantEmbedding> inputs) {
        float[][] out = new float[batch.rowCount()][];
        for (int r = 0; r < out.length; r++) {
            double norm = 0;
            float[] v = batch.row(r);
            for (float x : v) {
                norm += (double) x * x;
            }
            if (norm > 0 && Double.isFinite(norm)) {
                float inv = (float) (1 / Math.sqrt(norm));
                for (int i = 0; i < v.length; i++) {
                    v[i] *= inv;
                }
                out[r] = v;
            }
        }
        return out;
    }

    @Override
    public int resultRows(float[][] result) {
        return result.length;
    }

    /** Task thread, under the row's tenant: the drift from the tenant's centroid, then the row joins it. */
    @Override
    public void emit(TenantEmbedding input, int row, float[][] result, Emitter<CentroidDrift> out) throws Exception {
        float[] unit = result[row];
        if (unit == null) {
            out.deadLetter(ErrorKind.NON_FINITE_OUTPUT, "embedding has norm 0 or a non-finite value", STAGE);
            return;
        }
        float[] s = sum.value();
        long n = count.value() == null ? 0 : count.value();
        double drift = 0;
        if (s != null) {
            double dot = 0;
            double norm = 0;
            for (int i = 0; i < dim; i++) {
                dot += (double) unit[i] * s[i];
                norm += (double) s[i] * s[i];
            }
            drift = norm == 0 ? 0 : 1 - dot / Math.sqrt(norm);
        } else {
            s = new float[dim];
        }
        for (int i = 0; i < dim; i++) {
            s[i] += unit[i];
        }
        sum.update(s);
        count.update(n + 1);
        out.collect(new CentroidDrift(input.tenant(), input.id(), n + 1, drift));
    }
}
